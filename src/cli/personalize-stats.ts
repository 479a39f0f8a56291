// The arithmetic of `earshot personalize`, kept pure so tests can hold it to known answers: which
// utterances of a speaker test and which adapt, WER on the speaker's own words beside the others,
// relative changes, and the summary across speakers with a seeded bootstrap interval.
import { mulberry32 } from '../audio/random';
import { normalizeText } from '../asr/text-normalize';
import { alignWords } from '../asr/wer';

/** At least this many utterances are needed for the default test set of DEFAULT_TEST utterances. */
export const DEFAULT_TEST = 25;

export interface SpeakerPlan {
  /** The last `test` utterances (manifest order) are the speaker's fixed test set. */
  test: number;
  /** Utterances before the test set, the pool the first n of which adapt. */
  adaptable: number;
  /** Sizes that fit in the pool, in the order given. */
  sizes: number[];
  /** Sizes larger than the pool: skipped and reported. */
  skipped: number[];
}

/**
 * The split rule. The test set is the speaker's last N utterances: N = `test` when given, otherwise
 * DEFAULT_TEST (25) for a speaker with at least twice that many, and half of their utterances
 * (rounded down) for one with fewer — speechocean762/dev's 20 per speaker test on the last 10 and
 * adapt on the first 10. Adaptation at size n uses the speaker's first n utterances, so every size
 * shares the same test set and never touches it; a size larger than what precedes the test set is skipped.
 */
export function planSpeaker(utterances: number, sizes: readonly number[], test?: number): SpeakerPlan {
  const n = test ?? (utterances >= 2 * DEFAULT_TEST ? DEFAULT_TEST : Math.floor(utterances / 2));
  const t = Math.min(n, utterances);
  const adaptable = utterances - t;
  return { test: t, adaptable, sizes: sizes.filter((s) => s <= adaptable), skipped: sizes.filter((s) => s > adaptable) };
}

/** Normalized words of the transcripts (what the speaker has said while adapting). */
export function vocabularyOf(texts: readonly string[]): Set<string> {
  return new Set(texts.flatMap((t) => normalizeText(t).split(' ').filter(Boolean)));
}

export interface WordClassErrors {
  /** Reference words of the class. */
  words: number;
  /** Substitutions and deletions of those words, and insertions counted with them. */
  errors: number;
  /** errors / words; null when there are no such words. */
  wer: number | null;
}

/**
 * WER split by reference word: words in `own` (the speaker's own vocabulary: those of their
 * adaptation transcripts) and the rest. A substitution or deletion counts for the class of its
 * reference word; an insertion for the class of the reference word before it (the one after it at
 * the start of an utterance), so the two classes' errors add up to the corpus WER's edits.
 */
export function vocabularySplit(refs: readonly string[], hyps: readonly string[], own: ReadonlySet<string>): { own: WordClassErrors; other: WordClassErrors } {
  const acc = { own: { words: 0, errors: 0 }, other: { words: 0, errors: 0 } };
  refs.forEach((ref, k) => {
    const ops = alignWords(ref, hyps[k]).ops;
    const classOf = (w: string) => (own.has(w) ? acc.own : acc.other);
    let pendingInsertions = 0;
    let last: { words: number; errors: number } | undefined;
    for (const op of ops) {
      if (op.op === 'ins') {
        if (last) last.errors++;
        else pendingInsertions++;
        continue;
      }
      const c = classOf(op.ref);
      c.words++;
      if (op.op !== 'equal') c.errors++;
      c.errors += pendingInsertions;
      pendingInsertions = 0;
      last = c;
    }
    acc.other.errors += pendingInsertions; // an empty reference: nothing to attach them to
  });
  const rate = (c: { words: number; errors: number }): WordClassErrors => ({ ...c, wer: c.words ? c.errors / c.words : null });
  return { own: rate(acc.own), other: rate(acc.other) };
}

/** (after − before) / before; negative is better. Null when before is 0 (nothing to improve on). */
export function relativeChange(before: number | null, after: number | null): number | null {
  if (before === null || after === null || !(before > 0)) return null;
  return (after - before) / before;
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Percentile bootstrap interval of the mean (Efron & Tibshirani 1993, ch. 13): resample the values
 * (one per speaker) with replacement `resamples` times from a seeded generator, take each mean,
 * and read the (1 − level)/2 and (1 + level)/2 quantiles (nearest rank).
 */
export function bootstrapMeanInterval(xs: readonly number[], o: { seed: number; resamples?: number; level?: number } = { seed: 1 }): [number, number] {
  if (xs.length === 0) return [NaN, NaN];
  const B = o.resamples ?? 10_000;
  const level = o.level ?? 0.95;
  const rand = mulberry32(o.seed >>> 0);
  const means = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = 0; i < xs.length; i++) s += xs[Math.floor(rand() * xs.length)];
    means[b] = s / xs.length;
  }
  means.sort();
  const at = (q: number) => means[Math.min(B - 1, Math.max(0, Math.ceil(q * B) - 1))];
  return [at((1 - level) / 2), at((1 + level) / 2)];
}

export interface ChangeSummary {
  speakers: number;
  mean_wer_before: number;
  mean_wer_after: number;
  /** Per-speaker relative WER changes (after − before) / before, summarized; negative is better. */
  mean_relative_change: number;
  median_relative_change: number;
  ci95: [number, number];
  improved: number;
  worse: number;
  unchanged: number;
  /** The largest relative worsening of any speaker (≤ 0 when none got worse). */
  worst_relative_change: number;
}

/** Across speakers: mean and median relative change, its bootstrap interval, and how many improved, got worse or stayed. */
export function summarizeChanges(pairs: readonly { before: number; after: number }[], seed: number): ChangeSummary | null {
  const rows = pairs.map((p) => ({ ...p, rel: relativeChange(p.before, p.after) })).filter((p): p is { before: number; after: number; rel: number } => p.rel !== null);
  if (rows.length === 0) return null;
  const rel = rows.map((r) => r.rel);
  return {
    speakers: rows.length,
    mean_wer_before: mean(rows.map((r) => r.before)),
    mean_wer_after: mean(rows.map((r) => r.after)),
    mean_relative_change: mean(rel),
    median_relative_change: median(rel),
    ci95: bootstrapMeanInterval(rel, { seed }),
    improved: rows.filter((r) => r.after < r.before).length,
    worse: rows.filter((r) => r.after > r.before).length,
    unchanged: rows.filter((r) => r.after === r.before).length,
    worst_relative_change: Math.max(...rel),
  };
}
