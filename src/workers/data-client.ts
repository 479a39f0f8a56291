// The page's side of the data worker: typed calls that return promises, progress callbacks and
// cancel. Buffers named in `transfer` move to the worker instead of being copied.
import type { StorageReport } from '../data/storage';
import type { DataApi, DataMethod, DataRequest, DataResponse } from './data-protocol';

export class DataWorkerError extends Error {
  override readonly name = 'DataWorkerError';
  constructor(message: string, readonly quota?: StorageReport, readonly cancelled = false) {
    super(message);
  }
}

export interface Call<R> {
  result: Promise<R>;
  cancel(): void;
}

interface Pending {
  resolve(r: unknown): void;
  reject(e: Error): void;
  onProgress?(p: unknown): void;
}

export class DataClient {
  private nextJob = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly worker: Worker = new Worker(new URL('./data.worker.ts', import.meta.url), { type: 'module', name: 'earshot-data' })) {
    worker.onmessage = (event: MessageEvent<DataResponse>) => {
      const msg = event.data;
      const p = this.pending.get(msg.job);
      if (!p) return;
      if (msg.kind === 'progress') return p.onProgress?.(msg.progress);
      this.pending.delete(msg.job);
      if (msg.kind === 'result') p.resolve(msg.result);
      else p.reject(new DataWorkerError(msg.message, msg.quota, msg.cancelled));
    };
    worker.onerror = (event) => {
      const err = new DataWorkerError(`data worker failed: ${event.message}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  call<K extends DataMethod>(
    method: K,
    args: DataApi[K]['args'],
    opts: { onProgress?(p: DataApi[K]['progress']): void; transfer?: Transferable[] } = {},
  ): Call<DataApi[K]['result']> {
    const job = this.nextJob++;
    const result = new Promise<DataApi[K]['result']>((resolve, reject) => {
      this.pending.set(job, { resolve: resolve as (r: unknown) => void, reject, onProgress: opts.onProgress as ((p: unknown) => void) | undefined });
    });
    this.worker.postMessage({ kind: 'call', job, method, args } as DataRequest, opts.transfer ?? []);
    return { result, cancel: () => this.worker.postMessage({ kind: 'cancel', job } satisfies DataRequest) };
  }

  terminate(): void {
    this.worker.terminate();
  }
}

let shared: DataClient | undefined;
/** One data worker per page. */
export function dataClient(): DataClient {
  return (shared ??= new DataClient());
}
