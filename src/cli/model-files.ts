// Reads a model directory from disk into the shape readModelDir validates.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_FILES, readModelDir, type LoadedModel } from '../asr/model-dir';

export function loadModelFromDisk(dir: string): LoadedModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`model directory ${dir} does not exist`);
  const files: Record<string, Uint8Array | undefined> = {};
  for (const f of MODEL_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) files[f] = new Uint8Array(readFileSync(p));
  }
  return readModelDir(files);
}
