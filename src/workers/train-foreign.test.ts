// The train worker's path for a model from elsewhere, on onnxruntime-node with fake-indexeddb: the
// wav2vec2 fixture stored as the Model panel stores it, a dataset of tones, LoRA on the projection
// kinds picked, the loop of src/train/loop.ts, and the saved model in the layout it came in.
import 'fake-indexeddb/auto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../data/import';
import { assignSplits } from '../data/splits';
import { DataStore } from '../data/storage';
import { memoryFile } from '../data/vfile';
import { text, toneWav } from '../data/testing/sample-datasets';
import { decodeCheckpoint } from '../runtime/checkpoint';
import { nodeBackend } from '../runtime/node';
import { evaluate, trainLoop, type LoopEvent } from '../train/loop';
import { describeUpload, foreignCard, foreignTranscriber, inspectForTraining, keptFiles, openForeign, readUpload, type StoredForeign } from './foreign-models';
import { decodeModel } from '../engine/onnx-proto';
import { foreignJob } from './train-foreign';
import { appDb, type TrainSettings } from './train-db';
import { DEFAULT_SETTINGS } from '../store/app-store';

const FIXTURES = fileURLToPath(new URL('../foreign/fixtures/', import.meta.url));
const WORDS = ['yes', 'no', 'up', 'down'];

async function storedFixture(name = 'wav2vec2-tiny'): Promise<StoredForeign> {
  const refs: { path: string; file: Blob }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const full = join(dir, e);
      if (statSync(full).isDirectory()) walk(full);
      else refs.push({ path: relative(FIXTURES, full), file: new Blob([readFileSync(full)]) });
    }
  };
  walk(join(FIXTURES, name));
  const u = await readUpload(refs);
  const d = await describeUpload(u);
  const onnx = await u.set.get(d.onnx.path)!.read();
  const card = foreignCard(d, inspectForTraining(d, decodeModel(onnx)), onnx.length);
  return { kind: d.kind, files: keptFiles(u, d), onnx: card.onnx, card };
}

async function dataset(store: DataStore): Promise<string> {
  const files = [];
  const rows = [];
  for (let i = 0; i < 8; i++) {
    files.push(memoryFile(`d/w${i}.wav`, toneWav(0.6 + 0.05 * (i % 3), i % 4)));
    rows.push(JSON.stringify({ audio_filepath: `w${i}.wav`, text: WORDS[i % 4], speaker: `s${i % 2}` }));
  }
  files.push(memoryFile('d/train.jsonl', text(rows.join('\n') + '\n')));
  const ds = await store.createDataset({ name: 'tones', format: 'nemo' });
  await importDataset(files, { sink: (u) => store.addUtterances(ds.id, [u]) });
  await store.writeSplits(assignSplits(await store.listUtterances(ds.id), { seed: 1, validationFraction: 0.25 }).splits);
  return ds.id;
}

