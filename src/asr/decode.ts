// Turning per-frame CTC scores [T, V] into text: greedy (best path) decoding and prefix beam
// search, which sums over all alignments of each candidate labeling instead of following one
// path. Prefix beam search as in Hannun, "Sequence Modeling with CTC", Distill 2017,
// https://distill.pub/2017/ctc/ (section "Beam Search"), and Graves et al. 2006 section 3.2.
//
// No language model: the beam search can instead favour words from a hotword list or a lexicon.
// Both only ever add to a hypothesis' score, never subtract, so an out-of-list word the acoustics
// clearly support still wins.
import { normalizeText } from './text-normalize';
import { decodeIds, type Vocab } from './vocab';

export interface DecodeResult {
  /** The transcript: tokens joined, runs of spaces collapsed, trimmed. */
  text: string;
  /** Token ids of the labeling (repeats collapsed, blanks removed). */
  ids: number[];
  /**
   * For each id, the frame where it starts (multiply by the frame shift for seconds): for greedy,
   * where the best path emits it; for beam search, the frame at which extending the prefix by it
   * carried the most probability.
   */
  frames: number[];
  /**
   * Natural-log probability: for greedy decoding, of the single best path; for beam search, of
   * the labeling summed over the alignments the beam kept.
   */
  logProb: number;
  /** Beam search only: logProb plus hotword and lexicon bonuses (what the beam ranks by). */
  score: number;
}

/** What the score array holds: raw logits (log-softmax is applied) or log-probabilities already. */
export type ScoreKind = 'logits' | 'logProbs';

/** Greedy decoding: argmax per frame, merge repeats, drop blanks. `scores` is [T, V] row-major. */
export function greedyDecode(scores: Float32Array | Float64Array, vocab: Vocab, kind: ScoreKind = 'logits'): DecodeResult {
  const size = vocab.tokens.length;
  const frameCount = framesOf(scores, size);
  const ids: number[] = [];
  const frames: number[] = [];
  let logProb = 0;
  let previous = -1;
  for (let t = 0; t < frameCount; t++) {
    const row = t * size;
    let best = 0;
    for (let v = 1; v < size; v++) if (scores[row + v] > scores[row + best]) best = v;
    logProb += scores[row + best] - (kind === 'logits' ? logSumExpRow(scores, row, size) : 0);
    if (best !== vocab.blankId && best !== previous) {
      ids.push(best);
      frames.push(t);
    }
    previous = best;
  }
  return { text: tidy(decodeIds(vocab, ids)), ids, frames, logProb, score: logProb };
}

export interface BeamSearchOptions {
  /** Hypotheses kept after each frame. Default 8. */
  beamWidth?: number;
  /** Default 'logits'. */
  kind?: ScoreKind;
  /**
   * Words to favour (normalized with normalizeText; a phrase counts as its words). Each
   * completed occurrence adds `hotwordBonus` to the score. While a hotword is being spelled, the
   * hypothesis already gets the matching fraction of the bonus (taken back if the word ends up
   * different), so it is not pruned before it can complete.
   */
  hotwords?: readonly string[];
  /** Natural-log score per completed hotword. Default 3. */
  hotwordBonus?: number;
  /** Known words (normalized); each completed one adds `lexiconBonus`. Others are not penalized. */
  lexicon?: Iterable<string>;
  /** Natural-log score per completed lexicon word. Default 1. */
  lexiconBonus?: number;
  /**
   * Per frame, tokens whose log-probability is more than this below the frame's best are not
   * tried. Default Infinity (try all); 10–20 speeds up long inputs at no practical cost.
   */
  pruneBelowBest?: number;
  /** How many hypotheses to return, best first. Default 1. */
  nBest?: number;
}

/**
 * A labeling prefix, as a node of the tree of all prefixes seen: extending a prefix by a token
 * is a child lookup, so the beam never copies token lists or builds string keys. The fields
 * other than the two probabilities depend only on the prefix, so they live here.
 */
