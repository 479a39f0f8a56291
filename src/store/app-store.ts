// The app's state in one zustand store made of typed slices (model, training, recording,
// evaluation, navigation). It holds IDs, numbers and short strings only: audio, weights and
// checkpoints stay in IndexedDB and the workers. The datasets list is the Data panel's own store.
import { create } from 'zustand';
import type { BackendInfo } from '../runtime/types';
import { DEFAULT_RECIPE } from '../train/recipe';
import type { StepMeasurement } from '../train/plan';
import { DEFAULT_AUTO_TRAIN, type AutoTrainConfig } from './auto-train';
import type { RoundPoint } from './progress';
import type { ModelSummary } from '../workers/asr-models';
import type { BackendPreference } from '../workers/backend-select';
import { BUILTIN_BASE_ID } from '../workers/asr-models';
import type { EvalProgress, ModelScore } from '../workers/asr-protocol';
import { emptyHistory, type RunHistory, type RunStatus, type Take, type TrainSettings } from '../workers/train-db';

export type PanelId = 'model' | 'data' | 'record' | 'train' | 'evaluate' | 'export';

export interface ModelSlice {
  modelId: string;
  model?: ModelSummary;
  backend?: BackendInfo;
  /** The user's backend for transcription and evaluation: 'auto' = the one measured fastest here. */
  backendPreference: BackendPreference;
  modelStatus: 'loading' | 'ready' | 'missing' | 'error';
  modelMessages: string[];
  models: { id: string; name: string; source: string }[];
}

export interface RunView {
  id: string;
  status: RunStatus | 'preparing';
  message?: string;
  step: number;
  totalSteps: number;
  skipped: number;
  elapsedMs: number;
  backend?: string;
  checkpointStep?: number;
  resultModelId?: string;
  /** A validation pass in progress (batches decoded of all), until its scores arrive. */
  validation?: { step: number; done: number; total: number };
}

export interface TrainSlice {
  settings: TrainSettings;
  datasetIds: string[];
  run?: RunView;
  history: RunHistory;
  /** A run interrupted by a reload, a failure or a pause, that can continue from its checkpoint. */
  resumable?: RunView;
  /** A measured training step for the current model, datasets and backend (plan-actions.ts). */
  trainEstimate?: TrainEstimate;
}

export interface TrainEstimate {
  key: string;
  status: 'measuring' | 'ready' | 'error';
  measured?: StepMeasurement & { backend: string };
  message?: string;
  /** The length the settings were sized to from this measurement, while the user has not changed it. */
  sized?: { steps: number; batchSeconds: number; evalEvery: number };
}

export type TakeView = Omit<Take, 'audio'> & { transcribing?: boolean };

export interface RecordSlice {
  takes: TakeView[];
  recording: boolean;
  recordMessage?: string;
  promptMode: boolean;
  prompts: string[];
  promptIndex: number;
  /** Keep fine-tuning as takes arrive (src/store/auto-train.ts). */
  autoTrain: AutoTrainConfig;
  /** Training takes there were when the last automatic round started. */
  autoTrainBaseline: number;
  autoTrainMessage?: string;
  /** Every round of training as takes arrive, with its held-out scores (src/store/progress.ts). */
  progress: RoundPoint[];
  /** The held-out takes are being scored after a round. */
  progressScoring: boolean;
}

export interface EvalSlice {
  evalStatus: 'idle' | 'running' | 'done' | 'error';
  evalProgress?: EvalProgress;
  evalResults: ModelScore[];
  evalMessage?: string;
}

export interface UiSlice {
  panel: PanelId;
}

export type AppState = ModelSlice & TrainSlice & RecordSlice & EvalSlice & UiSlice;

export const DEFAULT_SETTINGS: TrainSettings = {
  // the one recipe (src/train/recipe.ts); the length is the user's, for a dataset of any size
  adapter: DEFAULT_RECIPE.adapter,
  peakLr: DEFAULT_RECIPE.peakLr,
  warmupSteps: 20,
  length: { unit: 'steps', value: 300 },
  batchSeconds: DEFAULT_RECIPE.batchSeconds,
  evalEvery: 50,
  checkpointEvery: 25,
  augment: { ...DEFAULT_RECIPE.augment },
  backend: 'auto',
  seed: 1,
  personalLm: DEFAULT_RECIPE.personalLmShare > 0,
};

export const useApp = create<AppState>(() => ({
  modelId: BUILTIN_BASE_ID,
  modelStatus: 'loading',
  backendPreference: 'auto',
  modelMessages: [],
  models: [],
  settings: DEFAULT_SETTINGS,
  datasetIds: [],
  history: emptyHistory(),
  takes: [],
  recording: false,
  promptMode: false,
  prompts: [],
  promptIndex: 0,
  autoTrain: DEFAULT_AUTO_TRAIN,
  autoTrainBaseline: 0,
  progress: [],
  progressScoring: false,
  evalStatus: 'idle',
  evalResults: [],
  panel: 'model',
}));

export const selectPanel = (s: AppState) => s.panel;
export const selectModel = (s: AppState) => s.model;
export const selectBackend = (s: AppState) => s.backend;
export const selectModelStatus = (s: AppState) => s.modelStatus;
export const selectRun = (s: AppState) => s.run;
export const selectHistory = (s: AppState) => s.history;
export const selectSettings = (s: AppState) => s.settings;
export const selectTakes = (s: AppState) => s.takes;

/** Estimated time left from the pace so far. */
export function etaMs(run: Pick<RunView, 'step' | 'totalSteps' | 'elapsedMs'>, fromStep = 0): number | undefined {
  const done = run.step - fromStep;
  if (done <= 0 || run.totalSteps <= run.step) return run.totalSteps <= run.step ? 0 : undefined;
  return (run.elapsedMs / Math.max(1, run.step)) * (run.totalSteps - run.step);
}
