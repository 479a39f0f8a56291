// The training loop shared by the browser's train worker and the Node CLI: batch → step → log,
// with the learning-rate schedule, evaluation every N steps (validation loss, WER, CER),
// checkpoints every N steps, pause/resume/stop, and skipped-step counting with a stop on repeated
// divergence. It knows nothing of the DOM, IndexedDB or files: data, checkpoint storage and
// control come in as the small interfaces below.
import { ctcLoss } from '../asr/ctc';
import { decodeText, GREEDY, type Decoding } from '../asr/decode';
import { subsampledLength } from '../asr/model';
import type { Vocab } from '../asr/vocab';
import { alignChars, alignWords } from '../asr/wer';
import type { Checkpoint } from '../runtime/checkpoint';
import type { HostTensor } from '../runtime/types';
import type { CtcBatch, CtcStepResult } from './ctc-trainer';
import { lrAt, type LrSchedule } from './schedule';

/** A padded batch plus what the loop reports about it. */
export interface LoopBatch extends CtcBatch {
  /** Items [0, real) are distinct; the rest repeat them to fill a static shape. */
  real: number;
  /** Reference transcripts (normalized) of the real items, for WER/CER. */
  texts: string[];
  /** Seconds of audio in the real items. */
  audioSeconds: number;
  /**
   * Valid output frames per item, for models whose time reduction is not ours (imported models,
   * src/workers/train-foreign.ts); default `lengths` through our model's subsampling.
   */
  outputLengths?: number[];
}

/** What the loop needs of a trainer; CtcTrainer is one. */
export interface LoopTrainer {
  step(b: CtcBatch, lr: number): Promise<CtcStepResult>;
  logits(b: CtcBatch): Promise<HostTensor>;
  exportState(metadata?: Record<string, string>): Promise<Checkpoint>;
}

/** Training data in a deterministic order, so a resumed run sees the batches it had not seen. */
export interface LoopData {
  /** Batches in an epoch (0-based epoch numbers). */
  epochLength(epoch: number): Promise<number>;
  /** Batch `index` of `epoch`, augmented as the run is configured. */
  trainBatch(epoch: number, index: number): Promise<LoopBatch>;
  /** The validation set as batches (no augmentation); empty when there is none. */
  validationBatches(): Promise<number>;
  validationBatch(index: number): Promise<LoopBatch>;
}

/** Where the loop is; saved with every checkpoint and given back to resume. */
export interface LoopPosition {
  /** Steps taken, skipped ones included (the schedule's step). */
  step: number;
  epoch: number;
  /** The next batch of `epoch` to train on. */
  batchInEpoch: number;
  skipped: number;
  /** Seconds of audio trained on, and wall time spent training (not paused). */
  audioSeconds: number;
  elapsedMs: number;
}

export const START: LoopPosition = { step: 0, epoch: 0, batchInEpoch: 0, skipped: 0, audioSeconds: 0, elapsedMs: 0 };

export interface CheckpointSink {
  save(state: Checkpoint, position: LoopPosition): Promise<void>;
}

export interface LoopSettings {
  schedule: LrSchedule;
  /** Evaluate every N steps (and at the end); 0 = only at the end. */
  evalEvery: number;
  /** Checkpoint every N steps (and on pause, stop and the end); 0 = only then. */
  checkpointEvery: number;
  /** This many non-finite steps in a row stop the run as diverged (default 5). */
  maxConsecutiveSkips?: number;
}

export interface LoopControl {
  readonly stopRequested: boolean;
  readonly pauseRequested: boolean;
  /** Resolves when the run may continue after a pause. */
  waitForResume(): Promise<void>;
}

export interface EvalResult {
  step: number;
  valLoss: number;
  wer: number;
  cer: number;
  utterances: number;
}

export type LoopEvent =
  | {
      type: 'step';
      step: number;
      totalSteps: number;
      epoch: number;
      loss: number;
      lr: number;
      gradNorm: number;
      skipped: boolean;
      skippedTotal: number;
      /** Audio seconds trained per wall-clock second, over this step. */
      throughput: number;
      stepMs: number;
      elapsedMs: number;
    }
  | ({ type: 'eval' } & EvalResult)
  /** Progress of a validation pass: `done` of `total` batches decoded. */
  | { type: 'validating'; step: number; done: number; total: number }
  | { type: 'checkpoint'; step: number }
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number };

export type LoopOutcome =
  | { kind: 'finished' | 'stopped'; position: LoopPosition }
  | { kind: 'diverged'; position: LoopPosition; message: string }
  /** A step or evaluation threw (e.g. the GPU device was lost): the last checkpoint is the way on. */
  | { kind: 'failed'; position: LoopPosition; error: unknown };

export interface LoopOptions {
  trainer: LoopTrainer;
  data: LoopData;
  vocab: Vocab;
  settings: LoopSettings;
  control?: LoopControl;
  checkpoints?: CheckpointSink;
  onEvent?(e: LoopEvent): void;
  /** Where to continue from (a checkpoint's position); default the start. */
  from?: LoopPosition;
  /** How validation transcripts are decoded (the model's own decoding); default greedy. */
  decoding?: Decoding;
  now?(): number;
}

