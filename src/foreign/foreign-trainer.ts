// Fine-tuning and running a CTC model someone else exported (wav2vec2 / HuBERT from Optimum, NeMo
// Conformer-CTC from sherpa-onnx), through the same runtime layer as the native model.
//
// One step is what CtcTrainer does for ours: forward graph → scores to the CPU → CTC loss with the
// model's blank and dLoss/dScores → training graph seeded with dScores → backward + clipping +
// AdamW, state on the device. The graphs come from the imported file: dequantised if it is int8
// (engine/dequantize.ts), made static per bucket shape (engine/static-graph.ts), LoRA injected into
// the projections the user picked (engine/lora-inject.ts). Base weights stay frozen initializers.
//
// Scores may be logits or log-probabilities (NeMo exports end in log_softmax): ctcLoss normalises
// its input with log_softmax, which leaves log-probabilities unchanged, so the loss is the same; its
// gradient softmax(s) − γ differs from the direct one (−γ) by softmax(s), which the graph's own
// log_softmax maps to zero on the way back (Jᵀp = p − p·Σp = 0). foreign-trainer.test checks this.

import { ctcLoss } from '../asr/ctc';
import type { ScoreKind } from '../asr/decode';
import { GraphBuilder } from '../engine/builder';
import { dequantizeModel, isQuantized } from '../engine/dequantize';
import type { Model, TensorConst } from '../engine/ir';
import { injectLora, isLoraParam, mergeLora, type LoraAdapter, type LoraConfig } from '../engine/lora-inject';
import { encodeModel, makeModel } from '../engine/onnx-proto';
import type { OptimizerConfig } from '../engine/optim';
import { prepareStatic, staticOutputDims } from '../engine/static-graph';
import { buildTrainingGraph, paramsAsInputs } from '../engine/train-graph';
import type { Checkpoint } from '../runtime/checkpoint';
import { Trainer } from '../runtime/trainer';
import type { Backend, DeviceTensor, HostTensor, Session } from '../runtime/types';
import type { CtcStepResult } from '../train/ctc-trainer';

export interface ForeignTrainerOptions {
  /** The decoded ONNX model as imported (int8 models are dequantised first). */
  model: Model;
  /** The CTC blank's id in the model's vocabulary. */
  blank: number;
  /** What the model's output holds; CTC treats both alike (see the file comment). */
  scores: ScoreKind;
  /** The scores output (default: the graph's first output). */
  output?: string;
  /** LoRA on the chosen projections; without it, only `trainable` weights train. */
  lora?: LoraConfig;
  /** Base initializers to train in full as well (e.g. the CTC head), by name. */
  trainable?: (initializer: string) => boolean;
  optimizer: OptimizerConfig;
  clipNorm?: number;
  layout?: 'flat' | 'per-parameter';
  /**
   * Frozen weights of at least this many elements (default 4096; Infinity: none) become graph
   * inputs, put on the device once and fed to every graph (each bucket's forward and training
   * graph), instead of initializers that every session holds its own copy of. On wav2vec2-base
   * (95 M parameters, onnxruntime-node CPU) that took the trainer from 3.0 GB to 0.9 GB resident
   * and its first bucket's sessions from 25 s to 0.9 s to create, at the same step time.
   */
  shareFrozenAbove?: number;
}

/** One padded batch in the model's own input format. */
export interface ForeignBatch {
  /** The model's inputs (input_values [B, S]; or audio_signal [B, 80, T] and length [B] int64). */
  inputs: Record<string, HostTensor>;
  /** Valid output frames per item (see `outputFrames`). */
  outputLengths: number[];
  /** Token ids per item, no blanks. */
  targets: Int32Array[];
}

const SEED_INPUT = 'dscores';
const keyOf = (inputs: Record<string, { dims: readonly number[] }>) =>
  Object.keys(inputs).sort().map((k) => `${k}=${inputs[k].dims.join('x')}`).join(',');
const dimsOf = (inputs: Record<string, { dims: readonly number[] }>) => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, [...v.dims]]));

/** The float model a quantised import trains and exports as (the model itself when already float). */
export function floatModel(model: Model): Model {
  return isQuantized(model) ? dequantizeModel(model).model : model;
}

export class ForeignCtcTrainer {
  private readonly frames = new Map<string, number>();
  /** Frozen weights fed to every graph (shareFrozenAbove), uploaded once. */
  private readonly shared = new Map<string, DeviceTensor>();
  /** Identity sessions (one per rank) that copy shared weights to the GPU. */
  private readonly copiers = new Map<number, Session>();

  private constructor(
    readonly trainer: Trainer,
    /** The float model graphs are made from, and adapters merge into. */
    readonly base: Model,
    private readonly o: ForeignTrainerOptions,
    readonly adapters: LoraAdapter[],
    readonly output: string,
  ) {}

