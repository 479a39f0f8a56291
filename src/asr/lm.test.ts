import { describe, expect, it } from 'vitest';
import { BOS, EOS, UNK, WordLm } from './lm';

const TEXTS = ['the cat sat on the mat', 'the dog sat on the log', 'a cat and a dog', 'the cat ate', 'The Cat, sat!'];

/** Σ_w p(w | v) over every word that can follow (all but <s>; words the model lacks are <unk>). */
function mass(lm: WordLm, prev: string, followers: string[]): number {
  return known(lm, followers).reduce((s, w) => s + Math.exp(lm.logProb(lm.id(prev), lm.id(w))), 0);
}

function known(lm: WordLm, followers: string[]): string[] {
  return followers.filter((w) => w === EOS || w === UNK || lm.has(w));
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

  it('spells one letter at a time as the whole spelling does (the beam search steps its trie node per token)', () => {
    const lm = WordLm.fromTexts(TEXTS);
    for (const w of new Set(TEXTS.flatMap((t) => t.toLowerCase().replace(/[^a-z ]/g, '').split(' ')))) {
      let node = 0;
      for (const ch of w) node = lm.spell(node, ch);
      expect(node).toBe(lm.spell(0, w));
      expect(node).toBeGreaterThan(0);
    }
    expect(lm.spell(lm.spell(0, 'c'), 'at')).toBe(lm.spell(0, 'cat'));
    for (const no of ['cz', 'catz', 'q', "'"]) expect(lm.spell(0, no)).toBe(-1);
    expect(lm.spell(-1, 'a')).toBe(-1);
    expect(lm.spell(0, '')).toBe(0);
    expect(lm.isPrefix('')).toBe(false);
  });

  it('looks ahead: each spelling carries the best unigram of the words it can still become', () => {
    const lm = WordLm.fromTexts([...TEXTS, 'the cattle ate', 'a catalogue', 'the cat']);
    const vocabulary = [...new Set([...TEXTS, 'the cattle ate', 'a catalogue', 'the cat'].flatMap((t) => t.toLowerCase().replace(/[^a-z ]/g, '').split(' ')))];
    for (const w of vocabulary) {
      for (let n = 0; n <= w.length; n++) {
        const spelling = w.slice(0, n);
        const best = Math.max(...vocabulary.filter((v) => v.startsWith(spelling)).map((v) => lm.unigramLogProb(lm.id(v))));
        expect(lm.lookahead(lm.spell(0, spelling))).toBe(best);
      }
    }
    // "cat" is more frequent than "cattle" and "catalogue": it sets the estimate of "cat…"
    expect(lm.lookahead(lm.spell(0, 'cat'))).toBe(lm.unigramLogProb(lm.id('cat')));
    expect(lm.lookahead(lm.spell(0, 'catt'))).toBe(lm.unigramLogProb(lm.id('cattle')));
    expect(lm.lookahead(lm.spell(0, 'cz'))).toBe(-Infinity);
    // survives ARPA (the app reads lm.arpa)
    const back = WordLm.fromArpa(lm.toArpa());
    expect(back.lookahead(back.spell(0, 'catt'))).toBeCloseTo(lm.lookahead(lm.spell(0, 'catt')), 5);
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

  it('refuses ARPA files it cannot use, naming the line', () => {
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=1\nngram 2=1\nngram 4=1\n')).toThrow(/line 4: only orders 1 to 3 \(unigram to trigram\) are supported, this one has 4-grams/);
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=1\n\n\\1-grams:\nabc\tthe\n')).toThrow(/line 5: 'abc' is not a number/);
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=1\nngram 2=1\n\\1-grams:\n-1\tthe\n\\2-grams:\n-1\tthe cat\n')).toThrow(/line 7: 'cat' has no unigram/);
    expect(() => WordLm.fromArpa('hello')).toThrow(/line 1: data outside a section/);
    expect(() => WordLm.fromArpa('\\data\\\nngram 1=5\nngram 2=20000001\n')).toThrow(/line 3: 20000001 2-grams is more than this app reads \(10,000,000\); prune the model/);
  });
});

/** The words of TRIGRAM_TEXTS, plus </s> and <unk>: everything that can follow a history. */
const TRIGRAM_TEXTS = [
  'the cat sat on the mat', 'the dog sat on the log', 'a cat sat on a dog', 'the cat ate the fish',
  'a dog ate the cat food', 'the cat sat on the mat', 'the dog sat on the mat', 'on the mat sat the cat',
];
const triWords = [...new Set(TRIGRAM_TEXTS.flatMap((t) => t.split(' ')))];
const triFollowers = [...triWords, EOS, UNK];
/** Σ_w p(w | before prev) over every word that can follow. */
function mass3(lm: WordLm, before: string, prev: string, followers = triFollowers): number {
  return known(lm, followers).reduce((s, w) => s + Math.exp(lm.logProb(lm.id(prev), lm.id(w), lm.id(before))), 0);
}
/** Histories of two words: seen ones (with stored trigrams), seen words in unseen orders, <s> and <unk>. */
const HISTORIES: [string, string][] = [[BOS, 'the'], ['the', 'cat'], ['cat', 'sat'], ['sat', 'on'], ['on', 'the'], ['the', 'mat'], ['mat', 'the'], ['dog', 'cat'], [UNK, 'the'], ['the', UNK], [BOS, 'fish']];

describe('WordLm of order 3', () => {
  it('gives every two-word history a distribution that sums to one, pruned or not', () => {
    for (const o of [{}, { bigramMinCount: 2 }, { bigramMinCount: 2, trigramMinCount: 2 }, { minCount: 2, bigramMinCount: 2, trigramMinCount: 3 }]) {
      const lm = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3, ...o });
      expect(lm.order).toBe(3);
      expect(lm.trigramCount).toBeGreaterThan(0);
      for (const [u, v] of HISTORIES) expect(mass3(lm, u, v)).toBeCloseTo(1, 10);
      for (const v of [BOS, 'the', 'cat', UNK]) expect(mass(lm, v, triFollowers)).toBeCloseTo(1, 10);
    }
    const full = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3 });
    const pruned = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3, bigramMinCount: 2, trigramMinCount: 2 });
    expect(pruned.trigramCount).toBeLessThan(full.trigramCount);
    expect(pruned.bigramCount).toBeLessThan(full.bigramCount);
  });

  it('uses the word before last: what followed "on the" is likelier after "on the" than after "ate the"', () => {
    const lm = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3 });
    const p = (u: string, v: string, w: string) => lm.logProb(lm.id(v), lm.id(w), lm.id(u));
    expect(p('on', 'the', 'mat')).toBeGreaterThan(p('ate', 'the', 'mat'));
    expect(p('ate', 'the', 'fish')).toBeGreaterThan(p('on', 'the', 'fish'));
    // a bigram model cannot tell them apart
    const bigram = WordLm.fromTexts(TRIGRAM_TEXTS);
    expect(bigram.logProb(bigram.id('the'), bigram.id('mat'), bigram.id('on'))).toBe(bigram.logProb(bigram.id('the'), bigram.id('mat'), bigram.id('ate')));
    expect(lm.sentenceLogProb('the cat sat on the mat')).toBeGreaterThan(lm.sentenceLogProb('the cat sat on the fish'));
  });

  it('round-trips through ARPA text with a \\3-grams: section and bigram back-off weights', () => {
    const lm = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3, bigramMinCount: 2 });
    const arpa = lm.toArpa();
    expect(arpa).toMatch(/^\\data\\\nngram 1=\d+\nngram 2=\d+\nngram 3=\d+\n/);
    expect(arpa).toMatch(/\n\\3-grams:\n/);
    expect(arpa).toMatch(/\n-?\d+\.\d+\ton the mat\n/);
    expect(arpa).toMatch(/\n-?\d+\.\d+\ton the\t-?\d+\.\d+\n/);
    const back = WordLm.fromArpa(arpa);
    expect(back.order).toBe(3);
    expect(back.trigramCount).toBe(lm.trigramCount);
    for (const [u, v] of HISTORIES) {
      for (const w of triFollowers) expect(back.logProb(back.id(v), back.id(w), back.id(u))).toBeCloseTo(lm.logProb(lm.id(v), lm.id(w), lm.id(u)), 5);
    }
    expect(back.toArpa()).toBe(arpa);
  });

  it('names the line of a malformed trigram file', () => {
    const good = WordLm.fromTexts(['a b c'], { order: 3 }).toArpa();
    const lines = good.split('\n');
    const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
    const tri = at(/\ta b c$/);
    const edit = (i: number, line: string) => lines.map((l, k) => (k === i ? line : l)).join('\n');
    expect(() => WordLm.fromArpa(edit(tri, '-0.5\ta b zz'))).toThrow(new RegExp(`line ${tri + 1}: 'zz' has no unigram`));
    expect(() => WordLm.fromArpa(edit(tri, '-0.5\ta b'))).toThrow(new RegExp(`line ${tri + 1}: a 3-gram needs a probability, 3 words`));
    expect(() => WordLm.fromArpa(edit(tri, 'x\ta b c'))).toThrow(new RegExp(`line ${tri + 1}: 'x' is not a number`));
    expect(() => WordLm.fromArpa(edit(at(/^ngram 3=/), 'ngram 3=99'))).toThrow(new RegExp(`line ${at(/^ngram 3=/) + 1}: \\\\data\\\\ declares 99 3-grams but the file has 3`));
    expect(() => WordLm.fromArpa(edit(at(/\tb\t/), lines[at(/\ta\t/)]))).toThrow(/unigram 'a' appears twice/);
    // a trigram whose history is no bigram
    const ab = at(/\ta b\t/);
    const withoutAb = lines.filter((_, k) => k !== ab).map((l) => (l.startsWith('ngram 2=') ? `ngram 2=${Number(l.slice(8)) - 1}` : l));
    const abc = withoutAb.findIndex((l) => /\ta b c$/.test(l));
    expect(() => WordLm.fromArpa(withoutAb.join('\n'))).toThrow(new RegExp(`line ${abc + 1}: trigram 'a b c' has no bigram 'a b'`));
  });

  it('reads n-grams listed in another order (as other tools write them) and fields split by any whitespace', () => {
    const lm = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3 });
    const lines = lm.toArpa().split('\n');
    const sections = ['\\2-grams:', '\\3-grams:'].map((h) => lines.indexOf(h));
    expect(sections).not.toContain(-1);
    // reverse the lines of each n-gram section and use spaces for tabs
    const reordered = [...lines];
    for (const start of sections) {
      let end = start + 1;
      while (lines[end]) end++;
      reordered.splice(start + 1, end - start - 1, ...lines.slice(start + 1, end).reverse().map((l) => l.replace(/\t/g, '  ')));
    }
    const back = WordLm.fromArpa(reordered.join('\n'));
    expect(back.toArpa()).toBe(lm.toArpa());
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

  it('mixes a trigram base with a bigram personal LM: a trigram model whose distributions sum to one', () => {
    const tri = WordLm.fromTexts(TRIGRAM_TEXTS, { order: 3, bigramMinCount: 2, trigramMinCount: 2 });
    const personal = WordLm.fromTexts(['siobhan sat on the mat', 'call siobhan', 'on the siobhan']);
    const followers = [...triFollowers, 'siobhan', 'call'];
    for (const [a, b] of [[tri, personal], [personal, tri], [tri, WordLm.fromTexts(['siobhan sat on the mat', 'call siobhan'], { order: 3 })]]) {
      const mixed = WordLm.mix(a, b, 0.3);
      expect(mixed.order).toBe(3);
      for (const [u, v] of [...HISTORIES, ['call', 'siobhan'], ['on', 'the'], [BOS, 'siobhan']] as [string, string][]) expect(mass3(mixed, u, v, followers)).toBeCloseTo(1, 8);
      for (const v of [BOS, 'the', 'siobhan', UNK]) expect(mass(mixed, v, followers)).toBeCloseTo(1, 8);
      const back = WordLm.fromArpa(mixed.toArpa());
      expect(back.logProb(back.id('the'), back.id('mat'), back.id('on'))).toBeCloseTo(mixed.logProb(mixed.id('the'), mixed.id('mat'), mixed.id('on')), 5);
    }
    // a trigram either side stores gets its exact mixture; the personal word after "on the" too
    const mixed = WordLm.mix(tri, personal, 0.3);
    const p3 = (m: WordLm, u: string, v: string, w: string) => Math.exp(m.logProb(m.id(v), m.id(w), m.id(u)));
    expect(p3(mixed, 'on', 'the', 'mat')).toBeCloseTo(0.7 * p3(tri, 'on', 'the', 'mat') + 0.3 * p3(personal, 'on', 'the', 'mat'), 10);
    expect(p3(mixed, 'on', 'the', 'siobhan')).toBeGreaterThanOrEqual(0.3 * p3(personal, 'on', 'the', 'siobhan') - 1e-12);
  });
});
