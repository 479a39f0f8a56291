// Runs a training graph step after step with its state (parameters, optimizer moments, step count)
// resident on the device: each step's `next.*` outputs stay where they were produced (GPU buffers on
// WebGPU) and are fed straight back as the next step's inputs; the previous buffers are freed. Per
// step, only the batch goes up and a few scalars come down.
// With the flat layout (train-graph.ts) the state is a few buffers, each holding many parameters (or
// their optimizer slots); outside the trainer — checkpoints, `parameters()` — every tensor still has
// its own name and shape, so checkpoints of either layout load into either.

import { encodeModel, makeModel } from '../engine/onnx-proto';
import type { Graph } from '../engine/ir';
import { readFromFlat, type StateSlot, type TrainingGraph } from '../engine/train-graph';
import { numel } from '../engine/ir';
import type { Checkpoint, NamedTensor } from './checkpoint';
import type { Backend, DeviceTensor, HostTensor, Session } from './types';
import { isHostTensor } from './types';
import { withoutOutputIdentities } from './graph-capture';

export interface StepResult {
  loss?: number;
  gradNorm: number;
  /** True when the guard found a non-finite loss or gradient and left the state untouched. */
  skipped: boolean;
  extra: Record<string, HostTensor>;
  /** Milliseconds of the step spent inside onnxruntime's run (Session.run's `runMs`). */
  runMs: number;
}

/** One compiled graph the trainer can run on its state: a training step for one batch shape, or a forward pass. */
interface Compiled {
  session: Session;
  tg?: TrainingGraph;
  /** For forward graphs: state inputs it reads (parameters). */
  reads: string[];
  /** Graph capture: the batch and lr inputs' fixed buffers (written each step), by input name. */
  fixed?: Map<string, DeviceTensor>;
}

export interface TrainerOptions {
  /**
   * WebGPU in the browser only, off by default: run training graphs with onnxruntime's graph
   * capture (the first step records the dispatches, later steps replay them: far less CPU per step).
   * The state then lives in fixed GPU buffers that each step's outputs are copied into, and the batch
   * is written into fixed buffers per graph. Forward graphs run as usual. src/runtime/graph-capture.ts.
   */
  graphCapture?: boolean;
}

export class Trainer {
  private state = new Map<string, DeviceTensor>();
  private readonly compiled = new Map<string, Compiled>();

  private constructor(
    readonly backend: Backend,
    /** The first training graph; every other one must have the same state. */
    readonly tg: TrainingGraph,
    readonly graphCapture: boolean,
  ) {}

  static async create(backend: Backend, tg: TrainingGraph, key = 'default', opts: TrainerOptions = {}): Promise<Trainer> {
    const capture = !!opts.graphCapture;
    if (capture && !backend.fixedBuffers) throw new Error(`graph capture needs WebGPU in the browser, not ${backend.info.name}`);
    const t = new Trainer(backend, tg, capture);
    // captured: the state's fixed buffers need the GPU device, which exists once a session does
    if (!capture) for (const s of tg.state) t.state.set(s.input, backend.toDevice({ dtype: 'float32', dims: s.dims, data: s.init.data as Float32Array }));
    await t.addTrainingGraph(key, tg);
    if (capture) for (const s of tg.state) t.state.set(s.input, backend.fixedBuffers!.create({ dtype: 'float32', dims: s.dims, data: s.init.data as Float32Array }));
    return t;
  }

  has(key: string): boolean {
    return this.compiled.has(key);
  }

  /**
   * Adds the training graph for another batch shape (a length bucket). Its state must match the
   * first graph's name for name and shape for shape; the state itself is shared.
   */
  async addTrainingGraph(key: string, tg: TrainingGraph): Promise<void> {
    const sig = (s: StateSlot) => `${s.input}:${s.dims}${s.segments ? `{${s.segments.map((x) => `${x.name}@${x.offset}:${x.dims}`).join(';')}}` : ''}`;
    const want = this.tg.state.map(sig).join('|');
    const got = tg.state.map(sig).join('|');
    if (want !== got) throw new Error(`training graph '${key}' has different state from the first graph`);
    if (this.graphCapture) {
      const session = await this.backend.createSession(encodeModel(makeModel(withoutOutputIdentities(tg.graph))), [], { graphCapture: true });
      this.compiled.set(key, { session, tg, reads: [], fixed: new Map() });
      return;
    }
    const session = await this.backend.createSession(encodeModel(makeModel(tg.graph)), tg.state.map((s) => s.output));
    this.compiled.set(key, { session, tg, reads: [] });
  }

