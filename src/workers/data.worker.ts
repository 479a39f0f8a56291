/// <reference lib="webworker" />
// The data worker: zip reading, decoding, validation, IndexedDB writes and feature extraction all
// happen here, so the page only draws progress. Requests and replies follow data-protocol.ts.
import { DEFAULT_FRONTEND, decodeMono } from '../audio';
import { exportDatasetZip } from '../data/export';
import { FeatureSource } from '../data/features';
import { fileStem } from '../data/file-name';
import { importDataset, type ImportFile } from '../data/import';
import type { NewUtterance } from '../data/model';
import { assignSplits, drawnSplitNote } from '../data/splits';
import { DataStore, StorageQuotaError } from '../data/storage';
import { blobChunks } from '../data/zip';
import { PROGRESS_INTERVAL_MS, type DataApi, type DataMethod, type DataRequest, type DataResponse, type FileRef } from './data-protocol';

declare const self: DedicatedWorkerGlobalScope;

const jobs = new Map<number, AbortController>();
let storePromise: Promise<DataStore> | undefined;
const store = () => (storePromise ??= DataStore.open());

type Handler<K extends DataMethod> = (
  args: DataApi[K]['args'],
  ctx: { signal: AbortSignal; progress(p: DataApi[K]['progress']): void; transfer: Transferable[] },
) => Promise<DataApi[K]['result']>;

// Writes go to IndexedDB in batches: one transaction per utterance would dominate a large import.
const WRITE_BATCH_ITEMS = 64;
const WRITE_BATCH_BYTES = 16 * 2 ** 20;

const handlers: { [K in DataMethod]: Handler<K> } = {
  async import(args, { signal, progress }) {
    const db = await store();
    const refs = [...args.files];
    for (const dir of args.directories ?? []) await walkDirectory(dir, dir.name, refs);
    const files: ImportFile[] = refs.map(({ path, file }) => ({
      path,
      size: file.size,
      read: async () => new Uint8Array(await file.arrayBuffer()),
      stream: () => blobChunks(file),
    }));
    const seed = args.splitSeed ?? 1;
    const validationFraction = args.validationFraction ?? 0.1;
    const dataset = await db.createDataset({ name: args.name ?? 'dataset', format: undefined, splitSeed: seed, validationFraction });
    let buffer: NewUtterance[] = [];
    let bufferBytes = 0;
    let sourceValidation = false;
    // One write in flight while the next batch is decoded: storage and CPU work overlap.
    let inflight: Promise<void> = Promise.resolve();
    const flush = async () => {
      const batch = buffer;
      buffer = [];
      bufferBytes = 0;
      await inflight;
      inflight = db.addUtterances(dataset.id, batch);
    };
    try {
      const { report } = await importDataset(files, {
        name: args.name,
        limits: args.limits,
        signal,
        onProgress: progress,
        async sink(u) {
          if (u.split === 'validation') sourceValidation = true;
          buffer.push(u);
          bufferBytes += u.audio.byteLength;
          if (buffer.length >= WRITE_BATCH_ITEMS || bufferBytes >= WRITE_BATCH_BYTES) await flush();
        },
      });
      await flush();
      await inflight;
      if (report.cancelled || report.accepted === 0) {
        // Nothing half-imported is left behind; the report still says what happened.
        await db.deleteDataset(dataset.id);
        return { datasetId: undefined, report };
      }
      // A layout that names its validation split (eval.jsonl, dev.tsv, dev-clean/) is kept as it is.
      let bySpeaker: boolean | undefined;
      if (!sourceValidation) {
        const drawn = assignSplits(await db.listUtterances(dataset.id), { seed, validationFraction });
        await db.writeSplits(drawn.splits);
        bySpeaker = drawn.bySpeaker;
        report.splitNote = drawnSplitNote(drawn.splits, drawn.bySpeaker, seed);
      } else report.splitNote = 'Validation is what the data names as held out (see above); the rest is training data.';
      await db.updateDataset(dataset.id, { name: report.datasetName, format: report.format, report });
      return { datasetId: dataset.id, report, bySpeaker };
    } catch (e) {
      await db.deleteDataset(dataset.id).catch(() => undefined);
      throw e;
    }
  },

  async features(args, { signal, progress }) {
    const db = await store();
    const source = new FeatureSource(db, args.config ?? DEFAULT_FRONTEND);
    const utts = await db.listUtterances(args.datasetId);
    let computeMs = 0;
    let computedSeconds = 0;
    let audioSeconds = 0;
    let cacheHits = 0;
    const t0 = performance.now();
    // In chunks: cache hits of a chunk are read in one transaction, as a batch loader would.
    const CHUNK = 32;
    for (let i = 0; i < utts.length; i += CHUNK) {
      signal.throwIfAborted();
      const chunk = utts.slice(i, i + CHUNK);
      const t = performance.now();
      const { hit } = await source.featuresMany(chunk);
      const elapsed = performance.now() - t;
      chunk.forEach((u, k) => {
        audioSeconds += u.duration;
        if (hit[k]) cacheHits++;
        else computedSeconds += u.duration;
      });
      // A chunk with any miss counts as compute time (its few cache reads are a rounding error).
      if (hit.includes(false)) computeMs += elapsed;
      progress({ phase: 'features', done: Math.min(utts.length, i + CHUNK), total: utts.length, audioSeconds, elapsedMs: performance.now() - t0 });
    }
    return { utterances: utts.length, audioSeconds, computeMs, cacheHits, realTimeFactor: computeMs > 0 ? computedSeconds / (computeMs / 1000) : Infinity };
  },

  async export(args, { progress, transfer }) {
    const db = await store();
    const ds = await db.getDataset(args.datasetId);
    if (!ds) throw new Error(`no dataset ${args.datasetId}`);
    const zip = await exportDatasetZip(db, args.datasetId, (done, total) => progress({ phase: 'export', done, total }));
    const buffer = zip.byteOffset === 0 && zip.byteLength === zip.buffer.byteLength ? (zip.buffer as ArrayBuffer) : (zip.slice().buffer as ArrayBuffer);
    transfer.push(buffer);
    return { zip: buffer, fileName: `${fileStem(ds.name, 'dataset')}.zip` };
  },

  async delete(args) {
    return { freedBytes: await (await store()).deleteDataset(args.datasetId) };
  },

  async resplit(args) {
    const db = await store();
    const utts = await db.listUtterances(args.datasetId);
    const { splits, bySpeaker } = assignSplits(utts, args);
    await db.writeSplits(splits);
    await db.updateDataset(args.datasetId, { splitSeed: args.seed, validationFraction: args.validationFraction });
    const validation = [...splits.values()].filter((s) => s === 'validation').length;
    return { validation, train: [...splits.values()].filter((s) => s === 'train').length, bySpeaker };
  },

  async decode(args, { transfer }) {
    const samples = await decodeMono(new Uint8Array(args.bytes), args.sampleRate, args.name);
    transfer.push(samples.buffer as ArrayBuffer);
    return { samples };
  },
};

