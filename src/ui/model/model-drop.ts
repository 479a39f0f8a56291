// A model dropped on the Model panel: a folder (its files under their paths, onnx/model.onnx
// included: the layouts are told apart by them), a zip, or loose files such as an .onnx with its
// tokens.txt. The drop is read as the Data panel reads one (collect-files.ts); a model folder holds
// a handful of files, so a dropped folder's handles are walked here, in the page.
import type { FileRef } from '../../workers/asr-protocol';
import { groupsFromDrop } from '../data/collect-files';

type Handle = { kind: 'file'; name: string; getFile(): Promise<File> } | { kind: 'directory'; name: string; values(): AsyncIterable<Handle> };

async function walk(dir: Extract<Handle, { kind: 'directory' }>, prefix: string, out: FileRef[]): Promise<void> {
  for await (const h of dir.values()) {
    const path = `${prefix}/${h.name}`;
    if (h.kind === 'directory') await walk(h, path, out);
    else out.push({ path, file: await h.getFile() });
  }
}

/** Call from the drop handler (the DataTransfer is read before it returns). */
export async function modelFilesFromDrop(dt: DataTransfer): Promise<FileRef[]> {
  const out: FileRef[] = [];
  for (const g of await groupsFromDrop(dt)) {
    out.push(...g.files);
    for (const d of g.directories ?? []) await walk(d as unknown as Extract<Handle, { kind: 'directory' }>, d.name, out);
  }
  return out;
}