  /** Adds a forward-only graph whose inputs include (some of) the state, e.g. the model with parameters as inputs. */
  async addForwardGraph(key: string, graph: Graph): Promise<void> {
    // parameters it reads as inputs come from the flat buffer that holds them
    for (const s of this.tg.state) if (s.kind === 'param' && s.segments) graph = readFromFlat(graph, s.input, s.segments);
    const stateNames = new Set(this.tg.state.map((s) => s.input));
    const reads = graph.inputs.map((i) => i.name).filter((n) => stateNames.has(n));
    const session = await this.backend.createSession(encodeModel(makeModel(graph)));
    this.compiled.set(key, { session, reads });
  }

  private get anySession(): Session {
    return this.compiled.values().next().value!.session;
  }

  get stepCount(): Promise<number> {
    const step = this.tg.state.find((s) => s.kind === 'step')!;
    return this.anySession.read(this.state.get(step.input)!).then((t) => (t.data as Float32Array)[0]);
  }

  /**
   * Runs a forward graph on the current parameters; outputs come back to the host. Feeds may be
   * device tensors (frozen weights uploaded once and shared by every graph).
   */
  async forward(key: string, feeds: Record<string, HostTensor | DeviceTensor>): Promise<Record<string, HostTensor>> {
    const c = this.compiled.get(key);
    if (!c || c.tg) throw new Error(`no forward graph '${key}'`);
    const all: Record<string, HostTensor | DeviceTensor> = { ...feeds };
    for (const name of c.reads) all[name] = this.state.get(name)!;
    return (await c.session.run(all)).host;
  }

  async step(batch: Record<string, HostTensor | DeviceTensor>, lr: number, key = 'default'): Promise<StepResult> {
    const c = this.compiled.get(key);
    if (!c?.tg) throw new Error(`no training graph '${key}'`);
    const tg = c.tg;
    if (c.fixed) return this.capturedStep(c, tg, batch, lr);
    const feeds: Record<string, HostTensor | DeviceTensor> = { ...batch, [tg.lrInput]: { dtype: 'float32', dims: [], data: Float32Array.of(lr) } };
    for (const [name, t] of this.state) feeds[name] = t;
    // GPU sync point: the scalars (loss, norm, skipped) are read back; the state stays on the device.
    const { host, device, runMs } = await c.session.run(feeds, { keepOnDevice: tg.state.map((s) => s.output) });
    // Swap: the outputs become the state; the buffers that were fed in are released.
    for (const s of tg.state) {
      this.state.get(s.input)!.dispose();
      this.state.set(s.input, device[s.output]);
    }
    const scalar = (name: string) => Number((host[name].data as Float32Array)[0]);
    const extra: Record<string, HostTensor> = {};
    for (const name of tg.extraOutputs) extra[name] = host[name];
    return {
      loss: tg.lossOutput ? scalar(tg.lossOutput) : undefined,
      gradNorm: scalar(tg.gradNormOutput),
      skipped: scalar(tg.skippedOutput) !== 0,
      extra,
      runMs,
    };
  }

