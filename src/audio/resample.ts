/*
 * Band-limited resampling by windowed-sinc interpolation (J. O. Smith, "Digital Audio Resampling",
 * https://ccrma.stanford.edu/~jos/resample/), in polyphase form when the rate ratio is a small
 * fraction L/M (every common pair: 44.1k→16k is 160/441, 48k→16k is 1/3).
 *
 * Filter: Kaiser-windowed sinc, cutoff between 0.90 and 1.00 of the lower Nyquist frequency
 * (-6 dB at 0.95), stopband ≥ 90 dB. So nothing above the output's Nyquist folds back into the
 * output at all (the stopband starts at Nyquist), and 0–90 % of the band passes flat. Length
 * follows Kaiser's formula N ≈ (A − 7.95) / (14.36 Δf) (Oppenheim & Schafer, §7.6).
 */

const STOPBAND_DB = 90;
const PASS_EDGE = 0.9; // fraction of the lower Nyquist passed untouched
const STOP_EDGE = 1.0; // fraction of the lower Nyquist where the stopband begins
const MAX_PHASES = 1024; // above this a ratio is resampled from an interpolated kernel table
const TABLE_STEPS = 512; // kernel samples per input sample in that table

interface Kernel {
  halfTaps: number; // H: taps each side of the output instant, in input samples
  taps: number; // 2H
  /** Polyphase path: phases × taps coefficients, each phase summing to 1. */
  phases?: Float32Array;
  up: number; // L
  down: number; // M
  /** Table path: the kernel h(τ) sampled every 1/TABLE_STEPS input samples over [-H, H]. */
  table?: Float64Array;
}

const cache = new Map<string, Kernel>();

/**
 * Resamples `x` from `fromRate` to `toRate` Hz (rates may be fractional, e.g. for speed
 * perturbation). Output length is ceil(x.length · toRate / fromRate); samples beyond the ends are
 * taken as zero.
 */
export function resample(x: Float32Array, fromRate: number, toRate = 16000): Float32Array {
  if (!(fromRate > 0) || !(toRate > 0)) throw new RangeError(`resample: rates must be positive, got ${fromRate} → ${toRate}`);
  if (fromRate === toRate) return x.slice();
  const k = kernelFor(fromRate, toRate);
  const outLength = Math.ceil((x.length * toRate) / fromRate - 1e-9);
  // Zero-pad once so the inner loop needs no bounds checks.
  const H = k.halfTaps;
  const padded = new Float32Array(x.length + 2 * H + 1);
  padded.set(x, H);
  return k.phases ? polyphase(padded, outLength, k) : tabulated(padded, outLength, fromRate / toRate, k);
}

function polyphase(xp: Float32Array, outLength: number, k: Kernel): Float32Array {
  const { phases, taps, up, down } = k;
  const out = new Float32Array(outLength);
  // Output k sits at input time k·M/L = base + phase/L; its taps start at base − H + 1, which is
  // index `base + 1` in the padded signal.
  let base = 0;
  let phase = 0;
  for (let i = 0; i < outLength; i++) {
    const h0 = phase * taps;
    const x0 = base + 1;
    // Four accumulators break the add dependency chain (taps is even: 2H; the tail handles 2 mod 4).
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let j = 0;
    for (; j + 3 < taps; j += 4) {
      a0 += phases![h0 + j] * xp[x0 + j];
      a1 += phases![h0 + j + 1] * xp[x0 + j + 1];
      a2 += phases![h0 + j + 2] * xp[x0 + j + 2];
      a3 += phases![h0 + j + 3] * xp[x0 + j + 3];
    }
    for (; j < taps; j++) a0 += phases![h0 + j] * xp[x0 + j];
    out[i] = a0 + a1 + a2 + a3;
    phase += down;
    while (phase >= up) { phase -= up; base++; }
  }
  return out;
}

function tabulated(xp: Float32Array, outLength: number, step: number, k: Kernel): Float32Array {
  const { table, taps, halfTaps: H } = k;
  const out = new Float32Array(outLength);
  for (let i = 0; i < outLength; i++) {
    const t = i * step;
    const base = Math.floor(t);
    const frac = t - base;
    let acc = 0;
    let norm = 0;
    for (let j = 0; j < taps; j++) {
      // τ = t − n for tap n = base − H + 1 + j, mapped to a fractional table index.
      const pos = (frac + H - 1 - j + H) * TABLE_STEPS;
      const i0 = Math.floor(pos);
      const f = pos - i0;
      const h = table![i0] + f * (table![i0 + 1] - table![i0]);
      acc += h * xp[base + 1 + j];
      norm += h;
    }
    out[i] = acc / norm; // unit DC gain for every fractional position, as in the polyphase path
  }
  return out;
}

function kernelFor(fromRate: number, toRate: number): Kernel {
  const key = `${fromRate}:${toRate}`;
  let k = cache.get(key);
  if (k) return k;
  k = designKernel(fromRate, toRate);
  if (cache.size >= 16) cache.delete(cache.keys().next().value!); // a tiny FIFO is plenty
  cache.set(key, k);
  return k;
}

function designKernel(fromRate: number, toRate: number): Kernel {
  const lowerNyquist = Math.min(fromRate, toRate) / 2;
  // Frequencies in cycles per input sample.
  const fc = (((PASS_EDGE + STOP_EDGE) / 2) * lowerNyquist) / fromRate;
  const transition = ((STOP_EDGE - PASS_EDGE) * lowerNyquist) / fromRate;
  const length = (STOPBAND_DB - 7.95) / (14.36 * transition);
  const H = Math.ceil(length / 2);
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const i0Beta = besselI0(beta);
  const h = (tau: number): number => {
    const r = tau / H;
    if (r <= -1 || r >= 1) return 0;
    const x = 2 * fc * tau;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return 2 * fc * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta);
  };

  const ratio = rationalRatio(fromRate, toRate);
  if (ratio && ratio.up <= MAX_PHASES) {
    const { up, down } = ratio;
    const taps = 2 * H;
    const phases = new Float32Array(up * taps);
    for (let p = 0; p < up; p++) {
      let sum = 0;
      const row = new Float64Array(taps);
      for (let j = 0; j < taps; j++) sum += row[j] = h(p / up + H - 1 - j);
      // Per-phase normalisation: each output is a weighted average with weights summing to 1,
      // so DC passes at exactly unit gain whatever the fractional position.
      for (let j = 0; j < taps; j++) phases[p * taps + j] = row[j] / sum;
    }
    return { halfTaps: H, taps, phases, up, down };
  }
  const table = new Float64Array(2 * H * TABLE_STEPS + 2);
  for (let i = 0; i < table.length; i++) table[i] = h(i / TABLE_STEPS - H);
  return { halfTaps: H, taps: 2 * H, table, up: 0, down: 0 };
}

/** toRate/fromRate as L/M in lowest terms, when both rates are integers. */
function rationalRatio(fromRate: number, toRate: number): { up: number; down: number } | undefined {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate)) return undefined;
  let a = fromRate;
  let b = toRate;
  while (b) [a, b] = [b, a % b];
  return { up: toRate / a, down: fromRate / a };
}

/** Modified Bessel function of the first kind, order 0, by its power series (converges fast for β ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}
