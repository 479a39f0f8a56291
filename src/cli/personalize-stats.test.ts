import { describe, expect, it } from 'vitest';
import { bootstrapMeanInterval, median, planSpeaker, relativeChange, summarizeChanges, vocabularyOf, vocabularySplit } from './personalize-stats';

describe('the test/adapt split', () => {
  it('tests on the last 25 of a speaker with at least 50, adapting on the first n; larger sizes are skipped', () => {
    expect(planSpeaker(130, [5, 10, 50, 100, 200])).toEqual({ test: 25, adaptable: 105, sizes: [5, 10, 50, 100], skipped: [200] });
    expect(planSpeaker(117, [10, 50, 100])).toEqual({ test: 25, adaptable: 92, sizes: [10, 50], skipped: [100] });
    expect(planSpeaker(50, [25, 26])).toEqual({ test: 25, adaptable: 25, sizes: [25], skipped: [26] });
  });

  it('tests on the last half of a speaker with fewer than 50 (speechocean762/dev: last 10 of 20)', () => {
    expect(planSpeaker(20, [5, 10, 20])).toEqual({ test: 10, adaptable: 10, sizes: [5, 10], skipped: [20] });
    expect(planSpeaker(49, [24, 25])).toEqual({ test: 24, adaptable: 25, sizes: [24, 25], skipped: [] });
  });

  it('--test N overrides the rule, and never takes more than the speaker has', () => {
    expect(planSpeaker(503, [100, 200], 50)).toEqual({ test: 50, adaptable: 453, sizes: [100, 200], skipped: [] });
    expect(planSpeaker(20, [5], 30)).toEqual({ test: 20, adaptable: 0, sizes: [], skipped: [5] });
  });
});

describe('WER on the speaker’s own words beside the others', () => {
  const own = vocabularyOf(['Stella called, Bob!', 'call stella']);

  it('the vocabulary is the normalized words of the adaptation transcripts', () => {
    expect([...own].sort()).toEqual(['bob', 'call', 'called', 'stella']);
  });

  it('substitutions and deletions count for their reference word’s class', () => {
    // ref: please(other) call(own) stella(own) now(other); hyp: please fall stella → sub call, del now
    const s = vocabularySplit(['please call stella now'], ['please fall stella'], own);
    expect(s.own).toEqual({ words: 2, errors: 1, wer: 0.5 });
    expect(s.other).toEqual({ words: 2, errors: 1, wer: 0.5 });
  });

  it('an insertion counts with the reference word before it, or after it at the start; the classes add up to the WER edits', () => {
    const s = vocabularySplit(['stella said', 'bob'], ['stella uh said', 'um bob'], own);
    // "uh" after stella (own), "um" before bob at the start (own)
    expect(s.own).toEqual({ words: 2, errors: 2, wer: 1 });
    expect(s.other).toEqual({ words: 1, errors: 0, wer: 0 });
  });

  it('a class without reference words has no rate', () => {
    expect(vocabularySplit(['the end'], ['the end'], own).own).toEqual({ words: 0, errors: 0, wer: null });
  });
});

describe('bootstrap interval of the mean over speakers', () => {
  it('is the value itself when every speaker has the same change', () => {
    const [lo, hi] = bootstrapMeanInterval([-0.2, -0.2, -0.2], { seed: 1 });
    expect(lo).toBeCloseTo(-0.2, 12);
    expect(hi).toBeCloseTo(-0.2, 12);
  });

  it('spans both values for two speakers (a quarter of resamples draw one value twice)', () => {
    expect(bootstrapMeanInterval([0, 1], { seed: 1, resamples: 4000 })).toEqual([0, 1]);
  });

  it('is deterministic per seed and near mean ± 1.96·sd/√n for many speakers', () => {
    const xs = Array.from({ length: 400 }, (_, i) => (i % 20) / 10 - 1); // uniform grid on [-1, 0.9], mean -0.05
    const a = bootstrapMeanInterval(xs, { seed: 7 });
    expect(bootstrapMeanInterval(xs, { seed: 7 })).toEqual(a);
    expect(bootstrapMeanInterval(xs, { seed: 8 })).not.toEqual(a);
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
    const half = (1.96 * sd) / Math.sqrt(xs.length);
    expect(a[0]).toBeCloseTo(m - half, 2);
    expect(a[1]).toBeCloseTo(m + half, 2);
  });
});

describe('summary across speakers', () => {
  it('relative change is (after − before) / before, none from a zero base', () => {
    expect(relativeChange(0.5, 0.4)).toBeCloseTo(-0.2);
    expect(relativeChange(0, 0.1)).toBeNull();
    expect(median([3, 1, 2, 10])).toBe(2.5);
  });

  it('counts improved, worse and unchanged speakers and summarizes their relative changes', () => {
    const s = summarizeChanges(
      [
        { before: 0.5, after: 0.4 }, // −20%
        { before: 0.4, after: 0.4 }, // 0
        { before: 0.2, after: 0.25 }, // +25%
        { before: 1, after: 0.9 }, // −10%
        { before: 0, after: 0.1 }, // no base error: left out
      ],
      1,
    )!;
    expect(s).toMatchObject({ speakers: 4, improved: 2, worse: 1, unchanged: 1 });
    expect(s.mean_relative_change).toBeCloseTo(-0.0125);
    expect(s.median_relative_change).toBeCloseTo(-0.05);
    expect(s.worst_relative_change).toBeCloseTo(0.25);
    expect(s.mean_wer_before).toBeCloseTo(0.525);
    expect(s.ci95[0]).toBeLessThanOrEqual(s.mean_relative_change);
    expect(s.ci95[1]).toBeGreaterThanOrEqual(s.mean_relative_change);
    expect(s.ci95[0]).toBeGreaterThanOrEqual(-0.2);
    expect(s.ci95[1]).toBeLessThanOrEqual(0.25);
    expect(summarizeChanges([], 1)).toBeNull();
  });
});
