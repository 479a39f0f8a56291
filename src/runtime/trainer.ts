// Runs a training graph step after step with its state (parameters, optimizer moments, step count)
// resident on the device: each step's `next.*` outputs stay where they were produced (GPU buffers on
// WebGPU) and are fed straight back as the next step's inputs; the previous buffers are freed. Per
// step, only the batch goes up and a few scalars come down.

import { encodeModel, makeModel } from '../engine/onnx-proto';
import type { TrainingGraph } from '../engine/train-graph';
import type { Checkpoint, NamedTensor } from './checkpoint';
import type { Backend, DeviceTensor, HostTensor, Session } from './types';

export interface StepResult {
  loss?: number;
  gradNorm: number;
  /** True when the guard found a non-finite loss or gradient and left the state untouched. */
  skipped: boolean;
  extra: Record<string, HostTensor>;
}

export class Trainer {
  private state = new Map<string, DeviceTensor>();

  private constructor(
    readonly backend: Backend,
    readonly tg: TrainingGraph,
    private readonly session: Session,
  ) {}

  static async create(backend: Backend, tg: TrainingGraph): Promise<Trainer> {
    const bytes = encodeModel(makeModel(tg.graph));
    const session = await backend.createSession(bytes, tg.state.map((s) => s.output));
    const t = new Trainer(backend, tg, session);
    for (const s of tg.state) t.state.set(s.input, backend.toDevice({ dtype: 'float32', dims: s.dims, data: s.init.data as Float32Array }));
    return t;
  }

  get stepCount(): Promise<number> {
    const step = this.tg.state.find((s) => s.kind === 'step')!;
    return this.session.read(this.state.get(step.input)!).then((t) => (t.data as Float32Array)[0]);
  }

  async step(batch: Record<string, HostTensor>, lr: number): Promise<StepResult> {
    const feeds: Record<string, HostTensor | DeviceTensor> = { ...batch, [this.tg.lrInput]: { dtype: 'float32', dims: [], data: Float32Array.of(lr) } };
    for (const [name, t] of this.state) feeds[name] = t;
    const { host, device } = await this.session.run(feeds, { keepOnDevice: this.tg.state.map((s) => s.output) });
    // Swap: the outputs become the state; the buffers that were fed in are released.
    for (const s of this.tg.state) {
      this.state.get(s.input)!.dispose();
      this.state.set(s.input, device[s.output]);
    }
    const scalar = (name: string) => Number((host[name].data as Float32Array)[0]);
    const extra: Record<string, HostTensor> = {};
    for (const name of this.tg.extraOutputs) extra[name] = host[name];
    return {
      loss: this.tg.lossOutput ? scalar(this.tg.lossOutput) : undefined,
      gradNorm: scalar(this.tg.gradNormOutput),
      skipped: scalar(this.tg.skippedOutput) !== 0,
      extra,
    };
  }

  /** Reads the whole training state back to the host (parameters, moments, step), keyed by input name. */
  async exportState(metadata: Record<string, string> = {}): Promise<Checkpoint> {
    const tensors = new Map<string, NamedTensor>();
    for (const s of this.tg.state) {
      const h = await this.session.read(this.state.get(s.input)!);
      tensors.set(s.input, { dims: s.dims, data: Float32Array.from(h.data as Float32Array) });
    }
    return { tensors, metadata: { format: 'earshot-training-state', version: '1', ...metadata } };
  }

  /** Replaces the state with a checkpoint's (every state tensor must be present with the right shape). */
  importState(c: Checkpoint): void {
    for (const s of this.tg.state) {
      const t = c.tensors.get(s.input);
      if (!t) throw new Error(`checkpoint lacks ${s.input}`);
      if (t.dims.join(',') !== s.dims.join(',')) throw new Error(`checkpoint ${s.input} has shape [${t.dims}], expected [${s.dims}]`);
    }
    for (const s of this.tg.state) {
      const t = c.tensors.get(s.input)!;
      this.state.get(s.input)?.dispose();
      this.state.set(s.input, this.backend.toDevice({ dtype: 'float32', dims: s.dims, data: Float32Array.from(t.data as Float32Array) }));
    }
  }

  /** Current parameter values by name. */
  async parameters(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const s of this.tg.state.filter((x) => x.kind === 'param')) {
      out.set(s.input, Float32Array.from((await this.session.read(this.state.get(s.input)!)).data as Float32Array));
    }
    return out;
  }

  async dispose(): Promise<void> {
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
    await this.session.release();
  }
}
