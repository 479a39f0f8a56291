// earshot finetune: the browser's fine-tuning, in Node. Same CtcTrainer, same training loop
// (src/train/loop.ts), same recipe (src/train/recipe.ts), same export (src/train/export.ts); the
// data come from NeMo manifests. `adapt` is the part `earshot personalize` shares.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describeDecoding, GREEDY, type Decoding } from '../asr/decode';
import { countParameters, type Weights } from '../asr/model';
import type { LoadedModel } from '../asr/model-dir';
import { nodeBackend } from '../runtime/node';
import { adapterConfig, encodeAdapterFile, trainableFor, type AdapterChoice } from '../train/adapters';
import { CtcTrainer } from '../train/ctc-trainer';
import { fineTunedModelDir, type FineTuneRecord, type Metrics } from '../train/export';
import { evaluate, trainLoop, type LoopEvent } from '../train/loop';
import { personalLm, type PersonalLm } from '../train/personal-lm';
import { CLIP_NORM, recipeOptimizer, stepsFor, warmupFor, type Recipe } from '../train/recipe';
import { loadManifest, ManifestTrainData, type ManifestUtterance } from './manifest-data';
import { loadModelFromDisk } from './model-files';

export interface AdaptOptions {
  recipe: Recipe;
  /** Fixed steps; default stepsFor(training utterances) of the recipe. */
  steps?: number;
  seed: number;
  threads?: number;
  evalEvery?: number;
  /** Validate with greedy decoding instead of the model's own (beam search + LM when it has one). */
  greedy?: boolean;
  log?: (m: string) => void;
}

export interface Adapted {
  steps: number;
  skippedSteps: number;
  warmupSteps: number;
  trainSeconds: number;
  /** The trained weights (frozen and trained), LoRA not yet merged. */
  weights: Weights;
  /** The trained tensors only (what the adapter file holds). */
  trainedCount: number;
  personal?: PersonalLm;
  /** On the validation utterances: the base model (its own decoding) and the adapted one (with the personal LM). */
  before?: Metrics;
  after?: Metrics;
  /** How validation decodes after training. */
  decoding: string;
}

