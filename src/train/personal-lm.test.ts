import { describe, expect, it } from 'vitest';
import { decodeText } from '../asr/decode';
import { WordLm } from '../asr/lm';
import { buildAcousticModel, type Weights } from '../asr/model';
import { readModelDir, writeModelDir } from '../asr/model-dir';
import { DEFAULT_VOCAB } from '../asr/vocab';
import { fineTunedModelDir, type FineTuneRecord } from './export';
import { personalLm, teachWords } from './personal-lm';

const ARCH = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 3, vocabSize: 29 };
const { g } = buildAcousticModel({ arch: ARCH, seed: 1, batch: 1, frames: 32, masked: false });
const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
const baseArpa = new TextEncoder().encode(WordLm.fromTexts(['the cat sat on the mat', 'a dog sat']).toArpa());
const record: FineTuneRecord = {
  baseModel: { name: 'tiny' },
  data: { datasets: ['d'], trainUtterances: 1, validationUtterances: 0, trainSeconds: 1 },
  training: { adapter: { kind: 'lora', rank: 2, alpha: 4, targets: ['q'] }, peakLr: 1e-3, warmupSteps: 0, steps: 1, skippedSteps: 0, batchSeconds: 1, augmentation: 'none', backend: 'node-cpu', minutes: 0 },
  metrics: {},
  createdAt: new Date(0).toISOString(),
};
const p = (lm: WordLm, v: string, w: string) => Math.exp(lm.logProb(lm.id(v), lm.id(w)));

describe('personal LM', () => {
  const base = readModelDir(writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '', decoder: { beamWidth: 4, lmWeight: 0.5, wordBonus: 1, unkCharCost: 0.3 }, lmArpa: baseArpa }));

  it('is nothing for a model without an LM, a zero share or no texts', () => {
    const greedy = readModelDir(writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '' }));
    expect(personalLm(greedy, ['call siobhan'])).toBeUndefined();
    expect(personalLm(base, ['call siobhan'], 0)).toBeUndefined();
    expect(personalLm(base, ['  '])).toBeUndefined();
  });

  it('goes into the export as personal.txt beside the unchanged base LM, and decodes the same after reloading', () => {
    const personal = personalLm(base, ['call siobhan', 'call  siobhan', 'siobhan sat'], 0.2)!;
    expect(personal.texts).toEqual(['call siobhan', 'siobhan sat']);
    const files = fineTunedModelDir(base, weights, record.training.adapter, { ...record, languageModel: { personalSentences: 2, personalShare: 0.2 } }, personal);
    expect(files['lm.arpa']).toEqual(baseArpa);
    const back = readModelDir(files);
    expect(back.config.decoder?.personalShare).toBe(0.2);
    expect(back.card).toMatch(/personal\.txt` holds the 2 transcripts/);
    const a = personal.decoding.lm!.model;
    const b = back.decoding.lm!.model;
    for (const [v, w] of [['call', 'siobhan'], ['the', 'cat'], ['siobhan', 'sat']]) expect(p(b, v, w)).toBeCloseTo(p(a, v, w), 5);
  });

  it('fine-tuning a fine-tuned model adds its texts to personal.txt instead of mixing twice', () => {
    const first = readModelDir(fineTunedModelDir(base, weights, record.training.adapter, record, personalLm(base, ['call siobhan'], 0.2)));
    const again = personalLm(first, ['siobhan sat'], 0.2)!;
    expect(again.texts).toEqual(['call siobhan', 'siobhan sat']);
    // the base LM's share is still 0.8, not 0.8 × 0.8
    const direct = personalLm(base, ['call siobhan', 'siobhan sat'], 0.2)!;
    for (const [v, w] of [['the', 'cat'], ['call', 'siobhan'], ['a', 'dog']]) expect(p(again.decoding.lm!.model, v, w)).toBeCloseTo(p(direct.decoding.lm!.model, v, w), 10);
  });

  it('lets the decoder write a word of the user that the base LM does not know', () => {
    // "zog" (the user's word) or "dog": the first letter is 50/45, the rest is clear
    const V = DEFAULT_VOCAB.tokens.length;
    const rows: Record<string, number>[] = [{ z: 0.5, d: 0.45 }, { o: 0.95 }, { g: 0.95 }];
    const scores = new Float64Array(rows.length * V);
    rows.forEach((row, t) => {
      const rest = (1 - Object.values(row).reduce((a, b) => a + b, 0)) / (V - Object.keys(row).length);
      for (let v = 0; v < V; v++) scores[t * V + v] = Math.log(rest);
      for (const [ch, q] of Object.entries(row)) scores[t * V + DEFAULT_VOCAB.ids.get(ch)!] = Math.log(q);
    });
    expect(decodeText(scores, DEFAULT_VOCAB, { beamWidth: 1 }, 'logProbs')).toBe('zog'); // what the audio says
    expect(decodeText(scores, DEFAULT_VOCAB, base.decoding, 'logProbs')).toBe('dog'); // the base LM overrules it
    expect(decodeText(scores, DEFAULT_VOCAB, personalLm(base, ['my zog sat'])!.decoding, 'logProbs')).toBe('zog');
  });
});

describe('teaching words from text', () => {
  const baseFiles = writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '', decoder: { beamWidth: 4, lmWeight: 0.5, wordBonus: 1 }, lmArpa: baseArpa });
  const base = readModelDir(baseFiles);

  it('adds the lines to personal.txt and gives the LM a share, without touching lm.arpa or the weights', () => {
    const taught = readModelDir(teachWords(base, baseFiles, ['Call Siobhan', '', '  ', 'siobhan   sat']));
    expect(taught.personalTexts).toEqual(['Call Siobhan', 'siobhan sat']);
    expect(taught.config.decoder?.personalShare).toBe(0.2);
    expect(taught.lmArpa).toEqual(baseArpa);
    expect(taught.decoding.lm?.model.has('siobhan')).toBe(true);
    expect(base.decoding.lm?.model.has('siobhan')).toBe(false);
    expect(taught.onnx).toEqual(base.onnx);
    // taught again: the new lines join the old ones, each once
    const again = readModelDir(teachWords(taught, teachWords(base, baseFiles, ['Call Siobhan', 'siobhan sat']), ['siobhan sat', 'the zog']));
    expect(again.personalTexts).toEqual(['Call Siobhan', 'siobhan sat', 'the zog']);
  });

  it('says why when there is nothing to teach or nothing to teach it to', () => {
    const greedyFiles = writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '' });
    expect(() => teachWords(readModelDir(greedyFiles), greedyFiles, ['hello'])).toThrow(/decodes without a word LM/);
    expect(() => teachWords(base, baseFiles, ['', '!!', '  '])).toThrow(/holds no words/);
  });
});
