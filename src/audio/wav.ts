import { AudioDecodeError } from './errors';
import type { DecodedAudio } from './decode';

/*
 * RIFF/WAVE reader. References: the RIFF chunk layout and WAVEFORMATEX in Microsoft's "Multimedia
 * Programming Interface and Data Specifications 1.0", and WAVE_FORMAT_EXTENSIBLE in
 * https://learn.microsoft.com/en-us/windows/win32/api/mmreg/ns-mmreg-waveformatextensible
 * Integer PCM is read as two's complement scaled by 2^(bits-1) (8-bit is unsigned, offset 128),
 * so full scale maps to [-1, 1) like every other decoder here.
 */

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Names for the tags people actually meet, so an error says "A-law" rather than a bare number. */
const FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM',
  6: 'A-law',
  7: 'mu-law',
  17: 'IMA ADPCM',
  49: 'GSM 6.10',
  80: 'MPEG Layer I/II',
  85: 'MPEG Layer III',
};

interface WavFormat {
  encoding: number; // PCM or IEEE float after resolving EXTENSIBLE
  channels: number;
  sampleRate: number;
  blockAlign: number;
  containerBits: number;
}

export function decodeWav(bytes: Uint8Array): DecodedAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: WavFormat | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = fourCC(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (body + Math.min(size, 16) > bytes.length || size < 16) {
        throw new AudioDecodeError('truncated', `truncated WAV: fmt chunk says ${size} bytes, file has ${bytes.length - body}`, 'wav');
      }
      fmt = readFmt(view, body, size);
    } else if (id === 'data') {
      if (!fmt) throw new AudioDecodeError('corrupt', 'corrupt WAV: data chunk comes before the fmt chunk', 'wav');
      const available = bytes.length - body;
      let length = size;
      // Writers that stream to a pipe cannot seek back to fill in the size: they leave 0, 0xFFFFFFFF
      // or a near-2 GiB placeholder (sox, arecord). Then the data runs to the end of the file.
      if ((size === 0 && available > 0) || size >= 0x7fff0000) length = Math.min(available, size || available);
      else if (size > available) {
        throw new AudioDecodeError('truncated', `truncated WAV: data chunk says ${size} bytes, file has ${available}`, 'wav');
      }
      if (length < fmt.blockAlign) throw new AudioDecodeError('empty', 'WAV data chunk holds no samples', 'wav');
      return { sampleRate: fmt.sampleRate, channels: readSamples(view, body, length, fmt) };
    }
    pos = body + size + (size & 1); // chunks are word-aligned: odd sizes carry a pad byte
  }
  if (!fmt) throw new AudioDecodeError('truncated', 'truncated WAV: no fmt chunk before the end of the file', 'wav');
  throw new AudioDecodeError('truncated', 'truncated WAV: no data chunk before the end of the file', 'wav');
}

function readFmt(view: DataView, at: number, size: number): WavFormat {
  let encoding = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (encoding === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40 || at + 40 > view.byteLength) {
      throw new AudioDecodeError('corrupt', `corrupt WAV: WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk, got ${size}`, 'wav');
    }
    // SubFormat GUID: the first two bytes are the real format tag, the rest is the fixed
    // KSDATAFORMAT suffix 00000000-0010-8000-00AA00389B71.
    const guidTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    const ok = guidTail.every((b, i) => view.getUint8(at + 26 + i) === b);
    if (!ok) throw new AudioDecodeError('unsupported', 'unsupported WAV encoding (WAVE_FORMAT_EXTENSIBLE with a non-standard SubFormat GUID)', 'wav');
    encoding = view.getUint16(at + 24, true);
  }
  if (channels === 0 || sampleRate === 0 || blockAlign === 0) {
    throw new AudioDecodeError('corrupt', `corrupt WAV: fmt says ${channels} channels, ${sampleRate} Hz, block align ${blockAlign}`, 'wav');
  }
  // The container width comes from blockAlign: EXTENSIBLE files may declare e.g. 20 valid bits
  // inside 24-bit containers, and the samples are left-justified, so scaling by the container is right.
  const containerBits = (blockAlign / channels) * 8;
  if (!Number.isInteger(containerBits) || containerBits < bitsPerSample) {
    throw new AudioDecodeError('corrupt', `corrupt WAV: block align ${blockAlign} does not fit ${channels} channels of ${bitsPerSample} bits`, 'wav');
  }
  const supported =
    (encoding === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(containerBits)) ||
    (encoding === WAVE_FORMAT_IEEE_FLOAT && (containerBits === 32 || containerBits === 64));
  if (!supported) {
    const name = FORMAT_NAMES[encoding];
    const what =
      encoding === WAVE_FORMAT_PCM || encoding === WAVE_FORMAT_IEEE_FLOAT
        ? `format ${encoding}, ${containerBits}-bit`
        : `format ${encoding}${name ? `, ${name}` : ''}`;
    throw new AudioDecodeError('unsupported', `unsupported WAV encoding (${what})`, 'wav');
  }
  return { encoding, channels, sampleRate, blockAlign, containerBits };
}

function readSamples(view: DataView, start: number, length: number, fmt: WavFormat): Float32Array[] {
  const { channels: nCh, blockAlign, containerBits, encoding } = fmt;
  const frames = Math.floor(length / blockAlign); // a trailing partial frame is dropped
  const out = Array.from({ length: nCh }, () => new Float32Array(frames));
  const bytesPer = containerBits / 8;
  for (let c = 0; c < nCh; c++) {
    const ch = out[c];
    let p = start + c * bytesPer;
    if (encoding === WAVE_FORMAT_IEEE_FLOAT) {
      if (containerBits === 32) for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getFloat32(p, true);
      else for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getFloat64(p, true);
    } else if (containerBits === 16) {
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getInt16(p, true) / 32768;
    } else if (containerBits === 24) {
      for (let i = 0; i < frames; i++, p += blockAlign) {
        // Assemble the 3 bytes, then sign-extend by shifting into the top of an int32.
        const u = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getUint8(p + 2) << 16);
        ch[i] = ((u << 8) >> 8) / 8388608;
      }
    } else if (containerBits === 32) {
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getInt32(p, true) / 2147483648;
    } else {
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = (view.getUint8(p) - 128) / 128;
    }
  }
  return out;
}

function fourCC(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/**
 * Writes 16-bit PCM WAV. The inverse of `decodeWav` for the common case; handy for exporting
 * recordings and for building test inputs without an encoder.
 */
export function encodeWav16(channels: Float32Array[], sampleRate: number): Uint8Array {
  const nCh = channels.length;
  const frames = nCh ? channels[0].length : 0;
  const dataBytes = frames * nCh * 2;
  const out = new Uint8Array(44 + dataBytes);
  const v = new DataView(out.buffer);
  const put = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  put(0, 'RIFF'); v.setUint32(4, 36 + dataBytes, true); put(8, 'WAVE');
  put(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, WAVE_FORMAT_PCM, true); v.setUint16(22, nCh, true);
  v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * nCh * 2, true); v.setUint16(32, nCh * 2, true); v.setUint16(34, 16, true);
  put(36, 'data'); v.setUint32(40, dataBytes, true);
  let p = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < nCh; c++, p += 2) {
      v.setInt16(p, Math.max(-32768, Math.min(32767, Math.round(channels[c][i] * 32768))), true);
    }
  }
  return out;
}
