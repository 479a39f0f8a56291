import { describe, expect, it } from 'vitest';
import { DEFAULT_VOCAB, encodeText } from '../asr/vocab';
import { mulberry32 } from '../audio';
import { nodeBackend } from '../runtime/node';
import type { Checkpoint } from '../runtime/checkpoint';
import { CtcTrainer, type CtcBatch } from './ctc-trainer';
import { checkpointPosition, trainLoop, type LoopBatch, type LoopData, type LoopEvent, type LoopPosition, type LoopTrainer } from './loop';

const TINY = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 3, vocabSize: 29 };

/** Four fixed utterances (random features, short texts), two per batch; validation = the same four. */
function syntheticData(): LoopData & { seen: string[] } {
  const rand = mulberry32(3);
  const texts = ['ab', 'ba', 'abc', 'cab'];
  const frames = 64;
  const feats = texts.map(() => Float32Array.from({ length: frames * 80 }, () => rand() * 2 - 1));
  const batch = (ids: number[]): LoopBatch => {
    const features = new Float32Array(ids.length * frames * 80);
    ids.forEach((id, b) => features.set(feats[id], b * frames * 80));
    return { features, batch: ids.length, frames, lengths: ids.map(() => frames), targets: ids.map((i) => encodeText(DEFAULT_VOCAB, texts[i])), real: ids.length, texts: ids.map((i) => texts[i]), audioSeconds: 0.64 * ids.length };
  };
  const seen: string[] = [];
  return {
    seen,
    epochLength: async () => 2,
    trainBatch: async (epoch, index) => {
      seen.push(`${epoch}:${index}`);
      return batch(index === 0 ? [0, 1] : [2, 3]);
    },
    validationBatches: async () => 2,
    validationBatch: async (i) => batch(i === 0 ? [0, 1] : [2, 3]),
  };
}

/** A trainer that reports the losses it is given (NaN = a skipped step) and records learning rates. */
function fakeTrainer(losses: number[]): LoopTrainer & { lrs: number[] } {
  const lrs: number[] = [];
  let i = 0;
  return {
    lrs,
    async step(_b: CtcBatch, lr: number) {
      lrs.push(lr);
      const loss = losses[Math.min(i++, losses.length - 1)];
      return { loss, gradNorm: 1, skipped: !Number.isFinite(loss), infeasible: 0 };
    },
    async logits(b: CtcBatch) {
      const T = 16;
      return { dtype: 'float32', dims: [b.batch, T, 29], data: new Float32Array(b.batch * T * 29) };
    },
    async exportState(metadata = {}) {
      return { tensors: new Map(), metadata };
    },
  };
}

const schedule = (totalSteps: number) => ({ peakLr: 1e-3, warmupSteps: 2, totalSteps });

