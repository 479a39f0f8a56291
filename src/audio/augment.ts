import type { Features } from './log-mel';
import { gaussian, randInt, type Random } from './random';
import { resample } from './resample';

/*
 * Training-time augmentation. Every function takes its randomness from a `Random` (see random.ts),
 * so a seed reproduces a run exactly, in Node and in a worker alike. Inputs are never modified.
 */

export interface SpecAugmentConfig {
  /** Number of frequency masks and the largest width of each, in mel channels (F in the paper). */
  freqMasks: number;
  freqMaskWidth: number;
  /** Number of time masks and the largest width of each, in frames (T in the paper). */
  timeMasks: number;
  timeMaskWidth: number;
  /** Upper bound on a time mask as a fraction of the utterance (p in the paper); default 1. */
  maxTimeFraction?: number;
  /** Value written into masked cells; default 0, the mean of normalised features. */
  fill?: number;
}

/**
 * SpecAugment's frequency and time masking (Park et al. 2019, https://arxiv.org/abs/1904.08779,
 * §2): each mask has width w ~ U{0..W} and start ~ U{0..size − w}. Time warping is left out, as
 * the paper found it the least useful and most costly part. Returns a masked copy.
 */
export function specAugment(features: Features, cfg: SpecAugmentConfig, rand: Random): Features {
  const { frames, nMels } = features;
  const data = features.data.slice();
  const fill = cfg.fill ?? 0;
  for (let i = 0; i < cfg.freqMasks; i++) {
    const w = randInt(rand, 0, Math.min(cfg.freqMaskWidth, nMels));
    const f0 = randInt(rand, 0, nMels - w);
    for (let t = 0; t < frames; t++) data.fill(fill, t * nMels + f0, t * nMels + f0 + w);
  }
  const maxT = Math.min(cfg.timeMaskWidth, Math.floor((cfg.maxTimeFraction ?? 1) * frames));
  for (let i = 0; i < cfg.timeMasks; i++) {
    const w = randInt(rand, 0, Math.max(0, maxT));
    const t0 = randInt(rand, 0, frames - w);
    data.fill(fill, t0 * nMels, (t0 + w) * nMels);
  }
  return { data, frames, nMels };
}

/**
 * Speed perturbation (Ko et al. 2015, "Audio Augmentation for Speech Recognition"): play the
 * audio `factor` times faster, which shifts pitch and tempo together, by resampling — treat the
 * samples as if recorded at sampleRate·factor and convert back to sampleRate. Output length is
 * about length / factor. The paper's factors are 0.9, 1.0 and 1.1.
 */
export function speedPerturb(samples: Float32Array, factor: number, sampleRate = 16000): Float32Array {
  if (!(factor >= 0.5 && factor <= 2)) throw new RangeError(`speedPerturb: factor must be within [0.5, 2], got ${factor}`);
  if (factor === 1) return samples.slice();
  return resample(samples, sampleRate * factor, sampleRate);
}

export interface NoiseOptions {
  /** A noise recording at the same sample rate; looped if shorter than the signal, and read from a random offset. Default: white Gaussian noise. */
  noise?: Float32Array;
}

/**
 * Adds noise scaled so that signal power / noise power equals `snrDb` exactly over the whole
 * signal: SNR = 10·log10(Σx² / Σ(g·n)²). Silence has no defined SNR and is returned unchanged.
 */
export function addNoise(samples: Float32Array, snrDb: number, rand: Random, options: NoiseOptions = {}): Float32Array {
  const n = samples.length;
  const out = samples.slice();
  let signalPower = 0;
  for (let i = 0; i < n; i++) signalPower += samples[i] * samples[i];
  if (n === 0 || signalPower === 0) return out;

  const noise = new Float64Array(n);
  if (options.noise) {
    const clip = options.noise;
    if (clip.length === 0) throw new RangeError('addNoise: the noise clip is empty');
    const offset = randInt(rand, 0, clip.length - 1);
    for (let i = 0; i < n; i++) noise[i] = clip[(offset + i) % clip.length];
  } else {
    const normal = gaussian(rand);
    for (let i = 0; i < n; i++) noise[i] = normal();
  }
  let noisePower = 0;
  for (let i = 0; i < n; i++) noisePower += noise[i] * noise[i];
  if (noisePower === 0) throw new RangeError('addNoise: the noise clip is silent where it would be used');
  const gain = Math.sqrt(signalPower / (noisePower * 10 ** (snrDb / 10)));
  for (let i = 0; i < n; i++) out[i] += gain * noise[i];
  return out;
}