  /** Builds and compiles the graphs for the first bucket (`first`: an example of the model's inputs, or their dims). */
  static async create(backend: Backend, o: ForeignTrainerOptions, first: Record<string, { dims: readonly number[] }>): Promise<ForeignCtcTrainer> {
    const base = floatModel(o.model);
    const output = o.output ?? base.graph.outputs[0].name;
    const { training, forward, adapters, shared } = ForeignCtcTrainer.graphs(base, o, output, dimsOf(first));
    const k = keyOf(first);
    const trainer = await Trainer.create(backend, training, k);
    await trainer.addForwardGraph(`fwd:${k}`, forward);
    const t = new ForeignCtcTrainer(trainer, base, o, adapters, output);
    await t.upload(shared);
    return t;
  }

  /**
   * Shared frozen weights where the sessions read them. On a device-resident backend (WebGPU) each
   * is copied to the GPU once, by an Identity session whose output stays there (a host tensor fed
   * to every run would be uploaded again every run); elsewhere the host array itself is fed.
   */
  private async upload(weights: TensorConst[]): Promise<void> {
    const backend = this.trainer.backend;
    const onDevice = /webgpu/.test(backend.info.name);
    for (const w of weights) {
      if (this.shared.has(w.name)) continue;
      const host: HostTensor = { dtype: w.dtype, dims: [...w.dims], data: w.data as Float32Array };
      if (!onDevice) {
        this.shared.set(w.name, backend.toDevice(host));
        continue;
      }
      let copy = this.copiers.get(w.dims.length);
      if (!copy) {
        const dims = w.dims.map((_, i) => `d${i}`);
        const graph = { name: 'upload', nodes: [{ opType: 'Identity', domain: '', name: 'copy', inputs: ['x'], outputs: ['y'], attrs: {} }], inputs: [{ name: 'x', dtype: 'float32' as const, shape: dims }], outputs: [{ name: 'y', dtype: 'float32' as const, shape: dims }], initializers: [], valueInfo: [] };
        copy = await backend.createSession(encodeModel(makeModel(graph)), ['y']);
        this.copiers.set(w.dims.length, copy);
      }
      // GPU sync point, once per weight: the upload
      this.shared.set(w.name, (await copy.run({ x: host }, { keepOnDevice: ['y'] })).device.y);
    }
  }

