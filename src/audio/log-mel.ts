import { RealFft } from './fft';
import { melFilterBank, type MelFilter, type MelScale } from './mel';

/**
 * Everything that defines the features a model sees. It is saved beside the model (config.json),
 * so it is plain JSON and checked by `validateFrontEndConfig` when loaded: a model must never be
 * fed features computed differently from the ones it was trained on.
 *
 * Framing: with `center`, frame t is centred on sample t·hopLength and the signal is padded at both
 * ends (torch.stft, librosa); without it, frame t covers samples [t·hop, t·hop + winLength) (Kaldi,
 * Transformers.js; torch.stft would take nFft samples there). Either way the winLength samples are
 * windowed and zero-padded to nFft, which changes no magnitude.
 */
export interface FrontEndConfig {
  sampleRate: number;
  winLength: number; // samples under the window (400 = 25 ms at 16 kHz)
  hopLength: number; // samples between frames (160 = 10 ms)
  nFft: number; // power of two ≥ winLength
  nMels: number;
  fMin: number; // Hz
  fMax: number; // Hz, ≤ sampleRate / 2
  melScale: MelScale;
  melNorm: 'slaney' | 'none'; // 'slaney': unit-area triangles
  window: 'hann';
  periodicWindow: boolean; // true: periodic Hann (torch/librosa default); false: symmetric (NeMo)
  preemphasis: number; // y[n] = x[n] − a·x[n−1] over the whole signal before framing; 0 turns it off
  power: 1 | 2; // magnitude (1) or power (2) spectrum
  center: boolean;
  padMode: 'constant' | 'reflect'; // how `center` pads the ends
  /** 'clamp': ln(max(v, logFloor)); 'add': ln(v + logFloor). Natural log throughout. */
  logGuard: 'clamp' | 'add';
  logFloor: number;
  /**
   * 'per_utterance': each mel channel minus its mean over the utterance, divided by its standard
   * deviation (n − 1 denominator) + 1e-5, as NeMo's `normalize: per_feature`.
   * { mean, std }: fixed per-channel statistics (length nMels), e.g. measured on a corpus.
   */
  normalize: 'per_utterance' | 'none' | { mean: number[]; std: number[] };
}

/**
 * The defaults follow NeMo's AudioToMelSpectrogramPreprocessor as used by its CTC models
 * (https://github.com/NVIDIA/NeMo/blob/main/nemo/collections/asr/parts/preprocessing/features.py),
 * so a checkpoint converted from there sees the features it was trained on: 25 ms symmetric Hann,
 * 10 ms hop, 512-point FFT, 80 Slaney mels, pre-emphasis 0.97, centred frames with zero padding,
 * ln(power + 2^-24), per-utterance normalisation. (NeMo's dither is training noise, not a
 * feature; see augment.ts.)
 */
export const DEFAULT_FRONTEND: Readonly<FrontEndConfig> = Object.freeze({
  sampleRate: 16000,
  winLength: 400,
  hopLength: 160,
  nFft: 512,
  nMels: 80,
  fMin: 0,
  fMax: 8000,
  melScale: 'slaney',
  melNorm: 'slaney',
  window: 'hann',
  periodicWindow: false,
  preemphasis: 0.97,
  power: 2,
  center: true,
  padMode: 'constant',
  logGuard: 'add',
  logFloor: 2 ** -24,
  normalize: 'per_utterance',
});

export interface Features {
  /** Row-major frames × nMels. */
  data: Float32Array;
  frames: number;
  nMels: number;
}

/** Frames `logMel` produces for `numSamples` samples. */
export function frameCount(numSamples: number, cfg: Pick<FrontEndConfig, 'center' | 'hopLength' | 'winLength'>): number {
  if (numSamples <= 0) return 0;
  if (cfg.center) return 1 + Math.floor(numSamples / cfg.hopLength);
  return numSamples < cfg.winLength ? 0 : 1 + Math.floor((numSamples - cfg.winLength) / cfg.hopLength);
}

const KEYS: (keyof FrontEndConfig)[] = [
  'sampleRate', 'winLength', 'hopLength', 'nFft', 'nMels', 'fMin', 'fMax', 'melScale', 'melNorm', 'window',
  'periodicWindow', 'preemphasis', 'power', 'center', 'padMode', 'logGuard', 'logFloor', 'normalize',
];

/**
 * Checks a config read from JSON and returns it typed. Lists every problem at once, and rejects
 * unknown keys, since a misspelt key silently falling back to a default would change the features.
 */
