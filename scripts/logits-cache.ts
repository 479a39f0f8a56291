// The acoustic model's logits of a list of clips, kept on disk so that tuning or comparing decoders
// runs the model once per clip: [per clip: frame count, then frames × vocabulary float32 logits].
// Used by scripts/build-lm.ts and scripts/compare-decoders.ts; the cache file's name is the caller's
// (it must change with model.onnx and the clips).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoadedModel } from '../src/asr/model-dir';
import { Recognizer } from '../src/asr/recognizer';
import { decodeMono } from '../src/audio/decode';
import { nodeBackend } from '../src/runtime/node';

/**
 * Logits of `paths` under `model`: read from `file` when it holds exactly that many clips,
 * otherwise computed (onnxruntime-node, `threads`) and written there. `fresh` says which.
 */
export async function cachedLogits(model: LoadedModel, paths: readonly string[], file: string, threads?: number): Promise<{ logits: Float32Array[]; fresh: boolean }> {
  const V = model.vocab.tokens.length;
  if (existsSync(file)) {
    const buf = readFileSync(file);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const logits: Float32Array[] = [];
    let at = 0;
    for (let i = 0; i < paths.length && at < data.length; i++) {
      const frames = data[at++];
      logits.push(data.slice(at, at + frames * V));
      at += frames * V;
    }
    if (logits.length === paths.length && at === data.length) return { logits, fresh: false };
  }
  const rec = await Recognizer.create(nodeBackend(threads ? { threads } : {}), model);
  const logits: Float32Array[] = [];
  try {
    for (const path of paths) {
      const samples = await decodeMono(new Uint8Array(readFileSync(path)), model.config.frontEnd.sampleRate, path);
      logits.push((await rec.logits(samples)).data);
    }
  } finally {
    await rec.release();
  }
  const parts = logits.flatMap((l) => [Float32Array.of(l.length / V), l]);
  const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, all);
  return { logits, fresh: true };
}
