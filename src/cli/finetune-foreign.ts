// earshot finetune on an imported model: LoRA on the projection kinds the recipe's targets name,
// with the recipe's learning rate, steps rule, warmup, batch seconds, L2-SP and clipping; the
// adapted model is written to --out in the layout it came in (ForeignModel.exportFiles), plus the
// adapter. Validation (--val) is scored with the model's decoding before and after.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decodeMono } from '../audio/decode';
import { normalizeText } from '../asr/text-normalize';
import { cer, wer } from '../asr/wer';
import type { ProjectionKind } from '../engine/lora-inject';
import { fineTuneForeign, type ForeignUtterance } from '../foreign/foreign-finetune';
import type { ForeignModel } from '../foreign/foreign-model';
import type { LoraTarget } from '../asr/model';
import { CLIP_NORM, recipeOptimizer, stepsFor, warmupFor, type Recipe } from '../train/recipe';
// The app's import check, so the CLI refuses what the Model panel refuses, in the same sentence.
import { inspectForTraining } from '../workers/foreign-models';
import { readManifest } from './eval';
import type { FinetuneReport } from './finetune';

/** Our LoRA targets (src/train/adapters.ts) as the projection kinds of an imported graph. */
export const TARGET_KINDS: Record<LoraTarget, ProjectionKind[]> = {
  q: ['attention.q', 'attention.qkv'],
  k: ['attention.k', 'attention.qkv'],
  v: ['attention.v', 'attention.qkv'],
  o: ['attention.out'],
  ff1: ['ff.in'],
  ff2: ['ff.out'],
};

export interface ForeignFinetuneOptions {
  model: ForeignModel;
  modelPath: string;
  train: string;
  val?: string;
  out: string;
  recipe: Recipe;
  steps?: number;
  seed: number;
  log: (m: string) => void;
}

export interface ForeignFinetuneResult extends FinetuneReport {
  layout: string;
  first_loss: number;
  last_loss: number;
  adapter: { kind: 'lora'; rank: number; alpha: number; targets: ProjectionKind[]; modules: number };
  augmentation: string;
  files: string[];
  left_out: string[];
  note: string;
}

/** Manifest rows decoded at the model's rate; transcripts the vocabulary cannot spell are reported and left out. */
async function loadUtterances(file: string, m: ForeignModel, log: (s: string) => void): Promise<ForeignUtterance[]> {
  const out: ForeignUtterance[] = [];
  for (const [i, r] of readManifest(file).entries()) {
    const text = normalizeText(r.text);
    const missing = text ? m.unspellable(text) : [];
    if (!text || missing.length) {
      log(`${r.path}: ${text ? `${m.vocab.file} cannot spell ${missing.join(' ')}` : 'empty transcript'}; left out`);
      continue;
    }
    try {
      let samples = await decodeMono(new Uint8Array(readFileSync(r.path)), m.sampleRate, r.path);
      if (r.offset || r.duration) {
        const start = Math.round((r.offset ?? 0) * m.sampleRate);
        samples = samples.subarray(start, r.duration ? start + Math.round(r.duration * m.sampleRate) : undefined);
      }
      out.push({ id: `${i}:${r.path}`, samples, text });
    } catch (e) {
      log(`${r.path}: ${(e as Error).message}; left out`);
    }
  }
  return out;
}

async function score(m: ForeignModel, val: ForeignUtterance[]): Promise<{ wer: number; cer: number }> {
  const hyps: string[] = [];
  for (const u of val) hyps.push(await m.transcribe(u.samples));
  const refs = val.map((u) => u.text);
  return { wer: wer(refs, hyps).errorRate, cer: cer(refs, hyps).errorRate };
}

