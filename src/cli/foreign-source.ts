// Node only: what `--model <folder|zip|.onnx>` names, as the file set layout detection reads.
// Files on disk are read by range, so detection reads headers and config files, not weights.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { walkFolder } from '../data/node-files';
import { fileSet, fileSetFromZip, type ModelFile, type ModelFileSet } from '../foreign/files';

export interface DiskModel {
  files: ModelFileSet;
  /** When an .onnx file was named: its path in `files`, to pass as DetectOptions.onnx. */
  onnx?: string;
}

/**
 * A folder (every file under it, paths starting at the folder's name), a zip (its entries), or an
 * .onnx file with the files beside it (tokens.txt, config.json… — not the folders around it).
 */
export async function modelFilesFromDisk(path: string): Promise<DiskModel> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new Error(`${path} does not exist`);
  if (info.isDirectory()) {
    return { files: fileSet((await walkFolder(path)).map((f) => diskModelFile(f.full, f.path, f.size))) };
  }
  if (path.toLowerCase().endsWith('.zip')) return { files: await fileSetFromZip(new Uint8Array(await readFile(path))) };
  if (path.toLowerCase().endsWith('.onnx')) {
    const dir = dirname(path);
    const siblings = await readdir(dir, { withFileTypes: true });
    const out = await Promise.all(siblings.filter((e) => e.isFile()).map(async (e) => diskModelFile(join(dir, e.name), e.name, (await stat(join(dir, e.name))).size)));
    return { files: fileSet(out), onnx: basename(path) };
  }
  throw new Error(`${path} is neither a folder, a zip nor an .onnx file`);
}

function diskModelFile(full: string, path: string, size: number): ModelFile {
  return {
    path,
    size,
    read: async () => new Uint8Array(await readFile(full)),
    readRange: async (offset, length) => {
      const handle = await open(full, 'r');
      try {
        const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
        return buf.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}
