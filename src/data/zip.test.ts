import { describe, expect, it } from 'vitest';
import { Zip, ZipDeflate, zipSync } from 'fflate';
import { importDataset } from './import';
import { readZip, writeZip } from './zip';
import { memoryFile, sanitizePath } from './vfile';
import { pairsSample, text, toneWav } from './testing/sample-datasets';

describe('sanitizePath', () => {
  it.each([
    ['a/b.wav', 'a/b.wav'],
    ['./a//b.wav', 'a/b.wav'],
    ['/abs/a.wav', 'abs/a.wav'],
    ['win\\dir\\a.wav', 'win/dir/a.wav'],
  ])('%s → %s', (raw, clean) => expect(sanitizePath(raw)).toEqual({ ok: true, path: clean }));
  it.each([['../evil.sh'], ['a/../../evil'], ['C:/Windows/x'], ['a\u0000b'], ['a/con.txt'], ['']])('refuses %j', (raw) => {
    expect(sanitizePath(raw).ok).toBe(false);
  });
});

describe('readZip', () => {
  it('reads stored and deflated entries; refuses path traversal and OS clutter by name', async () => {
    const zip = zipSync({
      'ds/a.wav': [toneWav(1, 1), { level: 0 }],
      'ds/a.txt': [text('hello'), { level: 6 }],
      '../../etc/evil.txt': text('pwned'),
      'ds/__MACOSX/._a.wav': text('x'),
    });
    const { files, issues } = await readZip(zip, { prefix: 'up' });
    expect(files.map((f) => f.path).sort()).toEqual(['up/ds/a.txt', 'up/ds/a.wav']);
    expect(new TextDecoder().decode(await files.find((f) => f.path.endsWith('.txt'))!.read())).toBe('hello');
    expect(issues.map((i) => [i.kind, i.file])).toEqual([
      ['unsafe-path', '../../etc/evil.txt'],
      ['ignored-file', 'ds/__MACOSX/._a.wav'],
    ]);
    expect(issues[0].reason).toMatch(/climbs out/);
  });

  it('stops a zip bomb while it inflates (ratio) and caps entry size and the total', async () => {
    const zeros = new Uint8Array(8 * 2 ** 20); // 8 MiB of zeros deflates to ~8 KiB: ~1000×
    const zip = zipSync({ 'bomb.bin': zeros, 'ok.txt': text('fine') });
    const { files, issues } = await readZip(zip);
    expect(files.map((f) => f.path)).toEqual(['ok.txt']);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: 'zip-bomb', file: 'bomb.bin' });
    expect(issues[0].reason).toMatch(/limit 100×/);

    const capped = await readZip(zipSync({ 'big.wav': [toneWav(2, 1), { level: 0 }], 'small.txt': text('x') }), { limits: { maxFileBytes: 40_000 } });
    expect(capped.files.map((f) => f.path)).toEqual(['small.txt']);
    expect(capped.issues[0]).toMatchObject({ kind: 'file-too-large', file: 'big.wav' });

    const total = await readZip(zipSync({ 'a.wav': [toneWav(1, 1), { level: 0 }], 'b.wav': [toneWav(1, 2), { level: 0 }] }), { limits: { maxImportBytes: 40_000 } });
    expect(total.files).toHaveLength(1);
    expect(total.issues[0].kind).toBe('import-too-large');
  });

  /** A zip written as a stream: sizes follow each entry in a data descriptor, not in its header. */
  function streamedZip(name: string, content: Uint8Array): Uint8Array {
    const parts: Uint8Array[] = [];
    const zip = new Zip((err, chunk) => {
      if (err) throw err;
      parts.push(chunk);
    });
    const entry = new ZipDeflate(name, { level: 9 });
    zip.add(entry);
    entry.push(content, true);
    zip.end();
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (bytes.set(p, at), at + p.length), 0);
    return bytes;
  }

  it('stops a bomb in a streamed archive (no sizes in the local headers) by the whole-archive ratio', async () => {
    const ok = await readZip(streamedZip('d/a.wav', toneWav(1, 3)));
    expect(ok.issues).toEqual([]);
    expect(ok.files[0].size).toBe(toneWav(1, 3).length);
    const { files, issues } = await readZip(streamedZip('bomb.bin', new Uint8Array(16 * 2 ** 20)));
    expect(files).toEqual([]);
    expect(issues[0]).toMatchObject({ kind: 'zip-bomb', file: 'bomb.bin' });
    expect(issues[0].reason).toMatch(/the archive inflates past \d+× its size/);
  });

  it('reads from a chunked stream as well as from bytes', async () => {
    const zip = zipSync({ 'x/a.txt': text('streamed') });
    async function* chunks() {
      for (let i = 0; i < zip.length; i += 7) yield zip.subarray(i, i + 7);
    }
    const { files } = await readZip(chunks());
    expect(new TextDecoder().decode(await files[0].read())).toBe('streamed');
  });

  it('importDataset expands a zip, reports refused entries under the archive name, imports the rest', async () => {
    const sample = pairsSample();
    const entries: Record<string, Uint8Array> = {};
    for (const f of sample.files) entries[f.path] = await f.read();
    entries['../evil.txt'] = text('gotcha');
    entries['my-voice/huge.wav'] = toneWav(3, 50);
    entries['my-voice/huge.txt'] = text('this file is over the cap');
    const zip = writeZip(Object.entries(entries).map(([path, bytes]) => ({ path, bytes })));
    const { report } = await importDataset([memoryFile('upload.zip', zip)], { limits: { maxFileBytes: 60_000 } });
    expect(report.format).toBe('pairs');
    expect(report.accepted).toBe(2);
    expect(report.counts['unsafe-path']).toBe(1);
    expect(report.counts['file-too-large']).toBe(1);
    expect(report.issues.find((i) => i.kind === 'unsafe-path')!.file).toBe('upload.zip: ../evil.txt');
    // huge.txt survives but its audio was refused: reported as a transcript without audio.
    expect(report.counts['missing-audio']).toBe(2);
  });

  it('a per-file cap on plain files too, with the limit in the message', async () => {
    const { report } = await importDataset([memoryFile('d/a.wav', toneWav(3)), memoryFile('d/a.txt', text('hi there'))], { limits: { maxFileBytes: 50_000 } });
    const big = report.issues.find((i) => i.kind === 'file-too-large')!;
    expect(big.file).toBe('d/a.wav');
    expect(big.message).toMatch(/94 KiB, over the per-file limit of 49 KiB/);
  });
});
