// The backend a worker runs a model on: the user's choice, or the one measured fastest for this
// model on this device (src/runtime/backend-choice.ts), measured once and kept in IndexedDB so the
// ASR worker (transcription, evaluation) and the train worker share it and a reload does not
// measure again.
import { openDB } from 'idb';
import { asCached, asUserChoice, cacheKey, chooseBackend, type BackendChoice, type BackendTiming, type WebBackendName } from '../runtime/backend-choice';
import { MEASURE_AUDIO_SECONDS, timeForward } from '../runtime/measure';
import type { Backend } from '../runtime/types';
import { probeWebGpu, runtimeBuilds, wasmBackend, wasmThreads, webGpuBackend, webGpuLostReason } from '../runtime/web';

export type BackendPreference = 'auto' | WebBackendName;

const DB_NAME = 'earshot-backend-choice';
const db = () => openDB(DB_NAME, 1, { upgrade: (d) => void d.createObjectStore('choices') });

async function sha256(bytes: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
  return Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('');
}

function make(name: WebBackendName, choice: BackendChoice): Promise<Backend> | Backend {
  return name === 'webgpu' ? webGpuBackend() : wasmBackend({}, choice.reason);
}

/** One measurement at a time per worker (two models loading at once would time each other). */
let measuring: Promise<unknown> = Promise.resolve();

/**
 * What a backend is measured on: our model (its model.onnx bytes and mel bins, timed on synthetic
 * features), or a model from elsewhere, timed by its own forward pass on one second of audio and
 * kept under its stored id (its content never changes under that id).
 */
export type BackendSubject = { onnx: Uint8Array; nMels: number } | { id: string; time(backend: Backend): Promise<number> };

/** The backend for `model` under the user's preference, and why. */
export async function backendFor(model: BackendSubject, pref: BackendPreference = 'auto'): Promise<{ backend: Backend; choice: BackendChoice }> {
  const lost = webGpuLostReason();
  if (lost) {
    const choice: BackendChoice = { chosen: 'wasm', how: 'only', reason: `${lost}; reload the page to try WebGPU again`, timings: [], audioSeconds: 0 };
    return { backend: wasmBackend({}, choice.reason), choice };
  }
  const probe = await probeWebGpu();
  const key = cacheKey({ modelSha256: 'id' in model ? model.id : await sha256(model.onnx), adapter: probe.ok ? probe.adapter : undefined, threads: wasmThreads(), runtime: runtimeBuilds() });
  const stored = (await (await db()).get('choices', key)) as BackendChoice | undefined;
  if (pref !== 'auto') {
    const choice = asUserChoice(pref, stored);
    if (pref === 'webgpu' && !probe.ok) {
      const fallback: BackendChoice = { ...choice, chosen: 'wasm', reason: `WebGPU was chosen but ${probe.reason}` };
      return { backend: wasmBackend({}, fallback.reason), choice: fallback };
    }
    return { backend: await make(pref, choice), choice };
  }
  if (!probe.ok) {
    const choice: BackendChoice = { chosen: 'wasm', how: 'only', reason: probe.reason, timings: [], audioSeconds: 0 };
    return { backend: wasmBackend({}, choice.reason), choice };
  }
  if (stored) {
    const choice = asCached(stored);
    return { backend: await make(choice.chosen, choice), choice };
  }
  const run = measuring.then(async () => {
    const timings: BackendTiming[] = [];
    for (const name of ['wasm', 'webgpu'] as const) {
      try {
        const backend = name === 'webgpu' ? await webGpuBackend() : wasmBackend({}, 'measuring');
        timings.push({ name, ms: 'id' in model ? await model.time(backend) : await timeForward(backend, model.onnx, model.nMels) });
      } catch (e) {
        timings.push({ name, error: (e as Error).message });
      }
    }
    const choice = chooseBackend(timings, MEASURE_AUDIO_SECONDS);
    await (await db()).put('choices', choice, key);
    return choice;
  });
  measuring = run.catch(() => undefined);
  const choice = await run;
  return { backend: await make(choice.chosen, choice), choice };
}
