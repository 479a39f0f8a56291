import { describe, expect, it } from 'vitest';
import {
  normalizeSentence,
  numberToWords,
  ordinalToWords,
  splitSentences,
  toTranscript,
  yearToWords,
} from './normalize.mjs';

describe('corpus text normalization', () => {
  it('spells numbers, ordinals and years', () => {
    expect(numberToWords(0)).toBe('zero');
    expect(numberToWords(42)).toBe('forty two');
    expect(numberToWords(1300)).toBe('one thousand three hundred');
    expect(numberToWords(999_999)).toBe('nine hundred ninety nine thousand nine hundred ninety nine');
    expect(ordinalToWords(21)).toBe('twenty first');
    expect(ordinalToWords(40)).toBe('fortieth');
    expect(ordinalToWords(12)).toBe('twelfth');
    expect(yearToWords(1839)).toBe('eighteen thirty nine');
    expect(yearToWords(1905)).toBe('nineteen oh five');
    expect(yearToWords(1800)).toBe('eighteen hundred');
  });

  it('keeps only a-z, in-word apostrophes and single spaces in the transcript', () => {
    expect(toTranscript(`'Tis the sailors' "best" friend -- don't you think?`)).toBe(
      "tis the sailors best friend don't you think",
    );
  });

  it('gives the engine punctuation but the transcript none', () => {
    const n = normalizeSentence('In 1851, Mr. Melville wrote 3 books & “many” well-known letters…');
    expect(n).not.toBeNull();
    expect(n!.text).toBe('in eighteen fifty one mister melville wrote three books and many well known letters');
    expect(n!.speak).toMatch(/^In eighteen fifty one, Mister Melville/);
    expect(n!.text).toMatch(/^[a-z' ]+$/);
  });

  it('folds accents and drops sentences an engine could read in another way', () => {
    expect(normalizeSentence('The café was open all night long.')!.text).toBe(
      'the cafe was open all night long',
    );
    expect(normalizeSentence('It cost $5 at the shop today.')).toBeNull(); // currency
    expect(normalizeSentence('He weighed 3.5 stone at most.')).toBeNull(); // decimals
    expect(normalizeSentence('The NASA team met on Monday.')).toBeNull(); // acronym
    expect(normalizeSentence('Lady C. was not at home today.')).toBeNull(); // initials
    expect(normalizeSentence('Two words')).toBeNull(); // too short
    expect(normalizeSentence('He wrote to Messrs. Smith and Jones.')).toBeNull(); // leftover abbreviation
    expect(normalizeSentence('The sound of _Mr._ Bertram is cold.')!.text).toBe(
      'the sound of mister bertram is cold',
    );
    expect(normalizeSentence(Array(26).fill('word').join(' '))).toBeNull(); // too long
  });

  it('keeps spelled letters in real transcripts when asked', () => {
    expect(normalizeSentence('john needs new t shirt', { spoken: true })!.text).toBe(
      'john needs new t shirt',
    );
  });

  it('splits prose into sentences without breaking at titles', () => {
    expect(splitSentences('Mr. Darcy bowed. "Indeed!" said Mrs.  Bennet; and\nshe left.')).toEqual([
      'Mister Darcy bowed.',
      '"Indeed!" said Missus Bennet; and she left.', // lower-case "said" continues the sentence
    ]);
  });
});
