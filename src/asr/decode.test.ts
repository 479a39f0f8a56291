import { describe, expect, it } from 'vitest';
import { ctcLoss } from './ctc';
import { beamSearch, decodeText, GREEDY, greedyDecode } from './decode';
import { BOS, EOS, UNK, WordLm } from './lm';
import { DEFAULT_VOCAB, encodeText, makeVocab } from './vocab';

const V = DEFAULT_VOCAB.tokens.length;
const id = (ch: string) => DEFAULT_VOCAB.ids.get(ch === '_' ? '<blk>' : ch) as number;

/**
 * Log-probabilities [T, V] from one {token: probability} map per frame ('_' is blank); the mass
 * not given is spread evenly over the other tokens.
 */
function frames(...rows: Array<Record<string, number>>): Float64Array {
  const out = new Float64Array(rows.length * V);
  rows.forEach((row, t) => {
    const given = Object.values(row).reduce((a, b) => a + b, 0);
    const rest = (1 - given) / (V - Object.keys(row).length);
    for (let v = 0; v < V; v++) out[t * V + v] = Math.log(rest);
    for (const [ch, p] of Object.entries(row)) out[t * V + id(ch)] = Math.log(p);
  });
  return out;
}

describe('greedyDecode', () => {
  it('takes the argmax per frame, merges repeats and drops blanks', () => {
    // Path: h h _ e l _ l l o _  →  "hello"
    const scores = frames(
      { h: 0.9 }, { h: 0.8 }, { _: 0.9 }, { e: 0.7 }, { l: 0.9 }, { _: 0.6 }, { l: 0.9 }, { l: 0.9 }, { o: 0.8 }, { _: 0.9 },
    );
    const r = greedyDecode(scores, DEFAULT_VOCAB, 'logProbs');
    expect(r.text).toBe('hello');
    expect(r.ids).toEqual(Array.from(encodeText(DEFAULT_VOCAB, 'hello')));
    expect(r.frames).toEqual([0, 3, 4, 6, 8]);
    expect(r.logProb).toBeCloseTo(Math.log(0.9 * 0.8 * 0.9 * 0.7 * 0.9 * 0.6 * 0.9 * 0.9 * 0.8 * 0.9), 12);
  });

  it('gives the same result from logits as from log-probabilities', () => {
    const logProbs = frames({ a: 0.6 }, { _: 0.5 }, { ' ': 0.7 }, { b: 0.9 });
    const logits = logProbs.map((x, i) => x + 5 + Math.floor(i / V)); // a different shift per frame
    const a = greedyDecode(logProbs, DEFAULT_VOCAB, 'logProbs');
    const b = greedyDecode(Float32Array.from(logits), DEFAULT_VOCAB);
    expect(b.text).toBe('a b');
    expect(b.ids).toEqual(a.ids);
    expect(b.logProb).toBeCloseTo(a.logProb, 5);
  });

  it('trims and collapses spaces in the text but keeps them in ids', () => {
    const r = greedyDecode(frames({ ' ': 0.9 }, { a: 0.9 }, { ' ': 0.9 }, { _: 0.9 }, { ' ': 0.9 }), DEFAULT_VOCAB, 'logProbs');
    expect(r.text).toBe('a');
    expect(r.ids.length).toBe(4);
  });

  it('decodes zero frames to the empty string and rejects ragged input', () => {
    expect(greedyDecode(new Float32Array(0), DEFAULT_VOCAB).text).toBe('');
    expect(() => greedyDecode(new Float32Array(V + 1), DEFAULT_VOCAB)).toThrow(/not a whole number of frames/);
  });
});

