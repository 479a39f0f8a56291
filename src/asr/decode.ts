// Turning per-frame CTC scores [T, V] into text: greedy (best path) decoding and prefix beam
// search, which sums over all alignments of each candidate labeling instead of following one
// path. Prefix beam search as in Hannun, "Sequence Modeling with CTC", Distill 2017,
// https://distill.pub/2017/ctc/ (section "Beam Search"), and Graves et al. 2006 section 3.2.
//
// The beam search can add a word language model (shallow fusion: the score of a hypothesis is its
// CTC log-probability plus weight × ln p_LM of its completed words plus a bonus per word), and it
// can favour words from a hotword list or a lexicon. Hotword and lexicon bonuses only ever add to a
// hypothesis' score, never subtract, so an out-of-list word the acoustics clearly support still wins.
//
// Words: a token whose text starts with a space starts a new word — the space token of a
// character vocabulary, or a SentencePiece piece "▁the" read as " the" (src/foreign/vocab.ts) — so
// it completes the word being spelled and the rest of its text begins the next one.
import { BOS, EOS, UNK, type WordLm } from './lm';
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
  /**
   * Hypotheses kept after each frame. Default 8. Width 1 is not quite greedy decoding: it keeps
   * the most probable *prefix* (summed over its alignments), which agrees with the best path
   * whenever each frame has a clear winner.
   */
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
  /** A word language model fused into the ranking (see LmFusion). */
  lm?: LmFusion;
}

/**
 * Shallow fusion: each completed word adds `weight` × ln p(word | the one or two words before, as
 * the LM's order allows) + `wordBonus`; the end of the transcript adds `weight` × ln p(</s> | …).
 * A word the LM does not know also pays `unkCharCost` per letter. A word still being spelled whose
 * spelling starts no vocabulary word already carries that score, so the beam drops such spellings
 * early unless the acoustics insist.
 */
export interface LmFusion {
  model: WordLm;
  /** Typical 0.3–1. */
  weight: number;
  /** Natural-log score per word, against the LM's preference for fewer words. Typical 0–3. */
  wordBonus: number;
  /**
   * Natural-log cost per letter of a word the LM does not know (default 0). The LM charges <unk>
   * once per word, whatever its length, so without it one long non-word glued from several words
   * ("wakfollosthegaim") costs less than the known words it replaces.
   */
  unkCharCost?: number;
  /**
   * LM look-ahead: a word still being spelled already carries `weight` × the largest unigram
   * ln p of the vocabulary words it can still become (WordLm.lookahead), replaced by the word's
   * real LM score when it completes. Without it a half-spelled word scores nothing from the LM,
   * so the beam cannot tell "th…" from "xq…" and prefers hypotheses in the middle of a word to
   * those that have just paid for one.
   */
  lookahead?: boolean;
}

/** How a model's transcripts are decoded: greedy (width 1, no LM) or beam search, with or without a word LM. */
export interface Decoding {
  beamWidth: number;
  lm?: LmFusion;
}

export const GREEDY: Decoding = { beamWidth: 1 };

/** The transcript of one utterance's scores [T, V] under a decoding. */
export function decodeText(scores: Float32Array | Float64Array, vocab: Vocab, decoding: Decoding = GREEDY, kind: ScoreKind = 'logits'): string {
  if (decoding.beamWidth <= 1 && !decoding.lm) return greedyDecode(scores, vocab, kind).text;
  return beamSearch(scores, vocab, { beamWidth: Math.max(1, decoding.beamWidth), lm: decoding.lm, kind, pruneBelowBest: 15 })[0]?.text ?? '';
}

/** A short description of a decoding, for results and model cards. */
export function describeDecoding(d: Decoding, beamWidth = d.beamWidth): string {
  if (beamWidth <= 1 && !d.lm) return 'greedy';
  const unk = (d.lm?.unkCharCost ? `, unknown-word cost ${d.lm.unkCharCost} per letter` : '') + (d.lm?.lookahead ? ', unigram look-ahead' : '');
  const lm = d.lm ? `, word ${d.lm.model.orderName} LM (${d.lm.model.vocabularySize} words) weight ${d.lm.weight}, word bonus ${d.lm.wordBonus}${unk}` : ', no LM';
  return `beam search, width ${beamWidth}${lm}`;
}

