import { describe, expect, it } from 'vitest';
import { AudioDecodeError } from './errors';
import { demuxWebmAudio } from './webm';

// A tiny EBML writer, so the demuxer's rarer paths (lacing, unknown sizes, BlockGroups,
// other tracks) are tested on bytes whose meaning the test spells out.
const UNKNOWN = -1;
function vsize(n: number): number[] {
  if (n === UNKNOWN) return [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  if (n < 127) return [0x80 | n];
  return [0x40 | (n >> 8), n & 255];
}
function idBytes(id: number): number[] {
  const out: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) out.unshift(v & 255);
  return out;
}
function el(id: number, body: number[] | string, size?: number): number[] {
  const b = typeof body === 'string' ? [...body].map((c) => c.charCodeAt(0)) : body;
  return [...idBytes(id), ...vsize(size ?? b.length), ...b];
}
const uint = (v: number) => [v];

function trackEntry(number: number, type: number, codec: string): number[] {
  return el(0xae, [...el(0xd7, uint(number)), ...el(0x83, uint(type)), ...el(0x86, codec), ...el(0xe1, [...el(0x9f, uint(1))])]);
}
/** SimpleBlock for track `track` with the given lacing bits and laced payload. */
const block = (track: number, lacing: number, payload: number[]) => el(0xa3, [0x80 | track, 0, 0, 0x80 | (lacing << 1), ...payload]);

function file(...body: number[][]): Uint8Array {
  const header = el(0x1a45dfa3, el(0x4282, 'webm'));
  const tracks = el(0x1654ae6b, [...trackEntry(1, 1, 'V_VP8'), ...trackEntry(2, 2, 'A_OPUS')]);
  return new Uint8Array([...header, ...el(0x18538067, [], UNKNOWN), ...tracks, ...el(0x1f43b675, [], UNKNOWN), ...body.flat()]);
}

describe('demuxWebmAudio', () => {
  it('reads unlaced, Xiph-, EBML- and fixed-laced blocks of the audio track only', () => {
    const bytes = file(
      block(1, 0, [9, 9, 9]), // video: ignored
      block(2, 0, [1, 2, 3]),
      // Xiph: 3 frames; sizes 2 and 1; the last takes the rest (1 byte)
      block(2, 1, [2, 2, 1, 10, 11, 12, 13]),
      // EBML: 3 frames; first size 1 (vint 0x81), then a difference of +1 (1-byte signed vint: 0xC0 is 64 − bias 63)
      block(2, 3, [2, 0x81, 0xc0, 20, 21, 22, 23]),
      // fixed: 2 frames of 2 bytes
      block(2, 2, [1, 30, 31, 32, 33]),
      // a BlockGroup with a Block and DiscardPadding of 5 ms
      el(0xa0, [...el(0xa1, [0x82, 0, 0, 0, 40]), ...el(0x75a2, [0x4c, 0x4b, 0x40])]),
    );
    const t = demuxWebmAudio(bytes);
    expect(t.codecId).toBe('A_OPUS');
    expect(t.frames.map((f) => Array.from(f))).toEqual([[1, 2, 3], [10, 11], [12], [13], [20], [21, 22], [23], [30, 31], [32, 33], [40]]);
    expect(t.endPaddingNs).toBe(5_000_000);
  });

  it('says what is wrong', () => {
    const noAudio = new Uint8Array([...el(0x1a45dfa3, el(0x4282, 'webm')), ...el(0x18538067, el(0x1654ae6b, trackEntry(1, 1, 'V_VP8')))]);
    expect(() => demuxWebmAudio(noAudio)).toThrow('not an audio file: the WebM has no audio track');
    const cut = file(block(2, 0, [1, 2, 3, 4, 5, 6])).slice(0, -3);
    expect(() => demuxWebmAudio(cut)).toThrow(AudioDecodeError);
    expect(() => demuxWebmAudio(cut)).toThrow(/^truncated WebM: element 0xa3 at byte \d+ says 10 bytes, file has 7$/);
    const mkv = new Uint8Array(el(0x1a45dfa3, el(0x4282, 'dvd')));
    expect(() => demuxWebmAudio(mkv)).toThrow(/unsupported EBML document type "dvd"/);
  });
});
