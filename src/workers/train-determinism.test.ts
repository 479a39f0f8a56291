// Same seed, same backend → the same run. The app's whole training path on onnxruntime-node:
// IndexedDB data (fake-indexeddb), the feature cache, length buckets, every augmentation, LoRA,
// validation with the model's LM decoding. The first run computes and caches features, the second
// reads them from the cache: that must not change a single bit (issue 13 saw 68.5 / 69.9 / 69.9).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { WordLm } from '../asr/lm';
import { buildAcousticModel, type Weights } from '../asr/model';
import { readModelDir, writeModelDir } from '../asr/model-dir';
import { DEFAULT_VOCAB } from '../asr/vocab';
import { importDataset } from '../data/import';
import { assignSplits } from '../data/splits';
import { DataStore } from '../data/storage';
import { memoryFile } from '../data/vfile';
import { text, toneWav } from '../data/testing/sample-datasets';
import { nodeBackend } from '../runtime/node';
import { adapterConfig, trainableFor, type AdapterChoice } from '../train/adapters';
import { CtcTrainer } from '../train/ctc-trainer';
import { trainLoop, type LoopEvent } from '../train/loop';
import { augmentConfig, IdbTrainData } from './train-data';

const ARCH = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 3, vocabSize: 29 };
const WORDS = ['yes', 'no', 'up', 'down', 'left', 'right'];
const LORA: AdapterChoice = { kind: 'lora', rank: 2, alpha: 4, targets: ['q', 'v', 'ff1'] };

async function dataset(store: DataStore): Promise<string> {
  const files = [];
  const rows = [];
  for (let i = 0; i < 12; i++) {
    files.push(memoryFile(`d/w${i}.wav`, toneWav(0.7 + 0.05 * (i % 4), i + 1)));
    rows.push(JSON.stringify({ audio_filepath: `w${i}.wav`, text: `${WORDS[i % 6]} ${WORDS[(i * 5 + 1) % 6]}`, speaker: `s${i % 3}` }));
  }
  files.push(memoryFile('d/train.jsonl', text(rows.join('\n') + '\n')));
  const ds = await store.createDataset({ name: 'd', format: 'nemo' });
  await importDataset(files, { sink: (u) => store.addUtterances(ds.id, [u]) });
  await store.writeSplits(assignSplits(await store.listUtterances(ds.id), { seed: 1, validationFraction: 0.3 }).splits);
  return ds.id;
}

async function run(store: DataStore, datasetId: string) {
  const { g } = buildAcousticModel({ arch: ARCH, seed: 5, batch: 1, frames: 64, masked: false });
  const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  const lmArpa = new TextEncoder().encode(WordLm.fromTexts(WORDS.map((w, i) => `${w} ${WORDS[(i + 1) % 6]}`)).toArpa());
  const model = readModelDir(writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '#\n', decoder: { beamWidth: 4, lmWeight: 0.5, wordBonus: 1 }, lmArpa }));
  const data = await new IdbTrainData(store, model.vocab, model.config.frontEnd, { batchSeconds: 2.56 }, augmentConfig({ specAugment: true, speed: true, noise: true }), 1).init([datasetId]);
  const trainer = await CtcTrainer.create(
    nodeBackend(),
    { arch: ARCH, adapters: adapterConfig(LORA), weights: model.weights, seed: 1, trainable: trainableFor(LORA, ARCH), optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 5, blank: model.vocab.blankId },
    data.firstShape(),
  );
  const events: LoopEvent[] = [];
  const outcome = await trainLoop({ trainer, data, vocab: model.vocab, decoding: model.decoding, settings: { schedule: { peakLr: 5e-3, warmupSteps: 2, totalSteps: 8 }, evalEvery: 4, checkpointEvery: 0 }, onEvent: (e) => events.push(e) });
  if (outcome.kind === 'failed') throw outcome.error;
  expect(outcome.kind).toBe('finished');
  const trained = await trainer.weights();
  await trainer.dispose();
  const numbers = events.flatMap((e) => (e.type === 'step' ? [e.loss, e.gradNorm] : e.type === 'eval' ? [e.valLoss, e.wer, e.cer] : []));
  return { numbers, trained };
}

describe('training is reproducible', () => {
  it('same seed on onnxruntime-node: identical losses, validation and weights, with a cold and then a warm feature cache', async () => {
    const store = await DataStore.open('determinism');
    const id = await dataset(store);
    expect((await store.report()).featureCacheBytes).toBe(0);
    const cold = await run(store, id);
    expect((await store.report()).featureCacheBytes).toBeGreaterThan(0);
    const warm = await run(store, id);
    expect(cold.numbers).toHaveLength(8 * 2 + 2 * 3); // 8 steps, validation at steps 4 and 8
    expect(warm.numbers).toEqual(cold.numbers);
    for (const [name, w] of cold.trained) expect(Buffer.from(warm.trained.get(name)!.buffer).equals(Buffer.from(w.buffer)), name).toBe(true);
    store.close();
  });
});
