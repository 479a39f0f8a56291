// Browser backends: onnxruntime-web's native WebGPU execution provider (import
// 'onnxruntime-web/webgpu', per FIELD.md), and its plain WASM CPU build for the WASM backend.
// The WebGPU build is compiled with Asyncify (its C++ WebGPU EP waits on the GPU); that
// instrumentation costs its CPU kernels about half their speed: the reference encoder's training
// step ran 2-3× slower on the WASM EP of 'onnxruntime-web/webgpu' than on that of
// 'onnxruntime-web/wasm' (README, Performance). So the WASM backend runs on 'onnxruntime-web/wasm'.
// Each build has its own `env` and its own .wasm file, fetched only when a session of it is
// created; a page that only ever uses one backend loads one.
import * as ort from 'onnxruntime-web/webgpu';
import * as ortWasm from 'onnxruntime-web/wasm';
import { createOrtBackend } from './ort-backend';
import type { Backend } from './types';

export interface WebBackendOptions {
  /** Where onnxruntime-web's .wasm/.mjs files are served from (default: bundler-resolved). */
  wasmPaths?: string;
  threads?: number;
  /**
   * Which onnxruntime-web build runs the WASM backend: 'wasm' (default, the fast one) or 'webgpu'
   * (the Asyncify build the WebGPU backend uses; only for measuring the difference).
   */
  build?: 'wasm' | 'webgpu';
  /**
   * onnxruntime's per-kernel profiling (WASM backend; for benchmarks): each session prints its
   * events to the console as JSON, one event a line between '[' and ']', when it is released.
   */
  profile?: boolean;
}

function configure(o: WebBackendOptions): void {
  // Threads need cross-origin isolation (SharedArrayBuffer); without it onnxruntime uses one.
  // Each build reads these when its WebAssembly module is first instantiated, and never again.
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  const threads = isolated ? (o.threads ?? Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  for (const m of [ort, ortWasm]) if (o.wasmPaths) m.env.wasm.wasmPaths = o.wasmPaths;
  ortWasm.env.wasm.numThreads = threads;
  // The WebGPU build runs single-threaded: in a production bundle both builds' glue lives in one
  // worker script, and threads of both (Emscripten pthread workers started from that same script)
  // left the second build waiting forever on its threads (the backend choice times both in one
  // worker). Its CPU kernels only serve the few ops a WebGPU session keeps on the CPU. Only the
  // measurement of that build's WASM EP (`build: 'webgpu'`, on a page of its own) gets threads.
  ort.env.wasm.numThreads = o.build === 'webgpu' ? threads : 1;
}

/**
 * The onnxruntime-web builds the two backends run on, with its version: part of what a backend
 * measurement depends on, so a choice measured on other builds is measured again.
 */
export function runtimeBuilds(): string {
  return `onnxruntime-web ${ortWasm.env.versions?.web ?? '?'}: wasm on the plain build, webgpu on the Asyncify build`;
}

/** The number of WASM threads onnxruntime uses here (part of what a backend measurement depends on). */
export function wasmThreads(o: WebBackendOptions = {}): number {
  configure(o);
  return ortWasm.env.wasm.numThreads ?? 1;
}

/** Why WebGPU is not usable here, or null when it is (with the adapter's description). */
export async function probeWebGpu(): Promise<{ ok: true; adapter: string } | { ok: false; reason: string }> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { ok: false, reason: 'this browser does not expose WebGPU (navigator.gpu is missing)' };
  const adapter = (await gpu.requestAdapter()) as { info?: { vendor?: string; architecture?: string; description?: string; device?: string }; isFallbackAdapter?: boolean } | null;
  if (!adapter) return { ok: false, reason: 'no WebGPU adapter is available (GPU blocklisted or disabled)' };
  const i = adapter.info ?? {};
  const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { ok: true, adapter: adapter.isFallbackAdapter || (adapter.info as { isFallbackAdapter?: boolean })?.isFallbackAdapter ? `${name} (software fallback adapter)` : name };
}