export function validateFrontEndConfig(value: unknown): FrontEndConfig {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('front-end config must be an object');
  const c = value as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!KEYS.includes(k as keyof FrontEndConfig)) problems.push(`unknown key "${k}"`);
  for (const k of KEYS) if (!(k in c)) problems.push(`missing "${k}"`);
  const int = (k: string, min: number) => {
    if (k in c && (!Number.isInteger(c[k]) || (c[k] as number) < min)) problems.push(`"${k}" must be an integer ≥ ${min}, got ${JSON.stringify(c[k])}`);
  };
  const num = (k: string) => {
    if (k in c && (typeof c[k] !== 'number' || !Number.isFinite(c[k]))) problems.push(`"${k}" must be a finite number, got ${JSON.stringify(c[k])}`);
  };
  const oneOf = (k: string, allowed: unknown[]) => {
    if (k in c && !allowed.includes(c[k])) problems.push(`"${k}" must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(c[k])}`);
  };
  int('sampleRate', 1);
  int('winLength', 1);
  int('hopLength', 1);
  int('nFft', 4);
  int('nMels', 1);
  num('fMin');
  num('fMax');
  num('preemphasis');
  num('logFloor');
  oneOf('melScale', ['slaney', 'htk']);
  oneOf('melNorm', ['slaney', 'none']);
  oneOf('window', ['hann']);
  oneOf('periodicWindow', [true, false]);
  oneOf('power', [1, 2]);
  oneOf('center', [true, false]);
  oneOf('padMode', ['constant', 'reflect']);
  oneOf('logGuard', ['clamp', 'add']);
  if (problems.length === 0) {
    const cfg = c as unknown as FrontEndConfig;
    if ((cfg.nFft & (cfg.nFft - 1)) !== 0) problems.push(`"nFft" must be a power of two, got ${cfg.nFft}`);
    if (cfg.winLength > cfg.nFft) problems.push(`"winLength" (${cfg.winLength}) must not exceed "nFft" (${cfg.nFft})`);
    if (!(cfg.fMin >= 0 && cfg.fMin < cfg.fMax)) problems.push(`need 0 ≤ fMin < fMax, got fMin ${cfg.fMin}, fMax ${cfg.fMax}`);
    if (cfg.fMax > cfg.sampleRate / 2) problems.push(`"fMax" (${cfg.fMax}) is above the Nyquist frequency (${cfg.sampleRate / 2})`);
    if (!(cfg.preemphasis >= 0 && cfg.preemphasis < 1)) problems.push(`"preemphasis" must be in [0, 1), got ${cfg.preemphasis}`);
    if (!(cfg.logFloor > 0)) problems.push(`"logFloor" must be > 0, got ${cfg.logFloor}`);
    const n = cfg.normalize;
    if (typeof n === 'object' && n !== null && !Array.isArray(n)) {
      const stats = n as { mean?: unknown; std?: unknown };
      const okArray = (a: unknown, positive: boolean) =>
        Array.isArray(a) && a.length === cfg.nMels && a.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0));
      if (!okArray(stats.mean, false)) problems.push(`"normalize.mean" must be ${cfg.nMels} finite numbers`);
      if (!okArray(stats.std, true)) problems.push(`"normalize.std" must be ${cfg.nMels} positive numbers`);
      for (const k of Object.keys(n)) if (k !== 'mean' && k !== 'std') problems.push(`unknown key "normalize.${k}"`);
    } else if (n !== 'per_utterance' && n !== 'none') {
      problems.push(`"normalize" must be "per_utterance", "none" or { mean, std }, got ${JSON.stringify(n)}`);
    }
    if (problems.length === 0) {
      // A mel filter narrower than the FFT bin spacing catches no bin and would output the log floor forever.
      const empty = melFilterBank(cfg).findIndex((f) => f.weights.length === 0);
      if (empty >= 0) problems.push(`mel filter ${empty} covers no FFT bin: lower nMels or raise nFft`);
    }
  }
  if (problems.length) throw new Error(`invalid front-end config: ${problems.join('; ')}`);
  return c as unknown as FrontEndConfig;
}

/**
 * Everything derived from a config, built once: window, FFT plan, filters, scratch buffers.
 * Hold one per worker for repeated calls; `logMel` keeps a small cache of these for convenience.
 */
export class LogMelExtractor {
  readonly cfg: FrontEndConfig;
  private readonly fft: RealFft;
  private readonly window: Float32Array; // winLength taps
  private readonly filters: MelFilter[];
  private readonly frame: Float64Array; // nFft, zero outside the window span
  private readonly spectrum: Float32Array;

  constructor(cfg: FrontEndConfig) {
    this.cfg = validateFrontEndConfig(cfg);
    this.fft = new RealFft(cfg.nFft);
    this.window = hann(cfg.winLength, cfg.periodicWindow);
    this.filters = melFilterBank(cfg);
    this.frame = new Float64Array(cfg.nFft);
    this.spectrum = new Float32Array(cfg.nFft / 2 + 1);
  }

  /** The centre frequency of each mel channel in Hz. */
  melCenters(): number[] {
    return this.filters.map((f) => f.centerHz);
  }

