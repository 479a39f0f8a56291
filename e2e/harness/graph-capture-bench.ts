// The page behind `npm run bench:engine -- --graph-capture`: one training graph (the reference
// encoder's, at a size the software adapter can step through) run on onnxruntime-web's native WebGPU
// EP three ways, so that the CPU cost of a step can be compared with and without graph capture:
//   trainer   the app's path (Trainer on webGpuBackend): state outputs stay on the GPU
//             (preferredOutputLocation 'gpu-buffer') and are fed back as the next step's inputs; the
//             batch and lr go up from the host and the scalars come back as cpu outputs, every run.
//   bound     every input and output a GPU buffer of our own, allocated once (Tensor.fromGpuBuffer):
//             the batch and lr are written into theirs (queue.writeBuffer), the state outputs land in a
//             second set of buffers that one copyBufferToBuffer per state tensor moves back into the
//             input set after the run, and the scalars are copied to a mappable buffer and read there.
//   trainer-captured  the app's Trainer with its `graphCapture` option (what 'captured' does, in
//             src/runtime/trainer.ts: the state in fixed buffers, outputs copied into them).
//   captured  the same buffers with `enableGraphCapture: true`: the first run records every dispatch,
//             later runs replay the recording. onnxruntime-web binds a captured session's inputs and
//             outputs once, on its first run, and replay always reads and writes those buffers; that
//             is why the state goes out to a second set and is copied back, instead of the outputs
//             being fed in as next step's inputs (in-place update is not possible either).
// Per step: the wall time (batch upload to the loss on the host) and the time inside session.run on
// the JavaScript side: with every output on the GPU, run returns once the work is submitted, so that
// is the CPU overhead of dispatching the graph; the rest is waiting for the GPU and the readback.
import * as ort from 'onnxruntime-web/webgpu';
import { encodeModel, makeModel } from '../../src/engine/onnx-proto';
import { buildReferenceProblem, referenceBatch, type ReferenceEncoderConfig } from '../../src/engine/testing/reference-encoder';
import type { TrainingGraph } from '../../src/engine/train-graph';
import { withoutOutputIdentities } from '../../src/runtime/graph-capture';
import { Trainer } from '../../src/runtime/trainer';
import { webGpuBackend } from '../../src/runtime/web';
import { speechLoraStepper } from './reference-bench';

export type CaptureMode = 'trainer' | 'bound' | 'captured' | 'trainer-captured';

export interface CaptureStep {
  /** Wall ms (batch upload to the loss on the host), ms inside session.run, the loss. */
  ms: number;
  runMs: number;
  loss: number;
}

export interface GraphCaptureBenchPage {
  adapter(): Promise<{ description: string; fallback: boolean }>;
  /** Compiles the reference problem's training graph for `mode` (the shaders come with the first step). */
  start(mode: CaptureMode, config: ReferenceEncoderConfig): Promise<{ nodes: number; createMs: number }>;
  /** The speech model's LoRA step (CtcTrainer, a synthetic batch × frames batch): 'trainer' and 'trainer-captured' only. */
  startSpeech(mode: CaptureMode, batch: number, frames: number): Promise<{ nodes: number; createMs: number }>;
  step(): Promise<CaptureStep>;
  /** Releases everything; says the optimizer's step count and the parameters' sum of |x| (Trainer modes). */
  finish(): Promise<{ stepCount?: number; paramAbsSum?: number }>;
}

interface Stepper {
  nodes: number;
  createMs: number;
  step(): Promise<CaptureStep>;
  finish(): Promise<{ stepCount?: number; paramAbsSum?: number }>;
}

const LR = 1e-3;
// WebGPU's GPUBufferUsage / GPUMapMode flags (the project's typings do not declare those globals)
const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, STORAGE: 0x80 } as const;
const MAP_READ = 0x1;
const BYTES: Record<string, number> = { float32: 4, int32: 4 };

async function trainerStepper(tg: TrainingGraph, batch: ReturnType<typeof referenceBatch>, graphCapture: boolean): Promise<Stepper> {
  const backend = await webGpuBackend();
  const c0 = performance.now();
  const trainer = await Trainer.create(backend, tg, 'default', { graphCapture });
  const createMs = performance.now() - c0;
  return {
    nodes: tg.graph.nodes.length,
    createMs,
    async step() {
      const t0 = performance.now();
      const r = await trainer.step(batch, LR);
      return { ms: performance.now() - t0, runMs: r.runMs, loss: r.loss! };
    },
    async finish() {
      const stepCount = await trainer.stepCount;
      let paramAbsSum = 0;
      for (const p of (await trainer.parameters()).values()) for (const x of p) paramAbsSum += Math.abs(x);
      await trainer.dispose();
      return { stepCount, paramAbsSum };
    },
  };
}

