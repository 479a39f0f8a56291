// The train worker's API (comlink). One run at a time; progress comes back as small events,
// step points batched (at most one message per PROGRESS_MS) before they reach the store.
import type { StepMeasurement } from '../train/plan';
import type { RunStatus, TrainSettings } from './train-db';

export const PROGRESS_MS = 250;

export interface StepPoint {
  step: number;
  loss: number;
  lr: number;
  throughput: number;
  skipped: boolean;
}

export type TrainEvent =
  | { type: 'status'; runId: string; status: RunStatus | 'preparing'; message?: string; backend?: string; totalSteps?: number }
  | { type: 'steps'; runId: string; points: StepPoint[]; step: number; totalSteps: number; skipped: number; elapsedMs: number; epoch: number }
  | { type: 'eval'; runId: string; step: number; valLoss: number; wer: number; cer: number }
  /** A validation pass in progress (`done` of `total` batches); the one at step 0 scores the base model before training. */
  | { type: 'validating'; runId: string; step: number; done: number; total: number }
  | { type: 'checkpoint'; runId: string; step: number };

export interface RunOutcome {
  runId: string;
  status: RunStatus;
  message?: string;
  resultModelId?: string;
  /** The run failed because the GPU device was lost or ran out of memory (this worker's WebGPU is unusable now). */
  deviceLost?: boolean;
}

export interface StartRequest {
  modelId: string;
  modelName: string;
  datasetIds: string[];
  datasetNames: string[];
  settings: TrainSettings;
}

export interface TrainApi {
  /** Times one training step and one validation pass for these settings (nothing is kept), for the estimate before a run. */
  measure(req: StartRequest): Promise<StepMeasurement & { backend: string }>;
  /** Starts a run; resolves when it ends, fails or diverges (a pause keeps it pending). */
  start(req: StartRequest, onEvent: (e: TrainEvent) => void): Promise<RunOutcome>;
  /** Continues a stored run from its last checkpoint; `backend` overrides the run's choice (e.g. WASM after GPU loss). */
  resume(runId: string, onEvent: (e: TrainEvent) => void, backend?: TrainSettings['backend']): Promise<RunOutcome>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  stop(): Promise<void>;
  /** Development builds only: destroys the worker's WebGPU device (a real device loss, for the browser tests). */
  loseGpuForTesting(): Promise<void>;
}
