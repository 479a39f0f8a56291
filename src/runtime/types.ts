// What the rest of the project sees of onnxruntime: one interface, three backends (Node CPU,
// browser WebGPU, browser WASM). Tensors cross this boundary as plain typed arrays.

import type { DType } from '../engine/ir';
import type { BackendChoice } from './backend-choice';

export type BackendName = 'node-cpu' | 'node-webgpu' | 'webgpu' | 'wasm';

export interface HostTensor {
  dtype: DType;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Float64Array;
}

export interface BackendInfo {
  name: BackendName;
  /** Human-readable device: the WebGPU adapter, or why WebGPU was not used. */
  device: string;
  /** In the browser: how this backend was chosen (measured, cached, the user's choice) and the timings. */
  choice?: BackendChoice;
}

/** An opaque tensor owned by the runtime (on the GPU for WebGPU). */
export interface DeviceTensor {
  readonly dims: readonly number[];
  /** Where the data lives: 'gpu-buffer' for WebGPU-resident tensors, 'cpu' otherwise. */
  readonly location: string;
  dispose(): void;
}

export interface RunOptions {
  /** Outputs to keep on the device (returned as DeviceTensor); the rest are read back to the host. */
  keepOnDevice?: Iterable<string>;
}

export interface RunResult {
  host: Record<string, HostTensor>;
  device: Record<string, DeviceTensor>;
  /**
   * Milliseconds spent inside onnxruntime's `run` (the kernels, and on WASM the copies of every
   * feed into the WebAssembly heap and of every output out of it); the rest of the call is this
   * wrapper's (tensor objects, reading device outputs back). For benchmarks' per-step breakdown.
   */
  runMs: number;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, HostTensor | DeviceTensor>,
    opts?: RunOptions,
  ): Promise<RunResult>;
  /** Reads a device tensor back to the host. */
  read(t: DeviceTensor): Promise<HostTensor>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /**
   * WebGPU only (Backend.fixedBuffers): onnxruntime's `enableGraphCapture`. Every feed must then be
   * a fixed device tensor (FixedBuffers.create), the same ones every run, and every output comes
   * back on the device (ask for all of them with keepOnDevice). src/runtime/graph-capture.ts.
   */
  graphCapture?: boolean;
}

/** GPU buffers of our own (WebGPU): what a captured graph binds once and reads every replay. */
export interface FixedBuffers {
  /** A float32/int32 device tensor over a buffer of its own, holding `t`. Needs a session on the device first. */
  create(t: HostTensor): DeviceTensor;
  /** Overwrites a fixed tensor's contents. */
  write(dst: DeviceTensor, t: HostTensor): void;
  /**
   * In one submission: each pair's source (any device tensor) copied into its fixed destination,
   * then the first float32 of each of `read` read back (the step's one sync point).
   */
  copyAndRead(copies: Array<[src: DeviceTensor, dst: DeviceTensor]>, read: DeviceTensor[]): Promise<number[]>;
}

export interface Backend {
  readonly info: BackendInfo;
  /** `deviceOutputs`: outputs that should stay on the device between runs (ignored on CPU backends). */
  createSession(model: Uint8Array, deviceOutputs?: string[], opts?: SessionOptions): Promise<Session>;
  /** Wraps host data as a tensor the backend can feed (uploads happen at run time). */
  toDevice(t: HostTensor): DeviceTensor;
  /** WebGPU: buffers of our own, for graph capture. */
  readonly fixedBuffers?: FixedBuffers;
}

export function isHostTensor(t: HostTensor | DeviceTensor): t is HostTensor {
  return (t as HostTensor).data !== undefined && (t as HostTensor).dtype !== undefined;
}
