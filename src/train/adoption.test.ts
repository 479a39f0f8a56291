import { describe, expect, it } from 'vitest';
import { ADOPTION_MIN_HELD_OUT, ADOPTION_TOLERANCE, adoptionVerdict, isHeldOut, splitHeldOut } from './adoption';
import type { Metrics } from './export';
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

  const m = (wer: number, cer: number, loss?: number, utterances = 10): Metrics => ({ wer, cer, utterances, ...(loss === undefined ? {} : { loss }) });

  it('adopts when the held-out loss is lower and WER and CER are within the tolerance', () => {
    expect(ADOPTION_TOLERANCE).toBe(0.03);
    expect(adoptionVerdict(m(0.5, 0.3, 1.2), m(0.4, 0.25, 1.0))).toEqual({ adopt: true, reason: 'better' });
    // one or two words of decoding noise on ten takes no longer reject a model the loss says is better
    expect(adoptionVerdict(m(0.489, 0.256, 1.2), m(0.5, 0.25, 1.1))).toEqual({ adopt: true, reason: 'better' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2), m(0.5 * 1.03, 0.3 * 1.03, 1.1))).toEqual({ adopt: true, reason: 'better' });
  });

  it('keeps the model it started from when the held-out loss is not lower, however the WER moved', () => {
    expect(adoptionVerdict(m(0.5, 0.3, 1.0), m(0.4, 0.2, 1.0))).toEqual({ adopt: false, reason: 'loss-not-lower' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.0), m(0.4, 0.2, 1.3))).toEqual({ adopt: false, reason: 'loss-not-lower' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.0), m(0.4, 0.2, NaN))).toMatchObject({ adopt: true, reason: 'no-worse' });
  });

  it('keeps it when the WER or the CER got worse beyond the tolerance, even with a lower loss', () => {
    expect(adoptionVerdict(m(0.857, 0.538, 1.5), m(0.888, 0.57, 1.3))).toEqual({ adopt: false, reason: 'worse' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2), m(0.52, 0.3, 1.0))).toEqual({ adopt: false, reason: 'worse' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2), m(0.5, 0.31, 1.0))).toEqual({ adopt: false, reason: 'worse' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2), m(0.52, 0.3, 1.0), 0.05)).toEqual({ adopt: true, reason: 'better' });
  });

  it('without a measured loss (an older record), adopts only when the held-out WER is no worse', () => {
    expect(adoptionVerdict(m(0.5, 0.3), m(0.4, 0.3))).toEqual({ adopt: true, reason: 'no-worse' });
    expect(adoptionVerdict(m(0.5, 0.3), m(0.5, 0.3))).toEqual({ adopt: true, reason: 'no-worse' });
    expect(adoptionVerdict(m(0.5, 0.3), m(0.51, 0.3))).toEqual({ adopt: false, reason: 'worse' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2), m(0.51, 0.3))).toEqual({ adopt: false, reason: 'worse' });
  });

  it('with holding out off, adopts as trained', () => {
    expect(adoptionVerdict(undefined, undefined)).toEqual({ adopt: true, reason: 'no-held-out' });
  });

  it('with fewer than five held-out takes, keeps the model it started from however good the adapted one looks', () => {
    expect(ADOPTION_MIN_HELD_OUT).toBe(5);
    for (const n of [0, 1, 2, 4]) expect(adoptionVerdict(m(0.5, 0.3, 1.2, n), m(0.1, 0.05, 0.5, n))).toEqual({ adopt: false, reason: 'too-few-held-out' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2, 5), m(0.1, 0.05, 0.5, 5))).toEqual({ adopt: true, reason: 'better' });
    expect(adoptionVerdict(m(0.5, 0.3, 1.2, 2), m(0.1, 0.05, 0.5, 2), ADOPTION_TOLERANCE, 2)).toEqual({ adopt: true, reason: 'better' });
  });
});
