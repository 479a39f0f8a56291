// The character vocabulary of the CTC model and its tokens.txt file.
//
// tokens.txt follows sherpa-onnx: one `<token> <id>` per line, ids contiguous from 0. The blank is
// written `<blk>`. A space cannot be written as itself in a whitespace-separated file, so it is
// written `▁` (U+2581, the SentencePiece word-boundary mark): sherpa-onnx turns `▁` back into a
// space when it prints a transcript, so the same file works there unchanged. `<space>` (icefall's
// spelling for character models) is accepted when reading and means the same token.
// https://k2-fsa.github.io/sherpa/onnx/
//
// src/asr/tokens.txt is formatTokens(DEFAULT_VOCAB); vocab.test.ts fails if the two drift and
// prints the command that regenerates the file.

/** How the blank token is spelled in tokens.txt and in `Vocab.tokens`. */
export const BLANK_TOKEN = '<blk>';
/** How the space token is spelled in tokens.txt written by formatTokens. */
export const SPACE_TOKEN = '▁';
const SPACE_ALIASES: ReadonlySet<string> = new Set([SPACE_TOKEN, '<space>']);

export interface Vocab {
  /** id → token. The space token is stored as ' ', the blank as '<blk>'. */
  readonly tokens: readonly string[];
  readonly blankId: number;
  /** token → id, the inverse of `tokens`. */
  readonly ids: ReadonlyMap<string, number>;
}

/** Builds a Vocab from an id-ordered token list (space as ' '); checks uniqueness and the blank. */
export function makeVocab(tokens: readonly string[]): Vocab {
  const ids = new Map<string, number>();
  tokens.forEach((token, id) => {
    if (token.length === 0) throw new Error(`vocab: token ${id} is empty`);
    const earlier = ids.get(token);
    if (earlier !== undefined) {
      throw new Error(`vocab: token ${JSON.stringify(token)} has two ids, ${earlier} and ${id}`);
    }
    ids.set(token, id);
  });
  const blankId = ids.get(BLANK_TOKEN);
  if (blankId === undefined) throw new Error(`vocab: no blank token ${BLANK_TOKEN}`);
  return { tokens: Object.freeze([...tokens]), blankId, ids };
}

/** Blank at 0, then space, apostrophe and a–z: what normalizeText can produce for English. */
export const DEFAULT_VOCAB: Vocab = makeVocab([
  BLANK_TOKEN,
  ' ',
  "'",
  ...Array.from({ length: 26 }, (_, i) => String.fromCharCode(97 + i)),
]);

/**
 * Reads a sherpa-onnx tokens.txt. Blank lines are ignored. Throws, naming the line, on a malformed
 * line, a duplicate token or id, a gap in the ids, or a missing `<blk>`.
 */
export function parseTokens(text: string): Vocab {
  const byId = new Map<number, { token: string; line: number }>();
  const lineOfToken = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const match = /^\s*(\S+)\s+(\d+)\s*$/.exec(raw);
    if (!match) {
      throw new Error(`tokens.txt line ${line}: expected "<token> <id>", got ${JSON.stringify(raw)}`);
    }
    const token = SPACE_ALIASES.has(match[1]) ? ' ' : match[1];
    const id = Number(match[2]);
    const sameId = byId.get(id);
    if (sameId) {
      throw new Error(`tokens.txt line ${line}: id ${id} already used on line ${sameId.line}`);
    }
    const sameToken = lineOfToken.get(token);
    if (sameToken !== undefined) {
      const shown = token === ' ' ? 'space (▁ / <space>)' : JSON.stringify(token);
      throw new Error(`tokens.txt line ${line}: token ${shown} already defined on line ${sameToken}`);
    }
    byId.set(id, { token, line });
    lineOfToken.set(token, line);
  });
  if (byId.size === 0) throw new Error('tokens.txt: no tokens');
  const tokens: string[] = [];
  for (let id = 0; id < byId.size; id++) {
    const entry = byId.get(id);
    if (!entry) {
      const maxId = Math.max(...byId.keys());
      const maxLine = byId.get(maxId)?.line;
      throw new Error(
        `tokens.txt: ids must run 0..${byId.size - 1} without gaps; id ${id} is missing ` +
          `(largest id ${maxId} on line ${maxLine})`,
      );
    }
    tokens.push(entry.token);
  }
  if (!lineOfToken.has(BLANK_TOKEN)) throw new Error(`tokens.txt: no blank token ${BLANK_TOKEN}`);
  return makeVocab(tokens);
}

/** Writes a Vocab as tokens.txt (space as ▁), ending with a newline. */
export function formatTokens(vocab: Vocab): string {
  return vocab.tokens.map((token, id) => `${token === ' ' ? SPACE_TOKEN : token} ${id}\n`).join('');
}

/**
 * Characters of `text` that have no token, unique, in order of first appearance. Iterates by code
 * point, so an emoji is one character, not two surrogates.
 */
export function outOfVocab(vocab: Vocab, text: string): string[] {
  const missing = new Set<string>();
  for (const ch of text) if (!vocab.ids.has(ch)) missing.add(ch);
  return [...missing];
}

/**
 * Token ids of already-normalized text (see normalizeText), one per character. Throws listing every
 * character outside the vocab, so a data-preparation bug shows all its causes at once.
 */
export function encodeText(vocab: Vocab, normalizedText: string): Int32Array {
  const missing = outOfVocab(vocab, normalizedText);
  if (missing.length > 0) {
    const shown = missing.map((ch) => `${JSON.stringify(ch)} (U+${codePointHex(ch)})`).join(', ');
    throw new Error(
      `encodeText: ${missing.length} character(s) not in the vocab: ${shown} ` +
        `in ${JSON.stringify(normalizedText)}`,
    );
  }
  const out = new Int32Array([...normalizedText].length);
  let i = 0;
  for (const ch of normalizedText) out[i++] = vocab.ids.get(ch) as number;
  return out;
}

/** Text of a token-id sequence; blanks are dropped, repeats are kept (collapsing is CTC's job). */
export function decodeIds(vocab: Vocab, ids: ArrayLike<number>): string {
  let text = '';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === vocab.blankId) continue;
    const token = vocab.tokens[id];
    if (token === undefined) throw new Error(`decodeIds: id ${id} at position ${i} is not in the vocab`);
    text += token;
  }
  return text;
}

function codePointHex(ch: string): string {
  return (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}
