/** Text helpers shared by the format parsers: UTF-8 with BOM, line splitting, CSV/TSV rows. */

const utf8 = new TextDecoder('utf-8');

export function decodeText(bytes: Uint8Array): string {
  const s = utf8.decode(bytes);
  return s.charCodeAt(0) === 0xfeff ? s.slice(1) : s;
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
