import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMono } from './decode';
import { DEFAULT_FRONTEND, LogMelExtractor, frameCount, logMel, validateFrontEndConfig, type FrontEndConfig } from './log-mel';
import { gaussian, mulberry32 } from './random';

const here = dirname(fileURLToPath(import.meta.url));

/** Raw log-mel (no normalisation, no pre-emphasis) for checks against known signals. */
const RAW: FrontEndConfig = { ...DEFAULT_FRONTEND, preemphasis: 0, normalize: 'none', logGuard: 'clamp', logFloor: 1e-10 };

function tone(freq: number, amp: number, n: number, rate = 16000): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * freq * i) / rate));
}

function row(f: { data: Float32Array; nMels: number }, t: number): Float32Array {
  return f.data.subarray(t * f.nMels, (t + 1) * f.nMels);
}

const argmax = (a: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
};

describe('logMel on known signals', () => {
  for (const melNorm of ['slaney', 'none'] as const) {
    for (const melScale of ['slaney', 'htk'] as const) {
      it(`a pure tone lands in the mel bin with the nearest centre (${melScale} scale, ${melNorm} norm)`, () => {
        const cfg = { ...RAW, melScale, melNorm };
        const centers = new LogMelExtractor(cfg).melCenters();
        for (const m of [8, 15, 25, 40, 55, 70, 78]) {
          // Off-centre on purpose: a quarter of the way to the next channel's centre.
          const f = centers[m] + 0.25 * (centers[m + 1] - centers[m]);
          const feats = logMel(tone(f, 0.5, 16000), cfg);
          const nearest = argmax(centers.map((c) => -Math.abs(c - f)));
          expect(argmax(row(feats, 50))).toBe(nearest);
        }
      });
    }
  }

  it('silence sits exactly at the log floor', () => {
    const clamp = logMel(new Float32Array(8000), RAW);
    expect(clamp.frames).toBe(51);
    for (const v of clamp.data) expect(v).toBe(Math.fround(Math.log(1e-10)));
    const add = logMel(new Float32Array(8000), { ...RAW, logGuard: 'add', logFloor: 2 ** -24 });
    for (const v of add.data) expect(v).toBe(Math.fround(Math.log(2 ** -24)));
  });

  it('doubling the amplitude adds ln 4 (= 20·log10 2 dB) to every power bin above the floor', () => {
    const rand = gaussian(mulberry32(7));
    const x = Float32Array.from({ length: 16000 }, () => 0.1 * rand());
    const a = logMel(x, RAW);
    const b = logMel(x.map((v) => 2 * v), RAW);
    for (let i = 0; i < a.data.length; i++) expect(b.data[i] - a.data[i]).toBeCloseTo(Math.log(4), 4);
    // With a magnitude spectrum (power 1) the same doubling adds ln 2.
    const c = logMel(x, { ...RAW, power: 1 });
    const d = logMel(x.map((v) => 2 * v), { ...RAW, power: 1 });
    for (let i = 0; i < c.data.length; i += 13) expect(d.data[i] - c.data[i]).toBeCloseTo(Math.log(2), 4);
  });

  it('white noise puts the expected energy in every mel channel', () => {
    // E|X_k|² = σ²·Σ w_j² for white noise of variance σ², so channel m expects σ²·Σw²·Σ_k W_mk.
    const sigma = 0.05;
    const rand = gaussian(mulberry32(11));
    const x = Float32Array.from({ length: 16000 * 20 }, () => sigma * rand());
    const cfg: FrontEndConfig = { ...RAW, melNorm: 'none' };
    const feats = logMel(x, cfg);
    let w2 = 0;
    for (let i = 0; i < 400; i++) w2 += (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 399)) ** 2;
    const ex = new LogMelExtractor(cfg) as unknown as { filters: { weights: Float32Array }[] };
    for (let m = 0; m < cfg.nMels; m++) {
      let mean = 0;
      for (let t = 2; t < feats.frames - 2; t++) mean += Math.exp(feats.data[t * cfg.nMels + m]);
      mean /= feats.frames - 4;
      const weightSum = ex.filters[m].weights.reduce((s, v) => s + v, 0);
      const expected = sigma ** 2 * w2 * weightSum;
      // ~2000 frames; narrow low channels average few bins, so allow 15 %.
      expect(Math.abs(mean / expected - 1)).toBeLessThan(0.15);
    }
  });
});

