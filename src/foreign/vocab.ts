// Vocabularies of models from elsewhere, read from their own files and bridged to our decoder.
//
// Two kinds:
// - characters: wav2vec2-style `vocab.json` (token → id; "|" is the word delimiter, the pad token
//   is the CTC blank; letters often in capitals), or a character tokens.txt;
// - pieces: NeMo's SentencePiece vocabulary as sherpa-onnx writes it in tokens.txt ("<piece> <id>",
//   "▁" marks a piece that starts a word, `<blk>` last is the blank).
//
// The bridge to src/asr/decode.ts is the Vocab it already takes, with each token's *text*: what it
// adds to a transcript. A text beginning with a space starts a new word ("|" → " ", "▁the" →
// " the"), so joining texts and collapsing spaces gives the transcript, and the beam search knows
// where words end for the word LM. Letters of a capitals-only vocabulary are lower-cased, as our
// normalised text is; special tokens (<s>, </s>, <unk>, [PAD], …) add nothing.
//
// Encoding training text (normalised, lowercase) goes the other way: to the model's case, "|"
// between words, and for pieces a deterministic segmentation, since the SentencePiece model that
// made the vocabulary is not shipped with it — see segmentWord.
import { BLANK_TOKEN, type Vocab } from '../asr/vocab';
import { ForeignModelError } from './errors';

export type VocabKind = 'characters' | 'pieces';
/** How the vocabulary spells letters: 'upper' when it has capitals only. */
export type LetterCase = 'upper' | 'lower' | 'mixed' | 'none';

export interface ModelVocab {
  kind: VocabKind;
  /** The file the vocabulary came from, for messages. */
  file: string;
  /** By id, as the model's own files spell the tokens. */
  pieces: readonly string[];
  blankId: number;
  /** The decoder's view (src/asr/decode.ts): by id, the text the token adds; a leading ' ' starts a word. */
  vocab: Vocab;
  letterCase: LetterCase;
  /** The characters vocabulary's word delimiter ("|"), if it has one. */
  wordDelimiter?: string;
  /** Ids of special tokens (blank, pad, <s>, </s>, <unk>, …): never produced by encoding. */
  specialIds: ReadonlySet<number>;
}

const PIECE_SPACE = '▁'; // U+2581, SentencePiece's word-boundary mark
const SPECIAL = /^(<[^<>\s]+>|\[[A-Z_]+\])$/;

/** Whether a token is special: <pad>, <s>, </s>, <unk>, <blk>, <0x41>, [PAD], [UNK]… */
export function isSpecialToken(token: string): boolean {
  return SPECIAL.test(token);
}

export interface VocabJsonOptions {
  /** The file name used in messages (default "vocab.json"). */
  file?: string;
  /** config.json's pad_token_id: the CTC blank, when given. */
  blankId?: number;
  /** tokenizer_config.json's pad_token (default "<pad>"), used when blankId is not given. */
  padToken?: string;
  /** tokenizer_config.json's word_delimiter_token (default "|"). */
  wordDelimiter?: string;
  /** For a vocab.json with one vocabulary per language (MMS): tokenizer_config.json's target_lang. */
  targetLang?: string;
  /** added_tokens.json: more token → id entries. */
  addedTokens?: Record<string, number>;
  /** The model's output size; ids beyond the file's are taken as tokens that add nothing. */
  size?: number;
}

