import { AudioDecodeError, type AudioFormat } from './errors';

/**
 * Names the container from its first bytes; file names lie (a `.wav` that is really MP3, a
 * MediaRecorder blob saved as `.ogg`), magic numbers rarely do. Throws `AudioDecodeError` for
 * recognised-but-unsupported audio and for non-audio, so callers get one clear message.
 */
export function sniffFormat(bytes: Uint8Array): AudioFormat {
  const tag = ascii(bytes, 0, 4);
  if (tag === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE') return 'wav';
  if (tag === 'RIFF' || tag === 'RIFX' || tag === 'RF64') {
    const kind = ascii(bytes, 8, 4);
    if (tag === 'RIFF' && bytes.length < 12) throw new AudioDecodeError('truncated', 'truncated WAV: file ends inside the RIFF header', 'wav');
    throw new AudioDecodeError('unsupported', `unsupported RIFF file (${tag}/${kind}); only little-endian RIFF/WAVE is read`);
  }
  if (tag === 'fLaC') return 'flac';
  if (tag === 'OggS') return sniffOgg(bytes);
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm-opus';
  if (ascii(bytes, 0, 3) === 'ID3') {
    // An ID3v2 tag (size is 4 syncsafe 7-bit bytes, https://id3.org/id3v2.4.0-structure) may sit in
    // front of MP3 and, rarely, FLAC: look past it.
    const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
    const footer = bytes[5] & 0x10 ? 10 : 0;
    const rest = bytes.subarray(Math.min(bytes.length, 10 + size + footer));
    if (ascii(rest, 0, 4) === 'fLaC') return 'flac';
    return 'mp3';
  }
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1] & 0xe0) === 0xe0) {
    // MPEG audio frame sync; layer bits 00 mean ADTS (AAC) instead.
    if ((bytes[1] & 0x06) === 0) throw new AudioDecodeError('unsupported', 'unsupported audio: AAC in ADTS; convert to WAV, FLAC, MP3 or Opus');
    return 'mp3';
  }
  if (ascii(bytes, 4, 4) === 'ftyp') {
    throw new AudioDecodeError('unsupported', `unsupported audio: MP4/M4A container (brand "${ascii(bytes, 8, 4)}"); convert to WAV, FLAC, MP3 or Opus`);
  }
  if (bytes.length === 0) throw new AudioDecodeError('empty', 'not an audio file (it is empty)');
  throw new AudioDecodeError('not-audio', `not an audio file (starts with ${describeStart(bytes)})`);
}

function sniffOgg(bytes: Uint8Array): AudioFormat {
  // First page: 27-byte header, segment table, then the first packet, whose magic names the codec
  // (https://www.rfc-editor.org/rfc/rfc3533, https://www.rfc-editor.org/rfc/rfc7845#section-5.1).
  const nSegments = bytes[26] ?? 0;
  const packet = 27 + nSegments;
  if (bytes.length < packet + 8) throw new AudioDecodeError('truncated', 'truncated Ogg: file ends inside the first page', 'ogg-opus');
  if (ascii(bytes, packet, 8) === 'OpusHead') return 'ogg-opus';
  if (ascii(bytes, packet + 1, 6) === 'vorbis') throw new AudioDecodeError('unsupported', 'unsupported audio: Ogg Vorbis; only Opus is decoded from Ogg');
  if (ascii(bytes, packet + 1, 4) === 'FLAC') throw new AudioDecodeError('unsupported', 'unsupported audio: FLAC inside Ogg; use native .flac');
  throw new AudioDecodeError('unsupported', `unsupported Ogg stream (first packet starts with ${describeStart(bytes.subarray(packet))})`);
}

export function ascii(bytes: Uint8Array, offset: number, length: number): string {
  let s = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** `"PK"` for printable starts, `0x00 0x01 ...` otherwise: what a person can recognise in a message. */
function describeStart(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 4);
  let printable = 0;
  while (printable < head.length && head[printable] >= 0x20 && head[printable] < 0x7f) printable++;
  if (printable >= 2) return `"${ascii(head, 0, printable)}"`;
  return Array.from(head, (b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}
