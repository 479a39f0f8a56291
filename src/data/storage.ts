// Durable storage in IndexedDB through idb (https://github.com/jakearchibald/idb). Four stores:
// datasets, utterance metadata, audio bytes (apart, so listing a dataset never loads its audio)
// and a feature cache keyed by audio hash + segment + front-end config. Works the same on the
// page and in a worker.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { FrontEndConfig } from '../audio';
import { formatBytes } from './limits';
import { newId, sha256Hex, type Dataset, type NewUtterance, type Split, type Utterance } from './model';

export const DB_NAME = 'earshot-data';
const DB_VERSION = 1;

export interface CachedFeatures {
  key: string;
  audioHash: string;
  data: Float32Array;
  frames: number;
  nMels: number;
  createdAt: number;
}

interface EarshotDataDb extends DBSchema {
  datasets: { key: string; value: Dataset };
  utterances: { key: string; value: Utterance; indexes: { byDataset: string; byHash: string } };
  audio: { key: string; value: Uint8Array };
  features: { key: string; value: CachedFeatures; indexes: { byHash: string } };
}

export interface DatasetUsage {
  id: string;
  name: string;
  bytes: number;
}

export interface StorageReport {
  /** What the browser counts against this origin (navigator.storage.estimate), if it says. */
  usage?: number;
  quota?: number;
  persisted?: boolean;
  datasets: DatasetUsage[];
  featureCacheBytes: number;
}

/** A write did not fit. Says how much is used and what deleting would free. */
export class StorageQuotaError extends Error {
  override readonly name = 'StorageQuotaError';
  constructor(readonly storage: StorageReport, cause?: unknown) {
    const { usage, quota, datasets, featureCacheBytes } = storage;
    const used = usage !== undefined && quota !== undefined ? `${formatBytes(usage)} of ${formatBytes(quota)} used` : 'the browser refused more data';
    const freeable = [...datasets].sort((a, b) => b.bytes - a.bytes).slice(0, 3).map((d) => `"${d.name}" (${formatBytes(d.bytes)})`);
    super(
      `Storage is full: ${used}. ` +
        (featureCacheBytes > 0 ? `Clearing the feature cache frees ${formatBytes(featureCacheBytes)}; ` : '') +
        (freeable.length ? `deleting ${freeable.join(', ')} frees their space.` : 'there is no dataset to delete.'),
      { cause },
    );
  }
}

function isQuotaError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: string }).name === 'QuotaExceededError';
}

/** Cache key for a front-end config: its canonical JSON (sorted keys), hashed. */
export async function configKey(cfg: FrontEndConfig): Promise<string> {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return (await sha256Hex(new TextEncoder().encode(JSON.stringify(canonical(cfg))))).slice(0, 16);
}

export function featureKey(utt: Pick<Utterance, 'audioHash' | 'offset' | 'duration'>, cfgKey: string): string {
  // A NeMo segment is its own cache entry; a whole file needs no offset.
  const segment = utt.offset !== undefined ? `@${utt.offset}+${utt.duration}` : '';
  return `${utt.audioHash}${segment}:${cfgKey}`;
}

/**
 * The array itself if it spans its whole buffer, else a copy: IndexedDB clones a typed array's
 * entire ArrayBuffer, so storing a small view into a big buffer would store the big buffer.
 */
export function ownBuffer<T extends Uint8Array | Float32Array>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

export class DataStore {
  private constructor(private readonly db: IDBPDatabase<EarshotDataDb>) {}

  static async open(name = DB_NAME): Promise<DataStore> {
    const db = await openDB<EarshotDataDb>(name, DB_VERSION, {
      upgrade(db) {
        db.createObjectStore('datasets', { keyPath: 'id' });
        const utts = db.createObjectStore('utterances', { keyPath: 'id' });
        utts.createIndex('byDataset', 'datasetId');
        utts.createIndex('byHash', 'audioHash');
        db.createObjectStore('audio');
        db.createObjectStore('features', { keyPath: 'key' }).createIndex('byHash', 'audioHash');
      },
    });
    return new DataStore(db);
  }

