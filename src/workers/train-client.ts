// The page's handle on the train worker: one per page, typed by TrainApi. After the GPU device is
// lost, the worker is replaced: onnxruntime-web keeps one device per worker, and a new worker asks
// for a new one.
import { wrap, type Remote } from 'comlink';
import type { TrainApi } from './train-protocol';

let shared: { worker: Worker; api: Remote<TrainApi> } | undefined;

export function trainWorker(): Remote<TrainApi> {
  if (!shared) {
    const worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'earshot-train' });
    shared = { worker, api: wrap<TrainApi>(worker) };
  }
  return shared.api;
}

/** Ends the current train worker (its run has already ended); the next call starts a fresh one. */
export function replaceTrainWorker(): void {
  shared?.worker.terminate();
  shared = undefined;
}
