import { describe, expect, it } from 'vitest';
import { AudioDecodeError } from './errors';
import { decodeWav, encodeWav16 } from './wav';

/** Builds a RIFF/WAVE file from raw chunks, so each test states exactly the bytes it feeds. */
function riff(chunks: [string, Uint8Array, number?][]): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
  for (const [id, body, declared] of chunks) {
    parts.push(...[...id].map((c) => c.charCodeAt(0)), ...u32(declared ?? body.length), ...body);
    if (body.length & 1 && declared === undefined) parts.push(0);
  }
  return new Uint8Array([...'RIFF'].map((c) => c.charCodeAt(0)).concat(u32(parts.length + 4), [...'WAVE'].map((c) => c.charCodeAt(0)), parts));
}

function fmt(tag: number, channels: number, rate: number, bits: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, tag, true); v.setUint16(2, channels, true); v.setUint32(4, rate, true);
  v.setUint32(8, (rate * channels * bits) / 8, true); v.setUint16(12, (channels * bits) / 8, true); v.setUint16(14, bits, true);
  return b;
}

const pcm16 = (...values: number[]) => new Uint8Array(new Int16Array(values).buffer);

function error(fn: () => unknown): AudioDecodeError {
  try { fn(); } catch (e) { if (e instanceof AudioDecodeError) return e; throw e; }
  throw new Error('expected an AudioDecodeError');
}

describe('decodeWav', () => {
  it('skips unknown chunks, including odd-sized ones with their pad byte', () => {
    const bytes = riff([['fmt ', fmt(1, 1, 8000, 16)], ['LIST', new Uint8Array([1, 2, 3])], ['data', pcm16(16384, -16384, 0)]]);
    const a = decodeWav(bytes);
    expect(a.sampleRate).toBe(8000);
    expect(Array.from(a.channels[0])).toEqual([0.5, -0.5, 0]);
  });

  it('reads to the end of the file when a streaming writer left the data size unset', () => {
    for (const placeholder of [0, 0xffffffff, 0x7ffff000]) {
      const a = decodeWav(riff([['fmt ', fmt(1, 1, 8000, 16)], ['data', pcm16(1, 2, 3, 4), placeholder]]));
      expect(a.channels[0].length).toBe(4);
    }
  });

  it('drops a trailing partial frame', () => {
    const a = decodeWav(riff([['fmt ', fmt(1, 2, 8000, 16)], ['data', pcm16(1, 2, 3)]]));
    expect(a.channels.map((c) => c.length)).toEqual([1, 1]);
  });

  it('decodes full scale at each integer width', () => {
    const at = (bits: number, bytes: number[]) => decodeWav(riff([['fmt ', fmt(1, 1, 8000, bits)], ['data', new Uint8Array(bytes)]])).channels[0];
    expect(Array.from(at(8, [0, 128, 255]))).toEqual([-1, 0, 127 / 128]);
    expect(Array.from(at(24, [0, 0, 0x80, 0xff, 0xff, 0x7f]))).toEqual([-1, 8388607 / 8388608]);
    expect(Array.from(at(32, [0, 0, 0, 0x80]))).toEqual([-1]);
  });

  it('says why it fails', () => {
    expect(error(() => decodeWav(riff([['data', pcm16(1)], ['fmt ', fmt(1, 1, 8000, 16)]]))).message).toBe('corrupt WAV: data chunk comes before the fmt chunk');
    expect(error(() => decodeWav(riff([['fmt ', fmt(1, 1, 8000, 16)]]))).message).toBe('truncated WAV: no data chunk before the end of the file');
    expect(error(() => decodeWav(riff([['fmt ', fmt(6, 1, 8000, 8)], ['data', pcm16(1)]]))).message).toBe('unsupported WAV encoding (format 6, A-law)');
    expect(error(() => decodeWav(riff([['fmt ', fmt(3, 1, 8000, 16)], ['data', pcm16(1)]]))).message).toBe('unsupported WAV encoding (format 3, 16-bit)');
    expect(error(() => decodeWav(riff([['fmt ', fmt(1, 0, 8000, 16)], ['data', pcm16(1)]]))).kind).toBe('corrupt');
    expect(error(() => decodeWav(riff([['fmt ', fmt(1, 1, 8000, 16)], ['data', new Uint8Array(0)]]))).kind).toBe('empty');
  });

  it('encodeWav16 clips out-of-range samples instead of wrapping', () => {
    const back = decodeWav(encodeWav16([new Float32Array([2, -2, 0.25])], 16000)).channels[0];
    expect(Array.from(back)).toEqual([32767 / 32768, -1, 0.25]);
  });
});
