// What one training run (or the step measurement before it) needs of its model, whichever kind the
// model is: the backend, the data as the loop reads it, the trainer, the vocabulary and decodings,
// and how the trained model is stored. train.worker.ts runs the loop and keeps the run's record;
// nativeJob (here) serves our own model directories, foreignJob (train-foreign.ts) models from elsewhere.
import type { Decoding } from '../asr/decode';
import { readModelDir, type LoadedModel } from '../asr/model-dir';
import type { Vocab } from '../asr/vocab';
import type { DataStore } from '../data/storage';
import type { OptimizerConfig } from '../engine/optim';
import type { Checkpoint } from '../runtime/checkpoint';
import type { Backend } from '../runtime/types';
import { wasmBackend, webGpuBackend } from '../runtime/web';
import { adapterConfig, encodeAdapterFile, trainableFor } from '../train/adapters';
import { CtcTrainer } from '../train/ctc-trainer';
import { fineTunedModelDir, withLoss, type FineTuneRecord, type Metrics } from '../train/export';
import type { LoopData, LoopPosition, LoopTrainer } from '../train/loop';
import { personalLm } from '../train/personal-lm';
import { loadModel, summarize } from './asr-models';
import { backendFor, type BackendSubject } from './backend-select';
import { measureForCard } from './score-model';
import { augmentConfig, IdbTrainData } from './train-data';
import { appDb, type RunRecord, type TrainSettings } from './train-db';

export interface JobOptions {
  modelId: string;
  datasetIds: string[];
  settings: TrainSettings;
  /** The backend to train on (the settings', or "Resume on WASM"'s) and who asked for it. */
  backend: TrainSettings['backend'];
  asker?: string;
  optimizer: OptimizerConfig;
  clipNorm: number;
  /** A step measurement: batches of at most 8 s, no augmentation, nothing kept. */
  measuring?: boolean;
  /** A backend made already, instead of choosing one (tests and benchmarks in Node). */
  backendInstance?: Backend;
}

export interface JobData extends LoopData {
  train: { text: string }[];
  validation: unknown[];
  readonly trainSeconds: number;
}

export interface JobTrainer extends LoopTrainer {
  importState(c: Checkpoint): void;
  dispose(): Promise<void>;
}

/** What the run knows when it stores the trained model. */
export interface SaveContext {
  record: RunRecord;
  /** The run as stored now (its base metrics from step 0). */
  saved: RunRecord;
  position: LoopPosition;
  /** The last validation pass's estimate. */
  lastEval?: Metrics;
  datasetNames: string[];
  store: DataStore;
}

export interface TrainJob {
  backend: Backend;
  data: JobData;
  trainer: JobTrainer;
  vocab: Vocab;
  /** How validation decodes the base model (step 0), and the model in training after it. */
  baseDecoding: Decoding;
  decoding: Decoding;
  /** Stores the trained model as a model of its own: its id and the card's metrics. */
  save(c: SaveContext): Promise<{ modelId: string; metrics: { base?: Metrics; fineTuned?: Metrics } }>;
}

/** `asker`: who asked for `choice` (the training settings, or the Resume on WASM button). */
export async function makeBackend(choice: TrainSettings['backend'], subject: BackendSubject, asker = 'chosen in the training settings'): Promise<Backend> {
  if (choice === 'wasm') return wasmBackend({}, asker);
  if (choice === 'webgpu') return await webGpuBackend();
  // 'auto': the backend measured fastest for this model here (measured once, shared with transcription)
  const { backend, choice: why } = await backendFor(subject);
  return backend.info.name === 'webgpu' ? { ...backend, info: { ...backend.info, device: `${backend.info.device} — ${why.reason}` } } : backend;
}

