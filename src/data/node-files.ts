// Node only (the CLI and tests): a folder or a zip on disk as the VirtualFile list the importer
// takes. The browser gets its files from drops and pickers instead (src/ui/data/collect-files.ts).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { VirtualFile } from './vfile';

/** Every file under `dir`, with paths starting at the folder's own name (as a dropped folder). */
export async function folderFiles(dir: string): Promise<VirtualFile[]> {
  return (await walkFolder(dir)).map((f) => diskFile(f.full, f.path, f.size));
}

/** Every file under `dir`: where it is on disk, its '/'-separated path starting at the folder's own name, its size. */
export async function walkFolder(dir: string): Promise<Array<{ full: string; path: string; size: number }>> {
  const root = join(dir, '..');
  const out: Array<{ full: string; path: string; size: number }> = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push({ full, path: relative(root, full).split(sep).join('/'), size: (await stat(full)).size });
    }
  };
  await walk(dir);
  return out;
}

/** One file on disk (a zip, say) under its base name. */
export async function diskFileAt(path: string): Promise<VirtualFile> {
  return diskFile(path, basename(path), (await stat(path)).size);
}

function diskFile(full: string, path: string, size: number): VirtualFile {
  return { path, size, read: async () => new Uint8Array(await readFile(full)) };
}
