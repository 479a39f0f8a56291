import { describe, expect, it } from 'vitest';
import { BOS, EOS, UNK, WordLm } from './lm';

const TEXTS = ['the cat sat on the mat', 'the dog sat on the log', 'a cat and a dog', 'the cat ate', 'The Cat, sat!'];

/** Σ_w p(w | v) over every word that can follow (all but <s>). */
function mass(lm: WordLm, prev: string, followers: string[]): number {
  return followers.reduce((s, w) => s + Math.exp(lm.logProb(lm.id(prev), lm.id(w))), 0);
}

describe('WordLm', () => {
  const words = [...new Set(TEXTS.flatMap((t) => t.toLowerCase().replace(/[^a-z ]/g, '').split(' ')))];
  const followers = [...words, EOS, UNK];

  it('normalizes text and gives each history a distribution that sums to one', () => {
    const lm = WordLm.fromTexts(TEXTS);
    expect(lm.vocabularySize).toBe(words.length);
    expect(lm.has('cat')).toBe(true);
    expect(lm.has('Cat')).toBe(false);
    for (const prev of [BOS, 'the', 'cat', 'on', 'ate', UNK]) expect(mass(lm, prev, followers)).toBeCloseTo(1, 10);
  });

  it('still sums to one when rare bigrams are pruned into the backoff', () => {
    const lm = WordLm.fromTexts(TEXTS, { bigramMinCount: 2 });
    expect(lm.bigramCount).toBeLessThan(WordLm.fromTexts(TEXTS).bigramCount);
    for (const prev of [BOS, 'the', 'cat', 'a']) expect(mass(lm, prev, followers)).toBeCloseTo(1, 10);
  });

  it('prefers seen word orders and knows which spellings lead to a word', () => {
    const lm = WordLm.fromTexts(TEXTS);
    expect(lm.logProb(lm.id('the'), lm.id('cat'))).toBeGreaterThan(lm.logProb(lm.id('the'), lm.id('sat')));
    expect(lm.sentenceLogProb('the cat sat on the mat')).toBeGreaterThan(lm.sentenceLogProb('mat the on sat cat the'));
    expect(lm.logProb(lm.id('the'), lm.id('zebra'))).toBe(lm.logProb(lm.id('the'), lm.id(UNK)));
    expect(lm.isPrefix('ca')).toBe(true);
    expect(lm.isPrefix('cat')).toBe(true);
    expect(lm.isPrefix('cz')).toBe(false);
  });

  it('round-trips through ARPA text', () => {
    const lm = WordLm.fromTexts(TEXTS, { bigramMinCount: 2 });
    const arpa = lm.toArpa();
    expect(arpa).toMatch(/^\\data\\\nngram 1=\d+\nngram 2=\d+\n/);
    const back = WordLm.fromArpa(arpa);
    for (const [v, w] of [[BOS, 'the'], ['the', 'cat'], ['cat', 'dog'], ['mat', EOS], ['a', UNK]]) {
      expect(back.logProb(back.id(v), back.id(w))).toBeCloseTo(lm.logProb(lm.id(v), lm.id(w)), 5);
    }
    expect(back.toArpa()).toBe(arpa);
  });

  it('refuses ARPA files it cannot use, saying why', () => {
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=1\nngram 2=1\nngram 3=1\n')).toThrow(/only unigram and bigram/);
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=1\n\n\\1-grams:\nabc\tthe\n')).toThrow(/line 5: 'abc' is not a number/);
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=1\nngram 2=1\n\\1-grams:\n-1\tthe\n\\2-grams:\n-1\tthe cat\n')).toThrow(/'the cat' uses a word with no unigram/);
    expect(() => WordLm.fromArpa('hello')).toThrow(/outside a section/);
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=5\nngram 2=20000001\n')).toThrow(/line 3: 20000001 2-grams is more than this app reads \(10,000,000\); prune the model/);
  });
});

describe('WordLm.mix', () => {
  const base = WordLm.fromTexts(['the cat sat on the mat', 'the dog sat on the log', 'a cat and a dog'], { bigramMinCount: 1 });
  const mine = WordLm.fromTexts(['siobhan sat on the mat', 'call siobhan']);

  it('knows both vocabularies and stays a distribution for every history', () => {
    const mixed = WordLm.mix(base, mine, 0.3);
    expect(mixed.has('siobhan') && mixed.has('call') && mixed.has('dog')).toBe(true);
    const followers = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'log', 'a', 'and', 'siobhan', 'call', EOS, UNK];
    for (const prev of [BOS, 'the', 'siobhan', 'call', 'dog', UNK]) expect(mass(mixed, prev, followers)).toBeCloseTo(1, 8);
  });

  it('gives stored bigrams their exact mixed probability and lifts the user\'s words', () => {
    const mixed = WordLm.mix(base, mine, 0.3);
    const p = (m: WordLm, v: string, w: string) => Math.exp(m.logProb(m.id(v), m.id(w)));
    // a pair both models know
    expect(p(mixed, 'the', 'mat')).toBeCloseTo(0.7 * p(base, 'the', 'mat') + 0.3 * p(mine, 'the', 'mat'), 10);
    expect(p(mixed, 'call', 'siobhan')).toBeGreaterThanOrEqual(0.3 * p(mine, 'call', 'siobhan'));
    expect(p(mixed, 'call', 'siobhan')).toBeGreaterThan(2 * Math.exp(base.logProb(base.id(UNK), base.id(UNK))));
    expect(mixed.logProb(mixed.id(BOS), mixed.id('siobhan'))).toBeGreaterThan(base.logProb(base.id(BOS), base.id(UNK)));
    // share 0 is the base model again, for its own words
    const same = WordLm.mix(base, mine, 0);
    for (const [v, w] of [['the', 'cat'], [BOS, 'a'], ['dog', 'sat'], ['mat', EOS]]) expect(p(same, v, w)).toBeCloseTo(p(base, v, w), 10);
    expect(() => WordLm.mix(base, mine, 1.5)).toThrow(/share/);
  });

  it('writes an ARPA file that reads back the same', () => {
    const mixed = WordLm.mix(base, mine, 0.3);
    const back = WordLm.fromArpa(mixed.toArpa());
    for (const [v, w] of [['call', 'siobhan'], ['the', 'dog'], [BOS, 'siobhan'], ['log', 'call']]) {
      expect(back.logProb(back.id(v), back.id(w))).toBeCloseTo(mixed.logProb(mixed.id(v), mixed.id(w)), 5);
    }
  });
});
