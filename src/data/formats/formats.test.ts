import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { detectFormat, FORMAT_NAMES, type FormatId } from '.';
import { importDataset } from '../import';
import { librispeechSample, SAMPLES } from '../testing/sample-datasets';
import { parseDelimited } from './text';

const FLAC = new Uint8Array(readFileSync(fileURLToPath(new URL('../../audio/fixtures/tone-16k-mono.flac', import.meta.url))));

describe('format detection and import, one sample dataset per format with planted faults', () => {
  for (const [format, make] of Object.entries(SAMPLES) as [FormatId, () => ReturnType<(typeof SAMPLES)['nemo']>][]) {
    it(format, async () => {
      const sample = make();
      expect((await detectFormat(sample.files))?.id).toBe(format);
      const { report, utterances } = await importDataset(sample.files);
      expect(report.format).toBe(format);
      expect(report.formatName).toBe(FORMAT_NAMES[format]);
      const detail = report.issues.map((i) => `${i.kind} ${i.file}${i.line ? `:${i.line}` : ''} ${i.message}`).join('\n');
      expect(report.counts, detail).toEqual(sample.expect.counts);
      expect(report.accepted, detail).toBe(sample.expect.accepted);
      expect(utterances).toHaveLength(sample.expect.accepted);
      // Every issue names a file and says why.
      for (const i of report.issues) {
        expect(i.file).not.toBe('');
        expect(i.message.length).toBeGreaterThan(5);
      }
      for (const u of utterances) {
        expect(u.text).toMatch(/^[a-z' ]+$/);
        expect(u.duration).toBeGreaterThan(0.3);
        expect(u.audioHash).toMatch(/^[0-9a-f]{64}$/);
      }
    });
  }
});

describe('format details', () => {
  it('NeMo: line numbers and fields of bad rows, segments, speakers, split from the file name', async () => {
    const { report, utterances } = await importDataset(SAMPLES.nemo().files);
    const bad = report.issues.filter((i) => i.kind === 'bad-manifest-row');
    expect(bad.map((b) => [b.line, b.field])).toEqual([[3, undefined], [4, 'text']]);
    expect(bad[0].message).toMatch(/not valid JSON/);
    const segment = utterances.find((u) => u.source.endsWith('long.wav'))!;
    expect(segment.offset).toBe(0.5);
    expect(segment.duration).toBe(1);
    expect(utterances.find((u) => u.source.endsWith('good1.wav'))!.speaker).toBe('ann');
    expect(utterances.every((u) => u.split === 'train')).toBe(true);
    const dup = report.issues.find((i) => i.kind === 'duplicate')!;
    expect(dup.file).toBe('nemo/audio/dup.wav');
    expect(dup.message).toContain('nemo/audio/good1.wav');
  });

  it('out-of-vocabulary characters are listed, with what normalization does', async () => {
    const { report } = await importDataset(SAMPLES.pairs().files);
    const oov = report.issues.find((i) => i.kind === 'out-of-vocabulary')!;
    expect(oov.characters).toEqual(['日', '本']);
    expect(oov.message).toContain('U+65E5');
    expect(oov.normalized).toBe('tokyo is 日本');
    const changed = report.issues.find((i) => i.kind === 'normalized')!;
    // capitals are folded without a warning; the punctuation dropped is named
    expect(changed.characters).toEqual([',', '!']);
    expect(changed.normalized).toBe('second clip with punctuation');
    const short = report.issues.find((i) => i.kind === 'too-short')!;
    expect(short.message).toMatch(/0\.10 s, shorter than the minimum of 0\.3 s/);
  });

  it('LibriSpeech: speaker from the folder, real FLAC decodes', async () => {
    const { utterances } = await importDataset(librispeechSample(FLAC).files);
    expect(utterances.map((u) => u.speaker)).toEqual(['19', '19']);
    expect(utterances[0].audioFormat).toBe('flac');
  });

  it('Common Voice: client_id is the speaker, dev.tsv is the validation split, validated.tsv is not read twice', async () => {
    const { report, utterances } = await importDataset(SAMPLES['common-voice']().files);
    expect(utterances.map((u) => [u.speaker, u.split])).toEqual([['spk1', 'train'], ['spk2', 'train']]);
    expect(report.issues.find((i) => i.kind === 'ignored-file')!.file).toBe('cv-corpus/en/validated.tsv');
  });

  it('Kaldi: absolute wav.scp paths are found by suffix; pipes are refused with the line', async () => {
    const { report, utterances } = await importDataset(SAMPLES.kaldi().files);
    expect(utterances.map((u) => [u.source, u.speaker])).toEqual([['data/train/wav/u1.wav', 'spkA'], ['data/train/wav/u2.wav', 'spkB']]);
    const pipe = report.issues.find((i) => i.message.includes('pipe'))!;
    expect([pipe.file, pipe.line]).toEqual(['data/train/wav.scp', 7]);
  });

  it('CSV: quoted fields hold commas, newlines and doubled quotes', () => {
    const rows = parseDelimited('a,b\n"x, y","say ""hi""\nthere"\nlast,row', ',');
    expect(rows).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"\nthere'] },
      { line: 4, fields: ['last', 'row'] },
    ]);
  });

  it('no recognizable layout: audio is reported as lacking transcripts, nothing is dropped silently', async () => {
    const { memoryFile } = await import('../vfile');
    const { toneWav } = await import('../testing/sample-datasets');
    const { report } = await importDataset([memoryFile('x/a.wav', toneWav(1)), memoryFile('x/notes.bin', new Uint8Array(3))]);
    expect(report.format).toBeUndefined();
    expect(report.counts).toEqual({ 'missing-transcript': 1, 'ignored-file': 1 });
  });
});
