/** Text helpers shared by the format parsers: encodings, line splitting, CSV/TSV rows. */

/**
 * How a text file is encoded, as far as its bytes say explicitly: a UTF-16 byte-order mark, else
 * UTF-8 (with or without its BOM). Legacy 8-bit encodings (Latin-1, Windows-1252) carry no mark:
 * they show up as invalid UTF-8 (see invalidUtf8) and are reported, not guessed.
 */
export function textEncoding(bytes: Uint8Array): 'utf-8' | 'utf-16le' | 'utf-16be' {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return 'utf-8';
}

/** The text of a metadata file, BOM removed; invalid UTF-8 becomes U+FFFD (the import rejects those rows). */
export function decodeText(bytes: Uint8Array): string {
  const s = new TextDecoder(textEncoding(bytes)).decode(bytes);
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
}

export interface InvalidUtf8 {
  /** Offset of the first byte of the bad sequence in the file. */
  offset: number;
  /** 1-based line, and the byte's 1-based position in that line. */
  line: number;
  byteInLine: number;
  byte: number;
}

/**
 * Where `bytes` is not valid UTF-8: the first byte of each ill-formed sequence (overlongs,
 * surrogates and code points past U+10FFFF included), per the Unicode Standard, table 3-7
 * (https://www.unicode.org/versions/Unicode15.0.0/ch03.pdf#G27506).
 */
export function invalidUtf8(bytes: Uint8Array): InvalidUtf8[] {
  const bad: InvalidUtf8[] = [];
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      if (b === 0x0a) [line, lineStart] = [line + 1, i + 1];
      i++;
      continue;
    }
    // continuation bytes needed, and the range of the first one (the rest are 80..BF)
    const [need, lo, hi] =
      b >= 0xc2 && b <= 0xdf ? [1, 0x80, 0xbf] : b === 0xe0 ? [2, 0xa0, 0xbf] : b === 0xed ? [2, 0x80, 0x9f] : b >= 0xe1 && b <= 0xef ? [2, 0x80, 0xbf]
      : b === 0xf0 ? [3, 0x90, 0xbf] : b === 0xf4 ? [3, 0x80, 0x8f] : b >= 0xf1 && b <= 0xf3 ? [3, 0x80, 0xbf] : [0, 0, 0];
    let k = 1;
    while (k <= need && i + k < bytes.length && bytes[i + k] >= (k === 1 ? lo : 0x80) && bytes[i + k] <= (k === 1 ? hi : 0xbf)) k++;
    if (need > 0 && k > need) {
      i += k;
      continue;
    }
    bad.push({ offset: i, line, byteInLine: i - lineStart + 1, byte: b });
    i += k; // past the longest valid start of a sequence, as decoders do
  }
  return bad;
}

/** What an invalid byte would be in Windows-1252 (a superset of Latin-1's printable characters), for a hint. */
export function asWindows1252(byte: number): string {
  return new TextDecoder('windows-1252').decode(new Uint8Array([byte]));
}

/** Lines with their 1-based numbers, blank lines dropped. */
export function numberedLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((t, i) => {
    if (t.trim() !== '') out.push({ line: i + 1, text: t });
  });
  return out;
}

/**
 * Rows of delimiter-separated text per RFC 4180: fields may be quoted with ", a quoted field may
 * hold the delimiter, newlines and "" for a quote. `quotes: false` reads every character literally
 * (Common Voice and LJSpeech write unescaped quotes inside sentences). Each row carries the line
 * it starts on, for error messages.
 */
export function parseDelimited(text: string, delimiter: string, quotes = true): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let rowLine = 1;
  let inQuotes = false;
  let atFieldStart = true;
  const endRow = () => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0].trim() === '')) rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
    atFieldStart = true;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (quotes && c === '"' && atFieldStart) {
      inQuotes = true;
      atFieldStart = false;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      atFieldStart = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      field += c;
      atFieldStart = false;
    }
  }
  if (field !== '' || fields.length > 0) endRow();
  return rows;
}

/** `key rest of line` (Kaldi, LibriSpeech): the first whitespace splits key from value. */
export function splitKeyValue(text: string): [string, string] {
  const m = /^\s*(\S+)\s*(.*?)\s*$/.exec(text);
  return m ? [m[1], m[2]] : ['', ''];
}

// The words that name a split in file and folder names (train.jsonl, eval.jsonl, dev-clean,
// speaker1_eval.json, test_manifest.json, train-dev.tsv). Held-out words win over "train": a
// train_eval or train-dev file is the part of the training data kept out of it.
const VALIDATION_WORDS = new Set(['dev', 'devel', 'development', 'val', 'valid', 'validation', 'eval', 'evaluation', 'heldout', 'holdout']);
const TEST_WORDS = new Set(['test', 'tests', 'testing']);
const TRAIN_WORDS = new Set(['train', 'training', 'trn']);

/** Split named by a manifest's or folder's name: train.tsv, eval.jsonl, dev_manifest.json, test-clean, ... */
export function splitFromName(name: string): 'train' | 'validation' | 'test' | undefined {
  // the words of the name, extension dropped: letters only, so dev1, eval_2 and train-clean-100 count
  // ("devset", "testset", "train_data" too)
  const words = name.toLowerCase().replace(/\.[a-z0-9]+$/, '').split(/[^a-z]+/).map((w) => w.replace(/(.)(set|data)$/, '$1'));
  if (words.some((w) => VALIDATION_WORDS.has(w))) return 'validation';
  if (words.some((w) => TEST_WORDS.has(w))) return 'test';
  if (words.some((w) => TRAIN_WORDS.has(w))) return 'train';
  return undefined;
}
