// The app's own IndexedDB (apart from the datasets' earshot-data): imported and fine-tuned models,
// training runs with their chart history, the last checkpoint of each run, recorded takes, and the
// rounds of training as takes arrive with their held-out scores. Opened the same way from the page
// and from the workers.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { LoopPosition } from '../train/loop';
import type { AdapterChoice } from '../train/adapters';
import type { ProjectionKind } from '../engine/lora-inject';
import type { Metrics } from '../train/export';
import type { StoredForeign } from './foreign-models';

export const APP_DB_NAME = 'earshot-app';

export interface StoredModel {
  id: string;
  name: string;
  source: 'imported' | 'fine-tuned';
  createdAt: number;
  /** The model directory's files by name (model.onnx, config.json, tokens.txt, README.md); empty for a model from elsewhere. */
  files: Record<string, Uint8Array>;
  /** For fine-tuned models: the adapter-only file. */
  adapter?: Uint8Array;
  /** A model from elsewhere (issue 12): its own layout's files as blobs, and its card. */
  foreign?: StoredForeign;
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
  /**
   * For a model from elsewhere: the projection kinds LoRA adapts (of those its import found), with
   * the rank and alpha of `adapter`. Absent: attention q and v, as the LoRA paper.
   */
  projections?: ProjectionKind[];
}

/** LoRA targets when the settings name none: attention q and v (the LoRA paper), else fused q/k/v, else every kind found but 'other'. */
export function defaultProjections(found: readonly { kind: ProjectionKind }[]): ProjectionKind[] {
  const kinds = found.map((p) => p.kind);
  const qv = kinds.filter((k) => k === 'attention.q' || k === 'attention.v');
  if (qv.length) return qv;
  if (kinds.includes('attention.qkv')) return ['attention.qkv'];
  return kinds.filter((k) => k !== 'other');
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

/** Corpus WER and CER on the held-out takes (src/workers/score-model.ts) and how many takes they count. */
export interface HeldOutScore {
  wer: number;
  cer: number;
  takes: number;
}

/**
 * One round of training as takes arrive (src/store/auto-train-actions.ts), scored on the held-out
 * takes there were when it ended: the base model (where the user's rounds began) against the
 * model current after the round.
 */
export interface ProgressRound {
  /** The round's training run. */
  id: string;
  createdAt: number;
  /** The recordings dataset. */
  datasetId: string;
  /** Accepted takes (trained on and held out) when the round started. */
  takes: number;
  /** The model the user's rounds began from: the first of the chain of runs that led to this round. */
  baseModelId: string;
  /** The model this round trained and the one current after it (that model when adopted, else the one it started from). */
  roundModelId: string;
  currentModelId: string;
  adopted: boolean;
  /** Undefined when there were no held-out takes yet, or scoring failed (`unscored` says which). */
  base?: HeldOutScore;
  current?: HeldOutScore;
  /** The round's own model when it was not adopted (the run's card metrics, measured by the same code). */
  turnedDown?: HeldOutScore;
  unscored?: string;
  /** Each held-out take's normalized reference and what the base and the current model wrote. */
  transcripts: { utteranceId: string; ref: string; base: string; current: string }[];
}

interface AppDb extends DBSchema {
  models: { key: string; value: StoredModel };
  runs: { key: string; value: RunRecord };
  checkpoints: { key: string; value: StoredCheckpoint };
  takes: { key: string; value: Take };
  rounds: { key: string; value: ProgressRound };
}

/** Bumped with every schema change; `upgrade` replays the steps a stored database has not had yet. */
export const APP_DB_VERSION = 2;

let dbPromise: Promise<IDBPDatabase<AppDb>> | undefined;

export function appDb(): Promise<IDBPDatabase<AppDb>> {
  return (dbPromise ??= openDB<AppDb>(APP_DB_NAME, APP_DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('models', { keyPath: 'id' });
        db.createObjectStore('runs', { keyPath: 'id' });
        db.createObjectStore('checkpoints', { keyPath: 'runId' });
        db.createObjectStore('takes', { keyPath: 'id' });
      }
      if (oldVersion < 2) db.createObjectStore('rounds', { keyPath: 'id' });
    },
    // a newer version of the app opened in another tab: let it upgrade, and reopen on the next call
    blocking(_current, _blocked, event) {
      (event.target as IDBDatabase).close();
      dbPromise = undefined;
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