/**
 * onnxruntime-web uses one GPUDevice per JavaScript realm (this worker). Once it is lost (driver
 * reset, out of memory, the GPU removed) every later call would fail or hang: the guard makes them
 * fail at once with the reason. A fresh worker gets a fresh device.
 */
const deviceHealth = (() => {
  let reason: string | undefined;
  let watched: unknown;
  let liveSessions = 0;
  let rejectLost!: (e: Error) => void;
  const lost = new Promise<never>((_, reject) => (rejectLost = reject));
  lost.catch(() => undefined);
  const watch = () => {
    // the native WebGPU EP stores the GPUDevice itself here (the JSEP build, a promise of it)
    void Promise.resolve(currentDevice())
      .then((device) => {
        if (!device || device === watched) return;
        watched = device;
        void device.lost.then((info) => {
          if (watched === device) watched = undefined;
          // onnxruntime destroys its own device once its last session is released: not a loss
          if (info.reason === 'destroyed' && liveSessions === 0) return;
          reason = `the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
          rejectLost(new Error(reason));
        });
      })
      .catch(() => undefined);
  };
  return {
    get lostReason() {
      return reason;
    },
    check() {
      if (reason) throw new Error(reason);
    },
    race<T>(p: Promise<T>): Promise<T> {
      return Promise.race([p, lost]);
    },
    opened() {
      liveSessions++;
      watch();
    },
    released() {
      liveSessions = Math.max(0, liveSessions - 1);
    },
  };
})();

/** Why this realm's WebGPU device is gone, if it is (a plainer reason than the failed call's error). */
export function webGpuLostReason(): string | undefined {
  return deviceHealth.lostReason;
}

/** The GPUDevice onnxruntime-web runs on in this realm, once a WebGPU session exists. */
function currentDevice(): GPUDevice | Promise<GPUDevice> | undefined {
  return (ort.env.webgpu as { device?: GPUDevice | Promise<GPUDevice> }).device;
}

/** Development builds only: destroys this realm's WebGPU device, so tests can exercise a real device loss. */
export async function destroyWebGpuDeviceForTesting(): Promise<void> {
  if (!import.meta.env?.DEV) throw new Error('only available in development builds');
  const device = await currentDevice();
  if (!device) throw new Error('no WebGPU device yet: start a WebGPU run first');
  device.destroy();
}

export async function webGpuBackend(o: WebBackendOptions = {}): Promise<Backend> {
  deviceHealth.check();
  configure(o);
  const probe = await probeWebGpu();
  if (!probe.ok) throw new Error(`WebGPU unavailable: ${probe.reason}`);
  return createOrtBackend(ort, {
    info: { name: 'webgpu', device: probe.adapter },
    executionProviders: ['webgpu'],
    deviceResident: true,
    guard: deviceHealth,
    gpuDevice: currentDevice,
  });
}

export function wasmBackend(o: WebBackendOptions = {}, reason = 'WASM chosen'): Backend {
  configure(o);
  const m = o.build === 'webgpu' ? ort : ortWasm;
  return createOrtBackend(m, {
    info: { name: 'wasm', device: `WebAssembly CPU, ${m.env.wasm.numThreads} thread(s)${o.build === 'webgpu' ? ', Asyncify build' : ''} — ${reason}` },
    executionProviders: ['wasm'],
    deviceResident: false,
    // onnxruntime-web turns the CPU memory arena and memory patterns off unless asked (Node has both
    // on), so every intermediate tensor is allocated on its own in the WebAssembly heap. Profiled on
    // the speech model's LoRA step, large elementwise ops cost several times their Node time without
    // them (the optimizer guard's 4 Wheres over the 129k-float flat state: 16 ms against 0.3 ms) and
    // far less with them (4.4 ms); the training session ran 5-10% faster with 2 threads, the same with
    // 1 (README, Performance). Static training shapes let the planned pattern serve every step.
    sessionOptions: { enableCpuMemArena: true, enableMemPattern: true, ...(o.profile ? { enableProfiling: true } : {}) },
  });
}
