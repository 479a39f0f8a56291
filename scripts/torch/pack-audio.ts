// Packs NeMo manifests into one file python/earshot_torch/train.py trains from: every utterance
// decoded by our own decoder (WAV, FLAC, MP3, Ogg Opus, WebM) to 16 kHz mono, its transcript put
// through our text normalization and vocabulary. So PyTorch training sees exactly the audio and
// labels the app's training does, and needs no audio codecs of its own (PyTorch builds without
// torchaudio's decoders, as on the GPU machines, read it too).
//
// The file is in the safetensors layout: `audio` (all utterances back to back, 16-bit PCM, or 8-bit
// G.711 µ-law with --codec mulaw: half the size, quantization noise ~38 dB below the signal, well
// under the 10–35 dB noise the recipe adds anyway), `offsets` [n + 1] sample offsets, `labels` (all
// label ids back to back) and `label_offsets` [n + 1].
//
//   npx tsx scripts/torch/pack-audio.ts --manifest a.jsonl,b.jsonl --out train.pack [--codec pcm16|mulaw] [--max-mb 44] [--max-seconds 16]

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeMono, mulberry32 } from '../../src/audio';
import { normalizeText } from '../../src/asr/text-normalize';
import { DEFAULT_VOCAB, encodeText } from '../../src/asr/vocab';
import { readManifest } from '../../src/cli/eval';
import { shuffle } from '../../src/data/splits';

const RATE = 16000;

/** G.711 µ-law (ITU-T G.711, µ = 255) of a float sample in [−1, 1], as one byte (not bit-inverted). */
function mulaw(x: number): number {
  const s = Math.max(-1, Math.min(1, x));
  const y = (Math.sign(s) * Math.log1p(255 * Math.abs(s))) / Math.log1p(255);
  return Math.round((y + 1) * 127.5);
}

interface Utt {
  audio: Uint8Array | Int16Array;
  labels: Int32Array;
}

function safetensors(tensors: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }>, metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  json = padded;
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of Object.values(tensors)) {
    out.set(t.bytes, pos);
    pos += t.bytes.length;
  }
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export async function packAudio(o: { manifests: string[]; out: string; codec: 'pcm16' | 'mulaw'; maxMb?: number; maxSeconds: number; minSeconds: number; seed: number; log?: (s: string) => void }) {
  const rows = o.manifests.flatMap((m) => readManifest(resolve(m)));
  // under a size budget, a seeded sample of every manifest rather than the first ones
  const order = o.maxMb ? shuffle(rows, mulberry32(o.seed)) : rows;
  const budget = (o.maxMb ?? Infinity) * 2 ** 20;
  const bytesPerSample = o.codec === 'mulaw' ? 1 : 2;
  const utts: Utt[] = [];
  let used = 0;
  let skipped = 0;
  for (const r of order) {
    if (r.duration !== undefined && (r.duration > o.maxSeconds || r.duration < o.minSeconds)) {
      skipped++;
      continue;
    }
    const text = normalizeText(r.text);
    if (!text) {
      skipped++;
      continue;
    }
    let x = await decodeMono(new Uint8Array(readFileSync(r.path)), RATE, r.path);
    if (r.offset !== undefined) x = x.subarray(Math.round(r.offset * RATE), r.duration !== undefined ? Math.round((r.offset + r.duration) * RATE) : undefined);
    if (x.length > o.maxSeconds * RATE || x.length < o.minSeconds * RATE) {
      skipped++;
      continue;
    }
    const cost = x.length * bytesPerSample + 4 * (text.length + 2);
    if (used + cost > budget) break;
    used += cost;
    const audio = o.codec === 'mulaw' ? Uint8Array.from(x, mulaw) : Int16Array.from(x, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767));
    utts.push({ audio, labels: encodeText(DEFAULT_VOCAB, text) });
    if (utts.length % 500 === 0) o.log?.(`${utts.length} utterances packed`);
  }
  if (utts.length === 0) throw new Error(`no utterance of ${o.manifests.join(', ')} fits (${skipped} skipped: too long, too short or no text)`);
  const n = utts.length;
  const offsets = new Int32Array(n + 1);
  const labelOffsets = new Int32Array(n + 1);
  utts.forEach((u, i) => {
    offsets[i + 1] = offsets[i] + u.audio.length;
    labelOffsets[i + 1] = labelOffsets[i] + u.labels.length;
  });
  if (offsets[n] >= 2 ** 31 - 1) throw new Error('more than 37 hours in one pack: split the manifests');
  const audio = o.codec === 'mulaw' ? new Uint8Array(offsets[n]) : new Int16Array(offsets[n]);
  const labels = new Int32Array(labelOffsets[n]);
  utts.forEach((u, i) => {
    audio.set(u.audio as never, offsets[i]);
    labels.set(u.labels, labelOffsets[i]);
  });
  const file = safetensors(
    {
      audio: { dtype: o.codec === 'mulaw' ? 'U8' : 'I16', shape: [audio.length], bytes: bytesOf(audio) },
      offsets: { dtype: 'I32', shape: [n + 1], bytes: bytesOf(offsets) },
      labels: { dtype: 'I32', shape: [labels.length], bytes: bytesOf(labels) },
      label_offsets: { dtype: 'I32', shape: [n + 1], bytes: bytesOf(labelOffsets) },
    },
    { format: 'earshot-audio-pack', version: '1', codec: o.codec, sample_rate: String(RATE), manifests: o.manifests.join(','), vocab_size: String(DEFAULT_VOCAB.tokens.length) },
  );
  writeFileSync(o.out + '.tmp', file);
  renameSync(o.out + '.tmp', o.out);
  return { utterances: n, hours: offsets[n] / RATE / 3600, bytes: file.length, skipped };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values: a } = parseArgs({
    options: {
      manifest: { type: 'string' },
      out: { type: 'string' },
      codec: { type: 'string', default: 'pcm16' },
      'max-mb': { type: 'string' },
      'max-seconds': { type: 'string', default: '16' },
      'min-seconds': { type: 'string', default: '0.3' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!a.manifest || !a.out || (a.codec !== 'pcm16' && a.codec !== 'mulaw')) throw new Error('usage: pack-audio.ts --manifest a.jsonl[,b.jsonl] --out file.pack [--codec pcm16|mulaw] [--max-mb N]');
  const r = await packAudio({ manifests: a.manifest.split(','), out: a.out, codec: a.codec, maxMb: a['max-mb'] ? Number(a['max-mb']) : undefined, maxSeconds: Number(a['max-seconds']), minSeconds: Number(a['min-seconds']), seed: Number(a.seed), log: (s) => console.error(s) });
  console.log(JSON.stringify({ out: a.out, ...r }));
}
