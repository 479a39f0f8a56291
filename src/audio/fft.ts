/*
 * Real FFT of power-of-two length N, computed as one complex FFT of length N/2 over the even and
 * odd samples packed as real and imaginary parts, then split into the N/2 + 1 bins of the real
 * signal's spectrum (the standard "two-for-one" trick: E. O. Brigham, The Fast Fourier Transform,
 * §10.10; also https://www.robinscheibler.org/2013/02/13/real-fft.html). The complex FFT is an
 * iterative radix-2 decimation-in-time transform with precomputed bit reversal and twiddles.
 * All buffers are allocated once per instance: the log-mel loop calls this per 10 ms frame.
 */
export class RealFft {
  readonly size: number;
  private readonly half: number;
  private readonly bitrev: Uint32Array;
  private readonly twRe: Float64Array; // e^{-2πij/len} for stages len = 8 .. N/2, stage after stage
  private readonly twIm: Float64Array;
  private readonly splitCos: Float64Array; // twiddles e^{-2πik/N} for the split step
  private readonly splitSin: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
      throw new RangeError(`RealFft: size must be a power of two ≥ 4, got ${size}`);
    }
    this.size = size;
    const m = size / 2;
    this.half = m;
    const bits = Math.log2(m);
    this.bitrev = new Uint32Array(m);
    for (let i = 0; i < m; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
    this.twRe = new Float64Array(Math.max(1, m));
    this.twIm = new Float64Array(Math.max(1, m));
    for (let len = 8, tw = 0; len <= m; tw += len >> 1, len <<= 1) {
      for (let j = 0; j < len >> 1; j++) {
        this.twRe[tw + j] = Math.cos((2 * Math.PI * j) / len);
        this.twIm[tw + j] = -Math.sin((2 * Math.PI * j) / len);
      }
    }
    this.splitCos = new Float64Array(m + 1);
    this.splitSin = new Float64Array(m + 1);
    for (let k = 0; k <= m; k++) {
      this.splitCos[k] = Math.cos((2 * Math.PI * k) / size);
      this.splitSin[k] = -Math.sin((2 * Math.PI * k) / size);
    }
    this.re = new Float64Array(m);
    this.im = new Float64Array(m);
  }

  /** Spectrum of `input` (length N): bins 0..N/2 into outRe/outIm (length ≥ N/2 + 1). */
  forward(input: ArrayLike<number>, outRe: Float64Array | Float32Array, outIm: Float64Array | Float32Array): void {
    this.transform(input);
    const { re, im, half: m, splitCos, splitSin } = this;
    // X[k] = E[k] + W^k O[k], with E, O recovered from Z[k] and conj(Z[m-k]).
    for (let k = 0; k <= m; k++) {
      const a = k === m ? 0 : k;
      const b = k === 0 ? 0 : m - k;
      const zr = re[a], zi = im[a], cr = re[b], ci = -im[b];
      const er = (zr + cr) / 2, ei = (zi + ci) / 2; // even-sample spectrum
      const or = (zi - ci) / 2, oi = -(zr - cr) / 2; // odd-sample spectrum: (Z - conj Z')/(2i)
      const wr = splitCos[k], wi = splitSin[k];
      outRe[k] = er + wr * or - wi * oi;
      outIm[k] = ei + wr * oi + wi * or;
    }
  }

  /** |X[k]|^power for k = 0..N/2 — the only thing the log-mel loop needs, without the Re/Im arrays. */
  powerSpectrum(input: ArrayLike<number>, out: Float32Array | Float64Array, power: 1 | 2 = 2): void {
    this.transform(input);
    const { re, im, half: m, splitCos, splitSin } = this;
    for (let k = 0; k <= m; k++) {
      const a = k === m ? 0 : k;
      const b = k === 0 ? 0 : m - k;
      const zr = re[a], zi = im[a], cr = re[b], ci = -im[b];
      const er = zr + cr, ei = zi + ci, or = zi - ci, oi = cr - zr;
      const wr = splitCos[k], wi = splitSin[k];
      const xr = (er + wr * or - wi * oi) / 2;
      const xi = (ei + wr * oi + wi * or) / 2;
      const p = xr * xr + xi * xi;
      out[k] = power === 2 ? p : Math.sqrt(p);
    }
  }

  /** In-place complex FFT of length N/2 of z[n] = x[2n] + i·x[2n+1], left in this.re/this.im. */
  private transform(input: ArrayLike<number>): void {
    const { re, im, bitrev, twRe, twIm, half: m } = this;
    for (let i = 0; i < m; i++) {
      const j = bitrev[i];
      re[j] = input[2 * i];
      im[j] = input[2 * i + 1];
    }
    // The first two stages have twiddles 1 and −i: no multiplications, one pass each.
    for (let p = 0; p < m; p += 2) {
      const ar = re[p], ai = im[p], br = re[p + 1], bi = im[p + 1];
      re[p] = ar + br; im[p] = ai + bi;
      re[p + 1] = ar - br; im[p + 1] = ai - bi;
    }
    if (m >= 4) {
      for (let p = 0; p < m; p += 4) {
        let ar = re[p], ai = im[p], br = re[p + 2], bi = im[p + 2];
        re[p] = ar + br; im[p] = ai + bi;
        re[p + 2] = ar - br; im[p + 2] = ai - bi;
        // (br + i·bi)·(−i) = bi − i·br
        ar = re[p + 1]; ai = im[p + 1]; br = im[p + 3]; bi = -re[p + 3];
        re[p + 1] = ar + br; im[p + 1] = ai + bi;
        re[p + 3] = ar - br; im[p + 3] = ai - bi;
      }
    }
    // Remaining stages. Twiddles of each stage are stored contiguously; looping over the twiddle
    // index outside the butterflies loads each twiddle once per stage.
    for (let len = 8, tw = 0; len <= m; tw += len >> 1, len <<= 1) {
      const halfLen = len >> 1;
      for (let j = 0; j < halfLen; j++) {
        const wr = twRe[tw + j], wi = twIm[tw + j];
        for (let p = j; p < m; p += len) {
          const q = p + halfLen;
          const xr = re[q] * wr - im[q] * wi;
          const xi = re[q] * wi + im[q] * wr;
          re[q] = re[p] - xr;
          im[q] = im[p] - xi;
          re[p] += xr;
          im[p] += xi;
        }
      }
    }
  }
}
