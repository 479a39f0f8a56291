import { describe, expect, it } from 'vitest';
import { formatTick, stepRange, stepTicks, yAxisWidth } from './chart-axes';

describe('chart axes', () => {
  it('every chart shares one step range: 0 to the run length, or further if points go past it', () => {
    expect(stepRange([[[1, 2], [2, 1]], [[0, 5]]], 30)).toEqual([0, 30]);
    expect(stepRange([[[1, 2], [42, 1]]], 30)).toEqual([0, 42]);
    expect(stepRange([[]], 0)).toEqual([0, 1]);
  });

  it('step ticks are whole numbers at a 1-2-5 spacing, ending at the last step', () => {
    expect(stepTicks(30)).toEqual([0, 10, 20, 30]);
    expect(stepTicks(300)).toEqual([0, 100, 200, 300]);
    expect(stepTicks(3)).toEqual([0, 1, 2, 3]);
    expect(stepTicks(1)).toEqual([0, 1]);
    expect(stepTicks(47)).toEqual([0, 10, 20, 30, 40, 47]);
    expect(stepTicks(44)).toEqual([0, 10, 20, 30, 44]);
    for (const max of [1, 2, 5, 7, 13, 99, 250, 1234]) {
      const t = stepTicks(max);
      expect(t.every(Number.isInteger)).toBe(true);
      expect(t[0]).toBe(0);
      expect(t[t.length - 1]).toBe(max);
      expect(t.length).toBeLessThanOrEqual(7);
    }
  });

  it('y labels stay short: exponent form for tiny learning rates, no leading-dot clipping', () => {
    expect(formatTick(0.00075)).toBe('7.5e-4');
    expect(formatTick(0.001)).toBe('1e-3');
    expect(formatTick(0.5)).toBe('0.5');
    expect(formatTick(2.3456)).toBe('2.35');
    expect(formatTick(0)).toBe('0');
    expect(formatTick(123456)).toBe('1.2e5');
    expect(formatTick(0.734, { percent: true })).toBe('73.4%');
    for (const v of [0.00075, 0.0001234, 1.5e-5, 3.3, 812.5]) expect(formatTick(v).length).toBeLessThanOrEqual(6);
  });

  it('the y axis is as wide as its widest label', () => {
    expect(yAxisWidth(['7.5e-4', '1e-3'])).toBeGreaterThanOrEqual(6 * 6);
    expect(yAxisWidth(['0', '1'])).toBeLessThan(yAxisWidth(['7.5e-4']));
  });
});
