// Which browser backend runs a model: the one measured fastest on this device. Guessing from the
// adapter is not enough: headless Chromium's only WebGPU adapter is SwiftShader, a software
// rasterizer that runs the same model 60–100× slower than WASM (issue 13), and a slow integrated
// GPU can lose to a fast CPU too. So each backend runs the actual model on the same input a few
// times and the faster one is chosen; the result is kept per model and device (cacheKey).
// Pure logic here; web-measure.ts runs the timings.

export type WebBackendName = 'webgpu' | 'wasm';

/** One backend's measurement: the median time of a forward pass, or why it could not run. */
export interface BackendTiming {
  name: WebBackendName;
  ms?: number;
  error?: string;
}

export interface BackendChoice {
  chosen: WebBackendName;
  /** How it was chosen: measured now, measured earlier (cached), the user's choice, or the only one available. */
  how: 'measured' | 'cached' | 'user' | 'only';
  /** One sentence a user reads: which backend and why. */
  reason: string;
  timings: BackendTiming[];
  /** Seconds of audio one timed run covered. */
  audioSeconds: number;
}

export const BACKEND_LABEL: Record<WebBackendName, string> = { webgpu: 'WebGPU', wasm: 'WASM' };

export function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

function describeTimings(timings: BackendTiming[], audioSeconds: number): string {
  const parts = timings.map((t) => `${BACKEND_LABEL[t.name]} ${t.ms !== undefined ? formatMs(t.ms) : `failed (${t.error ?? 'unknown error'})`}`);
  return `${parts.join(', ')} per ${audioSeconds} s of audio`;
}

/** The faster backend that ran; ties (within 5%) go to WASM, which has no shader compilation or device loss. */
export function chooseBackend(timings: BackendTiming[], audioSeconds: number): BackendChoice {
  const ran = timings.filter((t): t is BackendTiming & { ms: number } => t.ms !== undefined && Number.isFinite(t.ms));
  if (ran.length === 0) throw new Error(`no backend could run the model: ${describeTimings(timings, audioSeconds)}`);
  const wasm = ran.find((t) => t.name === 'wasm');
  const gpu = ran.find((t) => t.name === 'webgpu');
  const measured = describeTimings(timings, audioSeconds);
  if (!wasm || !gpu) {
    const only = (wasm ?? gpu)!;
    return { chosen: only.name, how: 'only', reason: `the only backend that ran: ${measured}`, timings, audioSeconds };
  }
  const chosen = gpu.ms < wasm.ms / 1.05 ? gpu : wasm;
  const other = chosen === gpu ? wasm : gpu;
  const ratio = other.ms / Math.max(chosen.ms, 1e-3);
  const lead = ratio >= 1.05 ? `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}× faster` : 'as fast';
  return { chosen: chosen.name, how: 'measured', reason: `measured ${lead} than ${BACKEND_LABEL[other.name]} on this model (${measured})`, timings, audioSeconds };
}

/** The same measurement read back from the cache. */
export function asCached(c: BackendChoice): BackendChoice {
  return c.how === 'measured' ? { ...c, how: 'cached', reason: c.reason.replace(/^measured/, 'measured earlier') } : c;
}

/** The user's override, keeping what was measured so the card can still show it. */
export function asUserChoice(name: WebBackendName, measured?: BackendChoice): BackendChoice {
  const timings = measured?.timings ?? [];
  const audioSeconds = measured?.audioSeconds ?? 0;
  const also = timings.length ? ` (measured: ${describeTimings(timings, audioSeconds)})` : '';
  return { chosen: name, how: 'user', reason: `chosen by you${also}`, timings, audioSeconds };
}

/**
 * What a measurement depends on: the model's bytes, the WebGPU adapter (or its absence) and the
 * WASM thread count. A new model, another GPU or another browser setup measures again.
 */
export function cacheKey(o: { modelSha256: string; adapter: string | undefined; threads: number; runtime: string }): string {
  return `${o.modelSha256}|${o.adapter ?? 'no WebGPU'}|wasm threads ${o.threads}|${o.runtime}`;
}