  close(): void {
    this.db.close();
  }

  /** Asks the browser not to evict our data under storage pressure. Undefined where unsupported. */
  static async requestPersistence(): Promise<boolean | undefined> {
    const storage = globalThis.navigator?.storage;
    if (!storage?.persist) return undefined;
    if (await storage.persisted()) return true;
    try {
      return await storage.persist();
    } catch {
      return false; // workers may not call persist(); the page asks instead
    }
  }

  async createDataset(init: Pick<Dataset, 'name' | 'format'> & Partial<Dataset>): Promise<Dataset> {
    const dataset: Dataset = {
      id: newId(),
      createdAt: Date.now(),
      utterances: 0,
      audioSeconds: 0,
      audioBytes: 0,
      splitSeed: 1,
      validationFraction: 0.1,
      ...init,
    };
    await this.guard(() => this.db.put('datasets', dataset));
    return dataset;
  }

  async updateDataset(id: string, patch: Partial<Omit<Dataset, 'id'>>): Promise<Dataset> {
    const tx = this.db.transaction('datasets', 'readwrite');
    const current = await tx.store.get(id);
    if (!current) throw new Error(`no dataset ${id}`);
    const next = { ...current, ...patch };
    await tx.store.put(next);
    await this.guard(() => tx.done);
    return next;
  }

  async listDatasets(): Promise<Dataset[]> {
    return (await this.db.getAll('datasets')).sort((a, b) => a.createdAt - b.createdAt);
  }

  getDataset(id: string): Promise<Dataset | undefined> {
    return this.db.get('datasets', id);
  }

  /**
   * Adds utterances (metadata and audio) in one transaction and updates the dataset's totals, so a
   * failed write leaves nothing half-stored. Utterances without a split go to 'train' until
   * splits are assigned.
   */
  async addUtterances(datasetId: string, batch: readonly NewUtterance[]): Promise<void> {
    if (batch.length === 0) return;
    const tx = this.db.transaction(['utterances', 'audio', 'datasets'], 'readwrite');
    const writes: Promise<unknown>[] = [];
    let seconds = 0;
    let bytes = 0;
    for (const { audio, split, ...meta } of batch) {
      writes.push(tx.objectStore('utterances').put({ ...meta, datasetId, split: split ?? 'train' }));
      writes.push(tx.objectStore('audio').put(ownBuffer(audio), meta.id));
      seconds += meta.duration;
      bytes += audio.byteLength;
    }
    const ds = await tx.objectStore('datasets').get(datasetId);
    if (!ds) {
      tx.abort();
      throw new Error(`no dataset ${datasetId}`);
    }
    writes.push(tx.objectStore('datasets').put({ ...ds, utterances: ds.utterances + batch.length, audioSeconds: ds.audioSeconds + seconds, audioBytes: ds.audioBytes + bytes }));
    await this.guard(() => Promise.all([...writes, tx.done]));
  }

  async listUtterances(datasetId: string): Promise<Utterance[]> {
    const list = await this.db.getAllFromIndex('utterances', 'byDataset', datasetId);
    return list.sort((a, b) => a.createdAt - b.createdAt || (a.source < b.source ? -1 : 1));
  }

  getUtterance(id: string): Promise<Utterance | undefined> {
    return this.db.get('utterances', id);
  }

  async getAudio(utteranceId: string): Promise<Uint8Array> {
    const bytes = await this.db.get('audio', utteranceId);
    if (!bytes) throw new Error(`no audio stored for utterance ${utteranceId}`);
    return bytes;
  }

  /** Sets one utterance's split by hand; re-splitting the dataset keeps it. */
  async setSplit(utteranceId: string, split: Split): Promise<void> {
    const tx = this.db.transaction('utterances', 'readwrite');
    const u = await tx.store.get(utteranceId);
    if (!u) throw new Error(`no utterance ${utteranceId}`);
    await tx.store.put({ ...u, split, splitLocked: true });
    await this.guard(() => tx.done);
  }

