// Times the reference encoder's training step (forward + backward + AdamW + reading the loss back)
// and the speech model's LoRA step on any backend: shared by the browser harness page and
// `npm run bench:engine` (Node CPU). Besides the step time it reports where the time goes: inside
// onnxruntime's run (kernels, and on WASM the copies into and out of the WebAssembly heap) or in
// our wrapper, what one run of a one-node graph costs, and what feeding the training state in and
// fetching it out costs by itself (an Identity graph over the same state buffers).
import { encodeModel, makeModel } from '../../src/engine/onnx-proto';
import { buildReferenceProblem, REFERENCE_FULL, REFERENCE_REDUCED, referenceBatch } from '../../src/engine/testing/reference-encoder';
import type { StateSlot } from '../../src/engine/train-graph';
import { Trainer } from '../../src/runtime/trainer';
import type { Backend, HostTensor, Session } from '../../src/runtime/types';
import { CtcTrainer } from '../../src/train/ctc-trainer';
import { speechStepOptions, speechTrainingNodes, syntheticSpeechBatch } from '../../scripts/speech-step';

export interface BenchResult {
  backend: string;
  device: string;
  stepMs: number[];
  warmupMs: number[];
  /** Per timed step: milliseconds inside onnxruntime's run (summed over the step's runs). */
  runMs: number[];
  firstLoss: number;
  /** Nodes of the training graph. */
  nodes: number;
  /** Session creation (graph to the runtime, shaders not yet compiled: that is the first step). */
  createMs: number;
  /** Median ms of one run of a one-node graph (Add on one float): the fixed cost of a run. */
  tinyRunMs?: number;
  /** Median ms of one run of an Identity graph over the training state (fed in, fetched out). */
  stateIoMs?: number;
  /** Floats of training state fed in and fetched out per step. */
  stateFloats?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** `backend` whose sessions add the time of each run inside onnxruntime to `ms.run`. */
function timed(backend: Backend, ms: { run: number }): Backend {
  return {
    info: backend.info,
    toDevice: (t) => backend.toDevice(t),
    ...(backend.fixedBuffers ? { fixedBuffers: backend.fixedBuffers } : {}),
    async createSession(model, deviceOutputs, opts) {
      const s = await backend.createSession(model, deviceOutputs, opts);
      const wrapped: Session = {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        async run(feeds, opts) {
          const r = await s.run(feeds, opts);
          ms.run += r.runMs;
          return r;
        },
        read: (t) => s.read(t),
        release: () => s.release(),
      };
      return wrapped;
    },
  };
}

/** The fixed cost of one run, and the cost of moving `state` in and out once (medians). */
export async function runOverheads(backend: Backend, state: readonly StateSlot[], runs = 5): Promise<{ tinyRunMs: number; stateIoMs: number }> {
  const tinyModel = encodeModel(makeModel({
    name: 'tiny',
    nodes: [{ opType: 'Add', domain: '', name: 'add', inputs: ['x', 'x'], outputs: ['y'], attrs: {} }],
    inputs: [{ name: 'x', dtype: 'float32', shape: [1] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
    initializers: [],
    valueInfo: [],
  }));
  const tiny = await backend.createSession(tinyModel);
  const tinyMs: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await tiny.run({ x: { dtype: 'float32', dims: [1], data: Float32Array.of(i) } });
    if (i >= 10) tinyMs.push(performance.now() - t0);
  }
  await tiny.release();
  const ioModel = encodeModel(makeModel({
    name: 'state_io',
    nodes: state.map((s, i) => ({ opType: 'Identity', domain: '', name: `id${i}`, inputs: [s.input], outputs: [s.output], attrs: {} })),
    inputs: state.map((s) => ({ name: s.input, dtype: 'float32' as const, shape: s.dims })),
    outputs: state.map((s) => ({ name: s.output, dtype: 'float32' as const, shape: s.dims })),
    initializers: [],
    valueInfo: [],
  }));
  const io = await backend.createSession(ioModel);
  let feeds: Record<string, HostTensor> = Object.fromEntries(state.map((s) => [s.input, { dtype: 'float32' as const, dims: s.dims, data: s.init.data as Float32Array }]));
  const ioMs: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const r = await io.run(feeds);
    // as the trainer does: this run's outputs are the next run's feeds
    feeds = Object.fromEntries(state.map((s) => [s.input, r.host[s.output]]));
    if (i > 0) ioMs.push(performance.now() - t0);
  }
  await io.release();
  return { tinyRunMs: median(tinyMs), stateIoMs: median(ioMs) };
}

/** One training step at a time on a live trainer, so that several backends can take turns. */
export interface Stepper {
  readonly backend: Backend;
  readonly nodes: number;
  readonly createMs: number;
  readonly state: readonly StateSlot[];
  step(): Promise<{ ms: number; runMs: number; loss: number }>;
  dispose(): Promise<void>;
}

/** The reference encoder's training step (REFERENCE-ENCODER.md) on `backend`. */
export async function referenceStepper(backend: Backend, size: 'full' | 'reduced'): Promise<Stepper> {
  const p = buildReferenceProblem(size === 'full' ? REFERENCE_FULL : REFERENCE_REDUCED);
  const inRun = { run: 0 };
  const c0 = performance.now();
  const trainer = await Trainer.create(timed(backend, inRun), p.training);
  const createMs = performance.now() - c0;
  const batch = referenceBatch(p);
  return {
    backend, nodes: p.training.graph.nodes.length, createMs, state: p.training.state,
    async step() {
      inRun.run = 0;
      const s = performance.now();
      // GPU sync point: step() returns once the loss has been read back
      const r = await trainer.step(batch, 1e-3);
      return { ms: performance.now() - s, runMs: inRun.run, loss: r.loss! };
    },
    dispose: () => trainer.dispose(),
  };
}

/**
 * The speech model's LoRA step as `earshot finetune` runs it (CtcTrainer.step: forward, logits to
 * the host, CTC loss there, backward + clipping + AdamW), random DEFAULT_ARCH weights, on a fixed
 * synthetic batch of `batch` × `frames` (scripts/speech-step.ts). `graphCapture`: CtcTrainerOptions'
 * (WebGPU in the browser only).
 */
export async function speechLoraStepper(backend: Backend, batch: number, frames: number, graphCapture = false): Promise<Stepper> {
  const o = { ...speechStepOptions('lora'), graphCapture };
  const data = syntheticSpeechBatch(o.arch, batch, frames);
  const inRun = { run: 0 };
  const c0 = performance.now();
  const trainer = await CtcTrainer.create(timed(backend, inRun), o, { batch, frames });
  const createMs = performance.now() - c0;
  return {
    backend, nodes: speechTrainingNodes(o, batch, frames), createMs, state: trainer.trainer.tg.state,
    async step() {
      inRun.run = 0;
      const s = performance.now();
      // two sync points: the logits come to the host for CTC, then the loss scalars
      const r = await trainer.step(data, 1e-4);
      return { ms: performance.now() - s, runMs: inRun.run, loss: r.loss };
    },
    dispose: () => trainer.dispose(),
  };
}

/** Runs `warmup` + `steps` steps (fewer once past `budgetMs` with one timed); `overheads` adds the probes. */
export async function benchStepper(st: Stepper, warmup: number, steps: number, budgetMs: number, onStep?: (r: BenchResult) => void, overheads = false): Promise<BenchResult> {
  const warmupMs: number[] = [];
  const stepMs: number[] = [];
  const runMs: number[] = [];
  let firstLoss = NaN;
  const extra: Partial<BenchResult> = {};
  const soFar = (): BenchResult => ({ backend: st.backend.info.name, device: st.backend.info.device, stepMs, warmupMs, runMs, firstLoss, nodes: st.nodes, createMs: st.createMs, ...extra });
  const t0 = performance.now();
  for (let i = 0; i < warmup + steps; i++) {
    const r = await st.step();
    if (i === 0) firstLoss = r.loss;
    (i < warmup ? warmupMs : stepMs).push(r.ms);
    if (i >= warmup) runMs.push(r.runMs);
    onStep?.(soFar());
    if (performance.now() - t0 > budgetMs && stepMs.length > 0) break;
  }
  await st.dispose();
  if (overheads) {
    Object.assign(extra, await runOverheads(st.backend, st.state));
    extra.stateFloats = st.state.reduce((n, s) => n + s.dims.reduce((a, d) => a * d, 1), 0);
  }
  return soFar();
}

/** `onStep` sees the figures so far after every step (a caller that may be cut off keeps what it had). */
export async function benchReference(backend: Backend, size: 'full' | 'reduced', warmup: number, steps: number, budgetMs: number, onStep?: (r: BenchResult) => void, overheads = false): Promise<BenchResult> {
  return benchStepper(await referenceStepper(backend, size), warmup, steps, budgetMs, onStep, overheads);
}
