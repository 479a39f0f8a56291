import { describe, expect, it } from 'vitest';
import { adoptionVerdict, isHeldOut, splitHeldOut } from './adoption';
import { DEFAULT_RECIPE } from './recipe';

describe('held-out adoption', () => {
  it('holds out every fifth take (the 5th, 10th, …), as the recordings split does', () => {
    expect(Array.from({ length: 11 }, (_, i) => isHeldOut(i, 5))).toEqual([false, false, false, false, true, false, false, false, false, true, false]);
    expect(DEFAULT_RECIPE.holdoutEvery).toBe(5);
    const { train, heldOut } = splitHeldOut([...'abcdefghij'], 5);
    expect(heldOut).toEqual(['e', 'j']);
    expect(train).toEqual([...'abcdfghi']);
    expect(splitHeldOut([1, 2, 3], 0)).toEqual({ train: [1, 2, 3], heldOut: [] });
  });

  it('adopts a model no worse than the base on the held-out takes and keeps the base otherwise', () => {
    const m = (wer: number, utterances = 2) => ({ wer, cer: 0.3, utterances });
    expect(adoptionVerdict(m(0.5), m(0.4))).toEqual({ adopt: true, reason: 'no-worse' });
    expect(adoptionVerdict(m(0.5), m(0.5))).toEqual({ adopt: true, reason: 'no-worse' });
    expect(adoptionVerdict(m(0.5), m(0.51))).toEqual({ adopt: false, reason: 'worse' });
    expect(adoptionVerdict(undefined, undefined)).toEqual({ adopt: true, reason: 'no-held-out' });
    expect(adoptionVerdict(m(0.5, 0), m(0.9, 0))).toEqual({ adopt: true, reason: 'no-held-out' });
  });
});
