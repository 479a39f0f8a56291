// earshot finetune: the browser's fine-tuning, in Node. Same CtcTrainer, same training loop
// (src/train/loop.ts), same export (src/train/export.ts); the data come from NeMo manifests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describeDecoding, GREEDY } from '../asr/decode';
import { countParameters } from '../asr/model';
import type { LoadedModel } from '../asr/model-dir';
import { nodeBackend } from '../runtime/node';
import { adapterConfig, encodeAdapterFile, trainableFor, type AdapterChoice } from '../train/adapters';
import { CtcTrainer } from '../train/ctc-trainer';
import { fineTunedModelDir, type FineTuneRecord } from '../train/export';
import { evaluate, trainLoop, type LoopEvent } from '../train/loop';
import { PERSONAL_LM_SHARE, personalLm } from '../train/personal-lm';
import { loadManifest, ManifestTrainData, type Augmentation } from './manifest-data';
import { loadModelFromDisk } from './model-files';

export interface FinetuneOptions {
  model: string;
  train: string;
  val?: string;
  out: string;
  adapter: AdapterChoice;
  steps: number;
  lr: number;
  warmup?: number;
  batchSeconds: number;
  seed: number;
  augment: Augmentation;
  threads?: number;
  evalEvery?: number;
  /** Progress lines on stderr (default true). */
  verbose?: boolean;
  /** Validate with greedy decoding instead of the model's own (beam search + LM when it has one). */
  greedy?: boolean;
  /** Share of the training transcripts' LM in the fine-tuned model's LM (0: keep the base LM); default PERSONAL_LM_SHARE. */
  personalLmShare?: number;
}

export interface FinetuneResult {
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
  adapter: AdapterChoice;
  trainable_parameters: number;
  out: string;
}

/** Fine-tunes and writes the merged model directory (+ adapter.safetensors) to `out`. */
export async function finetune(o: FinetuneOptions, base: LoadedModel = loadModelFromDisk(o.model)): Promise<FinetuneResult> {
  const log = (m: string) => o.verbose !== false && process.stderr.write(`[finetune] ${m}\n`);
  const sr = base.config.frontEnd.sampleRate;
  const train = await loadManifest(o.train, base.vocab, sr, log);
  const val = o.val ? await loadManifest(o.val, base.vocab, sr, log) : [];
  if (train.length === 0) throw new Error(`${o.train}: no usable training utterances`);
  const buckets = { batchSeconds: o.batchSeconds, stretch: o.augment.speed ? 1.12 : 1 };
  const data = new ManifestTrainData(train, val, base.vocab, base.config.frontEnd, buckets, o.augment, o.seed);
  const adapters = adapterConfig(o.adapter, base.config.adapters);
  const trainable = trainableFor(o.adapter, base.config.arch);
  const decoding = o.greedy ? GREEDY : base.decoding;
  const trainer = await CtcTrainer.create(
    nodeBackend({ threads: o.threads }),
    { arch: base.config.arch, adapters, weights: base.weights, seed: o.seed, trainable, optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 5, blank: base.vocab.blankId },
    data.firstShape(),
  );
  try {
    const before = val.length ? await evaluate(trainer, data, base.vocab, 0, decoding) : undefined;
    if (before) log(`before: val WER ${(100 * before.wer).toFixed(1)}%, CER ${(100 * before.cer).toFixed(1)}%`);
    let lastEval = before;
    const t0 = performance.now();
    // validation after step 0 and the export decode with the personal LM (the base LM otherwise);
    // building it counts as training time
    const personal = o.greedy ? undefined : personalLm(base, train.map((u) => u.text), o.personalLmShare ?? PERSONAL_LM_SHARE);
    const outcome = await trainLoop({
      trainer,
      data,
      vocab: base.vocab,
      decoding: personal?.decoding ?? decoding,
      settings: { schedule: { peakLr: o.lr, warmupSteps: o.warmup ?? Math.min(10, Math.floor(o.steps / 10)), totalSteps: o.steps }, evalEvery: o.evalEvery ?? 0, checkpointEvery: 0 },
      onEvent: (e: LoopEvent) => {
        if (e.type === 'step' && (e.step % 10 === 0 || e.step === e.totalSteps)) log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} lr ${e.lr.toExponential(2)}${e.skipped ? ' (skipped)' : ''}`);
        if (e.type === 'eval') {
          lastEval = e;
          log(`step ${e.step}: val WER ${(100 * e.wer).toFixed(1)}%, CER ${(100 * e.cer).toFixed(1)}%`);
        }
      },
    });
    const trainSeconds = (performance.now() - t0) / 1000;
    if (outcome.kind === 'failed') throw outcome.error;
    if (outcome.kind === 'diverged') throw new Error(outcome.message);
    const after = val.length ? lastEval : undefined;
    const weights = await trainer.weights();
    const record: FineTuneRecord = {
      baseModel: { name: basename(resolve(o.model)), parameters: countParameters(base.config.arch) },
      data: { datasets: [o.train, ...(o.val ? [o.val] : [])], trainUtterances: train.length, validationUtterances: val.length, trainSeconds: train.reduce((s, u) => s + u.seconds, 0) },
      training: {
        adapter: o.adapter,
        peakLr: o.lr,
        warmupSteps: o.warmup ?? Math.min(10, Math.floor(o.steps / 10)),
        steps: outcome.position.step,
        skippedSteps: outcome.position.skipped,
        batchSeconds: o.batchSeconds,
        augmentation: Object.entries(o.augment).filter(([, on]) => on).map(([k]) => k).join(', ') || 'none',
        backend: 'onnxruntime-node CPU',
        minutes: trainSeconds / 60,
      },
      metrics: { base: before && { wer: before.wer, cer: before.cer, utterances: before.utterances }, fineTuned: after && { wer: after.wer, cer: after.cer, utterances: after.utterances } },
      ...(personal ? { languageModel: { personalSentences: personal.texts.length, personalShare: personal.share } } : {}),
      createdAt: new Date().toISOString(),
    };
    mkdirSync(o.out, { recursive: true });
    for (const [name, bytes] of Object.entries(fineTunedModelDir(base, weights, o.adapter, record, personal))) writeFileSync(join(o.out, name), bytes);
    const trained = new Map([...weights].filter(([n]) => trainable(n)));
    writeFileSync(join(o.out, 'adapter.safetensors'), encodeAdapterFile({ weights: trained, choice: o.adapter, arch: base.config.arch, baseModel: record.baseModel.name, baseAdapters: base.config.adapters }));
    return {
      steps: outcome.position.step,
      skipped_steps: outcome.position.skipped,
      train_seconds: +trainSeconds.toFixed(2),
      train_utterances: train.length,
      val_utterances: val.length,
      val_wer_before: before?.wer ?? null,
      val_cer_before: before?.cer ?? null,
      val_wer_after: after?.wer ?? null,
      val_cer_after: after?.cer ?? null,
      decoding: describeDecoding(decoding) + (personal ? `; after fine-tuning, its LM mixed with an LM of the ${personal.texts.length} training transcripts (share ${personal.share})` : ''),
      adapter: o.adapter,
      trainable_parameters: [...trained.values()].reduce((n, w) => n + w.length, 0),
      out: o.out,
    };
  } finally {
    await trainer.dispose();
  }
}
