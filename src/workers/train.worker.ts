/// <reference lib="webworker" />
// The train worker: every GPU object of a training run lives here (FIELD.md: WebGPU sessions and
// buffers cannot leave the worker that made them). It runs src/train/loop.ts over IndexedDB data,
// keeps the run's record and last checkpoint in IndexedDB, and at the end stores the fine-tuned
// model (LoRA merged) with its adapter-only file.
import { expose } from 'comlink';
import { readModelDir, type LoadedModel } from '../asr/model-dir';
import { DataStore } from '../data/storage';
import { decodeCheckpoint, encodeCheckpoint } from '../runtime/checkpoint';
import type { Backend } from '../runtime/types';
import { destroyWebGpuDeviceForTesting, wasmBackend, webGpuBackend, webGpuLostReason } from '../runtime/web';
import { adapterConfig, encodeAdapterFile, trainableFor } from '../train/adapters';
import { CtcTrainer } from '../train/ctc-trainer';
import { fineTunedModelDir, type FineTuneRecord, type Metrics } from '../train/export';
import { personalLm } from '../train/personal-lm';
import { CLIP_NORM, recipeOptimizer } from '../train/recipe';
import { checkpointPosition, evaluate, trainLoop, type LoopControl, type LoopEvent, type LoopPosition } from '../train/loop';
import { loadModel, summarize } from './asr-models';
import { measureForCard } from './score-model';
import { backendFor } from './backend-select';
import { augmentConfig, IdbTrainData } from './train-data';
import { appDb, emptyHistory, updateRun, type RunRecord, type TrainSettings } from './train-db';
import { PROGRESS_MS, type RunOutcome, type StartRequest, type StepPoint, type TrainApi, type TrainEvent } from './train-protocol';
import type { StepMeasurement } from '../train/plan';

class Control implements LoopControl {
  stopRequested = false;
  pauseRequested = false;
  private release?: () => void;
  waitForResume(): Promise<void> {
    return new Promise((r) => (this.release = r));
  }
  resume(): void {
    this.pauseRequested = false;
    this.release?.();
    this.release = undefined;
  }
  stop(): void {
    this.stopRequested = true;
    this.release?.();
  }
}

let control: Control | undefined;
let busy = false;

/** `asker`: who asked for `choice` (the training settings, or the Resume on WASM button). */
async function makeBackend(choice: TrainSettings['backend'], model: LoadedModel, asker = 'chosen in the training settings'): Promise<Backend> {
  if (choice === 'wasm') return wasmBackend({}, asker);
  if (choice === 'webgpu') return await webGpuBackend();
  // 'auto': the backend measured fastest for this model here (measured once, shared with transcription)
  const { backend, choice: why } = await backendFor({ onnx: model.onnx, nMels: model.config.arch.nMels });
  return backend.info.name === 'webgpu' ? { ...backend, info: { ...backend.info, device: `${backend.info.device} — ${why.reason}` } } : backend;
}

/** Errors that mean the GPU is gone or full, rather than a bug: the run can continue from its checkpoint. */
function isDeviceError(e: unknown): boolean {
  return /device (was )?lost|devicelost|out of memory|\boom\b|allocation|GPUBuffer|mapAsync|webgpu/i.test(String((e as Error)?.message ?? e));
}

/** A step measurement in progress: a run starting meanwhile waits for it (one trainer at a time). */
let measuring: Promise<unknown> = Promise.resolve();

/**
 * One training step (after a warm-up step) and one validation pass of the model on the chosen
 * datasets and backend, for the Train panel's estimate and sized defaults (src/train/plan.ts).
 * Batches of at most 8 s of audio keep it short; the weights are discarded.
 */
