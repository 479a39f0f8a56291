import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMono } from './decode';
import { DEFAULT_FRONTEND, frameCount, logMel, type FrontEndConfig } from './log-mel';
import { LogMelStream } from './log-mel-stream';
import { gaussian, mulberry32 } from './random';

const here = dirname(fileURLToPath(import.meta.url));

/** Speech-like test signal: noise bursts over a tone, with silence between (per-utterance statistics vary). */
function signal(n: number, seed = 1): Float32Array {
  const rand = gaussian(mulberry32(seed));
  return Float32Array.from({ length: n }, (_, i) => (Math.floor(i / 2400) % 3 === 2 ? 0 : 0.2 * Math.sin(i * 0.07) + 0.05 * rand()));
}

/** The stream fed in chunks of the given sizes (cycled), then finished. */
function streamed(x: Float32Array, cfg: FrontEndConfig, sizes: number[]) {
  const s = new LogMelStream(cfg, 1);
  let at = 0;
  for (let k = 0; at < x.length; k++) {
    const n = sizes[k % sizes.length];
    s.push(x.subarray(at, at + n));
    at += n;
  }
  const before = s.framesDone;
  return { features: s.finish(), before };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const CONFIGS: [string, FrontEndConfig][] = [
  ['the default (NeMo) front end', DEFAULT_FRONTEND],
  ['reflect padding', { ...DEFAULT_FRONTEND, padMode: 'reflect' }],
  ['frames not centred', { ...DEFAULT_FRONTEND, center: false }],
  ['no pre-emphasis, magnitude spectrum, no normalisation', { ...DEFAULT_FRONTEND, preemphasis: 0, power: 1, normalize: 'none', logGuard: 'clamp', logFloor: 1e-10 }],
  ['fixed statistics, 64 mels, 1024-point FFT', { ...DEFAULT_FRONTEND, nMels: 64, nFft: 1024, winLength: 1024, normalize: { mean: Array(64).fill(-5), std: Array(64).fill(3) } }],
];

describe('LogMelStream: features computed while a take is recorded', () => {
  for (const [name, cfg] of CONFIGS) {
    it(`equals logMel on the whole clip, whatever the chunking (${name})`, () => {
      const x = signal(5 * 16000 + 123);
      const whole = logMel(x, cfg);
      // the recorder's 100 ms chunks, odd sizes, single samples and empty chunks
      for (const sizes of [[1600], [1, 0, 7, 333], [4097], [x.length]]) {
        const { features } = streamed(x, cfg, sizes);
        expect(features.frames).toBe(whole.frames);
        expect(features.nMels).toBe(whole.nMels);
        expect(features.data.length).toBe(whole.data.length);
        expect(maxAbsDiff(features.data, whole.data)).toBeLessThanOrEqual(1e-6);
      }
    });
  }

  it('leaves only the rows whose windows reach past the end for finish', () => {
    const x = signal(5 * 16000);
    const { features, before } = streamed(x, DEFAULT_FRONTEND, [1600]);
    expect(features.frames).toBe(frameCount(x.length, DEFAULT_FRONTEND));
    // centred 400-sample windows every 160 samples: the last ⌈200 / 160⌉ + 1 rows wait for the end
    expect(features.frames - before).toBeLessThanOrEqual(3);
  });

  it('equals logMel on real speech in 100 ms chunks', async () => {
    const path = join(here, '../../../shared/speech/ljspeech_coqui/audio/wavs_LJ001-0002.flac');
    const file = existsSync(path) ? path : join(here, 'fixtures/pcm16-16k-mono.wav');
    const x = await decodeMono(new Uint8Array(readFileSync(file)), 16000, file);
    const whole = logMel(x, DEFAULT_FRONTEND);
    const { features } = streamed(x, DEFAULT_FRONTEND, [1600]);
    expect(features.frames).toBe(whole.frames);
    expect(maxAbsDiff(features.data, whole.data)).toBeLessThanOrEqual(1e-6);
  });

  it('handles takes shorter than one window, and an empty one', () => {
    for (const n of [0, 1, 150, 399]) {
      const x = signal(n);
      const whole = logMel(x, DEFAULT_FRONTEND);
      const { features } = streamed(x, DEFAULT_FRONTEND, [64]);
      expect(features.frames).toBe(whole.frames);
      expect(maxAbsDiff(features.data, whole.data)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('refuses audio after finish', () => {
    const s = new LogMelStream(DEFAULT_FRONTEND);
    s.push(signal(1600));
    s.finish();
    expect(() => s.push(signal(10))).toThrow(/after finish/);
  });
});
