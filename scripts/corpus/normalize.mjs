// Text normalization for the synthetic corpus.
//
// Every sentence produces two strings:
//   speak: what we hand to the TTS engine. Words are already in their final spoken form
//          (numbers spelled out, abbreviations expanded) but light punctuation (, . ; : ! ?)
//          is kept, because the engines use it for pauses and intonation.
//   text:  the training transcript: lower case, only a-z, in-word apostrophes and single spaces.
// Because both come from the same cleaned string, what the engine says matches the transcript;
// anything an engine might read in an unpredictable way (digits we can't spell, acronyms, initials,
// symbols) makes us drop the sentence instead of guessing.

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten',
  'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** Cardinal words for 0 <= n < 1,000,000 (British/American neutral, no "and"). */
export function numberToWords(n) {
  if (!Number.isInteger(n) || n < 0 || n >= 1_000_000) throw new RangeError(`unsupported ${n}`);
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? ' ' + ONES[n % 10] : '');
  if (n < 1000) {
    const rest = n % 100;
    return ONES[Math.floor(n / 100)] + ' hundred' + (rest ? ' ' + numberToWords(rest) : '');
  }
  const rest = n % 1000;
  return numberToWords(Math.floor(n / 1000)) + ' thousand' + (rest ? ' ' + numberToWords(rest) : '');
}

/** How a four-digit year is read aloud: 1839 -> "eighteen thirty nine", 1900 -> "nineteen hundred". */
export function yearToWords(n) {
  const hi = Math.floor(n / 100);
  const lo = n % 100;
  if (lo === 0) return numberToWords(hi) + ' hundred';
  if (lo < 10) return numberToWords(hi) + ' oh ' + ONES[lo];
  return numberToWords(hi) + ' ' + numberToWords(lo);
}

const ORDINAL_IRREGULAR = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth',
  twelve: 'twelfth',
};

export function ordinalToWords(n) {
  const words = numberToWords(n).split(' ');
  const last = words.pop();
  let ord;
  if (ORDINAL_IRREGULAR[last]) ord = ORDINAL_IRREGULAR[last];
  else if (last.endsWith('y')) ord = last.slice(0, -1) + 'ieth';
  else ord = last + 'th';
  return [...words, ord].join(' ');
}

// Abbreviations the engines expand on their own; we expand them first so the transcript agrees.
// Expanded before sentence splitting too, so "Mr. Darcy" does not end a sentence.
const ABBREVIATIONS = [
  [/\bMrs\.?(?=\s|$)/g, 'Missus'],
  [/\bMr\.?(?=\s|$)/g, 'Mister'],
  [/\bDr\.?(?=\s+[A-Z])/g, 'Doctor'],
  [/\bSt\.?(?=\s+[A-Z])/g, 'Saint'],
  [/\bCapt\.(?=\s)/g, 'Captain'],
  [/\bCol\.(?=\s)/g, 'Colonel'],
  [/\bGen\.(?=\s)/g, 'General'],
  [/\bRev\.(?=\s)/g, 'Reverend'],
  [/\bEsq\./g, 'Esquire'],
  [/\betc\./g, 'et cetera.'],
];

// Abbreviations still left after expansion (e.g. "Mr." cut off at a line's end) would be spoken
// as the full word but written short in the transcript: such sentences are dropped.
const LEFTOVER_ABBREVIATIONS = new Set([
  'mr', 'mrs', 'dr', 'st', 'messrs', 'mme', 'mlle', 'viz', 'vs', 'etc', 'jr', 'sr', 'ft', 'lb',
  'oz', 'capt', 'col', 'gen', 'rev', 'esq', 'co', 'ch', 'vol',
]);

export function expandAbbreviations(s) {
  s = s.replace(/_/g, ''); // Gutenberg _emphasis_ ("_Mr._ Bertram") would hide the title
  for (const [re, word] of ABBREVIATIONS) s = s.replace(re, word);
  return s;
}

/** Fold typographic characters to ASCII and drop accents (café -> cafe). */
function foldToAscii(s) {
  return s
    .replace(/[\u2018\u2019\u02bc\u0060\u00b4]/g, "'")
    .replace(/[\u201c\u201d\u00ab\u00bb]/g, '"')
    .replace(/[\u2013\u2014\u2015]/g, ' -- ')
    .replace(/\u2026/g, '...')
    .replace(/[\u00e6]/g, 'ae').replace(/[\u00c6]/g, 'Ae')
    .replace(/[\u0153]/g, 'oe').replace(/[\u0152]/g, 'Oe')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '');
}

