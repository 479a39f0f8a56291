// Foreign vocabularies: reading them, encoding training text, decoding known id sequences, and the
// decoder (greedy, beam search with a word LM) over pieces and capitals-only characters.
import { describe, expect, it } from 'vitest';
import { beamSearch, greedyDecode } from '../asr/decode';
import { WordLm } from '../asr/lm';
import { ForeignModelError } from './errors';
import { ctcCollapse, encodeTarget, frameIdsText, labelText, missingCharacters, segmentWord, vocabFromTokensTxt, vocabFromVocabJson, type ModelVocab } from './vocab';

// The layout of a wav2vec2 English character vocabulary: specials, "|", capitals by frequency, "'".
const W2V_TOKENS = ['<pad>', '<s>', '</s>', '<unk>', '|', ...'ETAONIHSRDLUMWCFGYPBVK'.split(''), "'", 'X', 'J', 'Q', 'Z'];
const W2V = vocabFromVocabJson(Object.fromEntries(W2V_TOKENS.map((t, i) => [t, i])), { blankId: 0 });

// A small SentencePiece vocabulary as sherpa-onnx writes a NeMo model's tokens.txt.
const PIECES = ['<unk>', '▁the', '▁a', 's', '▁c', 'at', '▁cat', '▁cap', 't', 'h', 'e', '▁', 'c', 'a', 'p', "'", '▁ab', 'bc'];
const SP = vocabFromTokensTxt([...PIECES, '<blk>'].map((p, i) => `${p} ${i}\n`).join(''));
const pid = (p: string) => PIECES.indexOf(p);

