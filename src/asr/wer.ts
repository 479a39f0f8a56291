// Word and character error rates by Levenshtein alignment with a backtrace, so that besides the
// rate we know *which* words were substituted, deleted or inserted.
//
// Conventions:
//  - Text is normalized with normalizeText before scoring unless `normalize: false` (then words are
//    whitespace-separated and case-sensitive) or a custom normalizer is given. Scoring raw model
//    output against raw reference text would count "Hello," vs "hello" as an error.
//  - Corpus rates are total edits / total reference units (not a mean of per-utterance rates), so
//    long utterances weigh more, as in NIST sclite and jiwer.
//  - Characters for CER are Unicode code points of the normalized text, spaces between words
//    included (as jiwer does).
//  - An empty reference: the rate is 0 if the hypothesis is empty too, otherwise +Infinity (every
//    unit is an insertion and there is nothing to divide by). The counts stay exact, and a corpus
//    rate is finite as long as some reference is non-empty.
//  - Among equally short alignments the backtrace (which walks from the end) prefers
//    match/substitution, then deletion, then insertion; so "a b" → "x" reads as del a, sub b→x.
import { normalizeText } from './text-normalize';

export type EditOp =
  | { op: 'equal'; ref: string; hyp: string }
  | { op: 'sub'; ref: string; hyp: string }
  | { op: 'del'; ref: string; hyp: null }
  | { op: 'ins'; ref: null; hyp: string };

export interface Alignment {
  ops: EditOp[];
  /** Units (words or characters) in the reference and the hypothesis. */
  refLength: number;
  hypLength: number;
  equal: number;
  sub: number;
  del: number;
  ins: number;
  /** sub + del + ins. */
  edits: number;
  /** edits / refLength; see the empty-reference convention above. */
  errorRate: number;
}

export interface ErrorRateResult {
  /** Total edits / total reference units over the corpus. */
  errorRate: number;
  edits: number;
  refLength: number;
  sub: number;
  del: number;
  ins: number;
  /** One alignment per utterance, in input order. */
  utterances: Alignment[];
}

export interface ScoreOptions {
  /** true (default): normalizeText; false: score the text as given; or a custom normalizer. */
  normalize?: boolean | ((text: string) => string);
}

/** Aligns two unit sequences with minimum edit distance (unit costs) and backtraces the edits. */
export function alignUnits(ref: readonly string[], hyp: readonly string[]): Alignment {
  const n = ref.length;
  const m = hyp.length;
  const width = m + 1;
  // cost[i * width + j]: edit distance between ref[0..i) and hyp[0..j).
  const cost = new Int32Array((n + 1) * width);
  for (let j = 0; j <= m; j++) cost[j] = j;
  for (let i = 1; i <= n; i++) {
    const row = i * width;
    cost[row] = i;
    const r = ref[i - 1];
    for (let j = 1; j <= m; j++) {
      const diagonal = cost[row - width + j - 1] + (r === hyp[j - 1] ? 0 : 1);
      const up = cost[row - width + j] + 1; // deletion of ref[i-1]
      const left = cost[row + j - 1] + 1; // insertion of hyp[j-1]
      cost[row + j] = Math.min(diagonal, up, left);
    }
  }
  const ops: EditOp[] = [];
  let equal = 0;
  let sub = 0;
  let del = 0;
  let ins = 0;
  let i = n;
  let j = m;
  while (i > 0 || j > 0) {
    const here = cost[i * width + j];
    if (i > 0 && j > 0) {
      const same = ref[i - 1] === hyp[j - 1];
      if (here === cost[(i - 1) * width + j - 1] + (same ? 0 : 1)) {
        if (same) {
          ops.push({ op: 'equal', ref: ref[i - 1], hyp: hyp[j - 1] });
          equal++;
        } else {
          ops.push({ op: 'sub', ref: ref[i - 1], hyp: hyp[j - 1] });
          sub++;
        }
        i--;
        j--;
        continue;
      }
    }
    if (i > 0 && here === cost[(i - 1) * width + j] + 1) {
      ops.push({ op: 'del', ref: ref[i - 1], hyp: null });
      del++;
      i--;
    } else {
      ops.push({ op: 'ins', ref: null, hyp: hyp[j - 1] });
      ins++;
      j--;
    }
  }
  ops.reverse();
  const edits = sub + del + ins;
  return { ops, refLength: n, hypLength: m, equal, sub, del, ins, edits, errorRate: rate(edits, n) };
}

