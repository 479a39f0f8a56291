// Reading zip archives with fflate's streaming Unzip, chunk by chunk, so a large archive never has
// to be in memory twice and a zip bomb is stopped while it inflates, not after.
// https://github.com/101arrowz/fflate (UnzipInflate is synchronous: this runs inside the data worker).
import { Unzip, UnzipInflate, UnzipPassThrough, zipSync, type UnzipFile, type Zippable } from 'fflate';
import { DEFAULT_LIMITS, formatBytes, type ImportLimits } from './limits';
import { blobFile, isSystemFile, memoryFile, sanitizePath, type VirtualFile } from './vfile';

export interface ZipIssue {
  file: string;
  kind: 'unsafe-path' | 'file-too-large' | 'import-too-large' | 'zip-bomb' | 'ignored-file' | 'bad-zip';
  reason: string;
}

export interface ZipContents {
  files: VirtualFile[];
  issues: ZipIssue[];
}

type ZipLimits = Pick<ImportLimits, 'maxFileBytes' | 'maxImportBytes' | 'maxZipRatio' | 'ratioFloorBytes' | 'maxFiles'>;

/**
 * Unpacks a zip into in-memory VirtualFiles under `prefix/`. Entries with unsafe names, entries
 * too large or inflating suspiciously far, and entries beyond the import's total are refused with a
 * reason, and the rest still come through. Throws only when the archive itself is unreadable.
 */
export async function readZip(
  source: Uint8Array | AsyncIterable<Uint8Array>,
  options: { limits?: Partial<ZipLimits>; prefix?: string; signal?: AbortSignal } = {},
): Promise<ZipContents> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const files: VirtualFile[] = [];
  const issues: ZipIssue[] = [];
  let total = 0;
  let consumed = 0; // compressed bytes pushed so far
  let totalExceeded = false;
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.register(UnzipPassThrough);

  unzip.onfile = (entry: UnzipFile) => {
    const raw = entry.name;
    if (raw.endsWith('/')) return; // a folder entry: the files inside carry the path
    const refuse = (kind: ZipIssue['kind'], reason: string) => issues.push({ file: raw, kind, reason });
    const verdict = sanitizePath(raw);
    if (!verdict.ok) return refuse('unsafe-path', `unsafe path: the name ${verdict.reason}; entry skipped`);
    const path = options.prefix ? `${options.prefix}/${verdict.path}` : verdict.path;
    if (isSystemFile(verdict.path)) return refuse('ignored-file', 'operating-system metadata, not part of the dataset');
    if (totalExceeded) return refuse('import-too-large', `the import already holds ${formatBytes(total)}, the limit is ${formatBytes(limits.maxImportBytes)}`);
    if (files.length >= limits.maxFiles) return refuse('import-too-large', `more than ${limits.maxFiles} files in one import`);
    if (entry.compression !== 0 && entry.compression !== 8) return refuse('bad-zip', `compression method ${entry.compression} is not supported (only stored and deflate)`);
    // The header's sizes may lie (or be absent in streamed archives): they allow an early refusal
    // but every byte is still counted as it inflates.
    if (entry.originalSize !== undefined && entry.originalSize > limits.maxFileBytes) {
      return refuse('file-too-large', `${formatBytes(entry.originalSize)} uncompressed, over the per-file limit of ${formatBytes(limits.maxFileBytes)}`);
    }
    if (entry.size !== undefined && entry.originalSize !== undefined && entry.originalSize > limits.ratioFloorBytes &&
        entry.originalSize / Math.max(entry.size, 1) > limits.maxZipRatio) {
      return refuse('zip-bomb', `zip bomb suspected: ${formatBytes(entry.size)} inflates to ${formatBytes(entry.originalSize)} (${Math.round(entry.originalSize / Math.max(entry.size, 1))}×, limit ${limits.maxZipRatio}×)`);
    }
    const chunks: Uint8Array[] = [];
    let produced = 0;
    let stopped = false;
    entry.ondata = (err, chunk, final) => {
      if (stopped) return;
      if (err) {
        stopped = true;
        return refuse('bad-zip', `cannot inflate: ${err.message}`);
      }
      produced += chunk.length;
      total += chunk.length;
      const stop = (kind: ZipIssue['kind'], reason: string) => {
        stopped = true;
        total -= produced;
        entry.terminate();
        refuse(kind, reason);
      };
      if (produced > limits.maxFileBytes) return stop('file-too-large', `over the per-file limit of ${formatBytes(limits.maxFileBytes)} uncompressed`);
      const compressed = entry.size;
      if (compressed !== undefined && produced > limits.ratioFloorBytes && produced / Math.max(compressed, 1) > limits.maxZipRatio) {
        return stop('zip-bomb', `zip bomb suspected: ${formatBytes(compressed)} inflates past ${formatBytes(produced)} (limit ${limits.maxZipRatio}×)`);
      }
      // Archives written as a stream carry no sizes in their local headers: then the ratio is
      // taken over the whole archive, everything inflated so far against everything read so far.
      if (compressed === undefined && produced > limits.ratioFloorBytes && total / Math.max(consumed, 1) > limits.maxZipRatio) {
        return stop('zip-bomb', `zip bomb suspected: the archive inflates past ${Math.round(total / Math.max(consumed, 1))}× its size so far (limit ${limits.maxZipRatio}×)`);
      }
      if (total > limits.maxImportBytes) {
        totalExceeded = true;
        return stop('import-too-large', `uncompressed total passes the import limit of ${formatBytes(limits.maxImportBytes)}`);
      }
      chunks.push(chunk);
      // Large entries become Blobs, which the browser may keep on disk, so a big archive need
      // not fit in the worker's memory once unpacked; small ones stay arrays (a Blob each costs).
      if (final) files.push(produced > BLOB_THRESHOLD ? blobFile(path, new Blob(chunks as Uint8Array<ArrayBuffer>[])) : memoryFile(path, concat(chunks, produced)));
    };
    entry.start();
  };

  try {
    if (source instanceof Uint8Array) {
      // Feed in slices so the abort signal and the limits are checked as we go.
      const step = 1 << 20;
      for (let i = 0; i < source.length || i === 0; i += step) {
        options.signal?.throwIfAborted();
        const chunk = source.subarray(i, i + step);
        consumed += chunk.length;
        unzip.push(chunk, i + step >= source.length);
        if (i + step >= source.length) break;
      }
    } else {
      let pending: Uint8Array | undefined;
      for await (const chunk of source) {
        options.signal?.throwIfAborted();
        if (pending) {
          consumed += pending.length;
          unzip.push(pending, false);
        }
        pending = chunk;
      }
      consumed += pending?.length ?? 0;
      unzip.push(pending ?? new Uint8Array(0), true);
    }
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new Error(`not a readable zip archive: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { files, issues };
}

const BLOB_THRESHOLD = 256 * 1024;

const exact = (a: Uint8Array) => (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice());

/** One array of its own: a view into fflate's or the stream's buffer would pin (and, once
 * stored in IndexedDB, copy) the whole buffer behind it. */
function concat(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return exact(chunks[0]);
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Chunks of a Blob as a stream, for `readZip` (the zip is never read into one buffer). */
export async function* blobChunks(blob: Blob): AsyncIterable<Uint8Array> {
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

/** Writes a zip. Audio is stored as is (it is already compressed or barely compresses); text is deflated. */
export function writeZip(entries: { path: string; bytes: Uint8Array; compress?: boolean }[]): Uint8Array {
  const tree: Zippable = {};
  for (const e of entries) tree[e.path] = [e.bytes, { level: e.compress ? 6 : 0 }];
  return zipSync(tree);
}