/**
 * A labeling prefix, as a node of the tree of prefixes in the beam: extending a prefix by a token
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
  word: string; // the word being spelled ('' when there are no hotwords, lexicon or LM)
  spelled: number; // the LM's spelling-trie node of `word` (WordLm.spell; −1: no LM word starts so)
  partialBonus: number; // WordBonus.partial(word), computed once
  lmPrev: number; // LM id of the last completed word (<s> at the start)
  lmBefore: number; // LM id of the completed word before it (-1 when lmPrev is <s>)
  slot: number; // index in the current beam, -1 when not in it
  /**
   * Per token, the word bonus extending this prefix by it earns (NaN until asked), in two terms
   * (the word it completes or continues; the word it starts) added in the order they always were:
   * a prefix stays in the beam for many frames and is offered the same tokens each time, and the
   * bonus depends only on the prefix and the token, so each string lookup in the LM is done once
   * per prefix and token.
   */
  extensionBonus: Float64Array | null; // [2 × vocabulary]
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
  const startsWord = vocab.tokens.map((token) => token.startsWith(' '));
  const body = vocab.tokens.map((token) => (token.startsWith(' ') ? token.slice(1) : token));
  const bonus = new WordBonus(options.hotwords ?? [], hotwordBonus, options.lexicon ?? [], lexiconBonus, options.lm);
  const logProbs = new Float64Array(size);

  // The beam: prefixes and, per prefix, log p(prefix, path so far ends in blank / in its last
  // label) — Hannun's p_b and p_nb.
  let prefixes: Prefix[] = [makePrefix(null, -1, -1, 0, 0, '', 0, 0, bonus.start, -1)];
  const blankEnding = new Float64Array(beamWidth).fill(-Infinity);
  const labelEnding = new Float64Array(beamWidth).fill(-Infinity);
  blankEnding[0] = 0;
  prefixes[0].slot = 0;
  // Per frame: the same prefixes one frame later (same slots), then the new prefixes (one per
  // beam entry and label at most), kept as plain numbers until the best `beamWidth` are known.
  const stayBlank = new Float64Array(beamWidth);
  const stayLabel = new Float64Array(beamWidth);
  const capacity = beamWidth * size;
  const newParent = new Int32Array(capacity);
  const newToken = new Int32Array(capacity);
  const newLabel = new Float64Array(capacity);
  const rankOf = new Float64Array(beamWidth + capacity);
  const chosen = new Int32Array(beamWidth); // the candidates kept, best first

  for (let t = 0; t < frameCount; t++) {
    const row = t * size;
    const shift = kind === 'logits' ? logSumExpRow(scores, row, size) : 0;
    let best = -Infinity;
    for (let v = 0; v < size; v++) {
      logProbs[v] = scores[row + v] - shift;
      if (logProbs[v] > best) best = logProbs[v];
    }
    const floor = best - pruneBelowBest;

    const beamSize = prefixes.length;
    stayBlank.fill(-Infinity, 0, beamSize);
    stayLabel.fill(-Infinity, 0, beamSize);
    let newCount = 0;
    for (let i = 0; i < beamSize; i++) {
      const prefix = prefixes[i];
      const last = prefix.id;
      const total = logAdd(blankEnding[i], labelEnding[i]);
      // Same prefix: a blank, or the last label again without a blank in between (merged).
      stayBlank[i] = logAdd(stayBlank[i], total + logProbs[blank]);
      if (last >= 0) stayLabel[i] = logAdd(stayLabel[i], labelEnding[i] + logProbs[last]);
      // Longer prefix: any label; the same label as the last only after a blank.
      for (let c = 0; c < size; c++) {
        if (c === blank || logProbs[c] < floor) continue;
        const from = c === last ? blankEnding[i] : total;
        if (from === -Infinity) continue;
        const entering = from + logProbs[c];
        const existing = prefix.children?.get(c);
        if (existing && existing.slot >= 0) {
          // The longer prefix is in the beam itself: merge.
          stayLabel[existing.slot] = logAdd(stayLabel[existing.slot], entering);
          if (entering > existing.entryLogProb) {
            existing.entryLogProb = entering;
            existing.frame = t;
          }
        } else {
          newParent[newCount] = i;
          newToken[newCount] = c;
          newLabel[newCount] = entering;
          newCount++;
        }
      }
    }

    // Rank everything by probability plus word bonuses and keep the best beamWidth.
    const candidates = beamSize + newCount;
    for (let i = 0; i < beamSize; i++) {
      rankOf[i] = logAdd(stayBlank[i], stayLabel[i]) + prefixes[i].completedBonus + prefixes[i].partialBonus;
    }
    for (let k = 0; k < newCount; k++) {
      const parent = prefixes[newParent[k]];
      const c = newToken[k];
      let wordBonus = parent.completedBonus;
      if (bonus.active) {
        const known = (parent.extensionBonus ??= new Float64Array(2 * size).fill(NaN));
        if (Number.isNaN(known[c])) {
          if (!startsWord[c]) known[c] = bonus.partial(parent.word + body[c], bonus.spell(parent.spelled, body[c]), parent.lmPrev, parent.lmBefore);
          else {
            known[c] = bonus.completed(parent.word, parent.lmPrev, parent.lmBefore);
            const shifts = parent.word !== '';
            known[size + c] = body[c] ? bonus.partial(body[c], bonus.spell(0, body[c]), shifts ? bonus.lmId(parent.word) : parent.lmPrev, shifts ? parent.lmPrev : parent.lmBefore) : 0;
          }
        }
        wordBonus += known[c];
        if (startsWord[c] && body[c]) wordBonus += known[size + c];
      }
      rankOf[beamSize + k] = newLabel[k] + wordBonus;
    }
    const kept = selectBest(rankOf, candidates, Math.min(beamWidth, candidates), chosen);
    const nextPrefixes: Prefix[] = [];
    // The previous frame's values are no longer needed: the new beam's go in their place.
    blankEnding.fill(-Infinity);
    labelEnding.fill(-Infinity);
    for (let n = 0; n < kept; n++) {
      const pick = chosen[n];
      if (pick < beamSize) {
        nextPrefixes.push(prefixes[pick]);
        blankEnding[n] = stayBlank[pick];
        labelEnding[n] = stayLabel[pick];
      } else {
        const k = pick - beamSize;
        const parent = prefixes[newParent[k]];
        const c = newToken[k];
        const endsWord = startsWord[c];
        // Spelled words are only tracked when something can score them; their bonuses were worked
        // out when this extension was ranked (extensionBonus).
        const word = !bonus.active ? '' : endsWord ? body[c] : parent.word + body[c];
        const known = parent.extensionBonus;
        const completedBonus = parent.completedBonus + (endsWord && known ? known[c] : 0);
        const partialBonus = !known ? 0 : endsWord ? known[size + c] : known[c];
        const spelled = !bonus.active ? -1 : bonus.spell(endsWord ? 0 : parent.spelled, body[c]);
        const shifts = endsWord && parent.word !== '';
        const lmPrev = shifts ? bonus.lmId(parent.word) : parent.lmPrev;
        const lmBefore = shifts ? parent.lmPrev : parent.lmBefore;
        const node = makePrefix(parent, c, t, newLabel[k], completedBonus, word, spelled, partialBonus, lmPrev, lmBefore);
        // Replaces any stale child that fell out of the beam earlier.
        (parent.children ??= new Map()).set(c, node);
        nextPrefixes.push(node);
        labelEnding[n] = newLabel[k];
      }
    }
    for (const prefix of prefixes) prefix.slot = -1;
    nextPrefixes.forEach((prefix, slot) => (prefix.slot = slot));
    prefixes = nextPrefixes;
  }

  return prefixes
    .map((prefix, i) => {
      const ids: number[] = [];
      const frames: number[] = [];
      for (let p: Prefix | null = prefix; p && p.id >= 0; p = p.parent) {
        ids.push(p.id);
        frames.push(p.frame);
      }
      ids.reverse();
      frames.reverse();
      const logProb = logAdd(blankEnding[i], labelEnding[i]);
      const score = logProb + prefix.completedBonus + bonus.completed(prefix.word, prefix.lmPrev, prefix.lmBefore) + bonus.end(prefix.word, prefix.lmPrev, prefix.lmBefore);
      return { text: tidy(decodeIds(vocab, ids)), ids, frames, logProb, score };
    })
    .sort((a, b) => b.score - a.score)
    .slice(0, nBest);
}

