/*
 * Mel scales and triangular filter banks, written from their definitions:
 * - HTK: mel = 2595 · log10(1 + f / 700) (S. Young et al., The HTK Book, §5.4).
 * - Slaney: linear below 1 kHz (200/3 Hz per mel), logarithmic above with 27 mels per factor 6.4
 *   (M. Slaney, Auditory Toolbox, Tech. Report 1998-010, Interval Research), as librosa's
 *   `htk=False` default.
 * Filters are triangles between consecutive points spaced evenly on the mel scale, evaluated at the
 * FFT bin frequencies (librosa.filters.mel). 'slaney' normalisation scales each triangle to unit
 * area in Hz (2 / bandwidth), so a filter's output tracks power density rather than bandwidth.
 */

export type MelScale = 'slaney' | 'htk';

const F_SP = 200 / 3; // Hz per mel in Slaney's linear region
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(f: number, scale: MelScale): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  return f < MIN_LOG_HZ ? f / F_SP : MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOG_STEP;
}

export function melToHz(m: number, scale: MelScale): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  return m < MIN_LOG_MEL ? m * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (m - MIN_LOG_MEL));
}

/** One filter, stored sparsely: weights for FFT bins start .. start + weights.length - 1. */
export interface MelFilter {
  start: number;
  weights: Float32Array;
  centerHz: number;
}

export interface MelBankSpec {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  melScale: MelScale;
  melNorm: 'slaney' | 'none';
}

export function melFilterBank(spec: MelBankSpec): MelFilter[] {
  const { sampleRate, nFft, nMels, fMin, fMax, melScale, melNorm } = spec;
  const nBins = nFft / 2 + 1;
  const lo = hzToMel(fMin, melScale);
  const hi = hzToMel(fMax, melScale);
  const edges = Array.from({ length: nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (nMels + 1), melScale));
  const filters: MelFilter[] = [];
  for (let m = 0; m < nMels; m++) {
    const [left, center, right] = [edges[m], edges[m + 1], edges[m + 2]];
    const scale = melNorm === 'slaney' ? 2 / (right - left) : 1;
    const dense = new Float32Array(nBins);
    let first = -1;
    let last = -1;
    for (let k = 0; k < nBins; k++) {
      const f = (k * sampleRate) / nFft;
      const w = Math.max(0, Math.min((f - left) / (center - left), (right - f) / (right - center)));
      if (w > 0) {
        dense[k] = w * scale;
        if (first < 0) first = k;
        last = k;
      }
    }
    filters.push({
      start: Math.max(0, first),
      weights: first < 0 ? new Float32Array(0) : dense.slice(first, last + 1),
      centerHz: center,
    });
  }
  return filters;
}
