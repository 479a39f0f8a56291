// Test helpers for checking a graph against onnxruntime-node run plainly, as a tool that never
// heard of Earshot would run it.

import * as ort from 'onnxruntime-node';
import type { HostTensor } from '../../runtime/types';

/** The first output of plain onnxruntime-node (one thread) on an .onnx file or encoded model. */
export async function plainRun(model: string | Uint8Array, feeds: Record<string, HostTensor>): Promise<Float32Array> {
  const s = typeof model === 'string'
    ? await ort.InferenceSession.create(model, { intraOpNumThreads: 1 })
    : await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  try {
    const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)])));
    return out[s.outputNames[0]].data as Float32Array;
  } finally {
    await s.release();
  }
}

/** The largest absolute difference between `a` and `b`, relative to the largest magnitude in `b`. */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}
