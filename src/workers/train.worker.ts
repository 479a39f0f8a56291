/// <reference lib="webworker" />
// The train worker: every GPU object of a training run lives here (FIELD.md: WebGPU sessions and
// buffers cannot leave the worker that made them). It runs src/train/loop.ts over IndexedDB data,
// keeps the run's record and last checkpoint in IndexedDB, and at the end stores the fine-tuned
// model (LoRA merged) with its adapter-only file.
import { expose } from 'comlink';
import { DataStore } from '../data/storage';
import { decodeCheckpoint, encodeCheckpoint } from '../runtime/checkpoint';
import { destroyWebGpuDeviceForTesting, webGpuLostReason } from '../runtime/web';
import type { Metrics } from '../train/export';
import { checkpointPosition, evaluate, trainLoop, type LoopControl, type LoopEvent, type LoopPosition } from '../train/loop';
import type { StepMeasurement } from '../train/plan';
import { CLIP_NORM, recipeOptimizer } from '../train/recipe';
import { BUILTIN_BASE_ID } from './asr-models';
import { foreignJob } from './train-foreign';
import { appDb, emptyHistory, updateRun, type RunRecord, type TrainSettings } from './train-db';
import { nativeJob, type JobOptions, type TrainJob } from './train-job';
import { PROGRESS_MS, type RunOutcome, type StartRequest, type StepPoint, type TrainApi, type TrainEvent } from './train-protocol';

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
  let job: TrainJob | undefined;
  const store = await DataStore.open();
  try {
    job = await prepare({ modelId: req.modelId, datasetIds: req.datasetIds, settings: req.settings, backend: req.settings.backend, optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 5, measuring: true }, store);
    const { trainer, data } = job;
    const batch = await data.trainBatch(0, 0);
    await trainer.step(batch, 0); // warm-up: the first step compiles and allocates
    const t0 = performance.now();
    await trainer.step(batch, 0);
    const stepMs = performance.now() - t0;
    const t1 = performance.now();
    await evaluate(trainer, data, job.vocab, 0, job.baseDecoding);
    const validationMs = performance.now() - t1;
    return { stepMs, batchAudioSeconds: batch.audioSeconds, validationMs, trainSeconds: data.trainSeconds, backend: job.backend.info.name };
  } finally {
    await job?.trainer.dispose().catch(() => undefined);
    store.close();
    busy = false;
  }
}

/** The job for the run's model: our own directory, or a model from elsewhere. */
async function prepare(o: JobOptions, store: DataStore): Promise<TrainJob> {
  const stored = o.modelId === BUILTIN_BASE_ID ? undefined : await (await appDb()).get('models', o.modelId);
  return stored?.foreign ? foreignJob(o, stored, store) : nativeJob(o, store);
}

async function run(record: RunRecord, resumeFrom: { bytes: Uint8Array; position: LoopPosition } | undefined, backendChoice: TrainSettings['backend'], onEvent: (e: TrainEvent) => void): Promise<RunOutcome> {
  await measuring.catch(() => undefined);
  if (busy) throw new Error('a training run is already in progress');
  busy = true;
  const ctl = (control = new Control());
  const runId = record.id;
  const status = (s: Extract<TrainEvent, { type: 'status' }>['status'], extra: Partial<Extract<TrainEvent, { type: 'status' }>> = {}) => onEvent({ type: 'status', runId, status: s, ...extra });
  let job: TrainJob | undefined;
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
    store = await DataStore.open();
    const s = record.settings;
    // a resume on another backend than the settings' was asked for by the Resume button
    job = await prepare(
      { modelId: record.baseModelId, datasetIds: record.datasetIds, settings: s, backend: backendChoice, asker: resumeFrom && backendChoice !== s.backend ? 'chosen when resuming ("Resume on WASM")' : undefined, optimizer: recipeOptimizer(), clipNorm: CLIP_NORM },
      store,
    );
    const { trainer, data, backend } = job;
    const epochSteps = await data.epochLength(0);
    const totalSteps = record.totalSteps || (s.length.unit === 'epochs' ? Math.max(1, Math.round(s.length.value * epochSteps)) : s.length.value);
    record = await updateRun(runId, { totalSteps, backend: `${backend.info.name}: ${backend.info.device}`, status: 'running', message: undefined });
    status('running', { backend: record.backend, totalSteps });

    const history = record.history;
    let from: LoopPosition | undefined;
    if (resumeFrom) {
      const c = decodeCheckpoint(resumeFrom.bytes);
      trainer.importState(c);
      from = checkpointPosition(c) ?? resumeFrom.position;
      // The chart continues from the checkpoint: points after it were trained again.
      for (const k of Object.keys(history) as (keyof typeof history)[]) history[k] = history[k].filter(([step]) => step <= from!.step);
    } else {
      // Adapters start as the identity (LoRA B = 0, bottleneck up = 0): step 0 is the base model.
      const base = await evaluate(trainer, data, job.vocab, 0, job.baseDecoding, (done, total) => onEvent({ type: 'validating', runId, step: 0, done, total }));
      record = await updateRun(runId, { baseMetrics: { wer: base.wer, cer: base.cer, utterances: base.utterances, loss: base.valLoss } });
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
        lastEval = { wer: e.wer, cer: e.cer, utterances: e.utterances, loss: e.valLoss };
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
      vocab: job.vocab,
      decoding: job.decoding,
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
    const datasets = await Promise.all(record.datasetIds.map((id) => store!.getDataset(id)));
    const { modelId: resultModelId, metrics } = await job.save({ record, saved, position: outcome.position, lastEval, datasetNames: datasets.map((d) => d?.name ?? '?'), store });
    const pos = outcome.position;
    const finalStatus = outcome.kind === 'finished' ? 'finished' : 'stopped';
    await updateRun(runId, { status: finalStatus, history, baseMetrics: metrics.base, fineTunedMetrics: metrics.fineTuned, resultModelId, position: pos });
    status(finalStatus);
    return { runId, status: finalStatus, resultModelId };
  } catch (e) {
    flush();
    const message = `Training could not start: ${(e as Error).message}`;
    await updateRun(runId, { status: 'failed', message }).catch(() => undefined);
    status('failed', { message });
    return { runId, status: 'failed', message, deviceLost: isDeviceError(e) };
  } finally {
    await job?.trainer.dispose().catch(() => undefined);
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
