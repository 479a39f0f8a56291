import { describe, expect, it } from 'vitest';
import { lrAt } from './schedule';

describe('lrAt', () => {
  const s = { peakLr: 1e-3, warmupSteps: 10, totalSteps: 110, finalFraction: 0.1 };
  it('warms up linearly to the peak', () => {
    expect(lrAt(0, s)).toBeCloseTo(1e-4, 12);
    expect(lrAt(4, s)).toBeCloseTo(5e-4, 12);
    expect(lrAt(9, s)).toBeCloseTo(1e-3, 12);
  });
  it('decays by a cosine to the floor, halfway at the middle', () => {
    expect(lrAt(10, s)).toBeCloseTo(1e-3, 12);
    expect(lrAt(60, s)).toBeCloseTo(1e-3 * (0.1 + 0.9 * 0.5), 12);
    expect(lrAt(110, s)).toBeCloseTo(1e-4, 12);
    expect(lrAt(500, s)).toBeCloseTo(1e-4, 12);
  });
  it('never increases after warmup', () => {
    for (let i = 10; i < 120; i++) expect(lrAt(i + 1, s)).toBeLessThanOrEqual(lrAt(i, s));
  });
  it('without warmup starts at the peak', () => {
    expect(lrAt(0, { peakLr: 2, warmupSteps: 0, totalSteps: 10 })).toBe(2);
  });
});