  compute(samples: Float32Array): Features {
    const x = this.cfg.preemphasis > 0 ? preemphasize(samples, this.cfg.preemphasis) : samples;
    const frames = frameCount(x.length, this.cfg);
    const data = new Float32Array(frames * this.cfg.nMels);
    this.rows(x, x.length, 0, frames, data);
    this.normalize(data, frames);
    return { data, frames, nMels: this.cfg.nMels };
  }

  /**
   * Log-mel rows `from` .. `to` − 1 (before normalisation) of the pre-emphasised signal x[0, n),
   * written at their own rows of `data`. A row reads only the samples under its window (and the
   * padding `center` adds past either end), so LogMelStream computes rows while a take is still
   * being recorded and gets the very numbers `compute` gets for the whole clip.
   */
  rows(x: Float32Array, n: number, from: number, to: number, data: Float32Array): void {
    const { cfg, window, frame, spectrum, filters, fft } = this;
    const { nMels, hopLength, nFft, winLength } = cfg;
    const winOffset = this.winOffset;
    const shift = this.shift;
    const reflect = cfg.center && cfg.padMode === 'reflect';
    const add = cfg.logGuard === 'add';
    const floor = cfg.logFloor;
    for (let t = from; t < to; t++) {
      const first = t * hopLength + shift;
      if (first >= 0 && first + winLength <= n) {
        for (let j = 0; j < winLength; j++) frame[winOffset + j] = x[first + j] * window[j];
      } else {
        for (let j = 0; j < winLength; j++) {
          let s = first + j;
          if (s < 0 || s >= n) {
            if (!reflect) { frame[winOffset + j] = 0; continue; }
            s = reflectIndex(s, n);
          }
          frame[winOffset + j] = x[s] * window[j];
        }
      }
      fft.powerSpectrum(frame, spectrum, cfg.power);
      const row = t * nMels;
      for (let m = 0; m < nMels; m++) {
        const { start, weights } = filters[m];
        let e = 0;
        for (let k = 0; k < weights.length; k++) e += weights[k] * spectrum[start + k];
        data[row + m] = Math.log(add ? e + floor : e > floor ? e : floor);
      }
    }
  }

  /** Where the window sits in the FFT buffer. */
  private get winOffset(): number {
    return (this.cfg.nFft - this.cfg.winLength) >> 1;
  }

  /** The signal index under window tap 0 is t·hop + shift: centred frames start nFft/2 − winOffset early. */
  get shift(): number {
    return this.cfg.center ? this.winOffset - (this.cfg.nFft >> 1) : 0;
  }

  /** The config's normalisation of `frames` rows, in place (per-utterance statistics need every row). */
  normalize(data: Float32Array, frames: number): void {
    normalize(data, frames, this.cfg.nMels, this.cfg.normalize);
  }
}

const extractors = new Map<string, LogMelExtractor>();

/** Log-mel features of mono `samples` at cfg.sampleRate; see `FrontEndConfig` for each step. */
export function logMel(samples: Float32Array, cfg: FrontEndConfig = DEFAULT_FRONTEND): Features {
  // Whitelisted keys give a stable order; 'mean' and 'std' keep fixed statistics in the key.
  const key = JSON.stringify(cfg, [...KEYS, 'mean', 'std']);
  let ex = extractors.get(key);
  if (!ex) {
    ex = new LogMelExtractor(cfg);
    if (extractors.size >= 4) extractors.delete(extractors.keys().next().value!);
    extractors.set(key, ex);
  }
  return ex.compute(samples);
}

function hann(length: number, periodic: boolean): Float32Array {
  const w = new Float32Array(length);
  const denom = periodic ? length : length - 1;
  for (let i = 0; i < length; i++) w[i] = denom === 0 ? 1 : 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / denom);
  return w;
}

function preemphasize(x: Float32Array, a: number): Float32Array {
  const y = new Float32Array(x.length);
  if (x.length) y[0] = x[0];
  for (let i = 1; i < x.length; i++) y[i] = x[i] - a * x[i - 1];
  return y;
}

/** numpy.pad 'reflect' (mirror without repeating the edge), folded as often as a short signal needs. */
function reflectIndex(s: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  s = ((s % period) + period) % period;
  return s < n ? s : period - s;
}

function normalize(data: Float32Array, frames: number, nMels: number, how: FrontEndConfig['normalize']): void {
  if (how === 'none' || frames === 0) return;
  if (how === 'per_utterance') {
    for (let m = 0; m < nMels; m++) {
      let sum = 0;
      for (let t = 0; t < frames; t++) sum += data[t * nMels + m];
      const mean = sum / frames;
      let ss = 0;
      for (let t = 0; t < frames; t++) ss += (data[t * nMels + m] - mean) ** 2;
      const std = Math.sqrt(frames > 1 ? ss / (frames - 1) : 0) + 1e-5;
      for (let t = 0; t < frames; t++) data[t * nMels + m] = (data[t * nMels + m] - mean) / std;
    }
    return;
  }
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < nMels; m++) data[t * nMels + m] = (data[t * nMels + m] - how.mean[m]) / how.std[m];
  }
}
