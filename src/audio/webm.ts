import { AudioDecodeError } from './errors';

/*
 * A minimal Matroska/WebM demuxer: enough to pull the audio track's codec data and frames out of
 * what Chromium's MediaRecorder and ffmpeg write. Spec: EBML RFC 8794
 * (https://www.rfc-editor.org/rfc/rfc8794) and Matroska RFC 9559
 * (https://www.rfc-editor.org/rfc/rfc9559). Opus-in-Matroska mapping:
 * https://www.matroska.org/technical/codec_specs.html (A_OPUS, CodecPrivate = OpusHead).
 *
 * Segment and Cluster are walked "flat" (we step into them instead of over them): MediaRecorder
 * writes them with unknown size while recording live, and flat walking needs no rule for where
 * an unknown-size element ends.
 */

export interface WebmAudioTrack {
  codecId: string; // e.g. 'A_OPUS'
  codecPrivate: Uint8Array | undefined;
  codecDelayNs: number;
  sampleRate: number;
  channels: number;
  frames: Uint8Array[]; // codec packets in file order
  /** DiscardPadding of the final block, in ns: samples to drop from the end of the stream. */
  endPaddingNs: number;
}

const ID = {
  EBML: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  Cluster: 0x1f43b675,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackType: 0x83,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  SimpleBlock: 0xa3,
  BlockGroup: 0xa0,
  Block: 0xa1,
  DiscardPadding: 0x75a2,
} as const;

const TRACK_TYPE_AUDIO = 2;

interface Header {
  id: number;
  size: number; // -1: unknown size
  dataStart: number;
}

class Reader {
  constructor(readonly bytes: Uint8Array) {}

  /** An EBML variable-length integer; `keepMarker` for element IDs, which keep their length bits. */
  vint(pos: number, keepMarker: boolean): { value: number; length: number; allOnes: boolean } {
    const first = this.bytes[pos];
    if (first === undefined) throw truncated('file ends inside an element header');
    if (first === 0) throw new AudioDecodeError('corrupt', `corrupt WebM: invalid variable-length integer at byte ${pos}`, 'webm-opus');
    const length = Math.clz32(first) - 23; // leading zeros within the byte, plus one
    if (pos + length > this.bytes.length) throw truncated('file ends inside an element header');
    let value = keepMarker ? first : first & (0xff >> length);
    let allOnes = value === 0xff >> length;
    for (let i = 1; i < length; i++) {
      const b = this.bytes[pos + i];
      value = value * 256 + b; // multiply, not shift: sizes can exceed 32 bits
      allOnes &&= b === 0xff;
    }
    return { value, length, allOnes };
  }

  header(pos: number): Header {
    const id = this.vint(pos, true);
    const size = this.vint(pos + id.length, false);
    return { id: id.value, size: size.allOnes ? -1 : size.value, dataStart: pos + id.length + size.length };
  }

  uint(start: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + this.bytes[start + i];
    return v;
  }

  int(start: number, size: number): number {
    const u = this.uint(start, size);
    return size > 0 && this.bytes[start] & 0x80 ? u - 2 ** (8 * size) : u;
  }

  float(start: number, size: number): number {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + start, size);
    return size === 4 ? view.getFloat32(0) : view.getFloat64(0);
  }

  string(start: number, size: number): string {
    let s = '';
    for (let i = 0; i < size && this.bytes[start + i] !== 0; i++) s += String.fromCharCode(this.bytes[start + i]);
    return s;
  }

  /** Iterates the children of a sized master element. */
  *children(start: number, end: number): Generator<Header> {
    let pos = start;
    while (pos < end) {
      const h = this.header(pos);
      if (h.size < 0) throw new AudioDecodeError('corrupt', `corrupt WebM: unknown-size element 0x${h.id.toString(16)} inside a sized one`, 'webm-opus');
      checkFits(h, end, this.bytes.length);
      yield h;
      pos = h.dataStart + h.size;
    }
  }
}

function truncated(what: string): AudioDecodeError {
  return new AudioDecodeError('truncated', `truncated WebM: ${what}`, 'webm-opus');
}

function checkFits(h: Header, parentEnd: number, fileLength: number): void {
  const end = h.dataStart + h.size;
  if (end > fileLength) {
    throw truncated(`element 0x${h.id.toString(16)} at byte ${h.dataStart} says ${h.size} bytes, file has ${fileLength - h.dataStart}`);
  }
  if (end > parentEnd) throw new AudioDecodeError('corrupt', `corrupt WebM: element 0x${h.id.toString(16)} overruns its parent`, 'webm-opus');
}

