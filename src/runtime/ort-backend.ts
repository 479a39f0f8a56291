// The one implementation of Backend over onnxruntime's JavaScript API, which onnxruntime-node and
// onnxruntime-web share. node.ts and web.ts hand it their `ort` module; nothing else in the project
// touches onnxruntime.

import type * as OrtCommon from 'onnxruntime-common';
import type { DType } from '../engine/ir';
import { encodeModel, makeModel } from '../engine/onnx-proto';
import type { Backend, BackendInfo, DeviceTensor, FixedBuffers, HostTensor, RunOptions, Session } from './types';
import { isHostTensor } from './types';

export type Ort = Pick<typeof OrtCommon, 'InferenceSession' | 'Tensor'>;
type OrtTensor = OrtCommon.Tensor;

const TO_ORT: Record<DType, OrtCommon.Tensor.Type> = {
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  int8: 'int8',
  uint8: 'uint8',
};
const FROM_ORT: Partial<Record<string, DType>> = { float32: 'float32', float64: 'float64', int32: 'int32', int64: 'int64', bool: 'bool', int8: 'int8', uint8: 'uint8' };

class OrtDeviceTensor implements DeviceTensor {
  constructor(readonly tensor: OrtTensor) {}
  get dims(): readonly number[] {
    return this.tensor.dims;
  }
  get location(): string {
    return this.tensor.location;
  }
  dispose(): void {
    // Tensors created from host arrays have nothing to free; GPU-resident ones release their buffer.
    if (this.tensor.location === 'gpu-buffer') this.tensor.dispose();
  }
}

/**
 * onnxruntime on WebGPU throws when two sessions are created or run at once (FIELD.md): every
 * create and run goes through this one queue.
 */
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

export interface OrtBackendOptions {
  info: BackendInfo;
  executionProviders: string[];
  /** Whether outputs may stay on the device (true for WebGPU). */
  deviceResident: boolean;
  sessionOptions?: OrtCommon.InferenceSession.SessionOptions;
  /**
   * Device health (WebGPU): `check` throws once the device is lost, `race` rejects a pending call
   * when it is lost, so a lost GPU fails the step with its reason instead of hanging it; `opened`
   * and `released` count live sessions (the device exists once one is created).
   */
  guard?: { check(): void; race<T>(p: Promise<T>): Promise<T>; opened(): void; released(): void };
  /**
   * Read device tensors by running them through an Identity session whose output lands on the CPU,
   * instead of `getData()`, which crashes onnxruntime-node on gpu-buffer tensors (FIELD.md).
   */
  readThroughCpu?: boolean;
  /**
   * WebGPU in the browser: the GPUDevice onnxruntime runs on (there once a session exists). Enables
   * Backend.fixedBuffers and sessions with graph capture.
   */
  gpuDevice?: () => GPUDevice | Promise<GPUDevice> | undefined;
}

// WebGPU's GPUBufferUsage / GPUMapMode flags (the project's typings do not declare those globals)
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const STORAGE = 0x80;

/** Buffers of our own on `device()` (graph capture binds them once and replays over them). */
function fixedBuffers(ort: Ort, device: () => GPUDevice | undefined): FixedBuffers {
  const dev = () => {
    const d = device();
    if (!d) throw new Error('no GPUDevice yet: create a WebGPU session first');
    return d;
  };
  const bytes = (dims: readonly number[]) => 4 * dims.reduce((a, b) => a * b, 1);
  const readBack = async (d: GPUDevice, fill: (enc: GPUCommandEncoder, staging: GPUBuffer) => void, size: number): Promise<ArrayBuffer> => {
    const staging = d.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage: MAP_READ | COPY_DST });
    try {
      const enc = d.createCommandEncoder();
      fill(enc, staging);
      d.queue.submit([enc.finish()]);
      await staging.mapAsync(MAP_READ);
      return staging.getMappedRange().slice(0, size);
    } finally {
      staging.destroy();
    }
  };
  const gpu = (t: DeviceTensor) => (t as OrtDeviceTensor).tensor.gpuBuffer as GPUBuffer;
  return {
    create(t) {
      if (t.dtype !== 'float32' && t.dtype !== 'int32') throw new Error(`fixed buffers hold float32 or int32, not ${t.dtype}`);
      const d = dev();
      const size = bytes(t.dims);
      const buffer = d.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage: STORAGE | COPY_SRC | COPY_DST });
      if (size) d.queue.writeBuffer(buffer, 0, t.data as Float32Array);
      const Ctor = t.dtype === 'float32' ? Float32Array : Int32Array;
      return new OrtDeviceTensor(ort.Tensor.fromGpuBuffer(buffer, {
        dataType: t.dtype,
        dims: t.dims,
        download: async () => new Ctor(await readBack(d, (enc, st) => enc.copyBufferToBuffer(buffer, 0, st, 0, Math.ceil(size / 4) * 4), size)) as never,
        dispose: () => buffer.destroy(),
      }));
    },
    write(dst, t) {
      dev().queue.writeBuffer(gpu(dst), 0, t.data as Float32Array);
    },
    async copyAndRead(copies, read) {
      const d = dev();
      const out = await readBack(d, (enc, st) => {
        for (const [src, dst] of copies) enc.copyBufferToBuffer(gpu(src), 0, gpu(dst), 0, bytes(dst.dims));
        read.forEach((t, i) => enc.copyBufferToBuffer(gpu(t), 0, st, 4 * i, 4));
      }, 4 * read.length);
      return [...new Float32Array(out)];
    },
  };
}