describe('fine-tuning a model from elsewhere in the train worker', () => {
  it('LoRA on the picked projection kinds lowers the loss; the saved model keeps the layout, transcribes, and carries its adapter', async () => {
    const store = await DataStore.open('train-foreign');
    const datasetId = await dataset(store);
    const stored = await storedFixture();
    const db = await appDb();
    await db.put('models', { id: 'w2v', name: 'wav2vec2-tiny', source: 'imported', createdAt: 0, files: {}, foreign: stored });
    const settings: TrainSettings = { ...DEFAULT_SETTINGS, adapter: { kind: 'lora', rank: 4, alpha: 8, targets: ['q'] }, projections: ['attention.q', 'attention.v', 'ff.in'], batchSeconds: 3, peakLr: 1e-2, augment: { specAugment: false, speed: false, noise: false } };
    const backend = nodeBackend({ threads: 1 });
    const job = await foreignJob({ modelId: 'w2v', datasetIds: [datasetId], settings, backend: 'wasm', optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5, backendInstance: backend }, (await db.get('models', 'w2v'))!, store);
    const data = job.data;
    expect(data.train.length + data.validation.length).toBe(8);

    const base = await evaluate(job.trainer, data, job.vocab, 0, job.baseDecoding);
    expect(base.utterances).toBe(data.validation.length);
    const losses: number[] = [];
    const outcome = await trainLoop({
      trainer: job.trainer,
      data,
      vocab: job.vocab,
      decoding: job.decoding,
      settings: { schedule: { peakLr: 1e-2, warmupSteps: 2, totalSteps: 16 }, evalEvery: 0, checkpointEvery: 0 },
      onEvent: (e: LoopEvent) => void (e.type === 'step' && !e.skipped && losses.push(e.loss)),
    });
    expect(outcome.kind).toBe('finished');
    const early = (losses[0] + losses[1]) / 2;
    const late = (losses[14] + losses[15]) / 2;
    console.info(`wav2vec2-tiny on tones: CTC loss ${early.toFixed(2)} → ${late.toFixed(2)} in 16 steps`);
    expect(late).toBeLessThan(0.8 * early);

    const saved = { id: 'r', createdAt: 0, baseModelId: 'w2v', baseModelName: 'wav2vec2-tiny', datasetIds: [datasetId], settings, totalSteps: 16, status: 'finished' as const, history: { loss: [], lr: [], throughput: [], valLoss: [], wer: [], cer: [] } };
    const { modelId, metrics } = await job.save({ record: saved, saved, position: outcome.position, datasetNames: ['tones'], store });
    expect(metrics.fineTuned?.utterances).toBe(data.validation.length);
    const tuned = (await db.get('models', modelId))!;
    expect(tuned.source).toBe('fine-tuned');
    expect(Object.keys(tuned.foreign!.files).sort()).toEqual(Object.keys(stored.files).sort());
    expect(tuned.foreign!.onnx).toBe('onnx/model.onnx');
    expect(tuned.foreign!.note).toMatch(/LoRA rank 4, alpha 8, on attention\.q, attention\.v, ff\.in .*16 steps/s);
    const adapter = decodeCheckpoint(tuned.adapter!);
    expect(adapter.metadata.format).toBe('earshot-lora');
    expect(adapter.tensors.size).toBe(2 * 2 * 3); // A and B × 2 layers × 3 kinds
    await job.trainer.dispose();

    // the saved model opens from its blobs and transcribes
    const rec = foreignTranscriber(await openForeign(tuned.foreign!, backend));
    expect(typeof (await rec.transcribeSamples(new Float32Array(16000).map((_, i) => 0.3 * Math.sin(i / 10))))).toBe('string');
    await rec.release();
    store.close();
  });

  it('a NeMo Conformer-CTC (log-mel, length input, SentencePiece pieces) trains and is saved as model.onnx with tokens.txt', async () => {
    const store = await DataStore.open('train-foreign-nemo');
    const datasetId = await dataset(store);
    const stored = await storedFixture('nemo-conformer-tiny');
    const db = await appDb();
    await db.put('models', { id: 'nemo', name: 'nemo-conformer-tiny', source: 'imported', createdAt: 0, files: {}, foreign: stored });
    const settings: TrainSettings = { ...DEFAULT_SETTINGS, adapter: { kind: 'lora', rank: 4, alpha: 8, targets: ['q'] }, projections: undefined, batchSeconds: 3, peakLr: 1e-2, augment: { specAugment: false, speed: true, noise: true } };
    const backend = nodeBackend({ threads: 1 });
    const job = await foreignJob({ modelId: 'nemo', datasetIds: [datasetId], settings, backend: 'wasm', optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5, backendInstance: backend }, (await db.get('models', 'nemo'))!, store);
    const losses: number[] = [];
    const outcome = await trainLoop({
      trainer: job.trainer,
      data: job.data,
      vocab: job.vocab,
      settings: { schedule: { peakLr: 1e-2, warmupSteps: 2, totalSteps: 12 }, evalEvery: 0, checkpointEvery: 0 },
      onEvent: (e: LoopEvent) => void (e.type === 'step' && !e.skipped && losses.push(e.loss)),
    });
    expect(outcome.kind).toBe('finished');
    console.info(`nemo-conformer-tiny on tones (speed and noise augmentation): CTC loss ${losses[0].toFixed(2)} → ${losses[losses.length - 1].toFixed(2)} in 12 steps`);
    expect((losses[10] + losses[11]) / 2).toBeLessThan((losses[0] + losses[1]) / 2);
    const record = { id: 'r2', createdAt: 0, baseModelId: 'nemo', baseModelName: 'nemo-conformer-tiny', datasetIds: [datasetId], settings, totalSteps: 12, status: 'finished' as const, history: { loss: [], lr: [], throughput: [], valLoss: [], wer: [], cer: [] } };
    const { modelId } = await job.save({ record, saved: record, position: outcome.position, datasetNames: ['tones'], store });
    const tuned = (await db.get('models', modelId))!;
    expect(Object.keys(tuned.foreign!.files).sort()).toEqual(['model.onnx', 'tokens.txt']);
    // the default targets: attention q and v
    expect(tuned.foreign!.note).toMatch(/on attention\.q, attention\.v \(merged/);
    await job.trainer.dispose();
    store.close();
  });
});