/** Returns the first audio track and its frames. */
export function demuxWebmAudio(bytes: Uint8Array): WebmAudioTrack {
  const r = new Reader(bytes);
  const first = r.header(0);
  if (first.id !== ID.EBML || first.size < 0) throw new AudioDecodeError('corrupt', 'corrupt WebM: no EBML header', 'webm-opus');
  checkFits(first, bytes.length, bytes.length);
  for (const h of r.children(first.dataStart, first.dataStart + first.size)) {
    if (h.id !== ID.DocType) continue;
    const docType = r.string(h.dataStart, h.size);
    if (docType !== 'webm' && docType !== 'matroska') {
      throw new AudioDecodeError('unsupported', `unsupported EBML document type "${docType}"`, 'webm-opus');
    }
  }

  const tracks = new Map<number, WebmAudioTrack>();
  let pos = first.dataStart + first.size;
  while (pos < bytes.length) {
    const h = r.header(pos);
    if (h.id === ID.Segment || h.id === ID.Cluster) {
      pos = h.dataStart; // step inside (see the note at the top)
      continue;
    }
    if (h.size < 0) throw new AudioDecodeError('corrupt', `corrupt WebM: unknown size on element 0x${h.id.toString(16)}`, 'webm-opus');
    checkFits(h, bytes.length, bytes.length);
    if (h.id === ID.Tracks) readTracks(r, h, tracks);
    else if (h.id === ID.SimpleBlock) {
      const track = addBlock(r, h.dataStart, h.size, tracks);
      if (track) track.endPaddingNs = 0;
    }
    else if (h.id === ID.BlockGroup) {
      let padding = 0;
      let track: WebmAudioTrack | undefined;
      for (const c of r.children(h.dataStart, h.dataStart + h.size)) {
        if (c.id === ID.Block) track = addBlock(r, c.dataStart, c.size, tracks);
        else if (c.id === ID.DiscardPadding) padding = r.int(c.dataStart, c.size);
      }
      if (track) track.endPaddingNs = padding; // any earlier block's padding is superseded: only the last counts
    }
    pos = h.dataStart + h.size;
  }
  const audio = tracks.values().next().value;
  if (!audio) throw new AudioDecodeError('not-audio', 'not an audio file: the WebM has no audio track', 'webm-opus');
  return audio;
}

function readTracks(r: Reader, tracksEl: Header, out: Map<number, WebmAudioTrack>): void {
  for (const entry of r.children(tracksEl.dataStart, tracksEl.dataStart + tracksEl.size)) {
    if (entry.id !== ID.TrackEntry) continue;
    let number = 0;
    let type = 0;
    const track: WebmAudioTrack = { codecId: '', codecPrivate: undefined, codecDelayNs: 0, sampleRate: 8000, channels: 1, frames: [], endPaddingNs: 0 };
    for (const f of r.children(entry.dataStart, entry.dataStart + entry.size)) {
      if (f.id === ID.TrackNumber) number = r.uint(f.dataStart, f.size);
      else if (f.id === ID.TrackType) type = r.uint(f.dataStart, f.size);
      else if (f.id === ID.CodecID) track.codecId = r.string(f.dataStart, f.size);
      else if (f.id === ID.CodecPrivate) track.codecPrivate = r.bytes.slice(f.dataStart, f.dataStart + f.size);
      else if (f.id === ID.CodecDelay) track.codecDelayNs = r.uint(f.dataStart, f.size);
      else if (f.id === ID.Audio) {
        for (const a of r.children(f.dataStart, f.dataStart + f.size)) {
          if (a.id === ID.SamplingFrequency) track.sampleRate = r.float(a.dataStart, a.size);
          else if (a.id === ID.Channels) track.channels = r.uint(a.dataStart, a.size);
        }
      }
    }
    // Only the first audio track is kept; a video+audio recording still yields its sound.
    if (type === TRACK_TYPE_AUDIO && out.size === 0) out.set(number, track);
  }
}

/** A (Simple)Block: track vint, 16-bit relative timecode, flags, then one or more laced frames. */
function addBlock(r: Reader, start: number, size: number, tracks: Map<number, WebmAudioTrack>): WebmAudioTrack | undefined {
  const trackNo = r.vint(start, false);
  const track = tracks.get(trackNo.value);
  if (!track) return undefined; // a block of another track, or one before the Tracks element
  const flagsAt = start + trackNo.length + 2;
  const end = start + size;
  if (flagsAt >= end) throw new AudioDecodeError('corrupt', 'corrupt WebM: block shorter than its header', 'webm-opus');
  const lacing = (r.bytes[flagsAt] >> 1) & 3;
  let pos = flagsAt + 1;
  if (lacing === 0) {
    track.frames.push(r.bytes.subarray(pos, end));
    return track;
  }
  // Laced block (RFC 9559 §10.3): a frame count, then sizes of all but the last frame.
  const count = r.bytes[pos++] + 1;
  const sizes: number[] = [];
  if (lacing === 1) {
    // Xiph lacing: each size is a run of 255s plus a final byte below 255.
    for (let i = 0; i < count - 1; i++) {
      let s = 0;
      let b: number;
      do { b = r.bytes[pos++]; s += b; } while (b === 255 && pos < end);
      sizes.push(s);
    }
  } else if (lacing === 3) {
    // EBML lacing: the first size as a vint, then signed vint differences.
    let v = r.vint(pos, false);
    pos += v.length;
    sizes.push(v.value);
    for (let i = 1; i < count - 1; i++) {
      v = r.vint(pos, false);
      pos += v.length;
      const bias = 2 ** (7 * v.length - 1) - 1;
      sizes.push(sizes[i - 1] + v.value - bias);
    }
  } else {
    const each = (end - pos) / count; // fixed-size lacing
    for (let i = 0; i < count - 1; i++) sizes.push(each);
  }
  const used = sizes.reduce((a, b) => a + b, 0);
  sizes.push(end - pos - used);
  if (sizes.some((s) => s < 0 || !Number.isInteger(s))) throw new AudioDecodeError('corrupt', 'corrupt WebM: block lace sizes exceed the block', 'webm-opus');
  for (const s of sizes) {
    track.frames.push(r.bytes.subarray(pos, pos + s));
    pos += s;
  }
  return track;
}
