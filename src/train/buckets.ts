// Static-shape batches for training: every batch is padded to one of a few frame lengths and
// filled to that bucket's fixed batch size, so a run compiles one training graph per bucket it
// uses instead of one per distinct (batch, frames) pair. A last, partial batch of a bucket is
// filled with repeats of its own items (they weigh a little more that epoch; nothing is dropped).
import { mulberry32 } from '../audio';
import type { Example } from '../data/batching';
import { shuffle } from '../data/splits';
import type { CtcBatch } from './ctc-trainer';

/** Frame lengths a batch is padded to (10 ms frames: 1.28 s … 30.72 s). */
export const DEFAULT_BUCKETS: readonly number[] = [128, 256, 384, 512, 768, 1024, 1536, 2048, 3072];

export interface PlanItem {
  id: string;
  /** Feature frames of the item (before augmentation). */
  frames: number;
}

export interface BatchPlan {
  /** Padded frame length (a bucket). */
  frames: number;
  /** Exactly the bucket's batch size; `ids.slice(real)` are repeats that fill the static shape. */
  ids: string[];
  real: number;
}

export interface BucketOptions {
  /** Budget per batch in padded seconds: batch size × bucket length. */
  batchSeconds: number;
  buckets?: readonly number[];
  /** Room for speed perturbation: an item is bucketed as if it were this much longer (e.g. 1.12). */
  stretch?: number;
  framesPerSecond?: number;
}

export function bucketFor(frames: number, o: BucketOptions): number | undefined {
  const need = Math.ceil(frames * (o.stretch ?? 1));
  return (o.buckets ?? DEFAULT_BUCKETS).find((b) => need <= b);
}

export function batchSizeFor(bucket: number, o: BucketOptions): number {
  return Math.max(1, Math.floor((o.batchSeconds * (o.framesPerSecond ?? 100)) / bucket));
}

function group(items: readonly PlanItem[], o: BucketOptions): { byBucket: Map<number, string[]>; tooLong: string[] } {
  const byBucket = new Map<number, string[]>();
  const tooLong: string[] = [];
  for (const it of items) {
    const b = bucketFor(it.frames, o);
    if (b === undefined) tooLong.push(it.id);
    else byBucket.set(b, [...(byBucket.get(b) ?? []), it.id]);
  }
  return { byBucket, tooLong };
}

function chunk(frames: number, ids: string[], size: number): BatchPlan[] {
  const out: BatchPlan[] = [];
  for (let i = 0; i < ids.length; i += size) {
    const real = ids.slice(i, i + size);
    const filled = [...real];
    for (let k = 0; filled.length < size; k++) filled.push(real[k % real.length]);
    out.push({ frames, ids: filled, real: real.length });
  }
  return out;
}

/**
 * One epoch of training batches, shuffled under `seed` and the epoch number: the same arguments
 * give the same plan, so a resumed run continues exactly where it stopped.
 */
export function planEpoch(items: readonly PlanItem[], o: BucketOptions, seed: number, epoch: number): { batches: BatchPlan[]; tooLong: string[] } {
  const rand = mulberry32((seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0);
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : 1));
  const { byBucket, tooLong } = group(sorted, o);
  const batches: BatchPlan[] = [];
  for (const b of [...byBucket.keys()].sort((x, y) => x - y)) batches.push(...chunk(b, shuffle(byBucket.get(b)!, rand), batchSizeFor(b, o)));
  return { batches: shuffle(batches, rand), tooLong };
}

/** Validation batches in a fixed order (no shuffling, no augmentation). */
export function planValidation(items: readonly PlanItem[], o: BucketOptions): BatchPlan[] {
  const sorted = [...items].sort((a, b) => a.frames - b.frames || (a.id < b.id ? -1 : 1));
  const { byBucket } = group(sorted, { ...o, stretch: 1 });
  return [...byBucket.keys()].sort((x, y) => x - y).flatMap((b) => chunk(b, byBucket.get(b)!, batchSizeFor(b, o)));
}

/** Pads examples into a [batch, frames, nMels] CTC batch; an example longer than `frames` is cut. */
export function padBatch(examples: readonly Example[], frames: number): CtcBatch {
  const nMels = examples[0].nMels;
  const features = new Float32Array(examples.length * frames * nMels);
  const lengths = examples.map((e, b) => {
    const n = Math.min(e.frames, frames);
    features.set(e.features.subarray(0, n * nMels), b * frames * nMels);
    return n;
  });
  return { features, batch: examples.length, frames, lengths, targets: examples.map((e) => e.labels) };
}
