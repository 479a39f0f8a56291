// English text normalization for training targets and for scoring, in the spirit of Whisper's
// English normalizer (https://github.com/openai/whisper/blob/main/whisper/normalizers/english.py)
// but with one deliberate difference: numbers are spelled out as words, because a character CTC
// model hears "forty two", not "42". The output only contains letters, in-word apostrophes and
// single spaces, so with plain English text every character is in DEFAULT_VOCAB.
//
// normalizeText applies, in order:
//  1. Quotes: ‘ ’ ‚ ‛ ′ ʼ ` ´ become a straight apostrophe ' (before step 2, which would turn ´
//     into a space plus a combining accent).
//  2. Unicode NFKD, lower case, then every combining mark is dropped: "Café" → "cafe",
//     "ﬁ" → "fi", "²" → "2". Letters NFKD does not decompose are mapped by hand:
//     ß → ss, æ → ae, œ → oe, ø → o, ł → l, đ/ð → d, þ → th, ı → i.
//  3. Numbers become words (the number rule below); "&" becomes "and".
//  4. An apostrophe is kept only between two letters ("don't", "o'clock"); any other apostrophe
//     ("'90s", "students'", quotes) becomes a space.
//  5. Every other character that is not a letter becomes a space: punctuation, hyphens and dashes
//     ("well-known" → "well known"), symbols. Abbreviations therefore split: "U.S." → "u s".
//  6. Runs of whitespace become one space; leading and trailing whitespace is removed.
//
// The number rule. A number is a run of ASCII digits, optionally with thousands separators
// ("1,000,000") and a decimal part (".5", "3.25"), optionally preceded by "$", "€" or "£" or by a
// minus sign at the start of a word, and optionally followed by "%", an ordinal suffix
// (st/nd/rd/th) or a plural "s". It is read as follows:
//  - integers as cardinals in short scale, without "and": "42" → "forty two",
//    "105" → "one hundred five", "1,500" → "one thousand five hundred", "2024" → "two thousand
//    twenty four";
//  - except that a bare four-digit integer from 1100 to 1999 (no separator, no decimal, sign,
//    currency, "%" or ordinal) reads as a year: "1999" → "nineteen ninety nine",
//    "1900" → "nineteen hundred", "1905" → "nineteen oh five";
//  - an integer with a leading zero, or with more than 21 digits, is read digit by digit:
//    "007" → "zero zero seven";
//  - decimals digit by digit after "point": "3.14" → "three point one four", ".5" → "point five";
//  - ordinals: "1st" → "first", "22nd" → "twenty second", "100th" → "one hundredth";
//  - plurals: "1990s" → "nineteen nineties", "80s" → "eighties";
//  - "%" → "percent"; a leading "-" → "minus";
//  - currency: "$5" → "five dollars", "$1" → "one dollar", "$5.50" → "five dollars fifty cents",
//    "$0.99" → "ninety nine cents", "€2" → "two euros", "£3.20" → "three pounds twenty pence";
//    a decimal part that is not exactly two digits reads as a decimal: "$1.5" → "one point five
//    dollars". Scale words after the amount are not reordered: "$5 million" → "five dollars
//    million".
// Digits glued to letters are read on their own: "mp3" → "mp three", "4x4" → "four x four".
// Times, ranges and fractions fall out of rule 5: "3:30" → "three thirty", "5-10" → "five ten",
// "1/2" and "½" → "one two".