async function measureStep(req: StartRequest): Promise<StepMeasurement & { backend: string }> {
  await measuring;
  if (busy) throw new Error('a training run is in progress');
  busy = true;
  let trainer: CtcTrainer | undefined;
  const store = await DataStore.open();
  try {
    const { model } = await loadModel(req.modelId);
    const s = req.settings;
    const data = await new IdbTrainData(store, model.vocab, model.config.frontEnd, { batchSeconds: Math.min(8, s.batchSeconds), stretch: 1 }, augmentConfig({ specAugment: false, speed: false, noise: false }), s.seed).init(req.datasetIds);
    const backend = await makeBackend(s.backend, model);
    trainer = await CtcTrainer.create(
      backend,
      { arch: model.config.arch, adapters: adapterConfig(s.adapter, model.config.adapters), weights: model.weights, seed: s.seed, trainable: trainableFor(s.adapter, model.config.arch), optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 5, blank: model.vocab.blankId },
      data.firstShape(),
    );
    const batch = await data.trainBatch(0, 0);
    await trainer.step(batch, 0); // warm-up: the first step compiles and allocates
    const t0 = performance.now();
    await trainer.step(batch, 0);
    const stepMs = performance.now() - t0;
    const t1 = performance.now();
    await evaluate(trainer, data, model.vocab, 0, model.decoding);
    const validationMs = performance.now() - t1;
    return { stepMs, batchAudioSeconds: batch.audioSeconds, validationMs, trainSeconds: data.trainSeconds, backend: backend.info.name };
  } finally {
    await trainer?.dispose().catch(() => undefined);
    store.close();
    busy = false;
  }
}