describe('beamSearch', () => {
  it('finds the labeling whose alignments add up, where greedy follows the single best path', () => {
    // Per frame p(blank) = 0.5, p(a) = 0.4. Best path "_ _" → "" with 0.25, but "a" collects
    // a a + a _ + _ a = 0.16 + 0.2 + 0.2 = 0.56.
    const scores = frames({ _: 0.5, a: 0.4 }, { _: 0.5, a: 0.4 });
    expect(greedyDecode(scores, DEFAULT_VOCAB, 'logProbs').text).toBe('');
    const [best] = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 4 });
    expect(best.text).toBe('a');
    expect(best.logProb).toBeCloseTo(Math.log(0.56), 12);
  });

  it('returns the exact labeling probability, i.e. −CTC loss, when nothing is pruned', () => {
    const scores = frames({ c: 0.5, _: 0.3 }, { a: 0.6 }, { _: 0.5, a: 0.3 }, { t: 0.7 }, { _: 0.8 });
    const results = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 1000, nBest: 3 });
    for (const r of results) {
      const { losses } = ctcLoss(
        { logits: scores, shape: [1, 5, V], inputLengths: [5], targets: [r.ids] },
        { reduction: 'sum', grad: false },
      );
      expect(r.logProb).toBeCloseTo(-losses[0], 10);
    }
    expect(results[0].text).toBe('cat');
    expect(results[0].frames).toEqual([0, 1, 3]);
  });

  it('with an unbounded beam finds the most probable labeling (brute force over all paths)', () => {
    const small = makeVocab(['<blk>', 'a', 'b']);
    let seed = 11;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 20; trial++) {
      const frameCount = 5;
      const logits = Float64Array.from({ length: frameCount * 3 }, () => (rand() * 2 - 1) * 2);
      // Probability of every labeling: sum over the 3^T paths that collapse to it.
      const totals = new Map<string, number>();
      for (let code = 0; code < 3 ** frameCount; code++) {
        let p = 1;
        let text = '';
        let previous = -1;
        for (let t = 0, rest = code; t < frameCount; t++, rest = Math.floor(rest / 3)) {
          const v = rest % 3;
          const row = logits.subarray(t * 3, t * 3 + 3);
          p *= Math.exp(row[v]) / (Math.exp(row[0]) + Math.exp(row[1]) + Math.exp(row[2]));
          if (v !== 0 && v !== previous) text += small.tokens[v];
          previous = v;
        }
        totals.set(text, (totals.get(text) ?? 0) + p);
      }
      const ranked = [...totals].sort((x, y) => y[1] - x[1]);
      const results = beamSearch(logits, small, { beamWidth: 1000, nBest: 3 });
      for (let k = 0; k < 3; k++) {
        expect(results[k].text).toBe(ranked[k][0]);
        expect(results[k].logProb).toBeCloseTo(Math.log(ranked[k][1]), 10);
      }
    }
  });

  it('with beam width 1 equals greedy when each frame has a clear winner', () => {
    let seed = 3;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let trial = 0; trial < 20; trial++) {
      const rows = Array.from({ length: 30 }, () => {
        const winner = rand() < 0.5 ? '_' : DEFAULT_VOCAB.tokens[1 + Math.floor(rand() * (V - 1))];
        return { [winner === ' ' ? ' ' : winner]: 0.95 };
      });
      const scores = frames(...rows);
      const greedy = greedyDecode(scores, DEFAULT_VOCAB, 'logProbs');
      const [beam] = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 1 });
      expect(beam.ids).toEqual(greedy.ids);
      expect(beam.frames).toEqual(greedy.frames);
    }
  });

  // "cat" vs "kat": frame 0 is ambiguous, the rest is clear.
  const ambiguous = frames({ c: 0.5, k: 0.4 }, { a: 0.9 }, { t: 0.9 }, { _: 0.9 });

  it('moves an ambiguous word to a hotword', () => {
    expect(beamSearch(ambiguous, DEFAULT_VOCAB, { kind: 'logProbs' })[0].text).toBe('cat');
    const [best] = beamSearch(ambiguous, DEFAULT_VOCAB, { kind: 'logProbs', hotwords: ['Kat'] });
    expect(best.text).toBe('kat');
    expect(best.score - best.logProb).toBeCloseTo(3, 12);
  });

  it('keeps a hotword alive by partial credit while it is spelled (beam width 1)', () => {
    const [best] = beamSearch(ambiguous, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 1, hotwords: ['kat'] });
    expect(best.text).toBe('kat');
  });

  it('does not force a hotword the audio clearly contradicts', () => {
    const clear = frames({ c: 0.97 }, { a: 0.97 }, { t: 0.97 });
    expect(beamSearch(clear, DEFAULT_VOCAB, { kind: 'logProbs', hotwords: ['kat'] })[0].text).toBe('cat');
  });

  it('boosts lexicon words without penalizing others', () => {
    const [withLexicon] = beamSearch(ambiguous, DEFAULT_VOCAB, { kind: 'logProbs', lexicon: ['kat', 'dog'] });
    expect(withLexicon.text).toBe('kat');
    const [unrelated] = beamSearch(ambiguous, DEFAULT_VOCAB, { kind: 'logProbs', lexicon: ['dog'] });
    expect(unrelated.text).toBe('cat');
    expect(unrelated.score).toBe(unrelated.logProb);
  });

  it('scores each completed word in a multi-word hypothesis', () => {
    const scores = frames({ k: 0.5, c: 0.45 }, { a: 0.9 }, { t: 0.9 }, { ' ': 0.9 }, { k: 0.5, c: 0.45 }, { a: 0.9 }, { t: 0.9 });
    const [best] = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', hotwords: ['cat'], hotwordBonus: 1 });
    expect(best.text).toBe('cat cat');
    expect(best.score - best.logProb).toBeCloseTo(2, 12);
  });

  it('accepts logits, prunes tokens far below the best, and validates options', () => {
    const logits = Float32Array.from(ambiguous, (x) => x * 1 + 2);
    expect(beamSearch(logits, DEFAULT_VOCAB, { pruneBelowBest: 5 })[0].text).toBe('cat');
    expect(() => beamSearch(logits, DEFAULT_VOCAB, { beamWidth: 0 })).toThrow(/beamWidth/);
    expect(() => beamSearch(logits, DEFAULT_VOCAB, { hotwordBonus: -1 })).toThrow(/only boost/);
  });
});