  /**
   * A step of a captured graph: the batch and lr written into its fixed buffers, the graph replayed
   * over them and the state's, the state outputs copied into the state's buffers and the scalars
   * read back, in one submission.
   */
  private async capturedStep(c: Compiled, tg: TrainingGraph, batch: Record<string, HostTensor | DeviceTensor>, lr: number): Promise<StepResult> {
    const fb = this.backend.fixedBuffers!;
    const host: Record<string, HostTensor> = { ...(batch as Record<string, HostTensor>), [tg.lrInput]: { dtype: 'float32', dims: [], data: Float32Array.of(lr) } };
    const feeds: Record<string, DeviceTensor> = {};
    for (const [name, t] of Object.entries(host)) {
      if (!isHostTensor(t)) throw new Error(`graph capture: feed '${name}' must be host data (it is written into the graph's own buffer)`);
      let f = c.fixed!.get(name);
      if (!f) c.fixed!.set(name, (f = fb.create(t)));
      else fb.write(f, t);
      feeds[name] = f;
    }
    for (const [name, t] of this.state) feeds[name] = t;
    const { host: extras, device, runMs } = await c.session.run(feeds, { keepOnDevice: [...tg.state.map((s) => s.output), ...[tg.lossOutput, tg.gradNormOutput, tg.skippedOutput].filter((n): n is string => !!n)] });
    try {
      const scalars = [tg.gradNormOutput, tg.skippedOutput, ...(tg.lossOutput ? [tg.lossOutput] : [])];
      // GPU sync point: the state outputs go into the state's buffers, the scalars come back
      const [gradNorm, skipped, loss] = await fb.copyAndRead(tg.state.map((s) => [device[s.output], this.state.get(s.input)!]), scalars.map((n) => device[n]));
      const extra: Record<string, HostTensor> = {};
      for (const name of tg.extraOutputs) extra[name] = extras[name];
      return { loss, gradNorm, skipped: skipped !== 0, extra, runMs };
    } finally {
      // these wrap the captured graph's own output buffers (still bound to it): only the handles go
      for (const t of Object.values(device)) t.dispose();
    }
  }

  /** How many state tensors live where (e.g. { 'gpu-buffer': 452 } on WebGPU after a step). */
  stateLocations(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.state.values()) out[t.location] = (out[t.location] ?? 0) + 1;
    return out;
  }

  /**
   * Reads the whole training state back to the host (parameters, moments, step), one tensor per
   * parameter and slot under its own name (`<name>`, `adam.m.<name>`, …, `optim.step`), whatever the layout.
   */
  async exportState(metadata: Record<string, string> = {}): Promise<Checkpoint> {
    const tensors = new Map<string, NamedTensor>();
    for (const s of this.tg.state) {
      const data = (await this.anySession.read(this.state.get(s.input)!)).data as Float32Array;
      for (const t of outsideTensors(s)) tensors.set(t.name, { dims: t.dims, data: data.slice(t.offset, t.offset + numel(t.dims)) });
    }
    return { tensors, metadata: { format: 'earshot-training-state', version: '1', ...metadata } };
  }

  /** Replaces the state with a checkpoint's (every state tensor must be present with the right shape). */
  importState(c: Checkpoint): void {
    for (const s of this.tg.state)
      for (const t of outsideTensors(s)) {
        const got = c.tensors.get(t.name);
        if (!got) throw new Error(`checkpoint lacks ${t.name}`);
        if (got.dims.join(',') !== t.dims.join(',')) throw new Error(`checkpoint ${t.name} has shape [${got.dims}], expected [${t.dims}]`);
      }
    for (const s of this.tg.state) {
      const data = new Float32Array(numel(s.dims));
      for (const t of outsideTensors(s)) data.set(c.tensors.get(t.name)!.data as Float32Array, t.offset);
      if (this.graphCapture) {
        // captured graphs are bound to the state's buffers: overwrite them
        this.backend.fixedBuffers!.write(this.state.get(s.input)!, { dtype: 'float32', dims: s.dims, data });
        continue;
      }
      this.state.get(s.input)?.dispose();
      this.state.set(s.input, this.backend.toDevice({ dtype: 'float32', dims: s.dims, data }));
    }
  }

  /** Current values of the trained parameters by name. */
  async parameters(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const s of this.tg.state.filter((x) => x.kind === 'param')) {
      const data = (await this.anySession.read(this.state.get(s.input)!)).data as Float32Array;
      for (const t of outsideTensors(s)) out.set(t.name, data.slice(t.offset, t.offset + numel(t.dims)));
    }
    return out;
  }

  async dispose(): Promise<void> {
    for (const t of this.state.values()) t.dispose();
    this.state.clear();
    for (const c of this.compiled.values()) for (const t of c.fixed?.values() ?? []) t.dispose();
    for (const c of this.compiled.values()) await c.session.release();
    this.compiled.clear();
  }
}

/** The tensors a state slot holds as the outside sees them: its segments, or itself. */
function outsideTensors(s: StateSlot): { name: string; offset: number; dims: number[] }[] {
  return s.segments ?? [{ name: s.input, offset: 0, dims: s.dims }];
}
