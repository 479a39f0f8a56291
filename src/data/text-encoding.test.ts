// Transcripts that are not UTF-8 are refused row by row with line and byte, not imported as
// garbage; UTF-16 marked by its BOM is decoded and said so; capitals are not a fault.
import { describe, expect, it } from 'vitest';
import { invalidUtf8 } from './formats/text';
import { importDataset } from './import';
import { memoryFile } from './vfile';
import { text, toneWav } from './testing/sample-datasets';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0)); // every char < U+0100 → one byte

describe('invalid UTF-8', () => {
  it('finds each ill-formed sequence with its line and byte, and passes valid text', () => {
    expect(invalidUtf8(text('café naïve résumé\n日本 😀\n'))).toEqual([]);
    const bad = invalidUtf8(latin1('ok line\ncafé naïve\n'));
    expect(bad.map((b) => [b.line, b.byteInLine, b.offset, b.byte])).toEqual([
      [2, 4, 11, 0xe9],
      [2, 8, 15, 0xef],
    ]);
    // overlong, surrogate, past U+10FFFF, lone continuation, truncated at the end
    for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0x41, 0xe2, 0x82]]) {
      expect(invalidUtf8(new Uint8Array(bytes)).length, bytes.join(',')).toBeGreaterThan(0);
    }
  });
});

function nemo(manifest: Uint8Array, name = 'train.jsonl') {
  return [memoryFile(`d/${name}`, manifest), memoryFile('d/a.wav', toneWav(0.8, 1)), memoryFile('d/b.wav', toneWav(0.8, 2))];
}

describe('the import and text encodings', () => {
  it('a Latin-1 row is refused with its line and byte offset, the UTF-8 rows are kept', async () => {
    const manifest = new Uint8Array([
      ...text(JSON.stringify({ audio_filepath: 'a.wav', text: 'plain words' }) + '\n'),
      ...latin1('{"audio_filepath": "b.wav", "text": "café naïve résumé"}\n'),
    ]);
    const { report, utterances } = await importDataset(nemo(manifest));
    expect(utterances.map((u) => u.text)).toEqual(['plain words']);
    const bad = report.issues.filter((i) => i.kind === 'bad-encoding');
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ file: 'd/train.jsonl', line: 2, severity: 'rejected' });
    expect(bad[0].message).toMatch(/^line 2, byte 41 \(offset 88 in the file\): 0xE9 is not valid UTF-8 \(in Latin-1\/Windows-1252 that byte is "é"\)/);
    expect(report.issues.some((i) => i.kind === 'normalized')).toBe(false);
  });

  it('UTF-16 with a byte-order mark is decoded, and the report says so', async () => {
    const rows = [JSON.stringify({ audio_filepath: 'a.wav', text: 'café' }), JSON.stringify({ audio_filepath: 'b.wav', text: 'naïve' })].join('\n') + '\n';
    const utf16 = new Uint8Array(2 + rows.length * 2);
    utf16.set([0xff, 0xfe]);
    for (let i = 0; i < rows.length; i++) utf16.set([rows.charCodeAt(i) & 0xff, rows.charCodeAt(i) >> 8], 2 + 2 * i);
    const { report, utterances } = await importDataset(nemo(utf16, 'train.json'));
    expect(utterances.map((u) => u.transcript)).toEqual(['café', 'naïve']);
    expect(report.issues.filter((i) => i.kind === 'text-encoding').map((i) => i.message)).toEqual(['decoded as UTF-16 little-endian, as its byte-order mark says']);
  });

  it('upper-case transcripts are folded without a warning', async () => {
    const manifest = text([JSON.stringify({ audio_filepath: 'a.wav', text: 'HE SAID IT' }), JSON.stringify({ audio_filepath: 'b.wav', text: "IT'S FINE" })].join('\n') + '\n');
    const { report, utterances } = await importDataset(nemo(manifest));
    expect(utterances.map((u) => u.text)).toEqual(['he said it', "it's fine"]);
    expect(report.issues).toEqual([]);
    expect(report.changed).toBe(0);
  });
});