/**
 * The `count` best of `rank[0 … n)` into `out`, best first; equal ranks in index order (what
 * picking the maximum `count` times gives, in O(n log count) instead of O(n · count)). A min-heap
 * of the best seen so far, its worst at the root, then sorted by popping.
 */
function selectBest(rank: Float64Array, n: number, count: number, out: Int32Array): number {
  // a is worse than b: lower rank, or the same rank and a later index
  const worse = (a: number, b: number) => rank[a] < rank[b] || (rank[a] === rank[b] && a > b);
  const siftDown = (size: number) => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && worse(out[r], out[l]) ? r : l;
      if (!worse(out[c], out[i])) return;
      const t = out[c];
      out[c] = out[i];
      out[i] = t;
      i = c;
    }
  };
  let size = 0;
  for (let j = 0; j < n; j++) {
    if (size < count) {
      let i = size++;
      out[i] = j;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!worse(out[i], out[p])) break;
        const t = out[p];
        out[p] = out[i];
        out[i] = t;
        i = p;
      }
    } else if (worse(out[0], j)) {
      out[0] = j;
      siftDown(size);
    }
  }
  // pop the worst to the back until the heap is empty: out ends best first
  for (let end = size - 1; end > 0; end--) {
    const t = out[0];
    out[0] = out[end];
    out[end] = t;
    siftDown(end);
  }
  return size;
}