async function run(record: RunRecord, resumeFrom: { bytes: Uint8Array; position: LoopPosition } | undefined, backendChoice: TrainSettings['backend'], onEvent: (e: TrainEvent) => void): Promise<RunOutcome> {
  await measuring.catch(() => undefined);
  if (busy) throw new Error('a training run is already in progress');
  busy = true;
  const ctl = (control = new Control());
  const runId = record.id;
  const status = (s: Extract<TrainEvent, { type: 'status' }>['status'], extra: Partial<Extract<TrainEvent, { type: 'status' }>> = {}) => onEvent({ type: 'status', runId, status: s, ...extra });
  let trainer: CtcTrainer | undefined;
  let store: DataStore | undefined;
  let pending: StepPoint[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last: Extract<TrainEvent, { type: 'steps' }> | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length && last) onEvent({ ...last, points: pending });
    pending = [];
  };
  try {
    status('preparing');
    const { model, summary } = await loadModel(record.baseModelId);
    store = await DataStore.open();
    const s = record.settings;
    const data = await new IdbTrainData(store, model.vocab, model.config.frontEnd, { batchSeconds: s.batchSeconds, stretch: s.augment.speed ? 1.12 : 1 }, augmentConfig(s.augment), s.seed).init(record.datasetIds);
    // a resume on another backend than the settings' was asked for by the Resume button
    const backend = await makeBackend(backendChoice, model, resumeFrom && backendChoice !== s.backend ? 'chosen when resuming ("Resume on WASM")' : undefined);
    const epochSteps = await data.epochLength(0);
    const totalSteps = record.totalSteps || (s.length.unit === 'epochs' ? Math.max(1, Math.round(s.length.value * epochSteps)) : s.length.value);
    record = await updateRun(runId, { totalSteps, backend: `${backend.info.name}: ${backend.info.device}`, status: 'running', message: undefined });
    status('running', { backend: record.backend, totalSteps });

    trainer = await CtcTrainer.create(
      backend,
      {
        arch: model.config.arch,
        adapters: adapterConfig(s.adapter, model.config.adapters),
        weights: model.weights,
        seed: s.seed,
        trainable: trainableFor(s.adapter, model.config.arch),
        optimizer: recipeOptimizer(),
        clipNorm: CLIP_NORM,
        blank: model.vocab.blankId,
      },
      data.firstShape(),
    );
    const history = record.history;
    // after step 0 (the base model), validation decodes as the fine-tuned model will: with the
    // personal LM of the training transcripts when the settings ask for it
    const personal = s.personalLm !== false ? personalLm(model, data.train.map((u) => u.text)) : undefined;
    let from: LoopPosition | undefined;
    if (resumeFrom) {
      const c = decodeCheckpoint(resumeFrom.bytes);
      trainer.importState(c);
      from = checkpointPosition(c) ?? resumeFrom.position;
      // The chart continues from the checkpoint: points after it were trained again.
      for (const k of Object.keys(history) as (keyof typeof history)[]) history[k] = history[k].filter(([step]) => step <= from!.step);
    } else {
      // Adapters start as the identity (LoRA B = 0, bottleneck up = 0): step 0 is the base model.
      const base = await evaluate(trainer, data, model.vocab, 0, model.decoding, (done, total) => onEvent({ type: 'validating', runId, step: 0, done, total }));
      record = await updateRun(runId, { baseMetrics: { wer: base.wer, cer: base.cer, utterances: base.utterances } });
      history.valLoss.push([0, base.valLoss]);
      history.wer.push([0, base.wer]);
      history.cer.push([0, base.cer]);
      onEvent({ type: 'eval', runId, step: 0, valLoss: base.valLoss, wer: base.wer, cer: base.cer });
    }

    let lastEval: Metrics | undefined;
    const onLoopEvent = (e: LoopEvent) => {
      if (e.type === 'step') {
        if (!e.skipped) history.loss.push([e.step, e.loss]);
        history.lr.push([e.step, e.lr]);
        history.throughput.push([e.step, e.throughput]);
        pending.push({ step: e.step, loss: e.loss, lr: e.lr, throughput: e.throughput, skipped: e.skipped });
        last = { type: 'steps', runId, points: [], step: e.step, totalSteps: e.totalSteps, skipped: e.skippedTotal, elapsedMs: e.elapsedMs, epoch: e.epoch };
        timer ??= setTimeout(flush, PROGRESS_MS);
      } else if (e.type === 'eval') {
        flush();
        history.valLoss.push([e.step, e.valLoss]);
        history.wer.push([e.step, e.wer]);
        history.cer.push([e.step, e.cer]);
        lastEval = { wer: e.wer, cer: e.cer, utterances: e.utterances };
        onEvent({ type: 'eval', runId, step: e.step, valLoss: e.valLoss, wer: e.wer, cer: e.cer });
      } else if (e.type === 'validating') {
        flush();
        onEvent({ type: 'validating', runId, step: e.step, done: e.done, total: e.total });
      } else if (e.type === 'checkpoint') {
        flush();
        onEvent({ type: 'checkpoint', runId, step: e.step });
      } else if (e.type === 'paused') {
        flush();
        void updateRun(runId, { status: 'paused', history });
        status('paused');
      } else if (e.type === 'resumed') {
        void updateRun(runId, { status: 'running' });
        status('running', { backend: record.backend, totalSteps });
      }
    };

    const outcome = await trainLoop({
      trainer,
      data,
      vocab: model.vocab,
      decoding: personal?.decoding ?? model.decoding,
      settings: { schedule: { peakLr: s.peakLr, warmupSteps: s.warmupSteps, totalSteps }, evalEvery: s.evalEvery, checkpointEvery: s.checkpointEvery },
      control: ctl,
      from,
      checkpoints: {
        async save(state, position) {
          const bytes = encodeCheckpoint(state);
          const db = await appDb();
          await db.put('checkpoints', { runId, step: position.step, position, bytes });
          await updateRun(runId, { position, checkpointStep: position.step, history });
        },
      },
      onEvent: onLoopEvent,
    });
    flush();

    const saved = (await (await appDb()).get('runs', runId))!;
    if (outcome.kind === 'failed') {
      // the device's own loss report can trail the failed call's error by a moment
      if (!webGpuLostReason() && isDeviceError(outcome.error)) await new Promise((r) => setTimeout(r, 500));
      const lost = webGpuLostReason();
      const device = !!lost || isDeviceError(outcome.error);
      if (lost) console.warn('training step failed after the GPU device was lost:', outcome.error);
      const why = lost ?? (outcome.error as Error)?.message ?? String(outcome.error);
      const message =
        `${device ? 'The GPU failed' : 'Training failed'} at step ${outcome.position.step}: ${why}. ` +
        (saved.checkpointStep !== undefined ? `Continue from the last checkpoint (step ${saved.checkpointStep})${device ? ' — on WASM if the GPU is gone' : ''}.` : 'There is no checkpoint yet: start again.');
      await updateRun(runId, { status: 'failed', message, history });
      status('failed', { message });
      return { runId, status: 'failed', message, deviceLost: device };
    }
    if (outcome.kind === 'diverged') {
      await updateRun(runId, { status: 'diverged', message: outcome.message, history });
      status('diverged', { message: outcome.message });
      return { runId, status: 'diverged', message: outcome.message };
    }

    // finished or stopped: the model as trained so far becomes a model of its own.
    const weights = await trainer.weights();
    const pos = outcome.position;
    const fineTuned = lastEval ?? saved.fineTunedMetrics;
    const datasets = await Promise.all(record.datasetIds.map((id) => store!.getDataset(id)));
    const fr: FineTuneRecord = {
      baseModel: { name: summary.name, parameters: summary.parameters },
      data: { datasets: datasets.map((d) => d?.name ?? '?'), trainUtterances: data.train.length, validationUtterances: data.validation.length, trainSeconds: data.trainSeconds },
      training: {
        adapter: s.adapter,
        peakLr: s.peakLr,
        warmupSteps: s.warmupSteps,
        steps: pos.step,
        skippedSteps: pos.skipped,
        batchSeconds: s.batchSeconds,
        augmentation: Object.entries(s.augment).filter(([, on]) => on).map(([k]) => k).join(', ') || 'none',
        backend: record.backend ?? backend.info.name,
        minutes: pos.elapsedMs / 60000,
      },
      metrics: { base: saved.baseMetrics, fineTuned },
      ...(personal ? { languageModel: { personalSentences: personal.texts.length, personalShare: personal.share } } : {}),
      createdAt: new Date().toISOString(),
    };
    let files = fineTunedModelDir(model as LoadedModel, weights, s.adapter, fr, personal);
    // The card keeps the numbers Evaluate shows for these two models (score-model.ts), measured on
    // the saved model itself, not the chart's padded-batch estimates.
    try {
      const tuned = readModelDir(files);
      const measured = await measureForCard(backend, store, record.datasetIds, {
        base: { model, decoding: summary.decoding },
        fineTuned: { model: tuned, decoding: summarize('', '', 'fine-tuned', files, tuned).decoding },
      });
      if (measured) {
        fr.metrics = measured;
        files = fineTunedModelDir(model as LoadedModel, weights, s.adapter, fr, personal);
      }
    } catch (e) {
      const note = `estimated during training on padded batches (measuring the saved model failed: ${(e as Error).message})`;
      fr.metrics = { base: fr.metrics.base && { ...fr.metrics.base, decoding: note }, fineTuned: fr.metrics.fineTuned && { ...fr.metrics.fineTuned, decoding: note } };
      files = fineTunedModelDir(model as LoadedModel, weights, s.adapter, fr, personal);
    }
    const adapter = encodeAdapterFile({ weights, choice: s.adapter, arch: model.config.arch, baseModel: summary.name, baseAdapters: model.config.adapters });
    const resultModelId = crypto.randomUUID();
    const name = `${summary.name} + ${datasets.map((d) => d?.name).join(', ')} (${pos.step} steps)`;
    await (await appDb()).put('models', { id: resultModelId, name, source: 'fine-tuned', createdAt: Date.now(), files, adapter });
    const finalStatus = outcome.kind === 'finished' ? 'finished' : 'stopped';
    await updateRun(runId, { status: finalStatus, history, baseMetrics: fr.metrics.base, fineTunedMetrics: fr.metrics.fineTuned, resultModelId, position: pos });
    status(finalStatus);
    return { runId, status: finalStatus, resultModelId };
  } catch (e) {
    flush();
    const message = `Training could not start: ${(e as Error).message}`;
    await updateRun(runId, { status: 'failed', message }).catch(() => undefined);
    status('failed', { message });
    return { runId, status: 'failed', message, deviceLost: isDeviceError(e) };
  } finally {
    await trainer?.dispose().catch(() => undefined);
    store?.close();
    control = undefined;
    busy = false;
  }
}

const api: TrainApi = {
  measure(req) {
    const m = measureStep(req);
    measuring = m.catch(() => undefined);
    return m;
  },

  async start(req, onEvent) {
    const record: RunRecord = {
      id: crypto.randomUUID(),
      createdAt: Date.now(),
      baseModelId: req.modelId,
      baseModelName: req.modelName,
      datasetIds: req.datasetIds,
      settings: req.settings,
      totalSteps: 0,
      status: 'running',
      history: emptyHistory(),
    };
    await (await appDb()).put('runs', record);
    return run(record, undefined, req.settings.backend, onEvent);
  },

  async resume(runId, onEvent, backend) {
    const db = await appDb();
    const record = await db.get('runs', runId);
    if (!record) throw new Error(`no run ${runId}`);
    const ckpt = await db.get('checkpoints', runId);
    return run(record, ckpt ? { bytes: ckpt.bytes, position: ckpt.position } : undefined, backend ?? record.settings.backend, onEvent);
  },

  async pause() {
    if (control) control.pauseRequested = true;
  },
  async unpause() {
    control?.resume();
  },
  async stop() {
    control?.stop();
  },
  loseGpuForTesting: destroyWebGpuDeviceForTesting,
};

expose(api);