/** A one-node model y = Identity(x) for a tensor of this dtype and rank (symbolic dims). */
function identityModel(dtype: DType, rank: number): Uint8Array {
  const shape = Array.from({ length: rank }, (_, i) => `d${i}`);
  return encodeModel(makeModel({
    name: 'read_through_cpu',
    nodes: [{ opType: 'Identity', domain: '', name: 'read', inputs: ['x'], outputs: ['y'], attrs: {} }],
    inputs: [{ name: 'x', dtype, shape }],
    outputs: [{ name: 'y', dtype, shape }],
    initializers: [],
    valueInfo: [],
  }));
}

function toOrt(ort: Ort, t: HostTensor): OrtTensor {
  const data = t.dtype === 'float64' && !(t.data instanceof Float64Array) ? Float64Array.from(t.data as Float32Array) : t.data;
  return new ort.Tensor(TO_ORT[t.dtype], data as never, t.dims);
}

async function toHost(t: OrtTensor): Promise<HostTensor> {
  const dtype = FROM_ORT[t.type];
  if (!dtype) throw new Error(`unsupported output type ${t.type}`);
  const data = t.location === 'cpu' ? t.data : await t.getData();
  return { dtype, dims: [...t.dims], data: data as HostTensor['data'] };
}

export function createOrtBackend(ort: Ort, o: OrtBackendOptions): Backend {
  const readers = new Map<string, Promise<OrtCommon.InferenceSession>>();
  /** Device tensor → host: getData(), or (readThroughCpu) an Identity run whose output is a cpu tensor. */
  const read = async (t: OrtTensor): Promise<HostTensor> => {
    if (t.location === 'cpu' || !o.readThroughCpu) return toHost(t);
    const dtype = FROM_ORT[t.type];
    if (!dtype) throw new Error(`unsupported output type ${t.type}`);
    const k = `${dtype}/${t.dims.length}`;
    if (!readers.has(k))
      readers.set(k, serialized(() => ort.InferenceSession.create(identityModel(dtype, t.dims.length), { executionProviders: o.executionProviders as never })));
    const reader = await readers.get(k)!;
    const out = await serialized(() => reader.run({ x: t }));
    return toHost(out.y);
  };
  let device: GPUDevice | undefined;
  return {
    info: o.info,
    toDevice: (t) => new OrtDeviceTensor(toOrt(ort, t)),
    ...(o.gpuDevice ? { fixedBuffers: fixedBuffers(ort, () => device) } : {}),
    async createSession(model, deviceOutputs = [], opts = {}) {
      const capture = !!opts.graphCapture;
      if (capture && !o.gpuDevice) throw new Error(`graph capture needs WebGPU in the browser, not ${o.info.name}`);
      const keep = o.deviceResident ? deviceOutputs : [];
      const preferredOutputLocation = keep.length && !capture
        ? Object.fromEntries(keep.map((n) => [n, 'gpu-buffer' as const]))
        : undefined;
      o.guard?.check();
      const guarded = <T>(p: Promise<T>) => (o.guard ? o.guard.race(p) : p);
      const session = await serialized(() =>
        guarded(ort.InferenceSession.create(model, {
          // onnxruntime-web passes enableGraphCapture on to the WebGPU EP only when the EP is an object
          executionProviders: (capture ? o.executionProviders.map((e) => (e === 'webgpu' ? { name: e } : e)) : o.executionProviders) as never,
          graphOptimizationLevel: 'all',
          ...(preferredOutputLocation ? { preferredOutputLocation } : {}),
          // under capture every output is a gpu-buffer one (onnxruntime-web's default then)
          ...(capture ? { enableGraphCapture: true } : {}),
          ...o.sessionOptions,
        })),
      );
      o.guard?.opened();
      // every time: onnxruntime destroys its device with its last session, and a later one makes another
      if (o.gpuDevice) device = await o.gpuDevice();
      const deviceSet = new Set(capture ? session.outputNames : keep);
      const s: Session = {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        async run(feeds, runOpts: RunOptions = {}) {
          const ortFeeds: Record<string, OrtTensor> = {};
          for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = isHostTensor(v) ? toOrt(ort, v) : (v as OrtDeviceTensor).tensor;
          const wantDevice = new Set(runOpts.keepOnDevice ?? []);
          o.guard?.check();
          let runMs = 0;
          const out = await serialized(async () => {
            const t0 = performance.now();
            try {
              return await guarded(session.run(ortFeeds));
            } finally {
              runMs = performance.now() - t0;
            }
          });
          const host: Record<string, HostTensor> = {};
          const device: Record<string, DeviceTensor> = {};
          for (const [name, t] of Object.entries(out)) {
            if (wantDevice.has(name)) device[name] = new OrtDeviceTensor(t);
            else if (deviceSet.has(name)) {
              // asked for on the host but produced on the GPU: read it and free the buffer
              host[name] = await guarded(read(t));
              t.dispose();
            } else host[name] = await guarded(toHost(t));
          }
          return { host, device, runMs };
        },
        read: (t) => guarded(read((t as OrtDeviceTensor).tensor)),
        release: () => {
          o.guard?.released();
          return serialized(() => session.release());
        },
      };
      return s;
    },
  };
}