/** Validation loss, WER and CER of the trainer's current weights (decoded as `decoding` says; default greedy). */
export async function evaluate(trainer: LoopTrainer, data: LoopData, vocab: Vocab, step: number, decoding: Decoding = GREEDY, onProgress?: (done: number, total: number) => void): Promise<EvalResult> {
  let lossSum = 0;
  let items = 0;
  let wordEdits = 0;
  let words = 0;
  let charEdits = 0;
  let chars = 0;
  const n = await data.validationBatches();
  onProgress?.(0, n);
  for (let i = 0; i < n; i++) {
    const b = await data.validationBatch(i);
    // GPU sync point: the logits come back to the CPU for the loss and the decoding.
    const logits = await trainer.logits(b);
    const [B, T, V] = logits.dims;
    const scores = logits.data as Float32Array;
    const inputLengths = b.outputLengths ?? b.lengths.map(subsampledLength);
    const ctc = ctcLoss({ logits: scores, shape: [B, T, V], inputLengths, targets: b.targets }, { blank: vocab.blankId, grad: false, zeroInfinity: true, reduction: 'sum' });
    for (let k = 0; k < b.real; k++) {
      lossSum += ctc.losses[k] / Math.max(1, b.targets[k].length);
      items++;
      const hyp = decodeText(scores.subarray(k * T * V, (k * T + inputLengths[k]) * V), vocab, decoding);
      const w = alignWords(b.texts[k], hyp);
      const c = alignChars(b.texts[k], hyp);
      wordEdits += w.edits;
      words += w.refLength;
      charEdits += c.edits;
      chars += c.refLength;
    }
    onProgress?.(i + 1, n);
  }
  return { step, valLoss: items ? lossSum / items : NaN, wer: words ? wordEdits / words : NaN, cer: chars ? charEdits / chars : NaN, utterances: items };
}

const positionMetadata = (p: LoopPosition): Record<string, string> => ({ loop_position: JSON.stringify(p) });

/** The position saved in a checkpoint's metadata by the loop, if any. */
export function checkpointPosition(c: Checkpoint): LoopPosition | undefined {
  const raw = c.metadata.loop_position;
  return raw ? ({ ...START, ...(JSON.parse(raw) as Partial<LoopPosition>) } as LoopPosition) : undefined;
}

export async function trainLoop(o: LoopOptions): Promise<LoopOutcome> {
  const { trainer, data, vocab, settings, control } = o;
  const now = o.now ?? (() => performance.now());
  const emit = o.onEvent ?? (() => undefined);
  const total = settings.schedule.totalSteps;
  const maxSkips = settings.maxConsecutiveSkips ?? 5;
  const pos: LoopPosition = { ...(o.from ?? START) };
  let lastSaved = pos.step;
  let consecutiveSkips = 0;
  let epochLength = await data.epochLength(pos.epoch);

  const checkpoint = async () => {
    if (!o.checkpoints || (lastSaved === pos.step && pos.step !== 0)) return;
    // GPU sync point: the whole training state is read back to the host.
    await o.checkpoints.save(await trainer.exportState(positionMetadata(pos)), { ...pos });
    lastSaved = pos.step;
    emit({ type: 'checkpoint', step: pos.step });
  };
  const evaluateNow = async () =>
    emit({ type: 'eval', ...(await evaluate(trainer, data, vocab, pos.step, o.decoding, (done, n) => emit({ type: 'validating', step: pos.step, done, total: n }))) });

  try {
    while (pos.step < total) {
      if (control?.stopRequested) {
        await checkpoint();
        return { kind: 'stopped', position: pos };
      }
      if (control?.pauseRequested) {
        await checkpoint();
        emit({ type: 'paused', step: pos.step });
        await control.waitForResume();
        if (control.stopRequested) return { kind: 'stopped', position: pos };
        emit({ type: 'resumed', step: pos.step });
      }
      if (pos.batchInEpoch >= epochLength) {
        pos.epoch++;
        pos.batchInEpoch = 0;
        epochLength = await data.epochLength(pos.epoch);
        if (epochLength === 0) throw new Error('no training batches: the training split is empty');
      }

      const t0 = now();
      const batch = await data.trainBatch(pos.epoch, pos.batchInEpoch);
      const lr = lrAt(pos.step, settings.schedule);
      const r = await trainer.step(batch, lr);
      const stepMs = now() - t0;
      pos.step++;
      pos.batchInEpoch++;
      pos.elapsedMs += stepMs;
      pos.audioSeconds += batch.audioSeconds;
      if (r.skipped) {
        pos.skipped++;
        consecutiveSkips++;
      } else consecutiveSkips = 0;
      emit({
        type: 'step',
        step: pos.step,
        totalSteps: total,
        epoch: pos.epoch,
        loss: r.loss,
        lr,
        gradNorm: r.gradNorm,
        skipped: r.skipped,
        skippedTotal: pos.skipped,
        throughput: batch.audioSeconds / Math.max(1e-3, stepMs / 1000),
        stepMs,
        elapsedMs: pos.elapsedMs,
      });
      if (consecutiveSkips >= maxSkips) {
        return {
          kind: 'diverged',
          position: pos,
          message:
            `The loss was not finite for ${consecutiveSkips} steps in a row (learning rate ${lr.toExponential(2)}); those updates were skipped. ` +
            `Lower the learning rate (try ${(settings.schedule.peakLr / 3).toExponential(1)}) and resume from the last checkpoint.`,
        };
      }
      if (settings.evalEvery > 0 && pos.step % settings.evalEvery === 0 && pos.step < total) await evaluateNow();
      if (settings.checkpointEvery > 0 && pos.step % settings.checkpointEvery === 0) await checkpoint();
    }
    await evaluateNow();
    await checkpoint();
    return { kind: 'finished', position: pos };
  } catch (error) {
    return { kind: 'failed', position: pos, error };
  }
}
