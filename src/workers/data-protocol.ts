// The data worker's API in one place: each method's arguments, progress events and result. The
// client and the worker are both typed against DataApi, so a change here breaks both at compile time.
import type { FrontEndConfig } from '../audio';
import type { ImportProgress } from '../data/import';
import type { ImportLimits } from '../data/limits';
import type { ImportReport } from '../data/report';
import type { StorageReport } from '../data/storage';

/** A file handed over from the page: File/Blob objects are cloned by reference, not copied. */
export interface FileRef {
  path: string;
  file: Blob;
}

export interface FeatureProgress {
  phase: 'features';
  done: number;
  total: number;
  audioSeconds: number;
  elapsedMs: number;
}

export interface DataApi {
  /** Import files (a folder's files, or zips) as one new dataset in IndexedDB. */
  import: {
    args: {
      files: FileRef[];
      /**
       * Dropped folders as File System Access handles (structured-cloneable, unlike
       * FileSystemEntry): the worker walks them, so listing thousands of files costs the page nothing.
       */
      directories?: FileSystemDirectoryHandle[];
      name?: string;
      limits?: Partial<ImportLimits>;
      splitSeed?: number;
      validationFraction?: number;
    };
    progress: ImportProgress;
    result: { datasetId: string | undefined; report: ImportReport; bySpeaker?: boolean };
  };
  /** Compute (or find cached) features for every utterance of a dataset. */
  features: {
    args: { datasetId: string; config?: FrontEndConfig };
    progress: FeatureProgress;
    result: { utterances: number; audioSeconds: number; computeMs: number; cacheHits: number; realTimeFactor: number };
  };
  /** The dataset as a zip with NeMo manifests; the buffer is transferred. */
  export: {
    args: { datasetId: string };
    progress: { phase: 'export'; done: number; total: number };
    result: { zip: ArrayBuffer; fileName: string };
  };
  delete: {
    args: { datasetId: string };
    progress: never;
    result: { freedBytes: number };
  };
  /** Re-draw the train/validation split (hand-set splits are kept). */
  resplit: {
    args: { datasetId: string; seed: number; validationFraction: number };
    progress: never;
    result: { validation: number; train: number; bySpeaker: boolean };
  };
  /** Decode any supported audio to mono samples at `sampleRate`; both buffers are transferred. */
  decode: {
    args: { bytes: ArrayBuffer; sampleRate: number; name?: string };
    progress: never;
    result: { samples: Float32Array };
  };
}

export type DataMethod = keyof DataApi;

export type DataRequest =
  | { [K in DataMethod]: { kind: 'call'; job: number; method: K; args: DataApi[K]['args'] } }[DataMethod]
  | { kind: 'cancel'; job: number };

export type DataResponse =
  | { kind: 'progress'; job: number; progress: DataApi[DataMethod]['progress'] }
  | { kind: 'result'; job: number; result: DataApi[DataMethod]['result'] }
  | { kind: 'error'; job: number; message: string; quota?: StorageReport; cancelled?: boolean };

/** Progress events are throttled to this interval before they are posted to the page. */
export const PROGRESS_INTERVAL_MS = 100;