export async function finetuneForeign(o: ForeignFinetuneOptions): Promise<ForeignFinetuneResult> {
  const { model: m, recipe: r, log } = o;
  if (r.adapter.kind !== 'lora') throw new Error(`--adapter ${r.adapter.kind} is for Earshot's own models; an imported model fine-tunes with LoRA (--adapter lora --targets q,k,v,o,ff1,ff2)`);
  // a static graph, a gradient rule for every op between signal and scores: else a ForeignModelError
  inspectForTraining(m.description, await m.model());
  const found = new Set((await m.projectionKinds()).map((k) => k.kind));
  let targets = [...new Set(r.adapter.targets.flatMap((t) => TARGET_KINDS[t]))].filter((k) => found.has(k));
  // a convolution-only model (QuartzNet, Citrinet) has no attention or feed-forward MatMul: its
  // channel-mixing layers are the pointwise convolutions, which play the feed-forward part
  if (targets.length === 0 && found.has('conv.pointwise')) {
    targets = ['conv.pointwise'];
    log(`no attention or feed-forward projection in this model: LoRA goes on its pointwise convolutions (conv.pointwise) instead of ${r.adapter.targets.join(', ')}`);
  }
  log(m.summary());
  log(`projections found: ${(await m.projectionKinds()).map((k) => `${k.kind} ×${k.count}`).join(', ')}; LoRA on ${targets.join(', ') || 'none'}`);

  const train = await loadUtterances(o.train, m, log);
  const val = o.val ? await loadUtterances(o.val, m, log) : [];
  if (train.length === 0) throw new Error(`${o.train}: no usable training utterances`);
  const steps = o.steps ?? stepsFor(train.length, r);
  const before = val.length ? await score(m, val) : undefined;
  if (before) log(`before: val WER ${(100 * before.wer).toFixed(1)}%, CER ${(100 * before.cer).toFixed(1)}%`);

  const run = await fineTuneForeign(m, train, {
    lora: { targets, rank: r.adapter.rank, alpha: r.adapter.alpha, seed: o.seed, optimizer: recipeOptimizer(r.l2sp), clipNorm: CLIP_NORM },
    steps,
    peakLr: r.peakLr,
    warmupSteps: warmupFor(steps),
    batchSeconds: r.batchSeconds,
    seed: o.seed,
    onStep: (e) => {
      if (e.step % 10 === 0 || e.step === e.totalSteps || e.step === 1) log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(3)} lr ${e.lr.toExponential(2)}${e.skipped ? ' (skipped)' : ''}`);
    },
  });
  try {
    for (const id of run.tooLong) log(`${id}: longer than 30.72 s; left out`);
    if (run.skipped === steps) throw new Error(`every step was skipped (non-finite loss or gradients); nothing was learned`);
    const exported = await m.exportFiles(run.trainer, { train_manifest: o.train, steps: String(steps), peak_lr: String(r.peakLr) });
    await m.adopt(run.trainer);
    const after = val.length ? await score(m, val) : undefined;
    if (after) log(`after: val WER ${(100 * after.wer).toFixed(1)}%, CER ${(100 * after.cer).toFixed(1)}%`);
    for (const [path, bytes] of exported.files) {
      const full = join(o.out, path);
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, bytes);
    }
    log(exported.note);
    return {
      layout: m.description.kind,
      steps,
      skipped_steps: run.skipped,
      first_loss: run.losses[0],
      last_loss: run.losses[run.losses.length - 1],
      train_seconds: +run.trainSeconds.toFixed(2),
      train_utterances: train.length,
      val_utterances: val.length,
      val_wer_before: before?.wer ?? null,
      val_cer_before: before?.cer ?? null,
      val_wer_after: after?.wer ?? null,
      val_cer_after: after?.cer ?? null,
      decoding: 'greedy',
      adapter: { kind: 'lora', rank: r.adapter.rank, alpha: r.adapter.alpha, targets, modules: run.trainer.adapters.length },
      peak_lr: r.peakLr,
      l2sp: r.l2sp,
      augmentation: 'none (imported models train on their own front end, unaugmented)',
      files: [...exported.files.keys()],
      left_out: exported.leftOut.map((x) => `${x.path}: ${x.reason}`),
      note: exported.note,
      out: o.out,
    };
  } finally {
    await run.trainer.dispose();
  }
}