  /** Where the shared frozen weights live, by count (e.g. { 'gpu-buffer': 30 } on WebGPU). */
  sharedLocations(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.shared.values()) out[t.location] = (out[t.location] ?? 0) + 1;
    return out;
  }

  /** The batch plus the shared frozen weights. */
  private feeds(inputs: Record<string, HostTensor>): Record<string, HostTensor | DeviceTensor> {
    return this.shared.size ? { ...inputs, ...Object.fromEntries(this.shared) } : inputs;
  }

  private static trained(o: ForeignTrainerOptions) {
    return (name: string) => isLoraParam(name) || (o.trainable?.(name) ?? false);
  }

  private static graphs(base: Model, o: ForeignTrainerOptions, output: string, dims: Record<string, number[]>) {
    const trained = ForeignCtcTrainer.trained(o);
    const { graph: prepared } = prepareStatic(base, { inputs: dims, keep: o.trainable });
    const { graph: adapted, adapters } = o.lora ? injectLora(prepared, o.lora) : { graph: prepared, adapters: [] };
    // Only the file's own weights are shared (prepareStatic passes them through by reference): a
    // constant folded for this bucket (NeMo's relative position table sliced to 2T − 1) has the
    // same name in every bucket but not the same shape, and must stay this graph's own.
    const original = new Map(base.graph.initializers.map((t) => [t.name, t.data]));
    const shared = adapted.initializers.filter((t) => !trained(t.name) && t.dtype === 'float32' && t.data.length >= (o.shareFrozenAbove ?? 4096) && original.get(t.name) === t.data);
    const graph = shared.length ? paramsAsInputs(adapted, shared.map((t) => t.name)) : adapted;
    const forward = paramsAsInputs(graph, graph.initializers.filter((t) => trained(t.name)).map((t) => t.name));
    forward.outputs = forward.outputs.filter((v) => v.name === output);

    const g = GraphBuilder.fromGraph(graph, trained);
    g.outputs.splice(0); // the scores go to the CPU from the forward graph; the step needs only their gradient
    const scores = g.value(output);
    const dscores = g.input(SEED_INPUT, 'float32', scores.dims);
    const training = buildTrainingGraph(g, {
      seeds: [{ value: scores, grad: dscores }],
      optimizer: o.optimizer,
      clipNorm: o.clipNorm,
      trainable: trained,
      // adapters decay; fully trained base weights too, except biases and norm gains
      decays: (name) => isLoraParam(name) || !/bias|norm/i.test(name),
      layout: o.layout,
    });
    return { training, forward, adapters, shared };
  }

  private async ensure(inputs: Record<string, { dims: readonly number[] }>): Promise<string> {
    const k = keyOf(inputs);
    if (!this.trainer.has(k)) {
      const { training, forward, shared } = ForeignCtcTrainer.graphs(this.base, this.o, this.output, dimsOf(inputs));
      await this.trainer.addTrainingGraph(k, training);
      await this.trainer.addForwardGraph(`fwd:${k}`, forward);
      await this.upload(shared);
    }
    return k;
  }

  /**
   * Output frames for one item whose inputs have these dims (e.g. { input_values: [1, 16000] }):
   * exact, from the model's own shape arithmetic (a shapes-only pass, remembered per shape).
   */
  outputFrames(dims: Record<string, number[]>): number {
    const k = keyOf(Object.fromEntries(Object.entries(dims).map(([n, d]) => [n, { dims: d }])));
    let n = this.frames.get(k);
    if (n === undefined) {
      n = staticOutputDims(this.base, dims)[this.output][1];
      this.frames.set(k, n);
    }
    return n;
  }

  /** Scores [B, T, V] for a padded batch with the current weights (adapters included). */
  async scores(inputs: Record<string, HostTensor>): Promise<HostTensor> {
    const k = await this.ensure(inputs);
    return (await this.trainer.forward(`fwd:${k}`, this.feeds(inputs)))[this.output];
  }

  async step(b: ForeignBatch, lr: number): Promise<CtcStepResult> {
    const k = await this.ensure(b.inputs);
    // GPU sync point: the scores come to the CPU for the CTC loss.
    const feeds = this.feeds(b.inputs);
    const scores = (await this.trainer.forward(`fwd:${k}`, feeds))[this.output];
    const [B, T, V] = scores.dims;
    const ctc = ctcLoss(
      { logits: scores.data as Float32Array, shape: [B, T, V], inputLengths: b.outputLengths, targets: b.targets },
      { blank: this.o.blank, reduction: 'mean_per_target_length', zeroInfinity: true },
    );
    const infeasible = ctc.infeasible.reduce((n, x) => n + x, 0);
    if (!Number.isFinite(ctc.loss) || infeasible === B) return { loss: ctc.loss, gradNorm: NaN, skipped: true, infeasible };
    const r = await this.trainer.step({ ...feeds, [SEED_INPUT]: { dtype: 'float32', dims: [B, T, V], data: ctc.grad as Float32Array } }, lr, k);
    return { loss: ctc.loss, gradNorm: r.gradNorm, skipped: r.skipped, infeasible };
  }

  /** Current values of everything trained: adapters (`lora.<module>.A/B`) and any base weights. */
  parameters(): Promise<Map<string, Float32Array>> {
    return this.trainer.parameters();
  }

  /**
   * The model as imported (dynamic shapes, its own opset; float if it was int8) with adapters merged
   * into their weights and trained base weights replaced: what an export writes, and what plain
   * onnxruntime runs.
   */
  async mergedModel(): Promise<Model> {
    const values = await this.parameters();
    const merged = mergeLora(this.base, this.adapters, values);
    const full = [...values.keys()].filter((n) => !isLoraParam(n));
    if (full.length === 0) return merged;
    const initializers: TensorConst[] = merged.graph.initializers.map((t) => (values.has(t.name) && !isLoraParam(t.name) ? { ...t, data: values.get(t.name)! } : t));
    return { ...merged, graph: { ...merged.graph, initializers } };
  }

  /** The adapters alone (safetensors layout, runtime/checkpoint.ts), with what is needed to apply them again. */
  async adapterCheckpoint(metadata: Record<string, string> = {}): Promise<Checkpoint> {
    const values = await this.parameters();
    const tensors = new Map<string, { dims: number[]; data: Float32Array }>();
    for (const ad of this.adapters) {
      tensors.set(ad.a, { dims: ad.aDims, data: values.get(ad.a)! });
      tensors.set(ad.b, { dims: ad.bDims, data: values.get(ad.b)! });
    }
    const nodes = Object.fromEntries(this.adapters.map((ad) => [ad.projection.module, { node: ad.projection.node, kind: ad.projection.kind, weight: ad.projection.weight, scale: ad.scale }]));
    return {
      tensors,
      metadata: { format: 'earshot-lora', version: '1', rank: String(this.o.lora?.rank ?? 0), alpha: String(this.o.lora?.alpha ?? 0), projections: JSON.stringify(nodes), ...metadata },
    };
  }

  async dispose(): Promise<void> {
    for (const t of this.shared.values()) t.dispose();
    this.shared.clear();
    for (const c of this.copiers.values()) await c.release();
    this.copiers.clear();
    await this.trainer.dispose();
  }
}

/**
 * Inference with an imported model, or a merged one, at any input length: one session on the file's
 * own graph (dynamic shapes, its own opset; an int8 file runs as int8).
 */
export class ForeignRunner {
  private constructor(
    private readonly session: Session,
    readonly output: string,
  ) {}

  static async create(backend: Backend, model: Model | Uint8Array, output?: string): Promise<ForeignRunner> {
    const bytes = model instanceof Uint8Array ? model : encodeModel(model);
    const session = await backend.createSession(bytes);
    return new ForeignRunner(session, output ?? session.outputNames[0]);
  }

  /** Scores [B, T, V] as the model gives them (logits or log-probabilities). */
  async scores(inputs: Record<string, HostTensor>): Promise<HostTensor> {
    return (await this.session.run(inputs)).host[this.output];
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}
