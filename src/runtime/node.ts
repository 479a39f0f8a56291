// Node backend: onnxruntime-node on the CPU (the CLI, tests and benchmarks).
import * as ort from 'onnxruntime-node';
import { cpus } from 'node:os';
import { createOrtBackend } from './ort-backend';
import type { Backend } from './types';

export function nodeBackend(opts: { threads?: number } = {}): Backend {
  const threads = opts.threads ?? Math.max(1, cpus().length);
  return createOrtBackend(ort, {
    info: { name: 'node-cpu', device: `onnxruntime-node ${ort.env.versions.node ?? ''} CPU, ${threads} thread(s)` },
    executionProviders: ['cpu'],
    deviceResident: false,
    sessionOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
}
