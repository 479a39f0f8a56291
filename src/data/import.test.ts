import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importDataset } from './import';
import { recordingUtterance, RecordingRejected } from './recording';
import { DataStore } from './storage';
import { memoryFile } from './vfile';
import { text, toneWav } from './testing/sample-datasets';

const fixture = (name: string) => new Uint8Array(readFileSync(fileURLToPath(new URL(`../audio/fixtures/${name}`, import.meta.url))));

describe('importDataset', () => {
  it('cancel stops between items and says so; what was checked so far is reported', async () => {
    const files = Array.from({ length: 40 }, (_, i) => [memoryFile(`d/c${i}.wav`, toneWav(1, i)), memoryFile(`d/c${i}.txt`, text('hello'))]).flat();
    const controller = new AbortController();
    let seen = 0;
    const { report } = await importDataset(files, {
      signal: controller.signal,
      sink: async () => {
        if (++seen === 5) controller.abort();
      },
    });
    expect(report.cancelled).toBe(true);
    expect(report.accepted).toBe(5);
  });

  it('reports progress through every phase and ends with done', async () => {
    const phases = new Set<string>();
    await importDataset([memoryFile('d/a.wav', toneWav(1)), memoryFile('d/a.txt', text('hi there'))], { onProgress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['reading', 'parsing', 'checking', 'done']);
  });

  it('unsafe paths from a dropped folder are refused like zip entries', async () => {
    const { report } = await importDataset([memoryFile('../x.wav', toneWav(1)), memoryFile('d/a.wav', toneWav(1, 2)), memoryFile('d/a.txt', text('ok'))]);
    expect(report.counts['unsafe-path']).toBe(1);
    expect(report.accepted).toBe(1);
  });

  it('a bad item never stops the good ones: a throwing reader is one rejected item', async () => {
    const broken = { path: 'd/b.wav', size: 10, read: async (): Promise<Uint8Array> => { throw new Error('disk gone'); } };
    const { report } = await importDataset([broken, memoryFile('d/b.txt', text('bee')), memoryFile('d/a.wav', toneWav(1)), memoryFile('d/a.txt', text('ay'))]);
    expect(report.accepted).toBe(1);
    expect(report.issues.find((i) => i.file === 'd/b.wav')!.message).toMatch(/disk gone/);
  });

  it('an unreadable manifest is reported, and the audio beside it is still listed', async () => {
    let reads = 0;
    const flaky = { path: 'd/manifest.json', size: 100, read: async (): Promise<Uint8Array> => {
      // Readable while the layout is sniffed, gone when it is parsed.
      if (reads++ < 1) return text('{"audio_filepath": "a.wav", "text": "hi"}\n');
      throw new Error('file vanished');
    } };
    const { report } = await importDataset([flaky, memoryFile('d/a.wav', toneWav(1))]);
    expect(report.format).toBe('nemo');
    expect(report.issues.map((i) => i.kind)).toEqual(['bad-manifest-row', 'missing-transcript', 'ignored-file']);
    expect(report.issues[0].message).toMatch(/NeMo manifest \(JSONL\) reader failed: file vanished/);
  });
});

describe('recordingUtterance', () => {
  it('keeps MediaRecorder WebM/Opus as recorded, with duration and normalized text', async () => {
    const bytes = fixture('tone-mediarecorder.webm');
    const u = await recordingUtterance(bytes, 'Hello, World!');
    expect(u).toMatchObject({ audioFormat: 'webm-opus', text: 'hello world', source: 'recording', audioBytes: bytes.byteLength });
    expect(u.duration).toBeGreaterThan(0.3);
    const store = await DataStore.open('recording-test');
    const ds = await store.createDataset({ name: 'my voice', format: 'recordings' });
    await store.addUtterances(ds.id, [u]);
    expect(await store.getAudio(u.id)).toEqual(bytes);
  });

  it('refuses a transcript the model cannot write', async () => {
    await expect(recordingUtterance(fixture('tone-16k-mono.opus'), '日本')).rejects.toThrow(RecordingRejected);
  });
});
