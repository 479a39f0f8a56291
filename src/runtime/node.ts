// Node backend: onnxruntime-node on the CPU (the CLI, tests and benchmarks), or on the WebGPU
// execution provider it bundles (Dawn on Vulkan; FIELD.md), which scripts/device/ uses to measure
// a real GPU.
import * as ort from 'onnxruntime-node';
import { cpus } from 'node:os';
import { createOrtBackend } from './ort-backend';
import type { Backend } from './types';

export interface NodeBackendOptions {
  threads?: number;
  /** 'cpu' (default) or 'webgpu': onnxruntime-node's bundled WebGPU EP, on whatever Vulkan driver the machine has. */
  executionProvider?: 'cpu' | 'webgpu';
  /** onnxruntime's per-kernel profiling (for benchmarks): each session writes `<prefix>_<date>.json` when it is released. */
  profilePrefix?: string;
}

export function nodeBackend(opts: NodeBackendOptions = {}): Backend {
  const threads = opts.threads ?? Math.max(1, cpus().length);
  const version = ort.env.versions.node ?? '';
  if (opts.executionProvider === 'webgpu')
    return createOrtBackend(ort, {
      info: { name: 'node-webgpu', device: `onnxruntime-node ${version} WebGPU EP (Dawn on Vulkan)` },
      executionProviders: ['webgpu'],
      // Training state stays in GPU buffers between steps, as in the browser. onnxruntime-node
      // crashes when a gpu-buffer output is read with getData() (FIELD.md), so such reads go through
      // a copy to a cpu output instead (ort-backend.ts, readThroughCpu).
      deviceResident: true,
      readThroughCpu: true,
      sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
    });
  return createOrtBackend(ort, {
    info: { name: 'node-cpu', device: `onnxruntime-node ${version} CPU, ${threads} thread(s)` },
    executionProviders: ['cpu'],
    deviceResident: false,
    sessionOptions: {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
    },
  });
}
