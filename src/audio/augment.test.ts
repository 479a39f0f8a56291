import { describe, expect, it } from 'vitest';
import { addNoise, specAugment, speedPerturb } from './augment';
import { mulberry32 } from './random';

function tone(freq: number, n: number, rate = 16000): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * freq * i) / rate));
}

/** SNR as measured on the output: the added part is everything that differs from the input. */
function measuredSnr(clean: Float32Array, noisy: Float32Array): number {
  let s = 0, e = 0;
  for (let i = 0; i < clean.length; i++) { s += clean[i] ** 2; e += (noisy[i] - clean[i]) ** 2; }
  return 10 * Math.log10(s / e);
}

describe('mulberry32', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = mulberry32(42), b = mulberry32(42), c = mulberry32(43);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(Array.from({ length: 10000 }, () => b())).toEqual(xs);
    expect(c()).not.toBe(xs[0]);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(xs.every((v) => v >= 0 && v < 1)).toBe(true);
  });
});

describe('specAugment', () => {
  const frames = 200, nMels = 80;
  const features = { data: Float32Array.from({ length: frames * nMels }, (_, i) => 1 + (i % 7)), frames, nMels };
  const cfg = { freqMasks: 2, freqMaskWidth: 27, timeMasks: 2, timeMaskWidth: 40, maxTimeFraction: 0.05, fill: 0 };

  it('is deterministic under a seed and leaves its input alone', () => {
    const before = features.data.slice();
    const a = specAugment(features, cfg, mulberry32(1));
    const b = specAugment(features, cfg, mulberry32(1));
    const c = specAugment(features, cfg, mulberry32(2));
    expect(a.data).toEqual(b.data);
    expect(a.data).not.toEqual(c.data);
    expect(features.data).toEqual(before);
  });

  it('masks whole mel bands and whole frames, within the configured widths', () => {
    for (let seed = 0; seed < 50; seed++) {
      const out = specAugment(features, cfg, mulberry32(seed));
      const cell = (t: number, m: number) => out.data[t * nMels + m];
      const maskedBands = Array.from({ length: nMels }, (_, m) => Array.from({ length: frames }, (_, t) => cell(t, m)).every((v) => v === 0));
      const maskedFrames = Array.from({ length: frames }, (_, t) => Array.from(out.data.subarray(t * nMels, (t + 1) * nMels)).every((v) => v === 0));
      // Every zero cell is explained by a masked band or a masked frame.
      for (let t = 0; t < frames; t++) for (let m = 0; m < nMels; m++) if (cell(t, m) === 0) expect(maskedBands[m] || maskedFrames[t]).toBe(true);
      expect(maskedBands.filter(Boolean).length).toBeLessThanOrEqual(2 * 27);
      // p = 0.05 of 200 frames caps each time mask at 10 frames.
      expect(maskedFrames.filter(Boolean).length).toBeLessThanOrEqual(2 * 10);
    }
  });

  it('with zero masks it is the identity', () => {
    const out = specAugment(features, { freqMasks: 0, freqMaskWidth: 10, timeMasks: 0, timeMaskWidth: 10 }, mulberry32(0));
    expect(out.data).toEqual(features.data);
  });
});

describe('speedPerturb', () => {
  for (const factor of [0.9, 1.1]) {
    it(`factor ${factor}: length / ${factor} and a 440 Hz tone moves to ${440 * factor} Hz`, () => {
      const y = speedPerturb(tone(440, 16000), factor);
      expect(y.length).toBe(Math.ceil(16000 / factor));
      // Count zero crossings in the steady middle: 2 per period.
      let crossings = 0;
      for (let i = 2000; i < y.length - 2000; i++) if (y[i - 1] < 0 !== y[i] < 0) crossings++;
      const freq = (crossings / 2) * (16000 / (y.length - 4000));
      expect(Math.abs(freq - 440 * factor)).toBeLessThan(2);
    });
  }

  it('is the identity at 1 and rejects absurd factors', () => {
    const x = tone(440, 100);
    expect(speedPerturb(x, 1)).toEqual(x);
    expect(() => speedPerturb(x, 3)).toThrow(RangeError);
  });
});

describe('addNoise', () => {
  const clean = tone(440, 16000);

  for (const snr of [0, 10, 20, 35]) {
    it(`white noise at ${snr} dB SNR measures ${snr} dB on the output`, () => {
      const noisy = addNoise(clean, snr, mulberry32(snr));
      expect(measuredSnr(clean, noisy)).toBeCloseTo(snr, 2);
    });
  }

  it('a noise clip, looped from a random offset, lands at the requested SNR', () => {
    const rand = mulberry32(9);
    const clip = Float32Array.from({ length: 3000 }, () => rand() - 0.5); // shorter than the signal: looped
    const noisy = addNoise(clean, 5, mulberry32(1), { noise: clip });
    expect(measuredSnr(clean, noisy)).toBeCloseTo(5, 2);
  });

  it('is deterministic under a seed', () => {
    expect(addNoise(clean, 10, mulberry32(4))).toEqual(addNoise(clean, 10, mulberry32(4)));
    expect(addNoise(clean, 10, mulberry32(4))).not.toEqual(addNoise(clean, 10, mulberry32(5)));
  });

  it('leaves silence silent and refuses a silent noise clip', () => {
    expect(addNoise(new Float32Array(100), 10, mulberry32(0))).toEqual(new Float32Array(100));
    expect(() => addNoise(clean, 10, mulberry32(0), { noise: new Float32Array(50) })).toThrow(RangeError);
  });
});
