import { AudioDecodeError, type AudioFormat } from './errors';
import type { DecodedAudio } from './decode';
import { ascii } from './sniff';
import { demuxOgg } from './ogg';
import { demuxWebmAudio } from './webm';

/*
 * Compressed formats go to eshaz's wasm-audio-decoders (libFLAC, mpg123, libopus compiled to
 * WASM with the binary inlined: no fetch, no DOM, the same code in Node and in a worker;
 * https://github.com/eshaz/wasm-audio-decoders). They are imported lazily so a bundle that only
 * ever sees WAV never loads them. Each wrapper adds what the libraries leave to the caller:
 * truncation checks against the container's own totals, MP3 gapless trimming, typed errors.
 * Opus packets come from our own Ogg and WebM demuxers (ogg.ts, webm.ts) and go to libopus
 * directly, so both containers share one path (and ogg-opus-decoder's 4 MB optional ML model never
 * enters the bundle).
 */

interface LibResult {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

function libErrors(format: AudioFormat, label: string, r: LibResult): void {
  if (r.errors.length) {
    const e = r.errors[0];
    throw new AudioDecodeError('corrupt', `corrupt ${label}: ${e.message} (${r.errors.length} bad frame${r.errors.length > 1 ? 's' : ''})`, format);
  }
  if (r.samplesDecoded === 0) throw new AudioDecodeError('empty', `${label} decoded to no samples`, format);
}

function trimmed(r: LibResult, channels: number, start: number, length: number): Float32Array[] {
  return r.channelData.slice(0, channels).map((c) => c.slice(start, Math.min(c.length, start + length)));
}

/** ID3v2 tags may precede MP3 and FLAC; returns where the codec data starts. */
function skipId3(bytes: Uint8Array): number {
  if (ascii(bytes, 0, 3) !== 'ID3' || bytes.length < 10) return 0;
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  return Math.min(bytes.length, 10 + size + (bytes[5] & 0x10 ? 10 : 0));
}

// ---------------------------------------------------------------------------------------- FLAC

export async function decodeFlac(bytes: Uint8Array): Promise<DecodedAudio> {
  const data = bytes.subarray(skipId3(bytes));
  // STREAMINFO is the mandatory first metadata block (https://www.rfc-editor.org/rfc/rfc9639#section-8.2):
  // it knows the total sample count, which lets us tell a cut-short file from a complete one.
  if (data.length < 8 + 34) throw new AudioDecodeError('truncated', `truncated FLAC: file ends inside STREAMINFO (${data.length} bytes)`, 'flac');
  if ((data[4] & 0x7f) !== 0) throw new AudioDecodeError('corrupt', 'corrupt FLAC: first metadata block is not STREAMINFO', 'flac');
  const si = 8;
  const channels = ((data[si + 12] >> 1) & 7) + 1;
  const totalSamples = (data[si + 13] & 0x0f) * 2 ** 32 + ((data[si + 14] << 24) >>> 0) + (data[si + 15] << 16) + (data[si + 16] << 8) + data[si + 17];

  const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
  const decoder = new FLACDecoder();
  try {
    await decoder.ready;
    // The library's frame parser only accepts a frame once it sees bytes after it, so a file
    // that ends exactly at its last frame loses that frame (seen with flac 1.4 output: 852 of
    // 58196 samples missing). 64 trailing zero bytes (no frame sync code in them) let it close the last frame; they cannot
    // complete a frame that was really cut short (its CRC would fail).
    const padded = new Uint8Array(data.length + 64);
    padded.set(data);
    const r = await decoder.decodeFile(padded);
    // 0 means "unknown" in STREAMINFO (streamed encoders); then there is nothing to check against.
    // Checked before library errors: a cut-off last frame is reported as truncation, not corruption.
    if (totalSamples > 0 && r.samplesDecoded < totalSamples) {
      throw new AudioDecodeError('truncated', `truncated FLAC: STREAMINFO says ${totalSamples} samples, file has ${r.samplesDecoded}`, 'flac');
    }
    libErrors('flac', 'FLAC', r);
    return { sampleRate: r.sampleRate, channels: trimmed(r, channels, 0, r.samplesDecoded) };
  } finally {
    decoder.free();
  }
}

// ----------------------------------------------------------------------------------------- MP3

interface Mp3Info {
  firstFrame: number; // byte offset of the first frame header
  channels: number;
  samplesPerFrame: number;
  frames?: number; // audio frames, from a Xing/Info header
  delay?: number; // encoder delay and padding, from a LAME/Lavc tag
  padding?: number;
}

/** Reads the first frame header and, if present, the Xing/Info + LAME tag that LAME and ffmpeg write. */
function readMp3Info(bytes: Uint8Array, at: number): Mp3Info {
  // Frame header layout: http://www.mp3-tech.org/programmer/frame_header.html. Some taggers leave
  // zeros between the ID3 tag and the first frame, so look a little way for a plausible header:
  // 11 sync bits, a layer, and neither the "bad" bitrate (15) nor the reserved sample rate (3).
  const start = at;
  const plausible = (p: number) =>
    bytes[p] === 0xff && (bytes[p + 1] & 0xe0) === 0xe0 && (bytes[p + 1] & 0x06) !== 0 && bytes[p + 2] >> 4 !== 15 && ((bytes[p + 2] >> 2) & 3) !== 3;
  while (at + 4 <= bytes.length && at < start + 65536 && !plausible(at)) at++;
  if (at + 4 > bytes.length || !plausible(at)) {
    throw new AudioDecodeError('corrupt', `corrupt MP3: no frame header in the first ${Math.min(65536, bytes.length - start)} bytes after byte ${start}`, 'mp3');
  }
  const version = (bytes[at + 1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
  const layer = 4 - ((bytes[at + 1] >> 1) & 3); // 1, 2 or 3
  const mono = (bytes[at + 3] >> 6) === 3;
  const mpeg1 = version === 3;
  const samplesPerFrame = layer === 1 ? 384 : layer === 2 || mpeg1 ? 1152 : 576;
  const info: Mp3Info = { firstFrame: at, channels: mono ? 1 : 2, samplesPerFrame };
  if (layer !== 3) return info;
  // The Xing/Info tag sits where the first frame's main data would start, after the side info.
  const sideInfo = mpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17;
  let p = at + 4 + sideInfo;
  const tag = ascii(bytes, p, 4);
  if (tag !== 'Xing' && tag !== 'Info') return info;
  const flags = (bytes[p + 7] ?? 0) | ((bytes[p + 6] ?? 0) << 8);
  p += 8;
  if (flags & 1) {
    info.frames = ((bytes[p] << 24) >>> 0) + (bytes[p + 1] << 16) + (bytes[p + 2] << 8) + bytes[p + 3];
    p += 4;
  }
  if (flags & 2) p += 4;
  if (flags & 4) p += 100;
  if (flags & 8) p += 4;
  // LAME tag (http://gabriel.mp3-tech.org/mp3infotag.html): 9-byte encoder string, then at +21
  // 12 bits of encoder delay and 12 bits of end padding.
  const enc = ascii(bytes, p, 4);
  if ((enc === 'LAME' || enc === 'Lavc' || enc === 'Lavf') && p + 24 <= bytes.length) {
    info.delay = (bytes[p + 21] << 4) | (bytes[p + 22] >> 4);
    info.padding = ((bytes[p + 22] & 0x0f) << 8) | bytes[p + 23];
  }
  return info;
}

/** mpg123's synthesis filterbank delays output by 529 samples (the figure LAME's gapless math uses). */
const MP3_DECODER_DELAY = 529;

export async function decodeMp3(bytes: Uint8Array): Promise<DecodedAudio> {
  const start = skipId3(bytes);
  const info = readMp3Info(bytes, start);
  const { MPEGDecoder } = await import('mpg123-decoder');
  const decoder = new MPEGDecoder();
  try {
    await decoder.ready;
    const r = decoder.decode(bytes.subarray(info.firstFrame));
    libErrors('mp3', 'MP3', r);
    // mpg123-decoder returns two channels even for mono files: keep what the stream really has.
    let first = 0;
    let length = r.samplesDecoded;
    if (info.frames !== undefined) {
      const all = info.frames * info.samplesPerFrame;
      const gapless = info.delay !== undefined && info.padding !== undefined;
      // mpg123 (gapless mode, the library default) already drops encoder delay and padding when
      // it finds a LAME tag; trim ourselves only if it handed back every frame untrimmed, so
      // neither a library change nor a tag it ignores makes us trim twice or not at all.
      const expected = gapless ? all - info.delay! - info.padding! : all;
      if (gapless && r.samplesDecoded === all) {
        first = info.delay! + MP3_DECODER_DELAY;
        length = expected;
      } else if (r.samplesDecoded < expected) {
        throw new AudioDecodeError('truncated', `truncated MP3: Xing header says ${info.frames} frames, file has ${Math.floor((r.samplesDecoded + (all - expected)) / info.samplesPerFrame)}`, 'mp3');
      }
    }
    return { sampleRate: r.sampleRate, channels: trimmed(r, Math.min(info.channels, r.channelData.length), first, length) };
  } finally {
    decoder.free();
  }
}

// ------------------------------------------------------------------------------ Ogg and WebM Opus

interface OpusHead {
  channels: number;
  preSkip: number;
  streamCount: number;
  coupledStreamCount: number;
  mapping: number[];
}

/** OpusHead, the ID header of RFC 7845 §5.1, which Matroska stores as the track's CodecPrivate. */
function readOpusHead(p: Uint8Array | undefined, fallbackChannels: number, format: AudioFormat): OpusHead {
  if (!p || p.length < 19 || ascii(p, 0, 8) !== 'OpusHead') {
    // Without a header, assume the family-0 layout the track's Channels element implies.
    const channels = Math.min(2, Math.max(1, fallbackChannels));
    return { channels, preSkip: 0, streamCount: 1, coupledStreamCount: channels - 1, mapping: channels === 2 ? [0, 1] : [0] };
  }
  const channels = p[9];
  const preSkip = p[10] | (p[11] << 8);
  const family = p[18];
  if (family === 0) {
    return { channels, preSkip, streamCount: 1, coupledStreamCount: channels - 1, mapping: channels === 2 ? [0, 1] : [0] };
  }
  if (p.length < 21 + channels) throw new AudioDecodeError('corrupt', 'corrupt Opus: OpusHead channel mapping table is cut short', format);
  return { channels, preSkip, streamCount: p[19], coupledStreamCount: p[20], mapping: Array.from(p.subarray(21, 21 + channels)) };
}

/**
 * Decodes Opus packets with libopus (opus-decoder), applying the OpusHead pre-skip, and keeps at
 * most `keep` samples per channel (the container's idea of the true length).
 */
async function decodeOpusPackets(format: AudioFormat, label: string, head: OpusHead, packets: Uint8Array[], keep: (decoded: number, rate: number) => number): Promise<DecodedAudio> {
  if (packets.length === 0) throw new AudioDecodeError('empty', `${label} has no audio packets`, format);
  const { OpusDecoder } = await import('opus-decoder');
  const decoder = new OpusDecoder({
    channels: head.channels,
    preSkip: head.preSkip,
    streamCount: head.streamCount,
    coupledStreamCount: head.coupledStreamCount,
    channelMappingTable: head.mapping,
  });
  try {
    await decoder.ready;
    const r = decoder.decodeFrames(packets);
    libErrors(format, label, r);
    const length = Math.max(0, Math.min(r.samplesDecoded, keep(r.samplesDecoded, r.sampleRate)));
    return { sampleRate: r.sampleRate, channels: trimmed(r, head.channels, 0, length) };
  } finally {
    decoder.free();
  }
}

/**
 * Ogg/Opus (RFC 7845): packet 0 is OpusHead, packet 1 OpusTags, the rest audio. The stream's
 * length is the last granule position minus the pre-skip (§4), counted at 48 kHz.
 */
export async function decodeOggOpus(bytes: Uint8Array): Promise<DecodedAudio> {
  const { packets, lastGranule } = demuxOgg(bytes);
  if (packets.length < 2 || ascii(packets[0], 0, 8) !== 'OpusHead' || ascii(packets[1], 0, 8) !== 'OpusTags') {
    throw new AudioDecodeError('corrupt', 'corrupt Ogg/Opus: the stream does not start with OpusHead and OpusTags', 'ogg-opus');
  }
  const head = readOpusHead(packets[0], 0, 'ogg-opus');
  return decodeOpusPackets('ogg-opus', 'Ogg/Opus', head, packets.slice(2), (_, rate) => Math.round(((lastGranule - head.preSkip) * rate) / 48000));
}

/** WebM/Opus: packets from our Matroska demuxer, OpusHead from the track's CodecPrivate. */
export async function decodeWebmOpus(bytes: Uint8Array): Promise<DecodedAudio> {
  const track = demuxWebmAudio(bytes);
  if (track.codecId !== 'A_OPUS') {
    throw new AudioDecodeError('unsupported', `unsupported WebM audio codec ${track.codecId || '(none)'}; only Opus is decoded`, 'webm-opus');
  }
  const head = readOpusHead(track.codecPrivate, track.channels, 'webm-opus');
  // DiscardPadding on the last block (ffmpeg writes it; MediaRecorder does not) drops the
  // encoder's padding at the end, as the end granule does in Ogg.
  return decodeOpusPackets('webm-opus', 'WebM/Opus', head, track.frames, (decoded, rate) => decoded - Math.round((track.endPaddingNs * rate) / 1e9));
}