/** Our own model directory: CtcTrainer with the chosen adapter, the personal LM, the merged model directory and adapter file. */
export async function nativeJob(o: JobOptions, store: DataStore): Promise<TrainJob> {
  const { model, summary } = await loadModel(o.modelId);
  const s = o.settings;
  const data = o.measuring
    ? await new IdbTrainData(store, model.vocab, model.config.frontEnd, { batchSeconds: Math.min(8, s.batchSeconds), stretch: 1 }, augmentConfig({ specAugment: false, speed: false, noise: false }), s.seed).init(o.datasetIds)
    : await new IdbTrainData(store, model.vocab, model.config.frontEnd, { batchSeconds: s.batchSeconds, stretch: s.augment.speed ? 1.12 : 1 }, augmentConfig(s.augment), s.seed).init(o.datasetIds);
  const backend = o.backendInstance ?? (await makeBackend(o.backend, { onnx: model.onnx, nMels: model.config.arch.nMels }, o.asker));
  const trainer = await CtcTrainer.create(
    backend,
    {
      arch: model.config.arch,
      adapters: adapterConfig(s.adapter, model.config.adapters),
      weights: model.weights,
      seed: s.seed,
      trainable: trainableFor(s.adapter, model.config.arch),
      optimizer: o.optimizer,
      clipNorm: o.clipNorm,
      blank: model.vocab.blankId,
    },
    data.firstShape(),
  );
  // after step 0 (the base model), validation decodes as the fine-tuned model will: with the
  // personal LM of the training transcripts when the settings ask for it
  const personal = !o.measuring && s.personalLm !== false ? personalLm(model, data.train.map((u) => u.text)) : undefined;
  return {
    backend,
    data,
    trainer,
    vocab: model.vocab,
    baseDecoding: model.decoding,
    decoding: personal?.decoding ?? model.decoding,
    async save(c) {
      const weights = await trainer.weights();
      const pos = c.position;
      const fr: FineTuneRecord = {
        baseModel: { name: summary.name, parameters: summary.parameters },
        data: { datasets: c.datasetNames, trainUtterances: data.train.length, validationUtterances: data.validation.length, trainSeconds: data.trainSeconds },
        training: {
          adapter: s.adapter,
          peakLr: s.peakLr,
          warmupSteps: s.warmupSteps,
          steps: pos.step,
          skippedSteps: pos.skipped,
          batchSeconds: s.batchSeconds,
          augmentation: Object.entries(s.augment).filter(([, on]) => on).map(([k]) => k).join(', ') || 'none',
          backend: c.record.backend ?? backend.info.name,
          minutes: pos.elapsedMs / 60000,
        },
        metrics: { base: c.saved.baseMetrics, fineTuned: c.lastEval ?? c.saved.fineTunedMetrics },
        ...(personal ? { languageModel: { personalSentences: personal.texts.length, personalShare: personal.share } } : {}),
        createdAt: new Date().toISOString(),
      };
      let files = fineTunedModelDir(model as LoadedModel, weights, s.adapter, fr, personal);
      // The card keeps the numbers Evaluate shows for these two models (score-model.ts), measured on
      // the saved model itself, not the chart's padded-batch estimates.
      try {
        const tuned = readModelDir(files);
        const measured = await measureForCard(backend, c.store, c.record.datasetIds, {
          base: { model, decoding: summary.decoding },
          fineTuned: { model: tuned, decoding: summarize('', '', 'fine-tuned', files, tuned).decoding },
        });
        if (measured) {
          // the held-out loss (adoption decides on it) is the training's; the saved model's WER/CER replace the estimates
          fr.metrics = { base: withLoss(measured.base, fr.metrics.base), fineTuned: withLoss(measured.fineTuned, fr.metrics.fineTuned) };
          files = fineTunedModelDir(model as LoadedModel, weights, s.adapter, fr, personal);
        }
      } catch (e) {
        const note = `estimated during training on padded batches (measuring the saved model failed: ${(e as Error).message})`;
        fr.metrics = { base: fr.metrics.base && { ...fr.metrics.base, decoding: note }, fineTuned: fr.metrics.fineTuned && { ...fr.metrics.fineTuned, decoding: note } };
        files = fineTunedModelDir(model as LoadedModel, weights, s.adapter, fr, personal);
      }
      const adapter = encodeAdapterFile({ weights, choice: s.adapter, arch: model.config.arch, baseModel: summary.name, baseAdapters: model.config.adapters });
      const modelId = crypto.randomUUID();
      const name = `${summary.name} + ${c.datasetNames.join(', ')} (${pos.step} steps)`;
      await (await appDb()).put('models', { id: modelId, name, source: 'fine-tuned', createdAt: Date.now(), files, adapter });
      return { modelId, metrics: fr.metrics };
    },
  };
}