describe('logMel framing, normalisation and config', () => {
  it('frameCount matches the output for centred and uncentred framing', () => {
    for (const center of [true, false]) {
      for (const n of [0, 1, 100, 399, 400, 401, 511, 512, 513, 560, 16000, 16001]) {
        const cfg = { ...RAW, center };
        expect(logMel(new Float32Array(n).fill(0.1), cfg).frames).toBe(frameCount(n, cfg));
      }
    }
    expect(frameCount(16000, DEFAULT_FRONTEND)).toBe(101);
    expect(frameCount(16000, { ...DEFAULT_FRONTEND, center: false })).toBe(98);
  });

  it('reflect padding works even for signals shorter than the pad', () => {
    const f = logMel(tone(440, 0.5, 50), { ...RAW, padMode: 'reflect' });
    expect(f.frames).toBe(1);
    expect(f.data.every(Number.isFinite)).toBe(true);
  });

  it("per_utterance gives each channel zero mean and unit (n−1) std; fixed stats apply as given", () => {
    const rand = gaussian(mulberry32(3));
    const x = Float32Array.from({ length: 32000 }, (_, i) => 0.1 * rand() + 0.3 * Math.sin(i / 7));
    const f = logMel(x, DEFAULT_FRONTEND);
    for (let m = 0; m < f.nMels; m += 7) {
      const col = Array.from({ length: f.frames }, (_, t) => f.data[t * f.nMels + m]);
      const mean = col.reduce((s, v) => s + v, 0) / col.length;
      const std = Math.sqrt(col.reduce((s, v) => s + (v - mean) ** 2, 0) / (col.length - 1));
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(std).toBeCloseTo(1, 3);
    }
    const raw = logMel(x, { ...DEFAULT_FRONTEND, normalize: 'none' });
    const mean = Array.from({ length: 80 }, (_, m) => m / 10);
    const std = Array.from({ length: 80 }, (_, m) => 1 + m / 80);
    const fixed = logMel(x, { ...DEFAULT_FRONTEND, normalize: { mean, std } });
    for (let i = 0; i < raw.data.length; i += 17) expect(fixed.data[i]).toBeCloseTo((raw.data[i] - mean[i % 80]) / std[i % 80], 4);
  });

  it('DEFAULT_FRONTEND survives a JSON round trip and validates', () => {
    const back = validateFrontEndConfig(JSON.parse(JSON.stringify(DEFAULT_FRONTEND)));
    expect(back).toEqual(DEFAULT_FRONTEND);
  });

  it('validateFrontEndConfig lists every problem, including misspelt keys', () => {
    const bad = { ...DEFAULT_FRONTEND, nFft: 500, fMax: 9000, melscale: 'htk', normalize: { mean: [0], std: [1] } } as Record<string, unknown>;
    expect(() => validateFrontEndConfig(bad)).toThrow(/unknown key "melscale"/);
    let message = '';
    try { validateFrontEndConfig({ ...DEFAULT_FRONTEND, nFft: 500, fMax: 9000 }); } catch (e) { message = (e as Error).message; }
    expect(message).toMatch(/power of two/);
    expect(message).toMatch(/above the Nyquist/);
    expect(() => validateFrontEndConfig({ ...DEFAULT_FRONTEND, nMels: 256 })).toThrow(/covers no FFT bin/);
    const { hopLength: _drop, ...missing } = DEFAULT_FRONTEND;
    expect(() => validateFrontEndConfig(missing)).toThrow(/missing "hopLength"/);
    expect(() => validateFrontEndConfig({ ...DEFAULT_FRONTEND, normalize: { mean: [0], std: [1] } })).toThrow(/normalize.mean/);
  });
});

// ---------------------------------------------------------------------------------------------
// A second, independent implementation: Transformers.js' audio utilities (window_function,
// mel_filter_bank, spectrogram), a devDependency used only here. They are not exported from the
// package root in v4, so the source module is imported by path.

interface TransformersAudio {
  window_function(length: number, name: string, opts?: { periodic?: boolean }): Float64Array;
  mel_filter_bank(bins: number, mels: number, fMin: number, fMax: number, rate: number, norm: string | null, scale: string): number[][];
  spectrogram(x: Float32Array, window: Float64Array, frameLength: number, hop: number, opts: Record<string, unknown>): Promise<{ data: Float32Array; dims: number[] }>;
}

async function loadOracle(): Promise<TransformersAudio> {
  const path = join(here, '../../node_modules/@huggingface/transformers/src/utils/audio.js');
  if (!existsSync(path)) throw new Error(`the log-mel oracle needs the devDependency @huggingface/transformers (${path}); run npm install`);
  return (await import(/* @vite-ignore */ path)) as TransformersAudio;
}

