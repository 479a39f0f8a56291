import { describe, expect, it } from 'vitest';
import { RealFft } from './fft';
import { mulberry32 } from './random';

/** Direct O(N²) DFT in float64: the independent oracle. */
function naiveDft(x: Float64Array) {
  const n = x.length;
  const re = new Float64Array(n / 2 + 1), im = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    for (let t = 0; t < n; t++) {
      re[k] += x[t] * Math.cos((2 * Math.PI * k * t) / n);
      im[k] -= x[t] * Math.sin((2 * Math.PI * k * t) / n);
    }
  }
  return { re, im };
}

describe('RealFft', () => {
  for (const n of [4, 8, 16, 64, 512, 1024]) {
    it(`matches a direct DFT at N = ${n}`, () => {
      const rand = mulberry32(n);
      const x = Float64Array.from({ length: n }, () => rand() * 2 - 1);
      const fft = new RealFft(n);
      const re = new Float64Array(n / 2 + 1), im = new Float64Array(n / 2 + 1);
      fft.forward(x, re, im);
      const ref = naiveDft(x);
      for (let k = 0; k <= n / 2; k++) {
        expect(re[k]).toBeCloseTo(ref.re[k], 9);
        expect(im[k]).toBeCloseTo(ref.im[k], 9);
      }
      const pow = new Float64Array(n / 2 + 1);
      fft.powerSpectrum(x, pow);
      for (let k = 0; k <= n / 2; k++) expect(pow[k]).toBeCloseTo(ref.re[k] ** 2 + ref.im[k] ** 2, 8);
      // Parseval: Σ x² = (1/N) Σ_k |X_k|² over the full two-sided spectrum.
      let time = 0, freq = pow[0] + pow[n / 2];
      for (const v of x) time += v * v;
      for (let k = 1; k < n / 2; k++) freq += 2 * pow[k];
      expect(freq / n).toBeCloseTo(time, 9);
    });
  }

  it('rejects sizes that are not powers of two', () => {
    expect(() => new RealFft(400)).toThrow(RangeError);
  });
});
