// LoRA fine-tuning of an imported model on transcribed utterances: the flat loop (plan a batch →
// pad it to its bucket → step → report) shared by the CLI and, through ForeignModel, the app.
//
// Batches are planned as the native loop plans them (src/train/buckets.ts: length buckets of 10 ms
// frames, a fixed batch size per bucket from the recipe's batch seconds, shuffled per epoch under
// the seed), so a run compiles one training graph per bucket it meets. The learning rate follows
// the recipe's schedule (warmup, cosine to a floor). No augmentation: SpecAugment and speed
// perturbation are written for our log-mel features, and an imported model's front end may be a
// waveform.

import { lrAt } from '../train/schedule';
import { planEpoch, type BucketOptions } from '../train/buckets';
import type { ForeignCtcTrainer } from './foreign-trainer';
import type { ForeignExample, ForeignLoraOptions, ForeignModel } from './foreign-model';

export interface ForeignUtterance {
  id: string;
  /** Mono, at the model's sample rate. */
  samples: Float32Array;
  /** Normalised transcript (normalizeText), spellable by the model's vocabulary. */
  text: string;
}

export interface ForeignStepEvent {
  step: number;
  totalSteps: number;
  loss: number;
  lr: number;
  gradNorm: number;
  skipped: boolean;
  stepMs: number;
}

export interface ForeignFineTuneOptions {
  lora: ForeignLoraOptions;
  steps: number;
  peakLr: number;
  warmupSteps: number;
  batchSeconds: number;
  seed: number;
  onStep?(e: ForeignStepEvent): void;
}

export interface ForeignFineTuneResult {
  /** The trainer, holding the adapted weights (export with ForeignModel.exportFiles, then dispose). */
  trainer: ForeignCtcTrainer;
  losses: number[];
  skipped: number;
  /** Utterances longer than the longest bucket (30.72 s), left out. */
  tooLong: string[];
  trainSeconds: number;
}

/** Trains LoRA adapters on `train` for `o.steps` steps. */
export async function fineTuneForeign(model: ForeignModel, train: readonly ForeignUtterance[], o: ForeignFineTuneOptions): Promise<ForeignFineTuneResult> {
  if (train.length === 0) throw new Error('no training utterances');
  const sr = model.sampleRate;
  const fe = model.description.frontEnd;
  // the model's input length (samples or feature frames) a bucket of 10 ms frames pads to
  const padFor = (bucket: number) => (fe.kind === 'waveform' ? (bucket * sr) / 100 : Math.floor((bucket * sr) / 100 / fe.config.hopLength) + 1);
  const examples = new Map<string, ForeignExample>(train.map((u) => [u.id, { input: model.features(u.samples), text: u.text }]));
  const items = train.map((u) => ({ id: u.id, frames: Math.ceil((u.samples.length * 100) / sr) }));
  const buckets: BucketOptions = { batchSeconds: o.batchSeconds };
  const schedule = { peakLr: o.peakLr, warmupSteps: o.warmupSteps, totalSteps: o.steps };

  let trainer: ForeignCtcTrainer | undefined;
  const losses: number[] = [];
  let skipped = 0;
  let tooLong: string[] = [];
  let trainMs = 0;
  try {
    for (let epoch = 0, step = 0; step < o.steps; epoch++) {
      const plan = planEpoch(items, buckets, o.seed, epoch);
      if (epoch === 0) tooLong = plan.tooLong;
      if (plan.batches.length === 0) throw new Error('no training utterance fits the length buckets (30.72 s at most)');
      for (const p of plan.batches) {
        if (step >= o.steps) break;
        const t0 = performance.now();
        const chosen = p.ids.map((id) => examples.get(id)!);
        // the first batch's shape builds the trainer's first graphs; others are added per bucket
        trainer ??= await model.createTrainer(o.lora, model.inputs(chosen.map((x) => x.input), padFor(p.frames)));
        const batch = model.batch(trainer, chosen, padFor(p.frames));
        const lr = lrAt(step, schedule);
        const r = await trainer.step(batch, lr); // GPU sync point: the scores come back for the CTC loss
        const stepMs = performance.now() - t0;
        trainMs += stepMs;
        losses.push(r.loss);
        if (r.skipped) skipped++;
        step++;
        o.onStep?.({ step, totalSteps: o.steps, loss: r.loss, lr, gradNorm: r.gradNorm, skipped: r.skipped, stepMs });
      }
    }
  } catch (e) {
    await trainer?.dispose();
    throw e;
  }
  return { trainer: trainer!, losses, skipped, tooLong, trainSeconds: trainMs / 1000 };
}