async function oracleLogMel(hf: TransformersAudio, x: Float32Array, cfg: FrontEndConfig): Promise<Float32Array> {
  // Our pre-emphasis runs over the whole signal (NeMo); theirs per frame (HTK). Apply ours up front.
  const y = x.map((v, i) => (i === 0 ? v : v - cfg.preemphasis * x[i - 1]));
  const window = hf.window_function(cfg.winLength, 'hann', { periodic: cfg.periodicWindow });
  const mel = hf.mel_filter_bank(cfg.nFft / 2 + 1, cfg.nMels, cfg.fMin, cfg.fMax, cfg.sampleRate, cfg.melNorm === 'slaney' ? 'slaney' : null, cfg.melScale);
  const out = await hf.spectrogram(y, window, cfg.winLength, cfg.hopLength, {
    fft_length: cfg.nFft,
    power: cfg.power,
    center: cfg.center,
    pad_mode: cfg.padMode,
    mel_filters: mel,
    log_mel: 'log',
    mel_floor: cfg.logFloor,
    mel_floor_mode: cfg.logGuard,
    transpose: true,
  });
  return out.data;
}

function testSignal(): Float32Array {
  // Speech-like stand-in: a rising chirp, two harmonics and noise, 3 s at 16 kHz.
  const rand = gaussian(mulberry32(5));
  return Float32Array.from({ length: 48000 }, (_, i) => {
    const t = i / 16000;
    return 0.3 * Math.sin(2 * Math.PI * (100 * t + 600 * t * t)) + 0.1 * Math.sin(2 * Math.PI * 1234 * t) + 0.02 * rand();
  });
}

/** Max |difference| in ln units over cells with mel power well above the floor (below it float32 rounding dominates). */
function maxLogDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) if (b[i] > Math.log(1e-7)) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** The tolerance against Transformers.js, in natural-log units (2e-4 ≈ 0.001 dB); measured 3e-6 to 5e-5. */
const ORACLE_TOLERANCE = 2e-4;

describe('logMel agrees with Transformers.js', () => {
  const configs: [string, FrontEndConfig][] = [
    ['DEFAULT_FRONTEND without normalisation', { ...DEFAULT_FRONTEND, normalize: 'none' }],
    ['periodic Hann, reflect padding, HTK mels, magnitude, clamp', { ...RAW, periodicWindow: true, padMode: 'reflect', melScale: 'htk', melNorm: 'none', power: 1 }],
    ['uncentred frames, 64 mels up to 7.6 kHz from 125 Hz', { ...RAW, center: false, nMels: 64, fMin: 125, fMax: 7600 }],
  ];
  for (const [name, cfg] of configs) {
    it(name, async () => {
      const hf = await loadOracle();
      const x = testSignal();
      const ours = logMel(x, cfg);
      const theirs = await oracleLogMel(hf, x, cfg);
      expect(theirs.length).toBe(ours.data.length);
      const diff = maxLogDiff(ours.data, theirs);
      console.log(`log-mel vs Transformers.js (${name}): max |Δ| = ${diff.toExponential(2)} ln units`);
      expect(diff).toBeLessThan(ORACLE_TOLERANCE);
    });
  }

  const speechDir = join(here, '../../../shared/speech/misc_samples/audio');
  it.skipIf(!existsSync(speechDir))('on real speech from ../shared/speech/misc_samples', async () => {
    const hf = await loadOracle();
    const file = readdirSync(speechDir).filter((f) => f.endsWith('.flac')).sort()[0];
    const x = (await decodeMono(new Uint8Array(readFileSync(join(speechDir, file))), 16000, file)).subarray(0, 16000 * 4);
    const cfg = { ...DEFAULT_FRONTEND, normalize: 'none' } as const;
    const diff = maxLogDiff(logMel(x, cfg).data, await oracleLogMel(hf, x, cfg));
    console.log(`log-mel vs Transformers.js on ${file}: max |Δ| = ${diff.toExponential(2)} ln units`);
    expect(diff).toBeLessThan(ORACLE_TOLERANCE);
  });
});

describe('logMel speed', () => {
  it('runs far faster than real time', () => {
    const seconds = 60;
    const x = testSignal();
    const long = new Float32Array(16000 * seconds);
    for (let i = 0; i < long.length; i += x.length) long.set(x.subarray(0, Math.min(x.length, long.length - i)), i);
    logMel(long.subarray(0, 16000), DEFAULT_FRONTEND); // warm up the JIT and the extractor cache
    // Best of three: the test shares the machine with other test files.
    let ms = Infinity;
    let f = logMel(long.subarray(0, 0), DEFAULT_FRONTEND);
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      f = logMel(long, DEFAULT_FRONTEND);
      ms = Math.min(ms, performance.now() - t0);
    }
    const realTime = (seconds * 1000) / ms;
    console.log(`logMel: ${seconds} s of audio in ${ms.toFixed(1)} ms = ${realTime.toFixed(0)}× real time (${f.frames} frames)`);
    // A loose floor so a busy CI machine does not flake; the figure printed above is what counts.
    expect(realTime).toBeGreaterThan(100);
  });
});