  /** Sets the split of many utterances by hand, in one transaction (a whole file or speaker); re-splitting keeps them. */
  async setSplits(utteranceIds: readonly string[], split: Split): Promise<void> {
    const tx = this.db.transaction('utterances', 'readwrite');
    for (const id of utteranceIds) {
      const u = await tx.store.get(id);
      if (!u) throw new Error(`no utterance ${id}`);
      await tx.store.put({ ...u, split, splitLocked: true });
    }
    await this.guard(() => tx.done);
  }

  /** Writes many splits at once (the output of assignSplits). */
  async writeSplits(splits: ReadonlyMap<string, Split>): Promise<void> {
    const tx = this.db.transaction('utterances', 'readwrite');
    for (const [id, split] of splits) {
      const u = await tx.store.get(id);
      if (u && u.split !== split) await tx.store.put({ ...u, split });
    }
    await this.guard(() => tx.done);
  }

  /**
   * Deletes a dataset, its utterances and audio, and cached features of audio no other dataset
   * holds. Returns the bytes freed (audio + features).
   */
  async deleteDataset(id: string): Promise<number> {
    const tx = this.db.transaction(['datasets', 'utterances', 'audio', 'features'], 'readwrite');
    const utts = tx.objectStore('utterances');
    const hashes = new Set<string>();
    let freed = 0;
    for (const key of await utts.index('byDataset').getAllKeys(id)) {
      const u = await utts.get(key);
      if (u) {
        hashes.add(u.audioHash);
        freed += u.audioBytes;
      }
      await utts.delete(key);
      await tx.objectStore('audio').delete(key);
    }
    for (const hash of hashes) {
      if ((await utts.index('byHash').count(hash)) > 0) continue;
      const features = tx.objectStore('features');
      for (const fk of await features.index('byHash').getAllKeys(hash)) {
        const f = await features.get(fk);
        freed += f?.data.byteLength ?? 0;
        await features.delete(fk);
      }
    }
    await tx.objectStore('datasets').delete(id);
    await tx.done;
    return freed;
  }

  getFeatures(key: string): Promise<CachedFeatures | undefined> {
    return this.db.get('features', key);
  }

  /** Many cache entries in one transaction (a training batch); missing ones are undefined. */
  async getFeaturesMany(keys: readonly string[]): Promise<(CachedFeatures | undefined)[]> {
    const tx = this.db.transaction('features');
    const out = await Promise.all(keys.map((k) => tx.store.get(k)));
    await tx.done;
    return out;
  }

  async putFeatures(entry: CachedFeatures): Promise<void> {
    await this.guard(() => this.db.put('features', { ...entry, data: ownBuffer(entry.data) }));
  }

  async clearFeatureCache(): Promise<void> {
    await this.db.clear('features');
  }

  /** Space per dataset and for the feature cache, and the browser's estimate for the origin. */
  async report(): Promise<StorageReport> {
    const datasets = (await this.listDatasets()).map((d) => ({ id: d.id, name: d.name, bytes: d.audioBytes }));
    let featureCacheBytes = 0;
    let cursor = await this.db.transaction('features').store.openCursor();
    while (cursor) {
      featureCacheBytes += cursor.value.data.byteLength;
      cursor = await cursor.continue();
    }
    const storage = globalThis.navigator?.storage;
    const estimate = storage?.estimate ? await storage.estimate().catch(() => undefined) : undefined;
    const persisted = storage?.persisted ? await storage.persisted().catch(() => undefined) : undefined;
    return { usage: estimate?.usage, quota: estimate?.quota, persisted, datasets, featureCacheBytes };
  }

  /** Runs a write; a quota failure becomes a StorageQuotaError that says what can be freed. */
  private async guard<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (e) {
      if (isQuotaError(e)) throw new StorageQuotaError(await this.report().catch(() => ({ datasets: [], featureCacheBytes: 0 })), e);
      throw e;
    }
  }
}
