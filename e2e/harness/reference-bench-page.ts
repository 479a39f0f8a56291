// The page `npm run bench:engine` drives: the reference encoder's and the speech model's training
// steps on a browser backend (window.referenceBench), with the same code Node runs. The bench takes
// one step here, one in Node, and so on, so that both see the same load on a shared machine.
import { referenceStepper, runOverheads, speechLoraStepper, type Stepper } from './reference-bench';
import { wasmBackend, webGpuBackend } from '../../src/runtime/web';

/** 'wasm-asyncify': the WASM EP of the WebGPU build (how the WASM backend ran before; for comparison). */
export type BrowserBenchBackend = 'webgpu' | 'wasm' | 'wasm-asyncify';

export type Workload = { kind: 'reference'; size: 'full' | 'reduced' } | { kind: 'speech-lora'; batch: number; frames: number };

const backend = async (name: BrowserBenchBackend, threads?: number, profile = false) =>
  name === 'webgpu' ? await webGpuBackend({ threads }) : wasmBackend({ build: name === 'wasm-asyncify' ? 'webgpu' : 'wasm', threads, profile }, 'requested by the benchmark');

export interface ReferenceBenchPage {
  /** Is the page cross-origin isolated (the condition for WASM threads), and how many cores it sees. */
  environment(): { crossOriginIsolated: boolean; hardwareConcurrency: number };
  /**
   * `threads`: WASM threads (default: as the app chooses, up to 4, the cores there are); `profile`:
   * onnxruntime's per-kernel profiling on WASM, printed to the console when `finish` releases the sessions.
   */
  start(b: BrowserBenchBackend, w: Workload, threads?: number, profile?: boolean): Promise<{ device: string; nodes: number; createMs: number }>;
  step(): Promise<{ ms: number; runMs: number; loss: number }>;
  /** Releases the trainer; with `overheads`, then measures the one-node run and the state I/O. */
  finish(overheads: boolean): Promise<{ tinyRunMs?: number; stateIoMs?: number; stateFloats: number }>;
}

let current: Stepper | undefined;

const page: ReferenceBenchPage = {
  environment: () => ({ crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency }),
  async start(b, w, threads, profile) {
    const be = await backend(b, threads, profile);
    current = w.kind === 'reference' ? await referenceStepper(be, w.size) : await speechLoraStepper(be, w.batch, w.frames);
    return { device: be.info.device, nodes: current.nodes, createMs: current.createMs };
  },
  step: () => current!.step(),
  async finish(overheads) {
    const st = current!;
    current = undefined;
    await st.dispose();
    const stateFloats = st.state.reduce((n, s) => n + s.dims.reduce((a, d) => a * d, 1), 0);
    return { ...(overheads ? await runOverheads(st.backend, st.state) : {}), stateFloats };
  },
};
(window as unknown as { referenceBench: ReferenceBenchPage }).referenceBench = page;
document.getElementById('status')!.textContent = 'ready';