/** A wav2vec2 / HuBERT / WavLM character vocabulary from vocab.json (parsed JSON). */
export function vocabFromVocabJson(json: unknown, o: VocabJsonOptions = {}): ModelVocab {
  const file = o.file ?? 'vocab.json';
  const bad = (reason: string) => new ForeignModelError('bad-vocabulary', file, reason);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('is not a JSON object of token → id');
  let map = json as Record<string, unknown>;
  const values = Object.values(map);
  if (values.length > 0 && values.every((v) => typeof v === 'object' && v !== null)) {
    // One vocabulary per language, as MMS ships: {"eng": {...}, "fra": {...}}.
    const langs = Object.keys(map);
    if (!o.targetLang || !(o.targetLang in map)) {
      throw bad(`holds one vocabulary per language (${langs.slice(0, 5).join(', ')}${langs.length > 5 ? ', …' : ''}) and tokenizer_config.json names ${o.targetLang ? `"${o.targetLang}", which is not among them` : 'no target_lang'}`);
    }
    map = map[o.targetLang] as Record<string, unknown>;
  }
  const byId: string[] = [];
  for (const [token, id] of [...Object.entries(map), ...Object.entries(o.addedTokens ?? {})]) {
    if (!Number.isInteger(id) || (id as number) < 0) throw bad(`gives token ${JSON.stringify(token)} the id ${JSON.stringify(id)}, not a whole number ≥ 0`);
    const earlier = byId[id as number];
    if (earlier !== undefined && earlier !== token) throw bad(`gives id ${id} to both ${JSON.stringify(earlier)} and ${JSON.stringify(token)}`);
    byId[id as number] = token;
  }
  if (byId.length === 0) throw bad('is empty');
  const size = Math.max(byId.length, o.size ?? 0);
  const pieces = Array.from({ length: size }, (_, i) => byId[i] ?? `<unused-${i}>`);
  let blankId = o.blankId;
  if (blankId === undefined) {
    const pad = o.padToken ?? '<pad>';
    blankId = pieces.indexOf(pad);
    if (blankId < 0) throw bad(`has no pad token ${JSON.stringify(pad)} to serve as the CTC blank, and config.json gives no pad_token_id`);
  } else if (!(blankId >= 0 && blankId < size)) throw bad(`has ${size} tokens, so config.json's pad_token_id ${blankId} (the CTC blank) is not among them`);
  const delimiter = o.wordDelimiter ?? '|';
  return build('characters', file, pieces, blankId, pieces.includes(delimiter) ? delimiter : undefined);
}

export interface TokensTxtOptions {
  file?: string;
  /** The model's output size (sherpa-onnx metadata vocab_size, or the output shape). */
  size?: number;
}

/**
 * A sherpa-onnx tokens.txt ("<token> <id>" per line). Pieces when any ordinary token is longer than
 * one character, else characters ("▁" alone and a line holding a space both mean the space). The
 * blank is `<blk>` (or `<blank>`); without one, a file one token short of the model's output size
 * is taken to leave the blank last, as NeMo's CTC models do.
 */
export function vocabFromTokensTxt(text: string, o: TokensTxtOptions = {}): ModelVocab {
  const file = o.file ?? 'tokens.txt';
  const bad = (reason: string) => new ForeignModelError('bad-vocabulary', file, reason);
  const byId: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    // The token may itself be a space (a character model's " 3"), so split at the last separator.
    const m = /^(.+)[ \t](\d+)[ \t]*$/.exec(line);
    if (!m) throw bad(`line ${i + 1} is not "<token> <id>": ${JSON.stringify(line)}`);
    const token = m[1].trim() === '' ? ' ' : m[1].trim();
    const id = Number(m[2]);
    if (byId[id] !== undefined) throw bad(`line ${i + 1} gives id ${id} again (it is ${JSON.stringify(byId[id])} already)`);
    byId[id] = token;
  });
  if (byId.length === 0) throw bad('holds no tokens');
  for (let id = 0; id < byId.length; id++) if (byId[id] === undefined) throw bad(`skips id ${id}: ids must run from 0 without gaps`);
  let blankId = byId.findIndex((t) => t === BLANK_TOKEN || t === '<blank>');
  const pieces = [...byId];
  if (blankId < 0) {
    if (o.size !== byId.length + 1) throw bad(`has no blank token <blk>${o.size ? `, and its ${byId.length} tokens are not one short of the model's ${o.size} outputs` : ''}`);
    blankId = pieces.length;
    pieces.push(BLANK_TOKEN);
  }
  const ordinary = pieces.filter((t) => !isSpecialToken(t));
  const kind: VocabKind = ordinary.some((t) => [...t].length > 1) ? 'pieces' : 'characters';
  return build(kind, file, pieces, blankId, undefined);
}