function spellNumbers(s) {
  // "1,000" -> "1000" so the number is one token.
  s = s.replace(/\b(\d{1,3}(?:,\d{3})+)\b/g, (m) => m.replace(/,/g, ''));
  s = s.replace(/\b(\d+)(st|nd|rd|th)\b/gi, (m, d) => {
    const n = Number(d);
    return n < 1_000_000 ? ordinalToWords(n) : m;
  });
  // Decimals, times and currency are read in too many ways to predict: leave the digits so the
  // sentence gets dropped below.
  if (/\d[.:]\d|[$£€]\s*\d/.test(s)) return s;
  return s.replace(/\b\d+\b/g, (m) => {
    const n = Number(m);
    if (m.length > 1 && m.startsWith('0')) return m; // "007", phone-like: keep digits -> dropped
    if (m.length === 4 && n >= 1100 && n <= 1999) return yearToWords(n);
    return n < 1_000_000 ? numberToWords(n) : m;
  });
}

/** Turn a transcript-ish string into the training text: a-z, in-word apostrophes, single spaces. */
export function toTranscript(s) {
  return s
    .toLowerCase()
    .replace(/[^a-z']+/g, ' ')
    // keep apostrophes only between letters ("don't", "o'clock"); quote marks and the trailing
    // apostrophe of plural possessives are not spoken.
    .replace(/(^|[^a-z])'+/g, '$1')
    .replace(/'+(?=[^a-z]|$)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export const MIN_WORDS = 3;
export const MAX_WORDS = 25;

/**
 * Clean one sentence. Returns {speak, text} or null when the sentence should not be used.
 * The word limits are for synthetic sentences; pass others for real transcripts, where
 * `spoken: true` also keeps spelled letters ("t shirt", "u s a") and short words that look like
 * abbreviations ("gen"): a person said exactly those.
 */
export function normalizeSentence(
  raw,
  { minWords = MIN_WORDS, maxWords = MAX_WORDS, spoken = false } = {},
) {
  // Expanding again is harmless for prose and needed for sources that skip splitSentences.
  let s = expandAbbreviations(foldToAscii(raw));
  s = s.replace(/&/g, ' and ');
  s = s.replace(/(\d)\s*%/g, '$1 percent');
  s = spellNumbers(s);
  if (/\d/.test(s)) return null;
  // Dashes and brackets become pauses; a hyphen inside a word is spoken as a word break.
  s = s.replace(/\s*--+\s*/g, ', ').replace(/[()[\]{}]/g, ', ');
  s = s.replace(/([A-Za-z])-(?=[A-Za-z])/g, '$1 ');
  s = s.replace(/"/g, ' ');
  // Anything else outside plain letters and light punctuation (URLs, symbols, other scripts).
  if (/[^A-Za-z' ,.;:!?-]/.test(s)) return null;
  s = s.replace(/-/g, ' ');
  const words = s.match(/[A-Za-z']+/g) ?? [];
  for (const w of spoken ? [] : words) {
    const letters = w.replace(/'/g, '');
    // Acronyms, Roman numerals and headings are spelled letter by letter by some engines only.
    if (letters.length >= 2 && letters === letters.toUpperCase()) return null;
    // Initials ("Lady C.") are read as letter names; only real one-letter words are safe.
    if (letters.length === 1 && !/^[aAiIoO]$/.test(letters)) return null;
  }
  const speak = s
    .replace(/\s+([,.;:!?])/g, '$1')
    .replace(/([,.;:!?])(?:\s*[,.;:!?])+/g, '$1')
    .replace(/^[\s,.;:!?']+/, '')
    .replace(/\s+/g, ' ')
    .trim();
  const text = toTranscript(speak);
  if (!spoken && text.split(' ').some((w) => LEFTOVER_ABBREVIATIONS.has(w))) return null;
  const n = text ? text.split(' ').length : 0;
  if (n < minWords || n > maxWords) return null;
  return { speak, text };
}

/**
 * Split a paragraph of prose into sentences. Long sentences (over MAX_WORDS) are further cut at
 * semicolons, colons and dashes, which in 19th-century prose usually separate full clauses.
 */
export function splitSentences(paragraph) {
  const p = expandAbbreviations(paragraph.replace(/\s+/g, ' ').trim());
  if (!p) return [];
  const parts = p.split(/(?<=[.!?]['"\u2019\u201d)_]*)\s+(?=['"\u2018\u201c(_]*[A-Z0-9])/);
  const out = [];
  for (const part of parts) {
    const wordCount = part.split(/\s+/).length;
    if (wordCount <= MAX_WORDS) out.push(part);
    else out.push(...part.split(/[;:]\s+|\s*--+\s*|\s+\u2014\s*/));
  }
  return out.map((x) => x.trim()).filter(Boolean);
}