/** Word alignment of one reference/hypothesis pair (normalized first by default). */
export function alignWords(ref: string, hyp: string, options: ScoreOptions = {}): Alignment {
  const norm = normalizer(options);
  return alignUnits(words(norm(ref)), words(norm(hyp)));
}

/** Character alignment of one pair (normalized first by default); spaces count as characters. */
export function alignChars(ref: string, hyp: string, options: ScoreOptions = {}): Alignment {
  const norm = normalizer(options);
  return alignUnits(chars(norm(ref)), chars(norm(hyp)));
}

/** Corpus word error rate: total word edits / total reference words. */
export function wer(refs: readonly string[], hyps: readonly string[], options: ScoreOptions = {}): ErrorRateResult {
  return corpus(refs, hyps, (r, h) => alignWords(r, h, options));
}

/** Corpus character error rate: total character edits / total reference characters. */
export function cer(refs: readonly string[], hyps: readonly string[], options: ScoreOptions = {}): ErrorRateResult {
  return corpus(refs, hyps, (r, h) => alignChars(r, h, options));
}

export interface CountedPair {
  ref: string;
  hyp: string;
  /** "ref→hyp", convenient as a label. */
  key: string;
  count: number;
}

export interface CountedUnit {
  unit: string;
  count: number;
}

export interface TopErrors {
  substitutions: CountedPair[];
  deletions: CountedUnit[];
  insertions: CountedUnit[];
}

/**
 * The n most frequent substitutions, deletions and insertions over some alignments (e.g.
 * `wer(...).utterances`), most frequent first, ties in alphabetical order.
 */
export function topWordErrors(alignments: readonly Alignment[], n: number): TopErrors {
  const subs = new Map<string, CountedPair>();
  const dels = new Map<string, number>();
  const inss = new Map<string, number>();
  for (const alignment of alignments) {
    for (const e of alignment.ops) {
      if (e.op === 'sub') {
        const key = `${e.ref}→${e.hyp}`;
        const entry = subs.get(key);
        if (entry) entry.count++;
        else subs.set(key, { ref: e.ref, hyp: e.hyp, key, count: 1 });
      } else if (e.op === 'del') {
        dels.set(e.ref, (dels.get(e.ref) ?? 0) + 1);
      } else if (e.op === 'ins') {
        inss.set(e.hyp, (inss.get(e.hyp) ?? 0) + 1);
      }
    }
  }
  const units = (counts: Map<string, number>): CountedUnit[] =>
    [...counts].map(([unit, count]) => ({ unit, count })).sort(byCountThen((u) => u.unit)).slice(0, n);
  return {
    substitutions: [...subs.values()].sort(byCountThen((p) => p.key)).slice(0, n),
    deletions: units(dels),
    insertions: units(inss),
  };
}

function byCountThen<T extends { count: number }>(label: (t: T) => string) {
  return (a: T, b: T): number =>
    b.count - a.count || (label(a) < label(b) ? -1 : label(a) > label(b) ? 1 : 0);
}

function corpus(
  refs: readonly string[],
  hyps: readonly string[],
  align: (ref: string, hyp: string) => Alignment,
): ErrorRateResult {
  if (refs.length !== hyps.length) {
    throw new Error(`error rate: ${refs.length} references but ${hyps.length} hypotheses`);
  }
  const utterances = refs.map((ref, k) => align(ref, hyps[k]));
  let edits = 0;
  let refLength = 0;
  let sub = 0;
  let del = 0;
  let ins = 0;
  for (const u of utterances) {
    edits += u.edits;
    refLength += u.refLength;
    sub += u.sub;
    del += u.del;
    ins += u.ins;
  }
  return { errorRate: rate(edits, refLength), edits, refLength, sub, del, ins, utterances };
}

function rate(edits: number, refLength: number): number {
  if (refLength > 0) return edits / refLength;
  return edits === 0 ? 0 : Infinity;
}

function normalizer(options: ScoreOptions): (text: string) => string {
  const { normalize = true } = options;
  if (typeof normalize === 'function') return normalize;
  return normalize ? normalizeText : (text) => text;
}

function words(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === '' ? [] : trimmed.split(/\s+/);
}

/** Code points, with runs of whitespace as one space and none at the ends. */
function chars(text: string): string[] {
  return Array.from(text.trim().replace(/\s+/g, ' '));
}