const QUOTES = /[\u2018\u2019\u201A\u201B\u2032\u02BC`\u00B4]/g;
const COMBINING_MARKS = /\p{M}/gu;
const UNDECOMPOSED: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i',
};
const UNDECOMPOSED_RE = /[ßæœøłđðþı]/g;
// Groups: 1 minus, 2 currency, 3 integer part (with or without separators), 4 decimal digits,
// 5 "%", 6 ordinal or plural suffix. A suffix counts only when no letter follows it ("1st" but
// not "1stop").
// The lookahead before group 3 makes every match start with a digit or ".digit"; a minus only
// counts at the start of a word, so "5-10" stays a range.
const NUMBER_RE =
  /(?:(?<![\p{L}\p{N}])(-)(?=[$€£]?\.?\d))?([$€£])?(?=\.?\d)(\d{1,3}(?:,\d{3})+(?!\d)|\d+)?(?:\.(\d+))?(?:\s?(%)|(st|nd|rd|th|s)(?!\p{L}))?/gu;
const STRAY_APOSTROPHE = /(?<!\p{L})'|'(?!\p{L})/gu;
const NOT_WORD_CHAR = /[^\p{L}']+/gu;

/** Normalizes English text as described at the top of this file. */
export function normalizeText(text: string): string {
  let s = text.replace(QUOTES, "'");
  s = s.normalize('NFKD').toLowerCase().replace(COMBINING_MARKS, '');
  s = s.replace(UNDECOMPOSED_RE, (ch) => UNDECOMPOSED[ch]);
  s = s.replace(NUMBER_RE, spellNumberMatch).replace(/&/g, ' and ');
  s = s.replace(STRAY_APOSTROPHE, ' ').replace(NOT_WORD_CHAR, ' ');
  return s.replace(/\s+/g, ' ').trim();
}

const CURRENCY: Readonly<Record<string, readonly [string, string, string, string]>> = {
  $: ['dollar', 'dollars', 'cent', 'cents'],
  '€': ['euro', 'euros', 'cent', 'cents'],
  '£': ['pound', 'pounds', 'penny', 'pence'],
};

function spellNumberMatch(
  match: string,
  minus: string | undefined,
  currency: string | undefined,
  integer: string | undefined,
  fraction: string | undefined,
  percent: string | undefined,
  suffix: string | undefined,
): string {
  if (integer === undefined && fraction === undefined) return match; // unreachable: see NUMBER_RE
  const words: string[] = [];
  if (minus) words.push('minus');
  const plain = integer?.replace(/,/g, '');
  const isYear =
    integer !== undefined && /^1[1-9]\d\d$/.test(integer) && !minus && !currency && !percent &&
    fraction === undefined && suffix !== 'st' && suffix !== 'nd' && suffix !== 'rd' && suffix !== 'th';
  let body: string;
  if (currency && fraction !== undefined && fraction.length === 2) {
    const [one, many, centOne, centMany] = CURRENCY[currency];
    const units = plain === undefined ? 0n : BigInt(plain);
    const cents = Number(fraction);
    const parts: string[] = [];
    if (units > 0n || cents === 0) parts.push(spellInteger(plain ?? '0'), units === 1n ? one : many);
    if (cents > 0) parts.push(spellInteger(String(cents)), cents === 1 ? centOne : centMany);
    body = parts.join(' ');
  } else {
    body = isYear ? spellYear(Number(integer)) : plain !== undefined ? spellInteger(plain) : '';
    if (fraction !== undefined) body = `${body} point ${spellDigits(fraction)}`.trim();
    if (currency) {
      const [one, many] = CURRENCY[currency];
      body += ` ${plain === '1' && fraction === undefined ? one : many}`;
    }
  }
  words.push(body);
  if (percent) words.push('percent');
  else if (suffix === 's') words[words.length - 1] = pluralize(words[words.length - 1]);
  else if (suffix) words[words.length - 1] = ordinalize(words[words.length - 1]);
  return ` ${words.join(' ')} `;
}

const ONES = [
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine',
  'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
// Short scale, one word per group of three digits; 21 digits is the largest this names.
const SCALES = ['', 'thousand', 'million', 'billion', 'trillion', 'quadrillion', 'quintillion'];

/** "0".."999" as words; "" for 0 so callers can skip empty groups. */
function spellBelowThousand(n: number): string {
  const words: string[] = [];
  const hundreds = Math.floor(n / 100);
  const rest = n % 100;
  if (hundreds > 0) words.push(ONES[hundreds], 'hundred');
  if (rest >= 20) {
    words.push(TENS[Math.floor(rest / 10)]);
    if (rest % 10 > 0) words.push(ONES[rest % 10]);
  } else if (rest > 0) {
    words.push(ONES[rest]);
  }
  return words.join(' ');
}

/** Each digit as a word: "305" → "three zero five". */
export function spellDigits(digits: string): string {
  return Array.from(digits, (d) => ONES[Number(d)]).join(' ');
}

/**
 * A non-negative integer, given as a digit string so that long numbers stay exact, as English
 * words: "1205" → "one thousand two hundred five". Leading zeros or more than 21 digits: digit by
 * digit.
 */
export function spellInteger(digits: string): string {
  if (!/^\d+$/.test(digits)) throw new Error(`spellInteger: not a digit string: ${JSON.stringify(digits)}`);
  if ((digits.length > 1 && digits[0] === '0') || digits.length > 3 * SCALES.length) {
    return spellDigits(digits);
  }
  if (/^0+$/.test(digits)) return 'zero';
  const words: string[] = [];
  const groups = Math.ceil(digits.length / 3);
  const padded = digits.padStart(groups * 3, '0');
  for (let g = 0; g < groups; g++) {
    const value = Number(padded.slice(3 * g, 3 * g + 3));
    if (value === 0) continue;
    words.push(spellBelowThousand(value));
    const scale = SCALES[groups - 1 - g];
    if (scale) words.push(scale);
  }
  return words.join(' ');
}

/** A year 1100–1999 in pairs: 1999 → "nineteen ninety nine", 1900 → "nineteen hundred". */
function spellYear(year: number): string {
  const high = spellBelowThousand(Math.floor(year / 100));
  const low = year % 100;
  if (low === 0) return `${high} hundred`;
  if (low < 10) return `${high} oh ${ONES[low]}`;
  return `${high} ${spellBelowThousand(low)}`;
}

const ORDINAL_IRREGULAR: Readonly<Record<string, string>> = {
  one: 'first', two: 'second', three: 'third', five: 'fifth', eight: 'eighth', nine: 'ninth',
  twelve: 'twelfth',
};

/** Makes the last word of a spelled number ordinal: "twenty two" → "twenty second". */
function ordinalize(words: string): string {
  const at = words.lastIndexOf(' ') + 1;
  const last = words.slice(at);
  const ordinal =
    ORDINAL_IRREGULAR[last] ?? (last.endsWith('y') ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return words.slice(0, at) + ordinal;
}

/** Makes the last word of a spelled number plural: "nineteen ninety" → "nineteen nineties". */
function pluralize(words: string): string {
  const at = words.lastIndexOf(' ') + 1;
  const last = words.slice(at);
  const plural = last.endsWith('y') ? `${last.slice(0, -1)}ies` : last.endsWith('x') ? `${last}es` : `${last}s`;
  return words.slice(0, at) + plural;
}

/** An integer's ordinal in words: 21 → "twenty first". */
export function spellOrdinal(digits: string): string {
  return ordinalize(spellInteger(digits));
}