describe('wav2vec2 vocab.json', () => {
  it('reads the pad token as the blank, "|" as the word delimiter and capitals as the model case', () => {
    expect(W2V.kind).toBe('characters');
    expect(W2V.blankId).toBe(0);
    expect(W2V.wordDelimiter).toBe('|');
    expect(W2V.letterCase).toBe('upper');
    expect(W2V.vocab.tokens[4]).toBe(' ');
    expect(W2V.vocab.tokens[W2V_TOKENS.indexOf('E')]).toBe('e');
    expect([...W2V.specialIds].sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
  });

  it('finds the blank from the pad token when config.json has no pad_token_id', () => {
    const tokens = ['[UNK]', '[PAD]', '|', 'a', 'b'];
    const v = vocabFromVocabJson(Object.fromEntries(tokens.map((t, i) => [t, i])), { padToken: '[PAD]' });
    expect(v.blankId).toBe(1);
    expect(v.letterCase).toBe('lower');
    expect(() => vocabFromVocabJson({ a: 0, b: 1 })).toThrow(/no pad token "<pad>"/);
  });

  it('encodes normalised text in the model case with "|" between words, and decodes it back', () => {
    const ids = encodeTarget(W2V, "hello world it's");
    expect([...ids].map((i) => W2V_TOKENS[i]).join('')).toBe("HELLO|WORLD|IT'S");
    expect(labelText(W2V, ids)).toBe("hello world it's");
  });

  it('decodes a known frame sequence: repeats merged, blanks dropped, "|" a space', () => {
    const t = (s: string) => [...s].map((ch) => (ch === '_' ? 0 : W2V_TOKENS.indexOf(ch)));
    const frames = t('__HH_E_LL_LO||_WW_ORLD__|');
    expect(ctcCollapse(frames, 0)).toEqual(t('HELLO|WORLD|'));
    expect(frameIdsText(W2V, frames)).toBe('hello world');
  });

  it('reports characters the vocabulary lacks, all at once', () => {
    expect(missingCharacters(W2V, 'café ñ 7')).toEqual(['é', 'ñ', '7']);
    expect(() => encodeTarget(W2V, 'café 7')).toThrow(/"é" \(U\+00E9\), "7" \(U\+0037\)/);
  });

  it('takes one vocabulary of a per-language vocab.json (MMS) by target_lang, else says which exist', () => {
    const json = { eng: { '<pad>': 0, '|': 1, a: 2 }, fra: { '<pad>': 0, '|': 1, é: 2 } };
    expect(vocabFromVocabJson(json, { targetLang: 'fra' }).pieces).toEqual(['<pad>', '|', 'é']);
    expect(() => vocabFromVocabJson(json)).toThrow(/one vocabulary per language \(eng, fra\).*no target_lang/);
  });

  it('merges added_tokens.json and pads to the model output size', () => {
    const v = vocabFromVocabJson({ '<pad>': 0, '|': 1, A: 2 }, { addedTokens: { '<s>': 3, '</s>': 4 }, size: 6 });
    expect(v.pieces).toEqual(['<pad>', '|', 'A', '<s>', '</s>', '<unused-5>']);
    expect(v.vocab.tokens.slice(3)).toEqual(['', '', '']);
  });

  it('refuses an id given twice and a blank outside the vocabulary, naming the file', () => {
    expect(() => vocabFromVocabJson({ '<pad>': 0, a: 1, b: 1 })).toThrow(/vocab\.json gives id 1 to both "a" and "b"/);
    const e = (() => {
      try {
        vocabFromVocabJson({ '<pad>': 0, a: 1 }, { blankId: 5 });
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(ForeignModelError);
    expect((e as ForeignModelError).kind).toBe('bad-vocabulary');
    expect((e as ForeignModelError).problems).toEqual(["vocab.json has 2 tokens, so config.json's pad_token_id 5 (the CTC blank) is not among them."]);
  });
});

describe('SentencePiece tokens.txt', () => {
  it('reads pieces with <blk> as the blank and "▁" as a word start', () => {
    expect(SP.kind).toBe('pieces');
    expect(SP.blankId).toBe(PIECES.length);
    expect(SP.vocab.tokens[pid('▁the')]).toBe(' the');
    expect(SP.vocab.tokens[pid('at')]).toBe('at');
    expect(SP.vocab.tokens[pid('<unk>')]).toBe('');
  });

  it('segments a word into the fewest pieces, the first with "▁"', () => {
    expect(segmentWord(SP, 'cats')).toEqual([pid('▁cat'), pid('s')]);
    expect(segmentWord(SP, 'the')).toEqual([pid('▁the')]);
    expect(segmentWord(SP, 'hat')).toEqual([pid('▁'), pid('h'), pid('at')]);
    expect(segmentWord(SP, "cat's")).toEqual([pid('▁cat'), pid("'"), pid('s')]);
    expect(segmentWord(SP, 'zap')).toBeUndefined();
  });

  it('breaks ties between equally short segmentations by the longest pieces from the left', () => {
    // "▁abc" is "▁ab" + "c" or "▁a" + "bc": two pieces each.
    expect(segmentWord(SP, 'abc')).toEqual([pid('▁ab'), pid('c')]);
  });

  it('round-trips text through pieces', () => {
    for (const text of ['the cat', 'the cats ate a cap', "that's it", 'a']) {
      const ids = encodeTarget(SP, text.replace('i', 'e')); // no "i" in these pieces
      expect(labelText(SP, ids)).toBe(text.replace('i', 'e'));
    }
  });

  it('reports characters no piece contains, and words the pieces cannot spell', () => {
    expect(missingCharacters(SP, 'the zebra')).toEqual(['z', 'r']);
    expect(() => encodeTarget(SP, 'the zebra')).toThrow(/tokens\.txt: the model's vocabulary has no "z" \(U\+007A\), "r"/);
    // "b" only occurs inside "▁ab" and "bc".
    expect(() => encodeTarget(SP, 'the be')).toThrow(/the pieces cannot spell the word "be"/);
  });

  it('decodes a known frame sequence: pieces joined, "▁" a space', () => {
    const b = SP.blankId;
    expect(frameIdsText(SP, [b, pid('▁the'), pid('▁the'), b, pid('▁cat'), pid('s'), b, pid('▁a'), pid('t'), b])).toBe('the cats at');
  });

  it('takes the blank as last when the file is one short of the model output and has no <blk>', () => {
    const text = ['<unk> 0', '▁a 1', 'b 2'].join('\n');
    expect(vocabFromTokensTxt(text, { size: 4 }).blankId).toBe(3);
    expect(() => vocabFromTokensTxt(text)).toThrow(/tokens\.txt has no blank token <blk>/);
    expect(() => vocabFromTokensTxt(text, { size: 7 })).toThrow(/not one short of the model's 7 outputs/);
  });

  it('reads a character tokens.txt whose space is written as itself or as "▁"', () => {
    const v = vocabFromTokensTxt('  0\na 1\nb 2\n<blk> 3\n');
    expect(v.kind).toBe('characters');
    expect(v.vocab.tokens.slice(0, 3)).toEqual([' ', 'a', 'b']);
    expect([...encodeTarget(v, 'ab ba')]).toEqual([1, 2, 0, 2, 1]);
    const ours = vocabFromTokensTxt('<blk> 0\n▁ 1\na 2\n');
    expect(ours.kind).toBe('characters');
    expect([...encodeTarget(ours, 'a a')]).toEqual([2, 1, 2]);
  });

  it('refuses malformed lines and gaps, naming the line', () => {
    expect(() => vocabFromTokensTxt('a 0\nb\n')).toThrow(/line 2 is not "<token> <id>"/);
    expect(() => vocabFromTokensTxt('a 0\nb 2\n<blk> 3\n')).toThrow(/skips id 1/);
  });
});

/** Log-probabilities [T, V] from one {id: probability} map per frame; the rest spread evenly. */
function scores(mv: ModelVocab, rows: Array<Record<number, number>>): Float64Array {
  const V = mv.pieces.length;
  const out = new Float64Array(rows.length * V);
  rows.forEach((row, t) => {
    const given = Object.values(row).reduce((a, b) => a + b, 0);
    const rest = (1 - given) / (V - Object.keys(row).length);
    for (let v = 0; v < V; v++) out[t * V + v] = Math.log(rest);
    for (const [id, p] of Object.entries(row)) out[t * V + Number(id)] = Math.log(p);
  });
  return out;
}

describe('the decoder over foreign vocabularies', () => {
  it('greedy decoding joins pieces', () => {
    const b = SP.blankId;
    const s = scores(SP, [{ [pid('▁the')]: 0.9 }, { [b]: 0.9 }, { [pid('▁cat')]: 0.8 }, { [pid('s')]: 0.7 }]);
    expect(greedyDecode(s, SP.vocab, 'logProbs').text).toBe('the cats');
  });

  it('the word LM completes piece words where the next "▁" piece starts and at the end', () => {
    const b = SP.blankId;
    // The acoustics prefer "cap" slightly; the LM knows only "the cat".
    const s = scores(SP, [{ [pid('▁the')]: 0.9 }, { [b]: 0.9 }, { [pid('▁cap')]: 0.45, [pid('▁cat')]: 0.4 }, { [b]: 0.9 }]);
    expect(beamSearch(s, SP.vocab, { kind: 'logProbs' })[0].text).toBe('the cap');
    const lm = WordLm.fromTexts(['the cat', 'the cat sat', 'a cat']);
    const [best] = beamSearch(s, SP.vocab, { kind: 'logProbs', lm: { model: lm, weight: 1, wordBonus: 0 } });
    expect(best.text).toBe('the cat');
    // The LM score is that of "<s> the cat </s>", so each word was completed exactly once.
    const [plain] = beamSearch(s, SP.vocab, { kind: 'logProbs', beamWidth: 8, lm: { model: lm, weight: 0, wordBonus: 1 } });
    expect(plain.score - plain.logProb).toBeCloseTo(2, 10);
  });

  it('the word LM reads "|" of a capitals vocabulary as the word boundary', () => {
    const c = (ch: string) => W2V_TOKENS.indexOf(ch);
    const s = scores(W2V, [{ [c('A')]: 0.9 }, { [c('|')]: 0.9 }, { [c('B')]: 0.5, [c('P')]: 0.4 }, { [c('E')]: 0.9 }]);
    expect(beamSearch(s, W2V.vocab, { kind: 'logProbs' })[0].text).toBe('a be');
    const lm = WordLm.fromTexts(['a pe', 'a pe pe']);
    expect(beamSearch(s, W2V.vocab, { kind: 'logProbs', lm: { model: lm, weight: 1, wordBonus: 0, unkCharCost: 1 } })[0].text).toBe('a pe');
  });
});
