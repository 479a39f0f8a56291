// The Data panel's per-utterance edits, over fake-indexeddb (an in-memory IndexedDB for Node) in the
// database the data layer creates; the browser journeys exercise them in Chromium's IndexedDB.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../data/import';
import { DataStore } from '../data/storage';
import { nemoSample } from '../data/testing/sample-datasets';
import { deleteUtterance, setTranscript } from './utterance-edits';

describe('utterance edits', () => {
  it('a corrected transcript is kept as typed and normalized for training; deleting one utterance updates its dataset', async () => {
    const store = await DataStore.open();
    const ds = await store.createDataset({ name: 'nemo', format: 'nemo' });
    await importDataset(nemoSample().files, { sink: (u) => store.addUtterances(ds.id, [u]) });
    const [u0, u1] = await store.listUtterances(ds.id);
    const before = (await store.getDataset(ds.id))!;

    const edited = await setTranscript(u0.id, 'Hello, World! It costs 3 dollars.');
    expect(edited.transcript).toBe('Hello, World! It costs 3 dollars.');
    expect(edited.text).toBe('hello world it costs three dollars');
    expect((await store.listUtterances(ds.id)).find((u) => u.id === u0.id)?.text).toBe('hello world it costs three dollars');
    await expect(setTranscript('no-such-id', 'x')).rejects.toThrow(/no utterance no-such-id/);

    await deleteUtterance(u1.id);
    const after = (await store.getDataset(ds.id))!;
    expect(after.utterances).toBe(before.utterances - 1);
    expect(after.audioSeconds).toBeCloseTo(before.audioSeconds - u1.duration, 6);
    expect(after.audioBytes).toBe(before.audioBytes - u1.audioBytes);
    expect((await store.listUtterances(ds.id)).map((u) => u.id)).not.toContain(u1.id);
    await expect(store.getAudio(u1.id)).rejects.toThrow(/no audio/);
    // deleting it again changes nothing
    await deleteUtterance(u1.id);
    expect((await store.getDataset(ds.id))!.utterances).toBe(after.utterances);
  });
});