interface Prefix {
  parent: Prefix | null;
  id: number; // last token, -1 for the empty prefix
  frame: number; // the frame where entering this prefix carried the most probability
  entryLogProb: number; // that largest entering log-probability
  children: Map<number, Prefix> | null; // created on first extension
  completedBonus: number; // bonus of the words already followed by a space
  word: string; // the word being spelled ('' when there are no hotwords or lexicon)
  partialBonus: number; // WordBonus.partial(word), computed once
}

interface Hypothesis {
  prefix: Prefix;
  blankEnding: number; // log p(prefix, path so far ends in blank)
  labelEnding: number; // log p(prefix, path so far ends in its last label)
}

/** CTC prefix beam search in log space; returns up to `nBest` hypotheses, best first. */
export function beamSearch(
  scores: Float32Array | Float64Array,
  vocab: Vocab,
  options: BeamSearchOptions = {},
): DecodeResult[] {
  const {
    beamWidth = 8,
    kind = 'logits',
    hotwordBonus = 3,
    lexiconBonus = 1,
    pruneBelowBest = Infinity,
    nBest = 1,
  } = options;
  if (!Number.isInteger(beamWidth) || beamWidth < 1) throw new Error(`beamSearch: beamWidth must be a positive integer, got ${beamWidth}`);
  const size = vocab.tokens.length;
  const frameCount = framesOf(scores, size);
  const blank = vocab.blankId;
  const space = vocab.ids.get(' ') ?? -1;
  const bonus = new WordBonus(options.hotwords ?? [], hotwordBonus, options.lexicon ?? [], lexiconBonus);
  const logProbs = new Float64Array(size);

  const child = (prefix: Prefix, c: number, t: number): Prefix => {
    if (!prefix.children) prefix.children = new Map();
    let found = prefix.children.get(c);
    if (!found) {
      const endsWord = c === space;
      // Spelled words are only tracked when something can score them.
      const word = endsWord || !bonus.active ? '' : prefix.word + vocab.tokens[c];
      found = {
        parent: prefix,
        id: c,
        frame: t,
        entryLogProb: -Infinity,
        children: null,
        completedBonus: prefix.completedBonus + (endsWord ? bonus.completed(prefix.word) : 0),
        word,
        partialBonus: bonus.partial(word),
      };
      prefix.children.set(c, found);
    }
    return found;
  };
  const root: Prefix = { parent: null, id: -1, frame: -1, entryLogProb: 0, children: null, completedBonus: 0, word: '', partialBonus: 0 };

  let beam: Hypothesis[] = [{ prefix: root, blankEnding: 0, labelEnding: -Infinity }];
  for (let t = 0; t < frameCount; t++) {
    const row = t * size;
    const shift = kind === 'logits' ? logSumExpRow(scores, row, size) : 0;
    let best = -Infinity;
    for (let v = 0; v < size; v++) {
      logProbs[v] = scores[row + v] - shift;
      if (logProbs[v] > best) best = logProbs[v];
    }
    const floor = best - pruneBelowBest;
    const next = new Map<Prefix, Hypothesis>();
    const entry = (prefix: Prefix): Hypothesis => {
      let found = next.get(prefix);
      if (!found) {
        found = { prefix, blankEnding: -Infinity, labelEnding: -Infinity };
        next.set(prefix, found);
      }
      return found;
    };
    for (const h of beam) {
      const last = h.prefix.id;
      const total = logAdd(h.blankEnding, h.labelEnding);
      // Same prefix: a blank, or the last label again without a blank in between (merged).
      const stay = entry(h.prefix);
      stay.blankEnding = logAdd(stay.blankEnding, total + logProbs[blank]);
      if (last >= 0) stay.labelEnding = logAdd(stay.labelEnding, h.labelEnding + logProbs[last]);
      // Longer prefix: any label; the same label as the last only after a blank.
      for (let c = 0; c < size; c++) {
        if (c === blank || logProbs[c] < floor) continue;
        const from = c === last ? h.blankEnding : total;
        if (from === -Infinity) continue;
        const node = child(h.prefix, c, t);
        const entering = from + logProbs[c];
        if (entering > node.entryLogProb) {
          node.entryLogProb = entering;
          node.frame = t;
        }
        const grown = entry(node);
        grown.labelEnding = logAdd(grown.labelEnding, entering);
      }
    }
    const rank = (h: Hypothesis) => logAdd(h.blankEnding, h.labelEnding) + h.prefix.completedBonus + h.prefix.partialBonus;
    beam = [...next.values()].map((h) => ({ h, r: rank(h) })).sort((a, b) => b.r - a.r).slice(0, beamWidth).map((x) => x.h);
    // A prefix that fell out of the beam can never come back (its mass is gone), so it is
    // unlinked from its parent and the tree holds only what the beam can still reach.
    const kept = new Set(beam.map((h) => h.prefix));
    for (const h of beam) {
      const children = h.prefix.children;
      if (children) for (const [c, node] of children) if (!kept.has(node)) children.delete(c);
    }
  }

  return beam
    .map((h) => {
      const ids: number[] = [];
      const frames: number[] = [];
      for (let p: Prefix | null = h.prefix; p && p.id >= 0; p = p.parent) {
        ids.push(p.id);
        frames.push(p.frame);
      }
      ids.reverse();
      frames.reverse();
      const logProb = logAdd(h.blankEnding, h.labelEnding);
      const score = logProb + h.prefix.completedBonus + bonus.completed(h.prefix.word);
      return { text: tidy(decodeIds(vocab, ids)), ids, frames, logProb, score };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, nBest);
}

/** Score bonuses for hotwords and lexicon words, completed or in progress. */
class WordBonus {
  private readonly hotwords = new Set<string>();
  private readonly lexicon = new Set<string>();
  /** Hotword prefix → the largest share of a hotword's bonus it has earned. */
  private readonly prefixes = new Map<string, number>();
  /** Whether any word can earn a bonus at all. */
  readonly active: boolean;

  constructor(
    hotwords: readonly string[],
    private readonly hotwordBonus: number,
    lexicon: Iterable<string>,
    private readonly lexiconBonus: number,
  ) {
    if (!(hotwordBonus >= 0 && lexiconBonus >= 0)) throw new Error('beamSearch: bonuses only boost; they must be ≥ 0');
    for (const entry of lexicon) for (const word of words(entry)) this.lexicon.add(word);
    for (const phrase of hotwords) {
      for (const word of words(phrase)) {
        this.hotwords.add(word);
        for (let n = 1; n < word.length; n++) {
          const prefix = word.slice(0, n);
          const share = (hotwordBonus * n) / word.length;
          if (share > (this.prefixes.get(prefix) ?? 0)) this.prefixes.set(prefix, share);
        }
      }
    }
    this.active = this.hotwords.size + this.lexicon.size > 0;
  }

  completed(word: string): number {
    return (this.hotwords.has(word) ? this.hotwordBonus : 0) + (this.lexicon.has(word) ? this.lexiconBonus : 0);
  }

  /** Credit for a word still being spelled: what it would earn if it ended here, or a hotword share. */
  partial(word: string): number {
    if (!word) return 0;
    return Math.max(this.prefixes.get(word) ?? 0, this.completed(word));
  }
}

function words(text: string): string[] {
  return normalizeText(text).split(' ').filter((w) => w !== '');
}

function framesOf(scores: ArrayLike<number>, size: number): number {
  if (scores.length % size !== 0) {
    throw new Error(`decode: ${scores.length} scores is not a whole number of frames of ${size} tokens`);
  }
  return scores.length / size;
}

function logSumExpRow(scores: ArrayLike<number>, row: number, size: number): number {
  let max = -Infinity;
  for (let v = 0; v < size; v++) if (scores[row + v] > max) max = scores[row + v];
  let sum = 0;
  for (let v = 0; v < size; v++) sum += Math.exp(scores[row + v] - max);
  return max + Math.log(sum);
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

function tidy(text: string): string {
  return text.replace(/ +/g, ' ').trim();
}
