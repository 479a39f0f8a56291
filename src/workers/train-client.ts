// The page's handle on the train worker: one per page, typed by TrainApi.
import { wrap, type Remote } from 'comlink';
import type { TrainApi } from './train-protocol';

let shared: Remote<TrainApi> | undefined;

export function trainWorker(): Remote<TrainApi> {
  return (shared ??= wrap<TrainApi>(new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'earshot-train' })));
}