// The parts of the File System Access API the walk uses (https://fs.spec.whatwg.org/).
type Handle = { kind: 'file'; name: string; getFile(): Promise<File> } | { kind: 'directory'; name: string; values(): AsyncIterable<Handle> };

async function walkDirectory(dir: FileSystemDirectoryHandle, prefix: string, out: FileRef[]): Promise<void> {
  const pending: Promise<void>[] = [];
  for await (const h of (dir as unknown as Extract<Handle, { kind: 'directory' }>).values()) {
    const path = `${prefix}/${h.name}`;
    if (h.kind === 'directory') pending.push(walkDirectory(h as unknown as FileSystemDirectoryHandle, path, out));
    else pending.push(h.getFile().then((file) => void out.push({ path, file })));
  }
  await Promise.all(pending);
}

const post = (msg: DataResponse, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

self.onmessage = async (event: MessageEvent<DataRequest>) => {
  const req = event.data;
  if (req.kind === 'cancel') {
    jobs.get(req.job)?.abort();
    return;
  }
  const controller = new AbortController();
  jobs.set(req.job, controller);
  let last = 0;
  let pending: unknown;
  const transfer: Transferable[] = [];
  const ctx = {
    signal: controller.signal,
    transfer,
    progress(p: unknown) {
      // Throttled: the page gets at most one event per interval, plus the final state.
      pending = p;
      const now = performance.now();
      if (now - last >= PROGRESS_INTERVAL_MS) {
        last = now;
        post({ kind: 'progress', job: req.job, progress: p as never });
        pending = undefined;
      }
    },
  };
  try {
    const handler = handlers[req.method] as Handler<DataMethod>;
    const result = await handler(req.args as never, ctx as never);
    if (pending !== undefined) post({ kind: 'progress', job: req.job, progress: pending as never });
    post({ kind: 'result', job: req.job, result }, transfer);
  } catch (e) {
    post({
      kind: 'error',
      job: req.job,
      message: e instanceof Error ? e.message : String(e),
      quota: e instanceof StorageQuotaError ? e.storage : undefined,
      cancelled: controller.signal.aborted,
    });
  } finally {
    jobs.delete(req.job);
  }
};
