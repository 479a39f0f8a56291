import { describe, expect, it } from 'vitest';
import { normalizeText, spellInteger, spellOrdinal } from './text-normalize';
import { DEFAULT_VOCAB, outOfVocab } from './vocab';

// Every expectation below was written by hand from the rules in text-normalize.ts.
describe('normalizeText', () => {
  it.each([
    // case, punctuation, whitespace
    ['Hello, World!', 'hello world'],
    ['  lots   of\n\tspace ', 'lots of space'],
    ['', ''],
    ['?!...', ''],
    ['U.S.A.', 'u s a'],
    ['well-known — dash – en', 'well known dash en'],
    ['AT&T', 'at and t'],
    // diacritics and compatibility forms
    ['Café naïve Zoë Ångström', 'cafe naive zoe angstrom'],
    ['Straße Æsop Œuvre Øresund Łódź', 'strasse aesop oeuvre oresund lodz'],
    ['ﬁne', 'fine'],
    // apostrophes
    ['don’t', "don't"],
    ["I'm rock 'n' roll", "i'm rock n roll"],
    ['the students’ books', 'the students books'],
    ['‘quoted’ and “double”', 'quoted and double'],
    ['o`clock', "o'clock"],
    // integers
    ['0', 'zero'],
    ['7', 'seven'],
    ['13', 'thirteen'],
    ['42', 'forty two'],
    ['100', 'one hundred'],
    ['105', 'one hundred five'],
    ['999', 'nine hundred ninety nine'],
    ['1000', 'one thousand'],
    ['1,500', 'one thousand five hundred'],
    ['1,000,000', 'one million'],
    ['1000001', 'one million one'],
    ['2,000,000,017', 'two billion seventeen'],
    ['007', 'zero zero seven'],
    // years
    ['1999', 'nineteen ninety nine'],
    ['1100', 'eleven hundred'],
    ['1905', 'nineteen oh five'],
    ['1066', 'one thousand sixty six'],
    ['2000', 'two thousand'],
    ['2009', 'two thousand nine'],
    ['2024', 'two thousand twenty four'],
    ['-1999', 'minus one thousand nine hundred ninety nine'],
    // decimals, percent, sign
    ['3.5', 'three point five'],
    ['3.14', 'three point one four'],
    ['0.05', 'zero point zero five'],
    ['.5', 'point five'],
    ['50%', 'fifty percent'],
    ['3.5 %', 'three point five percent'],
    ['-5 degrees', 'minus five degrees'],
    ['5-10', 'five ten'],
    // ordinals and plurals
    ['1st 2nd 3rd 4th', 'first second third fourth'],
    ['11th 12th 13th', 'eleventh twelfth thirteenth'],
    ['20th 21st 22nd', 'twentieth twenty first twenty second'],
    ['100th 101st', 'one hundredth one hundred first'],
    ['the 1990s', 'the nineteen nineties'],
    ["the '80s", 'the eighties'],
    ['1st-class', 'first class'],
    // currency
    ['$5', 'five dollars'],
    ['$1', 'one dollar'],
    ['$5.50', 'five dollars fifty cents'],
    ['$1.01', 'one dollar one cent'],
    ['$0.99', 'ninety nine cents'],
    ['$1.5', 'one point five dollars'],
    ['$1,200', 'one thousand two hundred dollars'],
    ['€2', 'two euros'],
    ['£3.20', 'three pounds twenty pence'],
    // digits next to letters and other punctuation
    ['mp3', 'mp three'],
    ['4x4', 'four x four'],
    ['10am', 'ten am'],
    ['3:30', 'three thirty'],
    ['It cost $5.50, i.e. 3.5% of 1999’s budget!', "it cost five dollars fifty cents i e three point five percent of nineteen ninety nine s budget"],
  ])('%j → %j', (input, expected) => {
    expect(normalizeText(input)).toBe(expected);
  });

  it('is idempotent', () => {
    for (const s of ['Hello, World! 42', "don’t 1999's $5.50", 'Ærø 3rd']) {
      const once = normalizeText(s);
      expect(normalizeText(once)).toBe(once);
    }
  });

  it('produces only DEFAULT_VOCAB characters for English text', () => {
    const text = 'On 4 July 1776, the 2nd Continental Congress — “We the People” — paid $1,250.75 (12.5%)!';
    expect(outOfVocab(DEFAULT_VOCAB, normalizeText(text))).toEqual([]);
  });
});

describe('number speller', () => {
  it.each([
    ['0', 'zero'],
    ['19', 'nineteen'],
    ['90', 'ninety'],
    ['1001', 'one thousand one'],
    ['1000000000000', 'one trillion'],
    ['999999999999999999999', 'nine hundred ninety nine quintillion nine hundred ninety nine quadrillion nine hundred ninety nine trillion nine hundred ninety nine billion nine hundred ninety nine million nine hundred ninety nine thousand nine hundred ninety nine'],
    ['1234567890123456789012', 'one two three four five six seven eight nine zero one two three four five six seven eight nine zero one two'],
  ])('spellInteger(%j)', (digits, expected) => {
    expect(spellInteger(digits)).toBe(expected);
  });

  it.each([
    ['0', 'zeroth'],
    ['5', 'fifth'],
    ['8', 'eighth'],
    ['9', 'ninth'],
    ['30', 'thirtieth'],
    ['1000', 'one thousandth'],
  ])('spellOrdinal(%j)', (digits, expected) => {
    expect(spellOrdinal(digits)).toBe(expected);
  });

  it('rejects non-digit input', () => {
    expect(() => spellInteger('1.5')).toThrow(/not a digit string/);
  });
});
