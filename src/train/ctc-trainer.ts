// CTC training of the acoustic model, shared by the browser worker and the Node CLI.
// One step: forward graph → logits to the CPU → CTC loss and dLoss/dLogits (src/asr/ctc.ts) →
// training graph seeded with dLogits → backward + clipping + AdamW, state staying on the device.
// Batches are padded to length buckets, so every graph has static shapes; one training graph and
// one forward graph are compiled per bucket shape, all sharing one training state.

import { ctcLoss } from '../asr/ctc';
import { buildAcousticModel, subsampledLength, type AdapterConfig, type ModelArch, type Weights } from '../asr/model';
import type { OptimizerConfig } from '../engine/optim';
import { buildTrainingGraph, paramsAsInputs } from '../engine/train-graph';
import type { Checkpoint } from '../runtime/checkpoint';
import { Trainer } from '../runtime/trainer';
import type { Backend, HostTensor } from '../runtime/types';

export interface CtcBatch {
  /** [batch, frames, nMels], zero-padded past each item's length. */
  features: Float32Array;
  batch: number;
  frames: number;
  /** Valid feature frames per item. */
  lengths: number[];
  /** Label ids per item (no blanks). */
  targets: Int32Array[];
}

export interface CtcStepResult {
  loss: number;
  gradNorm: number;
  /** The step changed nothing: the loss or the gradient was not finite. */
  skipped: boolean;
  /** Items whose transcript cannot fit in their frames (they contribute nothing). */
  infeasible: number;
}

export interface CtcTrainerOptions {
  arch: ModelArch;
  adapters?: AdapterConfig;
  /** Starting weights (missing parameters are freshly initialised from `seed`). */
  weights?: Weights;
  seed?: number;
  /** Which parameters train (default: all). */
  trainable?: (name: string) => boolean;
  optimizer: OptimizerConfig;
  clipNorm?: number;
  blank?: number;
  /** Parameters and optimizer slots in a few flat buffers (default) or one tensor each (src/engine/train-graph.ts). */
  layout?: 'flat' | 'per-parameter';
  /** WebGPU in the browser: training graphs with onnxruntime's graph capture (TrainerOptions; off by default). */
  graphCapture?: boolean;
}

const key = (b: number, t: number) => `${b}x${t}`;

export class CtcTrainer {
  private constructor(
    readonly trainer: Trainer,
    private readonly o: CtcTrainerOptions,
    /** Weights of frozen parameters (the trained ones live in the trainer's state). */
    private readonly frozen: Weights,
  ) {}

  static async create(backend: Backend, o: CtcTrainerOptions, firstShape: { batch: number; frames: number }): Promise<CtcTrainer> {
    const { training, forward, frozen } = CtcTrainer.graphs(o, firstShape.batch, firstShape.frames);
    const trainer = await Trainer.create(backend, training, key(firstShape.batch, firstShape.frames), { graphCapture: o.graphCapture });
    await trainer.addForwardGraph(`fwd:${key(firstShape.batch, firstShape.frames)}`, forward);
    return new CtcTrainer(trainer, o, frozen);
  }

  private static graphs(o: CtcTrainerOptions, batch: number, frames: number) {
    const trainable = o.trainable ?? (() => true);
    const build = () => buildAcousticModel({ arch: o.arch, adapters: o.adapters, weights: o.weights, seed: o.seed, batch, frames, masked: true });
    const fwd = build();
    fwd.g.output(fwd.logits, 'logits');
    const trainedNames = [...fwd.g.params.keys()].filter(trainable);
    const forward = paramsAsInputs(fwd.g.build(), trainedNames);
    const frozen: Weights = new Map();
    for (const [name, p] of fwd.g.params) if (!trainable(name)) frozen.set(name, p.init.data as Float32Array);

    const m = build();
    const dlogits = m.g.input('dlogits', 'float32', m.logits.dims);
    const training = buildTrainingGraph(m.g, {
      seeds: [{ value: m.logits, grad: dlogits }],
      optimizer: o.optimizer,
      clipNorm: o.clipNorm,
      trainable,
      // no weight decay on biases and norm gains (rank-1 parameters), the usual practice
      decays: (name) => !name.endsWith('.bias') && !/norm/.test(name),
      layout: o.layout,
    });
    return { training, forward, frozen };
  }

  private async ensure(batch: number, frames: number): Promise<string> {
    const k = key(batch, frames);
    if (!this.trainer.has(k)) {
      const { training, forward } = CtcTrainer.graphs(this.o, batch, frames);
      await this.trainer.addTrainingGraph(k, training);
      await this.trainer.addForwardGraph(`fwd:${k}`, forward);
    }
    return k;
  }

  static mask(batch: number, frames: number, lengths: number[]): Float32Array {
    const tOut = subsampledLength(frames);
    const m = new Float32Array(batch * tOut);
    lengths.forEach((len, b) => m.fill(1, b * tOut, b * tOut + subsampledLength(len)));
    return m;
  }

  /** Logits [B, T/4, V] for a padded batch with the current weights. */
  async logits(b: CtcBatch): Promise<HostTensor> {
    const k = await this.ensure(b.batch, b.frames);
    const out = await this.trainer.forward(`fwd:${k}`, this.feeds(b));
    return out.logits;
  }

  private feeds(b: CtcBatch): Record<string, HostTensor> {
    const tOut = subsampledLength(b.frames);
    return {
      features: { dtype: 'float32', dims: [b.batch, b.frames, this.o.arch.nMels], data: b.features },
      mask: { dtype: 'float32', dims: [b.batch, tOut], data: CtcTrainer.mask(b.batch, b.frames, b.lengths) },
    };
  }

  async step(b: CtcBatch, lr: number): Promise<CtcStepResult> {
    const k = await this.ensure(b.batch, b.frames);
    const feeds = this.feeds(b);
    // GPU sync point: the logits come to the CPU for the CTC loss.
    const logits = (await this.trainer.forward(`fwd:${k}`, feeds)).logits;
    const [B, T, V] = logits.dims;
    const ctc = ctcLoss(
      { logits: logits.data as Float32Array, shape: [B, T, V], inputLengths: b.lengths.map(subsampledLength), targets: b.targets },
      { blank: this.o.blank ?? 0, reduction: 'mean_per_target_length', zeroInfinity: true },
    );
    const infeasible = ctc.infeasible.reduce((n, x) => n + x, 0);
    if (!Number.isFinite(ctc.loss) || infeasible === B) return { loss: ctc.loss, gradNorm: NaN, skipped: true, infeasible };
    const r = await this.trainer.step({ ...feeds, dlogits: { dtype: 'float32', dims: [B, T, V], data: ctc.grad as Float32Array } }, lr, k);
    return { loss: ctc.loss, gradNorm: r.gradNorm, skipped: r.skipped, infeasible };
  }

  /** All weights: frozen ones and the current values of the trained ones. */
  async weights(): Promise<Weights> {
    const out: Weights = new Map(this.frozen);
    for (const [name, w] of await this.trainer.parameters()) out.set(name, w);
    return out;
  }

  exportState(metadata?: Record<string, string>): Promise<Checkpoint> {
    return this.trainer.exportState(metadata);
  }

  importState(c: Checkpoint): void {
    this.trainer.importState(c);
  }

  get stepCount(): Promise<number> {
    return this.trainer.stepCount;
  }

  dispose(): Promise<void> {
    return this.trainer.dispose();
  }
}
