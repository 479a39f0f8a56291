// The app's own IndexedDB (apart from the datasets' earshot-data): imported and fine-tuned models,
// training runs with their chart history, the last checkpoint of each run, and recorded takes.
// Opened the same way from the page and from the workers.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LoopPosition } from '../train/loop';
import type { AdapterChoice } from '../train/adapters';
import type { Metrics } from '../train/export';

export const APP_DB_NAME = 'earshot-app';

export interface StoredModel {
  id: string;
  name: string;
  source: 'imported' | 'fine-tuned';
  createdAt: number;
  /** The model directory's files by name (model.onnx, config.json, tokens.txt, README.md). */
  files: Record<string, Uint8Array>;
  /** For fine-tuned models: the adapter-only file. */
  adapter?: Uint8Array;
}

export interface TrainSettings {
  adapter: AdapterChoice;
  peakLr: number;
  warmupSteps: number;
  length: { unit: 'steps' | 'epochs'; value: number };
  batchSeconds: number;
  evalEvery: number;
  checkpointEvery: number;
  augment: { specAugment: boolean; speed: boolean; noise: boolean };
  backend: 'auto' | 'webgpu' | 'wasm';
  seed: number;
  /**
   * Mix an LM of the training transcripts into the model's word LM (personal-lm.ts); the fine-tuned
   * model then keeps them in personal.txt. Absent (older runs): on.
   */
  personalLm?: boolean;
}

export type RunStatus = 'running' | 'paused' | 'failed' | 'finished' | 'stopped' | 'diverged';

/** Chart history: [step, value] pairs. */
export interface RunHistory {
  loss: [number, number][];
  lr: [number, number][];
  throughput: [number, number][];
  valLoss: [number, number][];
  wer: [number, number][];
  cer: [number, number][];
}

export const emptyHistory = (): RunHistory => ({ loss: [], lr: [], throughput: [], valLoss: [], wer: [], cer: [] });

export interface RunRecord {
  id: string;
  createdAt: number;
  baseModelId: string;
  baseModelName: string;
  datasetIds: string[];
  settings: TrainSettings;
  totalSteps: number;
  status: RunStatus;
  message?: string;
  position?: LoopPosition;
  checkpointStep?: number;
  backend?: string;
  history: RunHistory;
  baseMetrics?: Metrics;
  fineTunedMetrics?: Metrics;
  resultModelId?: string;
}

export interface StoredCheckpoint {
  runId: string;
  step: number;
  position: LoopPosition;
  /** The whole training state (parameters, moments, step) as safetensors. */
  bytes: Uint8Array;
}

export interface Take {
  id: string;
  createdAt: number;
  /** 16 kHz mono 16-bit WAV. */
  audio: Uint8Array;
  duration: number;
  prompt?: string;
  hypothesis?: string;
  transcript?: string;
  status: 'pending' | 'accepted';
  utteranceId?: string;
}

interface AppDb extends DBSchema {
  models: { key: string; value: StoredModel };
  runs: { key: string; value: RunRecord };
  checkpoints: { key: string; value: StoredCheckpoint };
  takes: { key: string; value: Take };
}

let dbPromise: Promise<IDBPDatabase<AppDb>> | undefined;

export function appDb(): Promise<IDBPDatabase<AppDb>> {
  return (dbPromise ??= openDB<AppDb>(APP_DB_NAME, 1, {
    upgrade(db) {
      db.createObjectStore('models', { keyPath: 'id' });
      db.createObjectStore('runs', { keyPath: 'id' });
      db.createObjectStore('checkpoints', { keyPath: 'runId' });
      db.createObjectStore('takes', { keyPath: 'id' });
    },
  }));
}

export async function updateRun(id: string, patch: Partial<RunRecord> | ((r: RunRecord) => Partial<RunRecord>)): Promise<RunRecord> {
  const db = await appDb();
  const tx = db.transaction('runs', 'readwrite');
  const current = await tx.store.get(id);
  if (!current) throw new Error(`no run ${id}`);
  const next = { ...current, ...(typeof patch === 'function' ? patch(current) : patch) };
  await tx.store.put(next);
  await tx.done;
  return next;
}

/** The most recent run, if any. */
export async function latestRun(): Promise<RunRecord | undefined> {
  const runs = await (await appDb()).getAll('runs');
  return runs.sort((a, b) => b.createdAt - a.createdAt)[0];
}