describe('beamSearch with a word LM', () => {
  // Two words whose first letters are ambiguous: "kat sat" is what the audio slightly prefers.
  const scores = frames({ k: 0.5, c: 0.45 }, { a: 0.9 }, { t: 0.9 }, { ' ': 0.9 }, { s: 0.5, m: 0.45 }, { a: 0.9 }, { t: 0.9 });
  const lm = WordLm.fromTexts(['the cat sat', 'a cat sat down', 'the dog sat', 'a mat']);

  it('lets the LM pick the known words and scores them as weight × ln p + bonus', () => {
    expect(beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs' })[0].text).toBe('kat sat');
    const fusion = { model: lm, weight: 1, wordBonus: 0.5 };
    const [best] = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', lm: fusion });
    expect(best.text).toBe('cat sat');
    const bos = lm.id(BOS);
    const expected = lm.logProb(bos, lm.id('cat')) + lm.logProb(lm.id('cat'), lm.id('sat')) + lm.logProb(lm.id('sat'), lm.id(EOS)) + 2 * 0.5;
    expect(best.score - best.logProb).toBeCloseTo(expected, 10);
  });

  it('with weight 0 and no bonus ranks as without an LM', () => {
    const [best] = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', lm: { model: lm, weight: 0, wordBonus: 0 } });
    expect(best.text).toBe('kat sat');
    expect(best.score).toBeCloseTo(best.logProb, 12);
  });

  it('decodeText follows the decoding: greedy, or beam search with the LM', () => {
    expect(decodeText(scores, DEFAULT_VOCAB, GREEDY, 'logProbs')).toBe('kat sat');
    expect(decodeText(scores, DEFAULT_VOCAB, { beamWidth: 8, lm: { model: lm, weight: 1, wordBonus: 0.5 } }, 'logProbs')).toBe('cat sat');
  });

  it('keeps an out-of-vocabulary word the audio clearly says', () => {
    const clear = frames({ z: 0.97 }, { o: 0.97 }, { g: 0.97 });
    expect(beamSearch(clear, DEFAULT_VOCAB, { kind: 'logProbs', lm: { model: lm, weight: 0.5, wordBonus: 1 } })[0].text).toBe('zog');
  });

  it('with look-ahead keeps a common word alive while it is spelled, and scores the result without it', () => {
    // "kate" is a word, so "k…" is no non-word; "cat" is far more frequent.
    const lmK = WordLm.fromTexts(['the cat sat', 'a cat', 'cat', 'the cat ran', 'kate']);
    const audio = frames({ k: 0.5, c: 0.45 }, { a: 0.9 }, { t: 0.9 });
    const fusion = { model: lmK, weight: 1, wordBonus: 0.5, unkCharCost: 0.5 };
    // width 1: without look-ahead "k" and "c" look alike to the LM until the word ends, so the audio's "k" stays
    expect(beamSearch(audio, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 1, lm: fusion })[0].text).toBe('kat');
    const [ahead] = beamSearch(audio, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 1, lm: { ...fusion, lookahead: true } });
    expect(ahead.text).toBe('cat');
    // the final score is the words' real LM score: the same as a wide search finds for "cat" without look-ahead
    const wide = beamSearch(audio, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 16, nBest: 16, lm: fusion }).find((r) => r.text === 'cat')!;
    expect(ahead.score).toBeCloseTo(wide.score, 10);
  });

  it('validates the fusion settings', () => {
    expect(() => beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', lm: { model: lm, weight: -1, wordBonus: 0 } })).toThrow(/LM weight/);
    expect(() => beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', lm: { model: lm, weight: 1, wordBonus: NaN } })).toThrow(/word bonus/);
  });
});

