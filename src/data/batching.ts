// Batches by total audio duration with length bucketing: utterances of similar length share a
// batch, so little of each batch is padding, and the padded size (batch × longest) stays under a
// budget. Shuffled per epoch under a seed: the same seed and epoch give the same batches.
import { mulberry32 } from '../audio';
import { shuffle } from './splits';

export interface BatchItem {
  id: string;
  /** Seconds. */
  duration: number;
}

export interface BatchingOptions {
  /** Budget per batch in padded seconds: items × the longest item's duration. */
  maxBatchSeconds: number;
  /** Upper bound on items per batch, whatever their length. */
  maxBatchSize?: number;
  /** Length buckets (quantiles of duration); 1 turns bucketing off. */
  buckets?: number;
  seed: number;
}

/**
 * Every item exactly once per epoch. An item longer than the budget gets a batch of its own
 * rather than being dropped (the data report already refused clips over the length limit).
 */
export function makeBatches(items: readonly BatchItem[], opts: BatchingOptions, epoch: number): string[][] {
  // Mix the epoch into the seed (golden-ratio increment, as splitmix does) so epochs differ.
  const rand = mulberry32((opts.seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0);
  const sorted = [...items].sort((a, b) => a.duration - b.duration || (a.id < b.id ? -1 : 1));
  const nBuckets = Math.max(1, Math.min(opts.buckets ?? 8, sorted.length));
  const maxSize = opts.maxBatchSize ?? Infinity;
  const batches: string[][] = [];
  for (let b = 0; b < nBuckets; b++) {
    const bucket = shuffle(sorted.slice(Math.floor((b * sorted.length) / nBuckets), Math.floor(((b + 1) * sorted.length) / nBuckets)), rand);
    let current: string[] = [];
    let longest = 0;
    for (const item of bucket) {
      const nextLongest = Math.max(longest, item.duration);
      if (current.length > 0 && ((current.length + 1) * nextLongest > opts.maxBatchSeconds || current.length >= maxSize)) {
        batches.push(current);
        current = [];
        longest = 0;
      }
      current.push(item.id);
      longest = Math.max(longest, item.duration);
    }
    if (current.length) batches.push(current);
  }
  return shuffle(batches, rand);
}

export interface Example {
  /** Row-major frames × nMels. */
  features: Float32Array;
  frames: number;
  nMels: number;
  labels: Int32Array;
}

/** A padded batch, laid out for the model: features [B, T, nMels], mask [B, T], labels [B, L]. */
export interface Batch {
  size: number;
  frames: number;
  nMels: number;
  features: Float32Array;
  /** 1 on real frames, 0 on padding (float, as the WebGPU graph wants masks). */
  mask: Float32Array;
  frameLengths: Int32Array;
  labels: Int32Array;
  labelLengths: Int32Array;
  maxLabels: number;
}

/**
 * Pads examples to one shape. `padFramesTo` rounds the time axis up to a multiple, so a model
 * built for fixed shapes (static graphs, graph capture) sees few distinct lengths. Labels are
 * padded with `labelPad` (the CTC loss reads only labelLengths of each row).
 */
export function collate(examples: readonly Example[], opts: { padFramesTo?: number; labelPad?: number } = {}): Batch {
  if (examples.length === 0) throw new Error('collate: empty batch');
  const nMels = examples[0].nMels;
  const multiple = Math.max(1, opts.padFramesTo ?? 1);
  const longest = Math.max(...examples.map((e) => e.frames));
  const frames = Math.ceil(longest / multiple) * multiple;
  const maxLabels = Math.max(1, ...examples.map((e) => e.labels.length));
  const size = examples.length;
  const features = new Float32Array(size * frames * nMels);
  const mask = new Float32Array(size * frames);
  const labels = new Int32Array(size * maxLabels).fill(opts.labelPad ?? 0);
  const frameLengths = new Int32Array(size);
  const labelLengths = new Int32Array(size);
  examples.forEach((e, b) => {
    if (e.nMels !== nMels) throw new Error(`collate: example ${b} has ${e.nMels} mel channels, expected ${nMels}`);
    features.set(e.features.subarray(0, e.frames * nMels), b * frames * nMels);
    mask.fill(1, b * frames, b * frames + e.frames);
    labels.set(e.labels, b * maxLabels);
    frameLengths[b] = e.frames;
    labelLengths[b] = e.labels.length;
  });
  return { size, frames, nMels, features, mask, frameLengths, labels, labelLengths, maxLabels };
}

/** Transfer list for a batch posted from a worker: its buffers move instead of being copied. */
export function batchTransferables(b: Batch): ArrayBuffer[] {
  return [b.features, b.mask, b.frameLengths, b.labels, b.labelLengths].map((a) => a.buffer as ArrayBuffer);
}
