// The ASR worker's API (comlink): load a model and say which backend runs it, import a model from
// files, transcribe a take, evaluate models on validation splits, and package a model as a zip.
// Audio moves in with transfer lists; results are small.
import type { BackendInfo } from '../runtime/types';
import type { Score } from '../train/score';
import type { ModelSummary } from './asr-models';
import type { BackendPreference } from './backend-select';

export interface FileRef {
  path: string;
  file: Blob;
}

export type ImportModelResult = { ok: true; summary: ModelSummary } | { ok: false; problems: string[] };

export interface EvalProgress {
  model: string;
  done: number;
  total: number;
}

export interface ModelScore {
  modelId: string;
  name: string;
  /** How the model decoded (its own decoding: greedy, or beam search with its LM). */
  decoding: string;
  score: Score;
}

export interface AsrApi {
  /** Loads a model; `backend` is the user's choice for transcription ('auto' = the one measured fastest here), kept for later calls. */
  load(modelId: string, backend?: BackendPreference): Promise<{ summary: ModelSummary; backend: BackendInfo }>;
  importModel(files: FileRef[], name?: string): Promise<ImportModelResult>;
  /** A new model: the given model with an adapter-only file (from Export) applied and merged. */
  applyAdapter(baseModelId: string, file: FileRef): Promise<ImportModelResult>;
  /** A new model: the given model whose personal LM also knows the sentences of a text file (one per line). */
  teachWords(modelId: string, file: FileRef): Promise<ImportModelResult>;
  /** 16 kHz mono samples (transfer the buffer). */
  transcribe(modelId: string, samples: Float32Array): Promise<{ text: string; ms: number }>;
  /**
   * A take being recorded: startTake, then its audio as it arrives (16 kHz mono chunks, in order),
   * then finishTake with the model current at the stop. The features are computed as the chunks
   * arrive, so at the stop only the last rows, the model and the decoding are left; a model from
   * elsewhere, or one other than the take started with, transcribes the take whole. `ms`: from
   * finishTake's arrival to the text. dropTake forgets a take (too short to keep).
   */
  startTake(takeId: string, modelId: string): Promise<void>;
  pushTake(takeId: string, samples: Float32Array): Promise<void>;
  finishTake(takeId: string, modelId: string): Promise<{ text: string; ms: number }>;
  dropTake(takeId: string): Promise<void>;
  /** Each model on the validation split of the datasets. */
  evaluate(modelIds: string[], datasetIds: string[], onProgress?: (p: EvalProgress) => void): Promise<ModelScore[]>;
  /** A model from elsewhere: decode greedily (1) or with a beam search of this width; its new card. */
  setDecoding(modelId: string, beamWidth: number): Promise<ModelSummary>;
  /** The model directory as a zip (fine-tuned models add their adapter file separately). */
  exportModel(modelId: string): Promise<{ zip: Uint8Array; fileName: string; adapter?: Uint8Array }>;
}