describe('beamSearch with an unknown-word cost and a trigram LM', () => {
  // "wake up the dog" with weak spaces: each gap is blank 0.6 / space 0.35, so the audio alone
  // prefers the glued "wakeupthedog".
  const gap = { _: 0.6, ' ': 0.35 };
  const spell = (w: string) => [...w].map((c) => ({ [c]: 0.9 }));
  const scores = frames(...spell('wake'), gap, ...spell('up'), gap, ...spell('the'), gap, ...spell('dog'));
  const lm = WordLm.fromTexts(['the dog sat on the mat', 'wake up now', 'the cat woke up', 'a dog and a cat', 'up the hill', 'wake the dog'], { order: 3 });

  it('makes a glued non-word lose to the known words it glues, once its cost grows with its length', () => {
    expect(beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 16 })[0].text).toBe('wakeupthedog');
    // <unk> charged once: one unknown word is cheaper than four known ones
    expect(beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 16, lm: { model: lm, weight: 1, wordBonus: 1 } })[0].text).toBe('wakeupthedog');
    const fusion = { model: lm, weight: 1, wordBonus: 1, unkCharCost: 0.5 };
    const results = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 16, nBest: 16, lm: fusion });
    expect(results[0].text).toBe('wake up the dog');
    const glued = results.find((r) => r.text === 'wakeupthedog')!;
    const unk = lm.id(UNK);
    const expected = lm.logProb(lm.id(BOS), unk) + lm.logProb(unk, lm.id(EOS), lm.id(BOS)) + 1 - 0.5 * 'wakeupthedog'.length;
    expect(glued.score - glued.logProb).toBeCloseTo(expected, 10);
  });

  it('still writes a short unknown word the audio clearly says', () => {
    const clear = frames({ z: 0.97 }, { o: 0.97 }, { g: 0.97 });
    expect(beamSearch(clear, DEFAULT_VOCAB, { kind: 'logProbs', lm: { model: lm, weight: 0.5, wordBonus: 1, unkCharCost: 0.5 } })[0].text).toBe('zog');
  });

  it('scores each word with the two words before it', () => {
    const fusion = { model: lm, weight: 0.7, wordBonus: 0.5, unkCharCost: 0.5 };
    const [best] = beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', beamWidth: 16, lm: fusion });
    expect(best.text).toBe('wake up the dog');
    const ids = [BOS, 'wake', 'up', 'the', 'dog', EOS].map((w) => lm.id(w));
    let expected = 4 * 0.5;
    for (let i = 1; i < ids.length; i++) expected += 0.7 * lm.logProb(ids[i - 1], ids[i], i >= 2 ? ids[i - 2] : -1);
    expect(best.score - best.logProb).toBeCloseTo(expected, 10);
    // not what a bigram history gives
    let bigram = 4 * 0.5;
    for (let i = 1; i < ids.length; i++) bigram += 0.7 * lm.logProb(ids[i - 1], ids[i]);
    expect(Math.abs(expected - bigram)).toBeGreaterThan(0.1);
  });

  it('validates the unknown-word cost', () => {
    expect(() => beamSearch(scores, DEFAULT_VOCAB, { kind: 'logProbs', lm: { model: lm, weight: 1, wordBonus: 0, unkCharCost: -1 } })).toThrow(/unknown-word cost/);
  });
});

