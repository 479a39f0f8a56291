// What the user sees of training as takes arrive: every round is a point (accepted takes so far;
// the held-out WER/CER of the base model and of the model current after the round), and on the
// held-out takes, the words the current model gets right that the base model missed. Pure
// functions over the stored rounds (ProgressRound in src/workers/train-db.ts).
import { alignWords } from '../asr/wer';
import type { HeldOutScore, ProgressRound, RunRecord } from '../workers/train-db';

/** A round as the store keeps it: IDs and numbers, without its transcripts. */
export type RoundPoint = Omit<ProgressRound, 'transcripts'>;

export const pointOf = ({ transcripts: _transcripts, ...point }: ProgressRound): RoundPoint => point;

/**
 * The model a chain of runs began from: each model is followed back to the run that made it, so
 * round 5's base is the model round 1 started from, not round 4's result.
 */
export function baseModelOf(modelId: string, runs: readonly Pick<RunRecord, 'baseModelId' | 'resultModelId'>[]): string {
  const madeFrom = new Map<string, string>();
  for (const r of runs) if (r.resultModelId) madeFrom.set(r.resultModelId, r.baseModelId);
  const seen = new Set<string>();
  let id = modelId;
  while (madeFrom.has(id) && !seen.has(id)) {
    seen.add(id);
    id = madeFrom.get(id)!;
  }
  return id;
}

/**
 * The rounds of one story, oldest first: those on the latest round's recordings and from its base
 * model (after the user switches to an unrelated model, its rounds start a new picture).
 */
export function currentLineage(points: readonly RoundPoint[]): RoundPoint[] {
  const sorted = [...points].sort((a, b) => a.createdAt - b.createdAt);
  const last = sorted[sorted.length - 1];
  return last ? sorted.filter((p) => p.datasetId === last.datasetId && p.baseModelId === last.baseModelId) : [];
}

type Series = [number, number][];

export interface ProgressSeries {
  /** [takes, rate] of the base model and of the model current after each round. */
  base: Series;
  current: Series;
  /** The current model at rounds that were not adopted (it stayed), to mark them. */
  kept: Series;
  /** What a round that was not adopted scored itself. */
  turnedDown: Series;
}

/** One metric over the rounds, in order; a round without held-out scores is no point. */
export function progressSeries(points: readonly RoundPoint[], metric: keyof Pick<HeldOutScore, 'wer' | 'cer'>): ProgressSeries {
  const out: ProgressSeries = { base: [], current: [], kept: [], turnedDown: [] };
  for (const p of points) {
    if (!p.base || !p.current) continue;
    out.base.push([p.takes, p.base[metric]]);
    out.current.push([p.takes, p.current[metric]]);
    if (!p.adopted) {
      out.kept.push([p.takes, p.current[metric]]);
      if (p.turnedDown) out.turnedDown.push([p.takes, p.turnedDown[metric]]);
    }
  }
  return out;
}

export interface ProgressSummary {
  takes: number;
  heldOut: number;
  base: HeldOutScore;
  current: HeldOutScore;
  /** Fraction of the base model's word errors gone (negative: more errors). */
  fewerErrors: number;
}

/** The latest scored round against the base model, for the headline. */
export function progressSummary(points: readonly RoundPoint[]): ProgressSummary | undefined {
  const last = [...points].reverse().find((p) => p.base && p.current);
  if (!last?.base || !last.current) return undefined;
  const fewerErrors = last.base.wer > 0 ? (last.base.wer - last.current.wer) / last.base.wer : 0;
  return { takes: last.takes, heldOut: last.current.takes, base: last.base, current: last.current, fewerErrors };
}

/** Each reference word (normalized) and whether the hypothesis has it right; an inserted word belongs to no reference word. */
export function referenceWords(ref: string, hyp: string): { word: string; right: boolean }[] {
  return alignWords(ref, hyp)
    .ops.filter((o) => o.op !== 'ins')
    .map((o) => ({ word: o.ref as string, right: o.op === 'equal' }));
}

export interface WordCount {
  word: string;
  count: number;
}

const byCount = (m: Map<string, number>): WordCount[] =>
  [...m].map(([word, count]) => ({ word, count })).sort((a, b) => b.count - a.count || a.word.localeCompare(b.word));

/**
 * Over the held-out takes, reference words the current model writes right where the base model
 * missed them (substituted or dropped), and the reverse, most frequent first. Position by position
 * in each reference, so a word said twice counts twice.
 */
export function wordChanges(transcripts: readonly Pick<ProgressRound['transcripts'][number], 'ref' | 'base' | 'current'>[]): {
  nowRight: WordCount[];
  nowMissed: WordCount[];
} {
  const nowRight = new Map<string, number>();
  const nowMissed = new Map<string, number>();
  for (const t of transcripts) {
    const before = referenceWords(t.ref, t.base);
    const after = referenceWords(t.ref, t.current);
    before.forEach(({ word, right }, i) => {
      if (right === after[i].right) return;
      const m = right ? nowMissed : nowRight;
      m.set(word, (m.get(word) ?? 0) + 1);
    });
  }
  return { nowRight: byCount(nowRight), nowMissed: byCount(nowMissed) };
}