async function boundStepper(tg: TrainingGraph, batch: ReturnType<typeof referenceBatch>, capture: boolean): Promise<Stepper> {
  // (the same graph with its output Identities kept runs on and returns a loss of 0 every step)
  const g = withoutOutputIdentities(tg.graph);
  const c0 = performance.now();
  const session = await ort.InferenceSession.create(encodeModel(makeModel(g)), {
    // the EP option enableGraphCapture is only passed on when the EP is given as an object
    executionProviders: [{ name: 'webgpu' }],
    graphOptimizationLevel: 'all',
    ...(capture ? { enableGraphCapture: true } : {}),
  });
  const createMs = performance.now() - c0;
  const device = (await (ort.env.webgpu as { device?: GPUDevice | Promise<GPUDevice> }).device)!;
  if (!device) throw new Error('onnxruntime-web exposes no GPUDevice (ort.env.webgpu.device)');
  const size = (dims: readonly (number | string)[], dtype: string) => dims.reduce<number>((n, d) => n * Number(d), 1) * (BYTES[dtype] ?? 4);
  const usage = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
  const buffers: GPUBuffer[] = [];
  const alloc = (bytes: number) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage });
    buffers.push(b);
    return b;
  };
  const feeds: Record<string, ort.Tensor> = {};
  const inBuf = new Map<string, GPUBuffer>();
  for (const v of g.inputs) {
    const b = alloc(size(v.shape, v.dtype));
    inBuf.set(v.name, b);
    feeds[v.name] = ort.Tensor.fromGpuBuffer(b, { dataType: v.dtype as 'float32', dims: v.shape.map(Number) });
  }
  const fetches: Record<string, ort.Tensor> = {};
  const outBuf = new Map<string, GPUBuffer>();
  for (const v of capture ? [] : g.outputs) {
    const b = alloc(size(v.shape, v.dtype));
    outBuf.set(v.name, b);
    fetches[v.name] = ort.Tensor.fromGpuBuffer(b, { dataType: v.dtype as 'float32', dims: v.shape.map(Number) });
  }
  for (const s of tg.state) device.queue.writeBuffer(inBuf.get(s.input)!, 0, s.init.data as Float32Array);
  const scalars = [tg.lossOutput!, tg.gradNormOutput, tg.skippedOutput];
  const staging = device.createBuffer({ size: 16 * scalars.length, usage: USAGE.MAP_READ | USAGE.COPY_DST });
  const lr = Float32Array.of(LR);
  return {
    nodes: g.nodes.length,
    createMs,
    async step() {
      const t0 = performance.now();
      for (const [name, t] of Object.entries(batch)) device.queue.writeBuffer(inBuf.get(name)!, 0, t.data);
      device.queue.writeBuffer(inBuf.get(tg.lrInput)!, 0, lr);
      const r0 = performance.now();
      // Captured: no pre-allocated outputs. onnxruntime-web 1.30 binds pre-allocated outputs on the
      // first run only, and the second run then fails in webgpuRegisterBuffer ("Cannot set properties
      // of undefined (setting 'Symbol(gpuBufferMetadata)')"): it looks the first run's output buffers
      // up after unregistering them. Outputs it allocates itself stay bound, the same buffers every
      // replay, and come back as gpu-buffer tensors over them.
      const results = capture ? await session.run(feeds) : await session.run(feeds, fetches);
      const runMs = performance.now() - r0;
      const buf = (name: string) => (capture ? results[name].gpuBuffer as GPUBuffer : outBuf.get(name)!);
      const enc = device.createCommandEncoder();
      for (const s of tg.state) enc.copyBufferToBuffer(buf(s.output), 0, inBuf.get(s.input)!, 0, size(s.dims, 'float32'));
      scalars.forEach((n, k) => enc.copyBufferToBuffer(buf(n), 0, staging, 16 * k, 4));
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(MAP_READ);
      const v = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      if (capture) for (const t of Object.values(results)) t.dispose();
      return { ms: performance.now() - t0, runMs, loss: v[0] };
    },
    async finish() {
      await session.release();
      for (const b of buffers) b.destroy();
      staging.destroy();
      return {};
    },
  };
}

let current: Stepper | undefined;

const page: GraphCaptureBenchPage = {
  async adapter() {
    const a = (await navigator.gpu.requestAdapter()) as (GPUAdapter & { isFallbackAdapter?: boolean }) | null;
    const i = (a?.info ?? {}) as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    return { description: [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' '), fallback: !!(i.isFallbackAdapter ?? a?.isFallbackAdapter) };
  },
  async start(mode, config) {
    const p = buildReferenceProblem(config);
    current = mode === 'trainer' || mode === 'trainer-captured'
      ? await trainerStepper(p.training, referenceBatch(p), mode === 'trainer-captured')
      : await boundStepper(p.training, referenceBatch(p), mode === 'captured');
    return { nodes: current.nodes, createMs: current.createMs };
  },
  async startSpeech(mode, batch, frames) {
    if (mode !== 'trainer' && mode !== 'trainer-captured') throw new Error(`the speech step runs in the trainer modes only, not '${mode}'`);
    const st = await speechLoraStepper(await webGpuBackend(), batch, frames, mode === 'trainer-captured');
    current = {
      nodes: st.nodes,
      createMs: st.createMs,
      step: () => st.step(),
      async finish() {
        await st.dispose();
        return {};
      },
    };
    return { nodes: current.nodes, createMs: current.createMs };
  },
  step: () => current!.step(),
  async finish() {
    const c = current!;
    current = undefined;
    return c.finish();
  },
};
(window as unknown as { graphCaptureBench: GraphCaptureBenchPage }).graphCaptureBench = page;
document.getElementById('status')!.textContent = 'ready';
