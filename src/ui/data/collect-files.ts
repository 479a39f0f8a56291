// Turning a drop or a file picker into import jobs. A dropped folder becomes one dataset, each
// dropped zip one dataset, and loose files together one more.
//
// Dropped folders go to the worker as File System Access handles where the browser has them
// (Chromium): handles are structured-cloneable, so the worker lists the folder and the page does
// no per-file work at all. Elsewhere the page walks FileSystemEntry trees (not cloneable) in small
// concurrent chunks. Either way the DataTransfer must be read synchronously inside the drop
// handler: it is emptied when the handler returns.
import type { FileRef } from '../../workers/data-protocol';

export interface ImportGroup {
  name: string;
  files: FileRef[];
  directories?: FileSystemDirectoryHandle[];
}

const stripExt = (name: string) => name.replace(/\.[^.]+$/, '');
const WALK_CHUNK = 32;

type HandleItem = DataTransferItem & { getAsFileSystemHandle?(): Promise<FileSystemHandle | null> };

/** Reads every file under a directory entry, following readEntries' batches of ~100. */
async function walk(entry: FileSystemEntry, out: FileRef[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return;
    // A few at a time: each file() is a round trip to the browser process, and thousands at once
    // make one long task of their callbacks. Order does not matter, the import sorts by path.
    for (let i = 0; i < batch.length; i += WALK_CHUNK) await Promise.all(batch.slice(i, i + WALK_CHUNK).map((child) => walk(child, out)));
  }
}

/** Call from the drop handler; everything is taken from the DataTransfer before the first await. */
export function groupsFromDrop(dt: DataTransfer): Promise<ImportGroup[]> {
  const items = Array.from(dt.items).filter((i) => i.kind === 'file') as HandleItem[];
  const useHandles = items.length > 0 && items.every((i) => typeof i.getAsFileSystemHandle === 'function');
  const handles = useHandles ? items.map((i) => i.getAsFileSystemHandle!()) : [];
  const entries = useHandles ? [] : items.map((i) => i.webkitGetAsEntry?.() ?? null);
  const plain = useHandles ? [] : items.map((i) => i.getAsFile());
  const fallback = items.length === 0 ? Array.from(dt.files) : [];
  return (async () => {
    const groups: ImportGroup[] = [];
    const loose: FileRef[] = fallback.map((file) => ({ path: file.name, file }));
    for (const h of await Promise.all(handles)) {
      if (!h) continue;
      if (h.kind === 'directory') groups.push({ name: h.name, files: [], directories: [h as FileSystemDirectoryHandle] });
      else loose.push({ path: h.name, file: await (h as FileSystemFileHandle).getFile() });
    }
    for (const [k, entry] of entries.entries()) {
      if (entry?.isDirectory) {
        const files: FileRef[] = [];
        await walk(entry, files);
        groups.push({ name: entry.name, files });
      } else if (entry) await walk(entry, loose);
      else if (plain[k]) loose.push({ path: plain[k]!.name, file: plain[k]! });
    }
    return [...groups, ...groupsFromLoose(loose)];
  })();
}

/** Zips stand alone; other loose files (a picked selection) form one group. */
function groupsFromLoose(loose: FileRef[]): ImportGroup[] {
  const groups: ImportGroup[] = [];
  const rest: FileRef[] = [];
  for (const ref of loose) {
    if (/\.zip$/i.test(ref.path)) groups.push({ name: stripExt(ref.path.split('/').pop() ?? ref.path), files: [ref] });
    else rest.push(ref);
  }
  if (rest.length) groups.push({ name: 'dropped files', files: rest });
  return groups;
}

/** From an <input type="file"> (with or without webkitdirectory). */
export function groupsFromInput(list: ArrayLike<File>): ImportGroup[] {
  const files = Array.from(list);
  const inFolder = files.length > 0 && files.every((f) => f.webkitRelativePath);
  if (inFolder) {
    const top = files[0].webkitRelativePath.split('/')[0];
    return [{ name: top, files: files.map((file) => ({ path: file.webkitRelativePath, file })) }];
  }
  return groupsFromLoose(files.map((file) => ({ path: file.name, file })));
}