describe('trainLoop', () => {
  it('trains a tiny CTC model on Node CPU: the loss falls and evaluation reports WER and CER', async () => {
    const data = syntheticData();
    const trainer = await CtcTrainer.create(nodeBackend({ threads: 1 }), { arch: TINY, seed: 5, optimizer: { kind: 'adamw' }, clipNorm: 5 }, { batch: 2, frames: 64 });
    const events: LoopEvent[] = [];
    const saved: LoopPosition[] = [];
    const outcome = await trainLoop({
      trainer,
      data,
      vocab: DEFAULT_VOCAB,
      settings: { schedule: { peakLr: 5e-3, warmupSteps: 3, totalSteps: 40 }, evalEvery: 20, checkpointEvery: 15 },
      checkpoints: { save: async (_c, p) => void saved.push(p) },
      onEvent: (e) => events.push(e),
    });
    await trainer.dispose();
    expect(outcome.kind).toBe('finished');
    const steps = events.filter((e) => e.type === 'step');
    expect(steps).toHaveLength(40);
    const first = (steps[0].loss + steps[1].loss) / 2;
    const last = (steps[38].loss + steps[39].loss) / 2;
    expect(last).toBeLessThan(first * 0.7);
    const evals = events.filter((e) => e.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([20, 40]);
    for (const e of evals) {
      expect(e.utterances).toBe(4);
      expect(Number.isFinite(e.valLoss) && Number.isFinite(e.wer) && Number.isFinite(e.cer)).toBe(true);
    }
    expect(saved.map((p) => p.step)).toEqual([15, 30, 40]);
    expect(saved[0]).toMatchObject({ step: 15, epoch: 7, batchInEpoch: 1 });
  });

  it('follows the schedule, counts skipped steps, and stops a diverging run with advice', async () => {
    const trainer = fakeTrainer([3, 2, NaN, 1.5, NaN, NaN, NaN, NaN, NaN, 1]);
    const events: LoopEvent[] = [];
    const outcome = await trainLoop({ trainer, data: syntheticData(), vocab: DEFAULT_VOCAB, settings: { schedule: schedule(100), evalEvery: 0, checkpointEvery: 0 }, onEvent: (e) => events.push(e) });
    expect(outcome.kind).toBe('diverged');
    if (outcome.kind !== 'diverged') return;
    expect(outcome.position.step).toBe(9);
    expect(outcome.position.skipped).toBe(6);
    expect(outcome.message).toMatch(/lower the learning rate/i);
    expect(trainer.lrs.slice(0, 3)).toEqual([5e-4, 1e-3, expect.any(Number)]);
  });

  it('pauses with a checkpoint, resumes, and stops on request', async () => {
    const data = syntheticData();
    let pause = false;
    let stop = false;
    let resume: () => void = () => undefined;
    const control = {
      get pauseRequested() {
        return pause;
      },
      get stopRequested() {
        return stop;
      },
      waitForResume: () => new Promise<void>((r) => (resume = r)),
    };
    const saved: LoopPosition[] = [];
    const events: string[] = [];
    const run = trainLoop({
      trainer: fakeTrainer([1]),
      data,
      vocab: DEFAULT_VOCAB,
      settings: { schedule: schedule(1000), evalEvery: 0, checkpointEvery: 0 },
      control,
      checkpoints: { save: async (_c, p) => void saved.push(p) },
      onEvent: (e) => {
        events.push(e.type);
        if (e.type === 'step' && e.step === 3) pause = true;
        if (e.type === 'paused') {
          pause = false;
          setTimeout(() => resume(), 5);
        }
        if (e.type === 'step' && e.step === 6) stop = true;
      },
    });
    const outcome = await run;
    expect(outcome.kind).toBe('stopped');
    expect(outcome.position.step).toBe(6);
    expect(saved.map((p) => p.step)).toEqual([3, 6]);
    expect(events.filter((e) => e !== 'step')).toEqual(['checkpoint', 'paused', 'resumed', 'checkpoint']);
  });

  it('resumes from a checkpoint position at the batch it had not trained on', async () => {
    const data = syntheticData();
    const from: LoopPosition = { step: 5, epoch: 2, batchInEpoch: 1, skipped: 0, audioSeconds: 0, elapsedMs: 0 };
    const c: Checkpoint = { tensors: new Map(), metadata: { loop_position: JSON.stringify(from) } };
    await trainLoop({ trainer: fakeTrainer([1]), data, vocab: DEFAULT_VOCAB, settings: { schedule: schedule(8), evalEvery: 0, checkpointEvery: 0 }, from: checkpointPosition(c) });
    expect(data.seen).toEqual(['2:1', '3:0', '3:1']);
  });

  it('reports a failing step as failed, with the position reached', async () => {
    const trainer = fakeTrainer([1]);
    let n = 0;
    trainer.step = async () => {
      if (++n === 3) throw new Error('GPU device was lost');
      return { loss: 1, gradNorm: 1, skipped: false, infeasible: 0 };
    };
    const outcome = await trainLoop({ trainer, data: syntheticData(), vocab: DEFAULT_VOCAB, settings: { schedule: schedule(10), evalEvery: 0, checkpointEvery: 0 } });
    expect(outcome.kind).toBe('failed');
    expect(outcome.position.step).toBe(2);
  });
});
