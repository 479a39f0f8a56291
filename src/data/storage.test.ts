// Storage logic over fake-indexeddb (an in-memory IndexedDB for Node). The browser test checks the
// same code against Chromium's real IndexedDB across a reload.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FRONTEND } from '../audio';
import { DEFAULT_VOCAB } from '../asr/vocab';
import { exportDatasetZip } from './export';
import { FeatureSource } from './features';
import { importDataset } from './import';
import { DataStore, StorageQuotaError } from './storage';
import { memoryFile } from './vfile';
import { nemoSample, pairsSample } from './testing/sample-datasets';
import { mulberry32 } from '../audio';

let dbCount = 0;
const freshStore = () => DataStore.open(`test-${++dbCount}`);

async function importInto(store: DataStore, files = nemoSample().files) {
  const ds = await store.createDataset({ name: 'nemo', format: 'nemo' });
  const { report } = await importDataset(files, { sink: (u) => store.addUtterances(ds.id, [u]) });
  return { ds, report };
}

describe('DataStore', () => {
  it('keeps utterances, audio and totals; deleting a dataset frees its audio and features', async () => {
    const store = await freshStore();
    const { ds, report } = await importInto(store);
    const utts = await store.listUtterances(ds.id);
    expect(utts).toHaveLength(report.accepted);
    const saved = (await store.getDataset(ds.id))!;
    expect(saved.utterances).toBe(3);
    expect(saved.audioSeconds).toBeCloseTo(1 + 1.2 + 1, 5);
    expect((await store.getAudio(utts[0].id)).byteLength).toBe(utts[0].audioBytes);

    const features = new FeatureSource(store, DEFAULT_FRONTEND);
    const first = await features.features(utts[2]);
    const again = await features.features(utts[2]);
    expect([first.hit, again.hit]).toEqual([false, true]);
    expect(again.features.frames).toBe(first.features.frames);
    // The segment (0.5 s + 1 s of a 3 s file) gets 1 s of frames, not 3 s.
    const segment = utts.find((u) => u.offset !== undefined)!;
    expect((await features.features(segment)).features.frames).toBe(101);

    const many = await features.featuresMany(utts);
    expect(many.hit).toEqual([false, false, true]);
    expect(many.features[2].data).toEqual(again.features.data);
    const before = await store.report();
    expect(before.featureCacheBytes).toBeGreaterThan(0);
    const freed = await store.deleteDataset(ds.id);
    expect(freed).toBe(saved.audioBytes + before.featureCacheBytes);
    expect(await store.listUtterances(ds.id)).toEqual([]);
    expect(await store.listDatasets()).toEqual([]);
    expect((await store.report()).featureCacheBytes).toBe(0);
    await expect(store.getAudio(utts[0].id)).rejects.toThrow(/no audio/);
  });

  it('features of audio shared with another dataset survive deleting one of them', async () => {
    const store = await freshStore();
    const a = await importInto(store, pairsSample().files);
    const b = await importInto(store, pairsSample().files);
    const fs = new FeatureSource(store);
    await fs.features((await store.listUtterances(a.ds.id))[0]);
    await store.deleteDataset(a.ds.id);
    expect((await fs.features((await store.listUtterances(b.ds.id))[0])).hit).toBe(true);
  });

  it('a view into a larger buffer is stored as its own bytes, not the whole buffer', async () => {
    const store = await freshStore();
    const ds = await store.createDataset({ name: 'v', format: 'pairs' });
    const { utterances } = await importDataset(pairsSample().files);
    const u = utterances[0];
    const big = new Uint8Array(u.audio.byteLength + 1_000_000);
    big.set(u.audio, 500_000);
    await store.addUtterances(ds.id, [{ ...u, audio: big.subarray(500_000, 500_000 + u.audio.byteLength) }]);
    const stored = await store.getAudio(u.id);
    expect(stored.buffer.byteLength).toBe(u.audio.byteLength);
    expect(stored).toEqual(u.audio);
  });

  it('setSplit locks an utterance by hand', async () => {
    const store = await freshStore();
    const { ds } = await importInto(store);
    const [u] = await store.listUtterances(ds.id);
    await store.setSplit(u.id, 'validation');
    expect(await store.getUtterance(u.id)).toMatchObject({ split: 'validation', splitLocked: true });
  });

  it('exports a zip with NeMo manifests per split that imports back to the same utterances', async () => {
    const store = await freshStore();
    const { ds } = await importInto(store);
    const utts = await store.listUtterances(ds.id);
    await store.setSplit(utts[0].id, 'validation');
    const zip = await exportDatasetZip(store, ds.id);
    const { report, utterances } = await importDataset([memoryFile('export.zip', zip)]);
    expect(report.format).toBe('nemo');
    expect(report.rejected).toBe(0);
    const key = (u: { text: string; audioHash: string; split?: string; offset?: number }) => `${u.text}|${u.audioHash}|${u.split}|${u.offset}`;
    expect(utterances.map(key).sort()).toEqual((await store.listUtterances(ds.id)).map(key).sort());
  });

  it('a quota failure says how much is used and what deleting would free', () => {
    const err = new StorageQuotaError({ usage: 950 * 2 ** 20, quota: 2 ** 30, datasets: [{ id: 'a', name: 'my voice', bytes: 300 * 2 ** 20 }], featureCacheBytes: 50 * 2 ** 20 });
    expect(err.message).toBe('Storage is full: 950 MiB of 1.0 GiB used. Clearing the feature cache frees 50 MiB; deleting "my voice" (300 MiB) frees their space.');
  });

  it('training examples: labels from the normalized text, augmentation is seeded', async () => {
    const store = await freshStore();
    const { ds } = await importInto(store);
    const utt = (await store.listUtterances(ds.id))[0];
    const fs = new FeatureSource(store);
    const aug = { speedFactors: [0.9, 1.1], noise: { probability: 1, snrDb: [10, 20] as [number, number] }, specAugment: { freqMasks: 2, freqMaskWidth: 10, timeMasks: 2, timeMaskWidth: 20 } };
    const a = await fs.example(utt, DEFAULT_VOCAB, aug, mulberry32(7));
    const b = await fs.example(utt, DEFAULT_VOCAB, aug, mulberry32(7));
    expect(a.features).toEqual(b.features);
    expect(Math.abs(a.frames - 101)).toBeGreaterThan(5); // speed-perturbed
    expect(Array.from(a.labels)).toEqual([...utt.text].map((c) => DEFAULT_VOCAB.ids.get(c)));
  });
});
