// The speech model's training step as the benchmarks time it: the two configurations (what
// `earshot finetune` trains by default, and every parameter), a fixed synthetic batch, and the node
// count of the training graph CtcTrainer builds. Shared by bench:engine (node counts) and
// scripts/device/gpu-bench-node.ts (step times on a GPU).
import { DEFAULT_ARCH, subsampledLength, type ModelArch } from '../src/asr/model';
import { mulberry32 } from '../src/engine/testing/reference-encoder';
import type { TrainingGraph } from '../src/engine/train-graph';
import { measureFeatures } from '../src/runtime/measure';
import { adapterConfig, trainableFor } from '../src/train/adapters';
import { CtcTrainer, type CtcBatch, type CtcTrainerOptions } from '../src/train/ctc-trainer';
import { CLIP_NORM, DEFAULT_RECIPE, recipeOptimizer } from '../src/train/recipe';

export type SpeechStepKind = 'lora' | 'full';

export function speechStepOptions(kind: SpeechStepKind, arch: ModelArch = DEFAULT_ARCH): CtcTrainerOptions {
  if (kind === 'lora') {
    // the recipe's adapter, optimizer (AdamW with L2-SP decay) and clipping, as `earshot finetune` builds them
    const a = DEFAULT_RECIPE.adapter;
    return { arch, adapters: adapterConfig(a), trainable: trainableFor(a, arch), optimizer: recipeOptimizer(DEFAULT_RECIPE.l2sp), clipNorm: CLIP_NORM, seed: 1 };
  }
  // every parameter with plain AdamW, as the base model trains
  return { arch, optimizer: { kind: 'adamw' }, clipNorm: CLIP_NORM, seed: 1 };
}

/** Nodes of the training graph CtcTrainer compiles for one bucket shape (its `graphs` is private: it is what it builds). */
export function speechTrainingNodes(o: CtcTrainerOptions, batch: number, frames: number): number {
  const graphs = (CtcTrainer as unknown as { graphs(o: CtcTrainerOptions, b: number, t: number): { training: TrainingGraph } }).graphs;
  return graphs(o, batch, frames).training.graph.nodes.length;
}

/**
 * A fixed padded batch: deterministic log-mel-scale features, full lengths, and per item a random
 * label sequence of a third of the subsampled frames (feasible for CTC, so every step updates).
 */
export function syntheticSpeechBatch(arch: ModelArch, batch: number, frames: number, seed = 7): CtcBatch {
  const rand = mulberry32(seed);
  const labels = Math.max(1, Math.floor(subsampledLength(frames) / 3));
  const targets = Array.from({ length: batch }, () => Int32Array.from({ length: labels }, () => 1 + Math.floor(rand() * (arch.vocabSize - 1))));
  return { features: measureFeatures(batch * frames, arch.nMels), batch, frames, lengths: new Array(batch).fill(frames), targets };
}
