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
  /** For each id, the frame where it was first emitted (multiply by the frame shift for seconds). */
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

interface Hypothesis {
  key: string; // ids as UTF-16 code units: a cheap unique map key
  ids: number[];
  frames: number[];
  last: number; // last id, -1 when empty
  blankEnding: number; // log p(prefix, path so far ends in blank)
  labelEnding: number; // log p(prefix, path so far ends in its last label)
  completedBonus: number; // bonus of the words already followed by a space
  word: string; // the word being spelled
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

  let beam: Hypothesis[] = [
    { key: '', ids: [], frames: [], last: -1, blankEnding: 0, labelEnding: -Infinity, completedBonus: 0, word: '' },
  ];
  for (let t = 0; t < frameCount; t++) {
    const row = t * size;
    const shift = kind === 'logits' ? logSumExpRow(scores, row, size) : 0;
    let best = -Infinity;
    for (let v = 0; v < size; v++) {
      logProbs[v] = scores[row + v] - shift;
      if (logProbs[v] > best) best = logProbs[v];
    }
    const floor = best - pruneBelowBest;
    const next = new Map<string, Hypothesis>();
    for (const h of beam) {
      const total = logAdd(h.blankEnding, h.labelEnding);
      // Same prefix: a blank, or the last label again without a blank in between (merged).
      const stay = entry(next, h);
      stay.blankEnding = logAdd(stay.blankEnding, total + logProbs[blank]);
      if (h.last >= 0) stay.labelEnding = logAdd(stay.labelEnding, h.labelEnding + logProbs[h.last]);
      // Longer prefix: any label; the same label as the last only after a blank.
      for (let c = 0; c < size; c++) {
        if (c === blank || logProbs[c] < floor) continue;
        const from = c === h.last ? h.blankEnding : total;
        if (from === -Infinity) continue;
        const grown = extend(next, h, c, t, vocab, space, bonus);
        grown.labelEnding = logAdd(grown.labelEnding, from + logProbs[c]);
      }
    }
    beam = [...next.values()];
    const rank = (h: Hypothesis) => logAdd(h.blankEnding, h.labelEnding) + h.completedBonus + bonus.partial(h.word);
    beam.sort((a, b) => rank(b) - rank(a));
    if (beam.length > beamWidth) beam.length = beamWidth;
  }

  return beam
    .map((h) => {
      const logProb = logAdd(h.blankEnding, h.labelEnding);
      const score = logProb + h.completedBonus + bonus.completed(h.word);
      return { text: tidy(decodeIds(vocab, h.ids)), ids: h.ids, frames: h.frames, logProb, score };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, nBest);
}

/** The entry for h's own prefix in the next beam, created empty on first use. */
function entry(next: Map<string, Hypothesis>, h: Hypothesis): Hypothesis {
  let found = next.get(h.key);
  if (!found) {
    found = { ...h, blankEnding: -Infinity, labelEnding: -Infinity };
    next.set(h.key, found);
  }
  return found;
}

/** The entry for h's prefix plus token c in the next beam, created empty on first use. */
function extend(
  next: Map<string, Hypothesis>,
  h: Hypothesis,
  c: number,
  t: number,
  vocab: Vocab,
  space: number,
  bonus: WordBonus,
): Hypothesis {
  const key = h.key + String.fromCharCode(c);
  let found = next.get(key);
  if (!found) {
    const endsWord = c === space;
    found = {
      key,
      ids: [...h.ids, c],
      frames: [...h.frames, t],
      last: c,
      blankEnding: -Infinity,
      labelEnding: -Infinity,
      completedBonus: h.completedBonus + (endsWord ? bonus.completed(h.word) : 0),
      word: endsWord ? '' : h.word + vocab.tokens[c],
    };
    next.set(key, found);
  }
  return found;
}

/** Score bonuses for hotwords and lexicon words, completed or in progress. */
class WordBonus {
  private readonly hotwords = new Set<string>();
  private readonly lexicon = new Set<string>();
  /** Hotword prefix → the largest share of a hotword's bonus it has earned. */
  private readonly prefixes = new Map<string, number>();

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