/** Trains the recipe's adapter on `train` from `base`, scoring `val` (if any) before and after. */
export async function adapt(base: LoadedModel, train: ManifestUtterance[], val: ManifestUtterance[], o: AdaptOptions): Promise<Adapted> {
  const log = o.log ?? (() => undefined);
  const r = o.recipe;
  if (train.length === 0) throw new Error('no usable training utterances');
  const steps = o.steps ?? stepsFor(train.length, r);
  const warmupSteps = warmupFor(steps);
  const buckets = { batchSeconds: r.batchSeconds, stretch: r.augment.speed ? 1.12 : 1 };
  const data = new ManifestTrainData(train, val, base.vocab, base.config.frontEnd, buckets, r.augment, o.seed);
  const trainable = trainableFor(r.adapter, base.config.arch);
  const decoding: Decoding = o.greedy ? GREEDY : base.decoding;
  const trainer = await CtcTrainer.create(
    nodeBackend({ threads: o.threads }),
    { arch: base.config.arch, adapters: adapterConfig(r.adapter, base.config.adapters), weights: base.weights, seed: o.seed, trainable, optimizer: recipeOptimizer(r.l2sp), clipNorm: CLIP_NORM, blank: base.vocab.blankId },
    data.firstShape(),
  );
  try {
    const toMetrics = (e: { wer: number; cer: number; utterances: number; valLoss: number }): Metrics => ({ wer: e.wer, cer: e.cer, utterances: e.utterances, loss: e.valLoss });
    const before = val.length ? toMetrics(await evaluate(trainer, data, base.vocab, 0, decoding)) : undefined;
    if (before) log(`before: val WER ${(100 * before.wer).toFixed(1)}%, CER ${(100 * before.cer).toFixed(1)}%, loss ${before.loss!.toFixed(3)}`);
    let after = before;
    const t0 = performance.now();
    // validation after step 0 and the export decode with the personal LM (the base LM otherwise);
    // building it counts as training time
    const personal = o.greedy ? undefined : personalLm(base, train.map((u) => u.text), r.personalLmShare);
    const lmSeconds = (performance.now() - t0) / 1000;
    const outcome = await trainLoop({
      trainer,
      data,
      vocab: base.vocab,
      decoding: personal?.decoding ?? decoding,
      settings: { schedule: { peakLr: r.peakLr, warmupSteps, totalSteps: steps }, evalEvery: val.length ? (o.evalEvery ?? 0) : 0, checkpointEvery: 0 },
      onEvent: (e: LoopEvent) => {
        if (e.type === 'step' && (e.step % 10 === 0 || e.step === e.totalSteps)) log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} lr ${e.lr.toExponential(2)}${e.skipped ? ' (skipped)' : ''}`);
        if (e.type === 'eval' && val.length) {
          after = toMetrics(e);
          log(`step ${e.step}: val WER ${(100 * e.wer).toFixed(1)}%, CER ${(100 * e.cer).toFixed(1)}%, loss ${e.valLoss.toFixed(3)}`);
        }
      },
    });
    // training time: the personal LM and the loop's steps (batches included), not its evaluations
    const trainSeconds = lmSeconds + outcome.position.elapsedMs / 1000;
    if (outcome.kind === 'failed') throw outcome.error;
    if (outcome.kind === 'diverged') throw new Error(outcome.message);
    const weights = await trainer.weights();
    return {
      steps: outcome.position.step,
      skippedSteps: outcome.position.skipped,
      warmupSteps,
      trainSeconds,
      weights,
      trainedCount: [...weights].filter(([n]) => trainable(n)).reduce((k, [, w]) => k + w.length, 0),
      personal,
      before,
      after: val.length ? after : undefined,
      decoding: describeDecoding(decoding) + (personal ? `; after fine-tuning, its LM mixed with an LM of the ${personal.texts.length} training transcripts (share ${personal.share})` : ''),
    };
  } finally {
    await trainer.dispose();
  }
}

/** The fine-tuned model's record (its card and provenance). */
export function fineTuneRecord(o: { modelDir: string; base: LoadedModel; datasets: string[]; train: ManifestUtterance[]; val: ManifestUtterance[]; recipe: Recipe; adapted: Adapted }): FineTuneRecord {
  const { adapted: a, recipe: r } = o;
  return {
    baseModel: { name: basename(resolve(o.modelDir)), parameters: countParameters(o.base.config.arch) },
    data: { datasets: o.datasets, trainUtterances: o.train.length, validationUtterances: o.val.length, trainSeconds: o.train.reduce((s, u) => s + u.seconds, 0) },
    training: {
      adapter: r.adapter,
      peakLr: r.peakLr,
      warmupSteps: a.warmupSteps,
      steps: a.steps,
      skippedSteps: a.skippedSteps,
      batchSeconds: r.batchSeconds,
      augmentation: Object.entries(r.augment).filter(([, on]) => on).map(([k]) => k).join(', ') || 'none',
      backend: 'onnxruntime-node CPU',
      minutes: a.trainSeconds / 60,
    },
    metrics: { base: a.before, fineTuned: a.after },
    ...(a.personal ? { languageModel: { personalSentences: a.personal.texts.length, personalShare: a.personal.share } } : {}),
    createdAt: new Date().toISOString(),
  };
}

export interface FinetuneOptions extends AdaptOptions {
  model: string;
  train: string;
  val?: string;
  out: string;
  /** Progress lines on stderr (default true). */
  verbose?: boolean;
}

/** What `earshot finetune` reports on any model, Earshot's own or imported (finetune-foreign.ts). */
export interface FinetuneReport {
  steps: number;
  skipped_steps: number;
  train_seconds: number;
  train_utterances: number;
  val_utterances: number;
  val_wer_before: number | null;
  val_cer_before: number | null;
  val_wer_after: number | null;
  val_cer_after: number | null;
  /** How the validation transcripts were decoded. */
  decoding: string;
  peak_lr: number;
  l2sp: number;
  out: string;
}

export interface FinetuneResult extends FinetuneReport {
  adapter: AdapterChoice;
  trainable_parameters: number;
}

/** Fine-tunes and writes the merged model directory (+ adapter.safetensors) to `out`. */
export async function finetune(o: FinetuneOptions, base: LoadedModel = loadModelFromDisk(o.model)): Promise<FinetuneResult> {
  const log = (m: string) => o.verbose !== false && process.stderr.write(`[finetune] ${m}\n`);
  const sr = base.config.frontEnd.sampleRate;
  const train = await loadManifest(o.train, base.vocab, sr, log);
  const val = o.val ? await loadManifest(o.val, base.vocab, sr, log) : [];
  if (train.length === 0) throw new Error(`${o.train}: no usable training utterances`);
  const a = await adapt(base, train, val, { ...o, log });
  const record = fineTuneRecord({ modelDir: o.model, base, datasets: [o.train, ...(o.val ? [o.val] : [])], train, val, recipe: o.recipe, adapted: a });
  mkdirSync(o.out, { recursive: true });
  for (const [name, bytes] of Object.entries(fineTunedModelDir(base, a.weights, o.recipe.adapter, record, a.personal))) writeFileSync(join(o.out, name), bytes);
  writeFileSync(join(o.out, 'adapter.safetensors'), encodeAdapterFile({ weights: a.weights, choice: o.recipe.adapter, arch: base.config.arch, baseModel: record.baseModel.name, baseAdapters: base.config.adapters }));
  return {
    steps: a.steps,
    skipped_steps: a.skippedSteps,
    train_seconds: +a.trainSeconds.toFixed(2),
    train_utterances: train.length,
    val_utterances: val.length,
    val_wer_before: a.before?.wer ?? null,
    val_cer_before: a.before?.cer ?? null,
    val_wer_after: a.after?.wer ?? null,
    val_cer_after: a.after?.cer ?? null,
    decoding: a.decoding,
    adapter: o.recipe.adapter,
    peak_lr: o.recipe.peakLr,
    l2sp: o.recipe.l2sp,
    trainable_parameters: a.trainedCount,
    out: o.out,
  };
}
