// Edits to stored utterances that the data layer's DataStore does not offer (yet): a corrected
// transcript and deleting one utterance. A small adapter over the same IndexedDB database
// (src/data/storage.ts owns its schema; this opens it without a version, so never upgrades it).
import { openDB } from 'idb';
import { normalizeText } from '../asr/text-normalize';
import type { Dataset, Utterance } from '../data/model';
import { DB_NAME } from '../data/storage';

async function open() {
  return openDB(DB_NAME);
}

export async function setTranscript(id: string, transcript: string): Promise<Utterance> {
  const db = await open();
  try {
    const tx = db.transaction('utterances', 'readwrite');
    const u = (await tx.store.get(id)) as Utterance | undefined;
    if (!u) throw new Error(`no utterance ${id}`);
    const next: Utterance = { ...u, transcript, text: normalizeText(transcript) };
    await tx.store.put(next);
    await tx.done;
    return next;
  } finally {
    db.close();
  }
}

/** Deletes one utterance and its audio, and takes it off its dataset's totals. */
export async function deleteUtterance(id: string): Promise<void> {
  const db = await open();
  try {
    const tx = db.transaction(['utterances', 'audio', 'datasets'], 'readwrite');
    const u = (await tx.objectStore('utterances').get(id)) as Utterance | undefined;
    if (!u) return;
    await tx.objectStore('utterances').delete(id);
    await tx.objectStore('audio').delete(id);
    const ds = (await tx.objectStore('datasets').get(u.datasetId)) as Dataset | undefined;
    if (ds) await tx.objectStore('datasets').put({ ...ds, utterances: ds.utterances - 1, audioSeconds: ds.audioSeconds - u.duration, audioBytes: ds.audioBytes - u.audioBytes });
    await tx.done;
  } finally {
    db.close();
  }
}
