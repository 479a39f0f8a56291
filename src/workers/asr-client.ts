// The page's handle on the ASR worker: one worker per page, typed by AsrApi.
import { wrap, type Remote } from 'comlink';
import type { AsrApi } from './asr-protocol';

let shared: Remote<AsrApi> | undefined;

export function asrWorker(): Remote<AsrApi> {
  return (shared ??= wrap<AsrApi>(new Worker(new URL('./asr.worker.ts', import.meta.url), { type: 'module', name: 'earshot-asr' })));
}
