// Browser backends: onnxruntime-web's native WebGPU execution provider (import
// 'onnxruntime-web/webgpu', per FIELD.md), with its WASM CPU kernels as the fallback.
import * as ort from 'onnxruntime-web/webgpu';
import { createOrtBackend } from './ort-backend';
import type { Backend } from './types';

export interface WebBackendOptions {
  /** Where onnxruntime-web's .wasm/.mjs files are served from (default: bundler-resolved). */
  wasmPaths?: string;
  threads?: number;
}

function configure(o: WebBackendOptions): void {
  if (o.wasmPaths) ort.env.wasm.wasmPaths = o.wasmPaths;
  // Threads need cross-origin isolation (SharedArrayBuffer); without it onnxruntime uses one.
  const isolated = typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated;
  ort.env.wasm.numThreads = isolated ? (o.threads ?? Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
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

export async function webGpuBackend(o: WebBackendOptions = {}): Promise<Backend> {
  configure(o);
  const probe = await probeWebGpu();
  if (!probe.ok) throw new Error(`WebGPU unavailable: ${probe.reason}`);
  return createOrtBackend(ort, {
    info: { name: 'webgpu', device: probe.adapter },
    executionProviders: ['webgpu'],
    deviceResident: true,
  });
}

export function wasmBackend(o: WebBackendOptions = {}, reason = 'WASM chosen'): Backend {
  configure(o);
  return createOrtBackend(ort, {
    info: { name: 'wasm', device: `WebAssembly CPU, ${ort.env.wasm.numThreads} thread(s) — ${reason}` },
    executionProviders: ['wasm'],
    deviceResident: false,
  });
}

/** WebGPU when available, else WASM with the reason. */
export async function bestWebBackend(o: WebBackendOptions = {}): Promise<Backend> {
  const probe = await probeWebGpu();
  if (probe.ok) return webGpuBackend(o);
  return wasmBackend(o, probe.reason);
}
