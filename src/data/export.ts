// A dataset back out as a zip: audio as stored (no re-encoding) under audio/, and one NeMo
// manifest per split (train_manifest.json, ...), which importDataset reads back with its splits.
import type { AudioFormat } from '../audio';
import type { Split, Utterance } from './model';
import type { DataStore } from './storage';
import { stem } from './vfile';
import { writeZip } from './zip';

const EXTENSION: Record<AudioFormat, string> = { wav: 'wav', flac: 'flac', mp3: 'mp3', 'ogg-opus': 'opus', 'webm-opus': 'webm' };

export async function exportDatasetZip(store: DataStore, datasetId: string, onProgress?: (done: number, total: number) => void): Promise<Uint8Array> {
  const utterances = await store.listUtterances(datasetId);
  const entries: { path: string; bytes: Uint8Array; compress?: boolean }[] = [];
  const manifests = new Map<Split, string[]>();
  const taken = new Set<string>();
  for (const [i, u] of utterances.entries()) {
    const path = uniqueName(u, taken);
    entries.push({ path, bytes: await store.getAudio(u.id) });
    const row: Record<string, unknown> = { audio_filepath: path, text: u.text, duration: round(u.duration) };
    if (u.offset !== undefined) row.offset = u.offset;
    if (u.speaker !== undefined) row.speaker = u.speaker;
    if (u.transcript !== u.text) row.transcript = u.transcript;
    const lines = manifests.get(u.split) ?? [];
    lines.push(JSON.stringify(row));
    manifests.set(u.split, lines);
    onProgress?.(i + 1, utterances.length);
  }
  for (const [split, lines] of manifests) entries.push({ path: `${split}_manifest.json`, bytes: new TextEncoder().encode(lines.join('\n') + '\n'), compress: true });
  return writeZip(entries);
}

function uniqueName(u: Utterance, taken: Set<string>): string {
  const base = stem(u.source).replace(/[^\w.-]+/g, '_') || 'utt';
  let name = `audio/${base}.${EXTENSION[u.audioFormat]}`;
  for (let k = 2; taken.has(name); k++) name = `audio/${base}-${k}.${EXTENSION[u.audioFormat]}`;
  taken.add(name);
  return name;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
