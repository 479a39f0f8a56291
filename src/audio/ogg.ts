import { AudioDecodeError } from './errors';
import { ascii } from './sniff';

/*
 * Ogg demuxer (RFC 3533, https://www.rfc-editor.org/rfc/rfc3533): pages of up to 255 lacing
 * segments; a packet is a run of segments ending in one shorter than 255 bytes, and may continue
 * onto the next page. Only the first logical stream (by serial number) is read; pages of other
 * multiplexed or chained streams are skipped.
 */

export interface OggStream {
  packets: Uint8Array[];
  /** Granule position of the last page that has one (for Opus: 48 kHz samples incl. pre-skip). */
  lastGranule: number;
}

export function demuxOgg(bytes: Uint8Array): OggStream {
  const packets: Uint8Array[] = [];
  let partial: Uint8Array[] = []; // segments of a packet that continues past the current page
  let serial: number | undefined;
  let lastGranule = 0;
  let lastFlags = 0;
  let pos = 0;
  while (pos < bytes.length) {
    if (ascii(bytes, pos, 4) !== 'OggS') throw new AudioDecodeError('corrupt', `corrupt Ogg: no page capture pattern at byte ${pos}`, 'ogg-opus');
    if (pos + 27 > bytes.length) throw new AudioDecodeError('truncated', `truncated Ogg: file ends inside the page header at byte ${pos}`, 'ogg-opus');
    const nSeg = bytes[pos + 26];
    if (pos + 27 + nSeg > bytes.length) throw new AudioDecodeError('truncated', `truncated Ogg: file ends inside the segment table at byte ${pos}`, 'ogg-opus');
    let bodyLength = 0;
    for (let i = 0; i < nSeg; i++) bodyLength += bytes[pos + 27 + i];
    const pageLength = 27 + nSeg + bodyLength;
    if (pos + pageLength > bytes.length) {
      throw new AudioDecodeError('truncated', `truncated Ogg: page at byte ${pos} says ${pageLength} bytes, file has ${bytes.length - pos}`, 'ogg-opus');
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset + pos, 27);
    const pageSerial = view.getUint32(14, true);
    serial ??= pageSerial;
    if (pageSerial === serial) {
      const flags = bytes[pos + 5];
      lastFlags = flags;
      // 64-bit little-endian granule; all ones (-1) marks a page on which no packet ends.
      const lo = view.getUint32(6, true);
      const hi = view.getUint32(10, true);
      if (!(hi === 0xffffffff && lo === 0xffffffff)) lastGranule = hi * 2 ** 32 + lo;
      if (!(flags & 1)) partial = []; // not a continuation page: any dangling partial packet was lost
      let at = pos + 27 + nSeg;
      for (let i = 0; i < nSeg; i++) {
        const lace = bytes[pos + 27 + i];
        partial.push(bytes.subarray(at, at + lace));
        at += lace;
        if (lace < 255) {
          packets.push(partial.length === 1 ? partial[0] : concat(partial));
          partial = [];
        }
      }
    }
    pos += pageLength;
  }
  if (serial === undefined) throw new AudioDecodeError('empty', 'Ogg file has no pages', 'ogg-opus');
  if (!(lastFlags & 4)) throw new AudioDecodeError('truncated', 'truncated Ogg: the last page is not marked end-of-stream', 'ogg-opus');
  return { packets, lastGranule };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