function makePrefix(
  parent: Prefix | null,
  id: number,
  frame: number,
  entryLogProb: number,
  completedBonus: number,
  word: string,
  spelled: number,
  partialBonus: number,
  lmPrev: number,
  lmBefore: number,
): Prefix {
  return { parent, id, frame, entryLogProb, children: null, completedBonus, word, spelled, partialBonus, lmPrev, lmBefore, slot: -1, extensionBonus: null };
}

/** Score terms for words, completed or in progress: hotword and lexicon bonuses and LM scores. */
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
    private readonly lm?: LmFusion,
  ) {
    if (!(hotwordBonus >= 0 && lexiconBonus >= 0)) throw new Error('beamSearch: bonuses only boost; they must be ≥ 0');
    if (lm && !(Number.isFinite(lm.weight) && lm.weight >= 0 && Number.isFinite(lm.wordBonus))) {
      throw new Error(`beamSearch: the LM weight must be a number ≥ 0 and the word bonus a number (got ${lm.weight}, ${lm.wordBonus})`);
    }
    this.unkCharCost = lm?.unkCharCost ?? 0;
    if (!(Number.isFinite(this.unkCharCost) && this.unkCharCost >= 0)) throw new Error(`beamSearch: the unknown-word cost must be a number ≥ 0, got ${lm?.unkCharCost}`);
    this.start = lm ? lm.model.id(BOS) : -1;
    this.unk = lm ? lm.model.id(UNK) : -1;
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
    this.active = this.hotwords.size + this.lexicon.size > 0 || lm !== undefined;
  }

  /** The LM history at the start of a transcript (-1 without an LM). */
  readonly start: number;
  private readonly unk: number;
  private readonly unkCharCost: number;

  lmId(word: string): number {
    return this.lm ? this.lm.model.id(word) : -1;
  }

  /** The LM's spelling-trie node after `text` from `node` (−1 without an LM). */
  spell(node: number, text: string): number {
    return this.lm ? this.lm.model.spell(node, text) : -1;
  }

  /** What completing `word` after the LM history `before prev` adds. */
  completed(word: string, prev: number, before: number): number {
    if (!word) return 0;
    const lists = (this.hotwords.has(word) ? this.hotwordBonus : 0) + (this.lexicon.has(word) ? this.lexiconBonus : 0);
    if (!this.lm) return lists;
    const id = this.lm.model.id(word);
    const unknown = id === this.unk ? this.unkCharCost * word.length : 0;
    return lists + this.lm.weight * this.lm.model.logProb(prev, id, before) + this.lm.wordBonus - unknown;
  }

  /** What ending the transcript adds after its last word (`word`, possibly '') — the LM's </s>. */
  end(word: string, prev: number, before: number): number {
    if (!this.lm) return 0;
    const model = this.lm.model;
    return this.lm.weight * (word ? model.logProb(model.id(word), model.id(EOS), prev) : model.logProb(prev, model.id(EOS), before));
  }

  /**
   * Credit for a word still being spelled: the largest hotword share or list bonus it would earn
   * if it ended here; with an LM, the <unk> score (growing with each letter) once the spelling
   * starts no vocabulary word (`spelled`: its node in the LM's spelling trie, −1 for none).
   */
  partial(word: string, spelled: number, prev: number, before: number): number {
    if (!word) return 0;
    const lists = Math.max(this.prefixes.get(word) ?? 0, (this.hotwords.has(word) ? this.hotwordBonus : 0) + (this.lexicon.has(word) ? this.lexiconBonus : 0));
    if (!this.lm) return lists;
    if (spelled >= 0) return this.lm.lookahead ? lists + this.lm.weight * this.lm.model.lookahead(spelled) : lists; // some LM word starts with this spelling
    return lists + this.lm.weight * this.lm.model.logProb(prev, this.unk, before) + this.lm.wordBonus - this.unkCharCost * word.length;
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
