// The files of a model as layout detection sees them: relative '/'-separated paths, each readable
// whole or (where the container allows) by range, so that detection reads config files and ONNX
// headers but never a weight. The app builds this from the Files a user picked, the CLI from a
// folder, a zip or a lone .onnx on disk (src/cli/foreign-source.ts), tests from bytes.
import { readZip } from '../data/zip';
import { isSystemFile } from '../data/vfile';
import type { ByteSource } from './onnx-outline';

export interface ModelFile {
  /** Relative, '/'-separated. */
  path: string;
  size: number;
  read(): Promise<Uint8Array>;
  /** Bytes [offset, offset + length); absent where only whole reads are possible. */
  readRange?(offset: number, length: number): Promise<Uint8Array>;
}

/** A model's files by path. Build with fileSet(), which drops OS clutter and normalises paths. */
export type ModelFileSet = ReadonlyMap<string, ModelFile>;

/** Files by path; '\\' becomes '/', leading './' and '/' go, and OS metadata (.DS_Store, __MACOSX/) is dropped. */
export function fileSet(files: Iterable<ModelFile>): ModelFileSet {
  const out = new Map<string, ModelFile>();
  for (const f of files) {
    const path = f.path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');
    if (!path || path.endsWith('/') || isSystemFile(path)) continue;
    out.set(path, path === f.path ? f : { ...f, path });
  }
  return out;
}

/** Files already in memory (tests, a model just unpacked). */
export function fileSetFromBytes(files: Record<string, Uint8Array> | Iterable<[string, Uint8Array]>): ModelFileSet {
  const entries = Symbol.iterator in files ? [...(files as Iterable<[string, Uint8Array]>)] : Object.entries(files);
  return fileSet(entries.map(([path, bytes]) => memoryModelFile(path, bytes)));
}

export function memoryModelFile(path: string, bytes: Uint8Array): ModelFile {
  return { path, size: bytes.length, read: async () => bytes, readRange: async (o, n) => bytes.subarray(o, o + n) };
}

/** Files a user picked or dropped in the browser (paths from webkitRelativePath or the drop walk). */
export function fileSetFromBlobs(files: readonly { path: string; file: Blob }[]): ModelFileSet {
  return fileSet(
    files.map(({ path, file }) => ({
      path,
      size: file.size,
      read: async () => new Uint8Array(await file.arrayBuffer()),
      readRange: async (o: number, n: number) => new Uint8Array(await file.slice(o, o + n).arrayBuffer()),
    })),
  );
}

/**
 * The entries of a zip. Entries are inflated into memory as readZip does for datasets (a stored,
 * uncompressed entry could be read by range instead; not done yet). Limits allow a 2 GiB model.
 */
export async function fileSetFromZip(bytes: Uint8Array): Promise<ModelFileSet> {
  const { files } = await readZip(bytes, { limits: { maxFileBytes: 2 ** 31, maxImportBytes: 2 ** 32, maxFiles: 10_000 } });
  return fileSet(files);
}

/** Random access to one file: by range where it can, else through one whole read shared by all calls. */
export function byteSource(file: ModelFile): ByteSource {
  if (file.readRange) return { size: file.size, read: file.readRange.bind(file) };
  let whole: Promise<Uint8Array> | undefined;
  return {
    size: file.size,
    read: async (o, n) => (await (whole ??= file.read())).subarray(o, o + n),
  };
}

export async function readText(file: ModelFile): Promise<string> {
  return new TextDecoder().decode(await file.read());
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
