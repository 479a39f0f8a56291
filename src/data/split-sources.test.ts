// Held-out files become held-out splits: the names datasets use for them, what the import report
// says about it, and moving a whole file or speaker in one action.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { splitFromName } from './formats/text';
import { importDataset } from './import';
import { assignSplits } from './splits';
import { DataStore } from './storage';
import { memoryFile } from './vfile';
import { librispeechSample, text, toneWav } from './testing/sample-datasets';

describe('split from a file or folder name', () => {
  it.each([
    ['train.jsonl', 'train'],
    ['train_manifest.json', 'train'],
    ['training.tsv', 'train'],
    ['train-clean-100', 'train'],
    ['eval.jsonl', 'validation'],
    ['speaker1_eval.jsonl', 'validation'],
    ['train_eval.jsonl', 'validation'],
    ['train-dev.tsv', 'validation'],
    ['my-dev.json', 'validation'],
    ['dev_manifest.json', 'validation'],
    ['dev-clean', 'validation'],
    ['valid.jsonl', 'validation'],
    ['validation.jsonl', 'validation'],
    ['val.json', 'validation'],
    ['evalset.jsonl', 'validation'],
    ['heldout.jsonl', 'validation'],
    ['test.jsonl', 'test'],
    ['test-other', 'test'],
    ['test_manifest.json', 'test'],
    ['validated.tsv', undefined],
    ['invalidated.tsv', undefined],
    ['manifest.jsonl', undefined],
    ['device_recordings.jsonl', undefined],
    ['medevac.jsonl', undefined],
  ] as const)('%s → %s', (name, split) => expect(splitFromName(name)).toBe(split));
});

/** A NeMo folder with train.jsonl and eval.jsonl, two speakers in train. */
function trainEvalFolder() {
  const files: Record<string, Uint8Array> = {};
  const row = (i: number, speaker: string) => JSON.stringify({ audio_filepath: `wavs/u${i}.wav`, text: `utterance number ${i}`, speaker });
  const train = [];
  const held = [];
  for (let i = 0; i < 19; i++) {
    files[`wavs/u${i}.wav`] = toneWav(0.6, i + 1);
    train.push(row(i, i % 2 ? 'ann' : 'bob'));
  }
  for (let i = 19; i < 21; i++) {
    files[`wavs/u${i}.wav`] = toneWav(0.6, i + 1);
    held.push(row(i, 'ann'));
  }
  files['train.jsonl'] = text(train.join('\n') + '\n');
  files['eval.jsonl'] = text(held.join('\n') + '\n');
  return Object.entries(files).map(([p, b]) => memoryFile(`mine/${p}`, b));
}

describe('held-out files at import', () => {
  it('eval.jsonl becomes the validation split, and the report says which file went where', async () => {
    const { report, utterances } = await importDataset(trainEvalFolder());
    expect(report.accepted).toBe(21);
    const bySplit = (s: string) => utterances.filter((u) => u.split === s).map((u) => u.origin);
    expect(bySplit('validation')).toEqual(['mine/eval.jsonl', 'mine/eval.jsonl']);
    expect(bySplit('train')).toHaveLength(19);
    expect(report.splitSources).toEqual([
      { file: 'mine/eval.jsonl', split: 'validation', utterances: 2 },
      { file: 'mine/train.jsonl', split: 'train', utterances: 19 },
    ]);
    // a re-split keeps what the data named as held out
    const stored = utterances.map((u) => ({ ...u, split: u.split ?? 'train' }));
    const again = assignSplits(stored, { seed: 7, validationFraction: 0.1 });
    for (const u of stored.filter((x) => x.split === 'validation')) expect(again.splits.get(u.id)).toBe('validation');
  });

  it("LibriSpeech's split folders (dev-clean/, train-clean-100/) name the split", async () => {
    const files = await Promise.all(librispeechSample().files.map(async (f) => memoryFile(f.path.replace(/^([^/]+)\//, '$1/dev-clean/'), await f.read())));
    const { utterances } = await importDataset(files);
    expect(utterances.length).toBeGreaterThan(0);
    expect(utterances.every((u) => u.split === 'validation')).toBe(true);
  });

  it('a whole speaker moves to another split in one call, and re-splitting keeps it', async () => {
    const store = await DataStore.open('split-sources-test');
    const ds = await store.createDataset({ name: 'mine', format: 'nemo' });
    await importDataset(trainEvalFolder(), { sink: (u) => store.addUtterances(ds.id, [u]) });
    const bob = (await store.listUtterances(ds.id)).filter((u) => u.speaker === 'bob');
    expect(bob.length).toBe(10);
    await store.setSplits(bob.map((u) => u.id), 'test');
    const after = await store.listUtterances(ds.id);
    expect(after.filter((u) => u.speaker === 'bob').every((u) => u.split === 'test' && u.splitLocked)).toBe(true);
    const { splits } = assignSplits(after, { seed: 3, validationFraction: 0.5 });
    for (const u of bob) expect(splits.get(u.id)).toBe('test');
    store.close();
  });
});
