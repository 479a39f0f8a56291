// Turning a drop or a file picker into import jobs. A dropped folder becomes one dataset, each
// dropped zip one dataset, and loose files together one more. Directory entries must be taken
// from the DataTransfer synchronously, inside the drop handler: the list is emptied afterwards.
import type { FileRef } from '../../workers/data-protocol';

export interface ImportGroup {
  name: string;
  files: FileRef[];
}

const stripExt = (name: string) => name.replace(/\.[^.]+$/, '');

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
    // Concurrently: each file() is a round trip to the browser process, and a folder may hold
    // thousands. Order does not matter, the import sorts by path.
    await Promise.all(batch.map((child) => walk(child, out)));
  }
}

/** Call from the drop handler; the entries are captured before the first await. */
export function groupsFromDrop(dt: DataTransfer): Promise<ImportGroup[]> {
  const entries: FileSystemEntry[] = [];
  const plain: File[] = [];
  for (const item of Array.from(dt.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) plain.push(f);
    }
  }
  if (entries.length === 0 && plain.length === 0) plain.push(...Array.from(dt.files));
  return (async () => {
    const groups: ImportGroup[] = [];
    const loose: FileRef[] = plain.map((file) => ({ path: file.name, file }));
    for (const entry of entries) {
      if (entry.isDirectory) {
        const files: FileRef[] = [];
        await walk(entry, files);
        groups.push({ name: entry.name, files });
      } else {
        const files: FileRef[] = [];
        await walk(entry, files);
        loose.push(...files);
      }
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
export function groupsFromInput(list: FileList): ImportGroup[] {
  const files = Array.from(list);
  const inFolder = files.length > 0 && files.every((f) => f.webkitRelativePath);
  if (inFolder) {
    const top = files[0].webkitRelativePath.split('/')[0];
    return [{ name: top, files: files.map((file) => ({ path: file.webkitRelativePath, file })) }];
  }
  return groupsFromLoose(files.map((file) => ({ path: file.name, file })));
}