function build(kind: VocabKind, file: string, pieces: string[], blankId: number, wordDelimiter: string | undefined): ModelVocab {
  const specialIds = new Set<number>([blankId]);
  pieces.forEach((p, id) => {
    if (isSpecialToken(p)) specialIds.add(id);
  });
  const letterCase = caseOf(pieces.filter((_, id) => !specialIds.has(id)));
  const lower = letterCase === 'upper';
  const texts = pieces.map((p, id) => {
    if (id === blankId) return BLANK_TOKEN;
    if (specialIds.has(id)) return '';
    if (p === wordDelimiter) return ' ';
    const t = p.replaceAll(PIECE_SPACE, ' ');
    return lower ? t.toLowerCase() : t;
  });
  const ids = new Map<string, number>();
  texts.forEach((t, id) => {
    if (t !== '' && !ids.has(t)) ids.set(t, id);
  });
  const vocab: Vocab = { tokens: Object.freeze(texts), blankId, ids };
  return { kind, file, pieces: Object.freeze(pieces), blankId, vocab, letterCase, wordDelimiter, specialIds };
}

function caseOf(tokens: readonly string[]): LetterCase {
  let upper = false;
  let lower = false;
  for (const t of tokens) {
    for (const ch of t) {
      if (ch.toLowerCase() === ch.toUpperCase()) continue;
      if (ch === ch.toUpperCase()) upper = true;
      else lower = true;
    }
  }
  return upper && lower ? 'mixed' : upper ? 'upper' : lower ? 'lower' : 'none';
}

/** A character in the model's case: capitals for a capitals-only vocabulary. */
function modelCase(mv: ModelVocab, ch: string): string {
  return mv.letterCase === 'upper' ? ch.toUpperCase() : ch;
}

/** Ordinary (non-special) token spelling → id, and the longest spelling in code points. */
interface PieceIndex {
  ids: Map<string, number>;
  maxLength: number;
  characters: Set<string>;
}
const indexes = new WeakMap<ModelVocab, PieceIndex>();

function pieceIndex(mv: ModelVocab): PieceIndex {
  let ix = indexes.get(mv);
  if (!ix) {
    ix = { ids: new Map(), maxLength: 1, characters: new Set() };
    for (let id = 0; id < mv.pieces.length; id++) {
      if (mv.specialIds.has(id)) continue;
      const p = mv.pieces[id];
      if (!ix.ids.has(p)) ix.ids.set(p, id);
      const chars = [...p];
      ix.maxLength = Math.max(ix.maxLength, chars.length);
      for (const ch of chars) ix.characters.add(ch);
    }
    indexes.set(mv, ix);
  }
  return ix;
}

/**
 * The pieces of one word (no spaces) with fewest pieces, as ids; the first piece carries "▁".
 * Among segmentations with equally few pieces the one whose pieces are longest from the left wins
 * (decided right to left by dynamic programming, so the result does not depend on iteration order).
 * Undefined when the pieces cannot spell the word. This is not what SentencePiece's unigram or BPE
 * model would choose — its model file is not shipped with sherpa-onnx exports — but it spells the
 * word exactly, with few pieces, the same way every time.
 */
