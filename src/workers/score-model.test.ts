// The model card's validation metrics are Evaluate's: measured by the same function on the saved
// models, and written to the card with the decoding each model used.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { describeDecoding } from '../asr/decode';
import { WordLm } from '../asr/lm';
import { buildAcousticModel, type Weights } from '../asr/model';
import { readModelDir, writeModelDir } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { DEFAULT_VOCAB } from '../asr/vocab';
import { importDataset } from '../data/import';
import { DataStore } from '../data/storage';
import { memoryFile } from '../data/vfile';
import { text, toneWav } from '../data/testing/sample-datasets';
import { nodeBackend } from '../runtime/node';
import { modelCard, type FineTuneRecord } from '../train/export';
import { measureForCard, nativeTranscriber, scoreOnValidation, validationUtterances } from './score-model';

const ARCH = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 3, vocabSize: 29 };

function model(seed: number, lm: boolean) {
  const { g } = buildAcousticModel({ arch: ARCH, seed, batch: 1, frames: 64, masked: false });
  const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  const withLm = lm ? { decoder: { beamWidth: 4, lmWeight: 0.5, wordBonus: 1 }, lmArpa: new TextEncoder().encode(WordLm.fromTexts(['yes no', 'up down']).toArpa()) } : {};
  return readModelDir(writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '#\n', ...withLm }));
}

describe('validation metrics', () => {
  it("the card's numbers are what Evaluate's function gives for the same models and split, with each decoding named", async () => {
    const store = await DataStore.open('score-model');
    const ds = await store.createDataset({ name: 'd', format: 'nemo' });
    const rows = ['yes no', 'up down', 'no up', 'down yes'].map((t, i) => JSON.stringify({ audio_filepath: `w${i}.wav`, text: t }));
    const files = [...rows.map((_, i) => memoryFile(`d/w${i}.wav`, toneWav(0.8, i + 1))), memoryFile('d/dev.jsonl', text(rows.join('\n') + '\n'))];
    await importDataset(files, { sink: (u) => store.addUtterances(ds.id, [u]) });
    const base = model(1, true);
    const tuned = model(2, true);
    const decoding = (m: typeof base) => describeDecoding(m.decoding);
    const card = await measureForCard(nodeBackend(), store, [ds.id], { base: { model: base, decoding: decoding(base) }, fineTuned: { model: tuned, decoding: decoding(tuned) } });
    expect(card?.fineTuned.utterances).toBe(4);

    // Evaluate's path: the same function over a recognizer of the model
    const rec = await Recognizer.create(nodeBackend(), tuned);
    const evaluated = await scoreOnValidation(nativeTranscriber(rec), store, await validationUtterances(store, [ds.id]));
    await rec.release();
    expect([evaluated.wer, evaluated.cer]).toEqual([card!.fineTuned.wer, card!.fineTuned.cer]);

    const record = { baseModel: { name: 'b' }, data: { datasets: ['d'], trainUtterances: 0, validationUtterances: 4, trainSeconds: 0 }, training: { adapter: { kind: 'lora', rank: 2, alpha: 4, targets: ['q'] }, peakLr: 1e-3, warmupSteps: 0, steps: 1, skippedSteps: 0, batchSeconds: 1, augmentation: 'none', backend: 'node', minutes: 0 }, metrics: card!, createdAt: new Date(0).toISOString() } as FineTuneRecord;
    const written = modelCard(record);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    expect(written).toContain(`| fine-tuned | ${pct(evaluated.wer)} | ${pct(evaluated.cer)} | 4 | ${decoding(tuned)} |`);
    expect(decoding(tuned)).toMatch(/beam search/);
    expect(written).not.toMatch(/greedy decoding\)/);
    store.close();
  });
});