export function segmentWord(mv: ModelVocab, word: string): number[] | undefined {
  const { ids, maxLength } = pieceIndex(mv);
  const s = [PIECE_SPACE, ...[...word].map((ch) => modelCase(mv, ch))];
  const n = s.length;
  // fewest[i]: fewest pieces spelling s[i..n); next[i]: the length of the first of them.
  const fewest = new Float64Array(n + 1).fill(Infinity);
  const next = new Int32Array(n + 1);
  fewest[n] = 0;
  for (let i = n - 1; i >= 0; i--) {
    for (let len = Math.min(maxLength, n - i); len >= 1; len--) {
      if (fewest[i + len] + 1 >= fewest[i] || !ids.has(s.slice(i, i + len).join(''))) continue;
      fewest[i] = fewest[i + len] + 1;
      next[i] = len;
    }
  }
  if (fewest[0] === Infinity) return undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i += next[i]) out.push(ids.get(s.slice(i, i + next[i]).join(''))!);
  return out;
}

/**
 * Characters of normalised text the model cannot spell, unique, in order of first appearance
 * (spaces are word boundaries, never missing).
 */
export function missingCharacters(mv: ModelVocab, normalizedText: string): string[] {
  const { characters } = pieceIndex(mv);
  const missing = new Set<string>();
  for (const ch of normalizedText) {
    if (ch === ' ') continue;
    if (!characters.has(modelCase(mv, ch))) missing.add(ch);
  }
  return [...missing];
}

/**
 * Token ids of normalised text (lowercase words separated by single spaces, as normalizeText
 * makes): characters one by one in the model's case with the word delimiter between words, or
 * pieces word by word (segmentWord). Throws listing every character the model cannot spell.
 */
export function encodeTarget(mv: ModelVocab, normalizedText: string): Int32Array {
  const words = normalizedText.split(' ').filter((w) => w !== '');
  const missing = missingCharacters(mv, normalizedText);
  const fail = (what: string) => {
    throw new Error(`${mv.file}: ${what} in ${JSON.stringify(normalizedText)}`);
  };
  if (missing.length) fail(`the model's vocabulary has no ${missing.map((ch) => `${JSON.stringify(ch)} (U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`).join(', ')}`);
  const out: number[] = [];
  if (mv.kind === 'pieces') {
    for (const w of words) {
      const ids = segmentWord(mv, w);
      if (!ids) fail(`the pieces cannot spell the word ${JSON.stringify(w)}`);
      out.push(...ids!);
    }
  } else {
    const { ids } = pieceIndex(mv);
    const space = mv.wordDelimiter !== undefined ? ids.get(mv.wordDelimiter) : (ids.get(' ') ?? ids.get(PIECE_SPACE));
    if (space === undefined && words.length > 1) fail('the vocabulary has no word delimiter, so words cannot be separated');
    words.forEach((w, i) => {
      if (i > 0) out.push(space!);
      for (const ch of w) out.push(ids.get(modelCase(mv, ch))!);
    });
  }
  return Int32Array.from(out);
}

/** CTC's collapse of a per-frame id sequence: repeats merged, then blanks removed. */
export function ctcCollapse(frameIds: ArrayLike<number>, blankId: number): number[] {
  const out: number[] = [];
  let previous = -1;
  for (let i = 0; i < frameIds.length; i++) {
    const id = frameIds[i];
    if (id !== previous && id !== blankId) out.push(id);
    previous = id;
  }
  return out;
}

/** The transcript of a labelling (already collapsed): token texts joined, spaces collapsed, trimmed. */
export function labelText(mv: ModelVocab, ids: ArrayLike<number>): string {
  let text = '';
  for (let i = 0; i < ids.length; i++) {
    const t = mv.vocab.tokens[ids[i]];
    if (t === undefined) throw new Error(`${mv.file}: id ${ids[i]} at position ${i} is not in the vocabulary (${mv.pieces.length} tokens)`);
    if (ids[i] !== mv.blankId) text += t;
  }
  return text.replace(/ +/g, ' ').trim();
}

/** The transcript of per-frame best ids (what greedy decoding reads off the output). */
export function frameIdsText(mv: ModelVocab, frameIds: ArrayLike<number>): string {
  return labelText(mv, ctcCollapse(frameIds, mv.blankId));
}
