// The base-model recipe: trains the CTC acoustic model from scratch with Earshot's own engine on
// onnxruntime-node (CPU), on the synthetic corpus of scripts/corpus plus speechocean762/train.
// Resumable: it checkpoints the whole training state (safetensors) and its progress atomically, and
// a rerun with the same --out continues where it stopped. Logs one JSON line per report.
//
//   npx tsx scripts/train-base.ts --corpus /work/earshot-data/corpus --out /work/earshot-data/base-run [--steps 8000]
//
// It never reads speechocean762/dev or the other evaluation sets. For monitoring it holds out the
// corpus's dev split and five speechocean762/train speakers, and keeps the model with the best
// monitored WER in <out>/model.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { addNoise, decodeMono, logMel, mulberry32, specAugment, speedPerturb, DEFAULT_FRONTEND } from '../src/audio';
import { DEFAULT_ARCH, countParameters, type Weights } from '../src/asr/model';
import { readModelDir, writeModelDir } from '../src/asr/model-dir';
import { normalizeText } from '../src/asr/text-normalize';
import { DEFAULT_VOCAB, encodeText } from '../src/asr/vocab';
import { wer, cer } from '../src/asr/wer';
import { Recognizer } from '../src/asr/recognizer';
import { decodeCheckpoint, encodeCheckpoint } from '../src/runtime/checkpoint';
import { nodeBackend } from '../src/runtime/node';
import { CtcTrainer } from '../src/train/ctc-trainer';
import { lrAt as scheduleLr } from '../src/train/schedule';
import { readManifest as readNemoManifest } from '../src/cli/eval';

const { values: a } = parseArgs({
  options: {
    corpus: { type: 'string', default: '/work/earshot-data/corpus' },
    out: { type: 'string', default: '/work/earshot-data/base-run' },
    steps: { type: 'string', default: '8000' },
    'peak-lr': { type: 'string', default: '2e-3' },
    warmup: { type: 'string', default: '600' },
    // warm restart (SGDR-style): the schedule starts again at this step, warming up to --peak-lr and
    // decaying to --steps; used to continue a finished run with its optimizer state
    'restart-at': { type: 'string', default: '0' },
    'batch-frames': { type: 'string', default: '8000' },
    'eval-every': { type: 'string', default: '400' },
    'ckpt-every': { type: 'string', default: '100' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});
const out = resolve(a.out!);
mkdirSync(out, { recursive: true });
const totalSteps = Number(a.steps);
const peakLr = Number(a['peak-lr']);
const warmup = Number(a.warmup);
const batchFrames = Number(a['batch-frames']);
const log = (o: Record<string, unknown>) => console.log(JSON.stringify({ t: new Date().toISOString(), ...o }));

interface Utt {
  path: string;
  text: string;
  ids: Int32Array;
  speaker: string;
  seconds: number;
}

/** A manifest's utterances with normalized text and label ids (none if the file does not exist yet). */
function readManifest(file: string): Utt[] {
  if (!existsSync(file)) return [];
  return readNemoManifest(file).flatMap((r) => {
    const text = normalizeText(r.text);
    return text ? [{ path: r.path, text, ids: encodeText(DEFAULT_VOCAB, text), speaker: r.speaker ?? '', seconds: r.duration ?? 0 }] : [];
  });
}

// The monitored dev set: the corpus's dev split and five speechocean762/train speakers held out.
const real = readManifest(join(a.corpus!, 'real-train.jsonl'));
const heldSpeakers = new Set([...new Set(real.map((u) => u.speaker))].sort().slice(0, 5));
const devReal = real.filter((u) => heldSpeakers.has(u.speaker));
const devSynth = readManifest(join(a.corpus!, 'dev.jsonl'));
const realTrain = real.filter((u) => !heldSpeakers.has(u.speaker));

/** Training utterances: re-read each epoch, so a corpus still being generated keeps growing. */
function trainSet(): Utt[] {
  const synth = readManifest(join(a.corpus!, 'train.jsonl'));
  // real speech is scarce next to the synthetic voices: it is seen twice per epoch
  return [...synth, ...realTrain, ...realTrain].filter((u) => u.seconds <= 16 && u.seconds >= 0.3);
}

const audioCache = new Map<string, Float32Array>();
async function samples(u: Utt): Promise<Float32Array> {
  let s = audioCache.get(u.path);
  if (!s) {
    s = await decodeMono(new Uint8Array(readFileSync(u.path)), 16000, u.path);
    audioCache.set(u.path, s);
  }
  return s;
}

// seeded by the step training starts from, so a resumed run does not replay the epoch order it
// already saw (set once the checkpoint is read, below)
let rand = mulberry32(Number(a.seed) * 7919 + 17);

/** Waveform augmentation (speed 0.9/1.1 for 30%, noise at 10–35 dB SNR for half), then log-mel and SpecAugment. */
async function features(u: Utt, augment: boolean) {
  let x = await samples(u);
  if (augment) {
    if (rand() < 0.3) x = speedPerturb(x, rand() < 0.5 ? 0.9 : 1.1);
    if (rand() < 0.5) x = addNoise(x, 10 + 25 * rand(), rand);
  }
  let f = logMel(x, DEFAULT_FRONTEND);
  if (augment) f = specAugment(f, { freqMasks: 2, freqMaskWidth: 15, timeMasks: 2, timeMaskWidth: 40, maxTimeFraction: 0.1 }, rand);
  return f;
}

/** Length buckets (frames); each has a fixed batch size so each shape compiles once. */
const BUCKETS = [256, 384, 512, 768, 1024, 1600];
const bucketOf = (frames: number) => BUCKETS.find((b) => frames <= b) ?? -1;

function* epochBatches(utts: Utt[]): Generator<{ bucket: number; items: Utt[] }> {
  const byBucket = new Map<number, Utt[]>();
  const order = utts.map((u) => [rand(), u] as const).sort((x, y) => x[0] - y[0]).map((p) => p[1]);
  const batches: { bucket: number; items: Utt[] }[] = [];
  for (const u of order) {
    const b = bucketOf(Math.ceil(u.seconds * 100) + 30); // +30 frames of slack for speed perturbation
    if (b < 0) continue;
    const list = byBucket.get(b) ?? [];
    list.push(u);
    const size = Math.max(1, Math.floor(batchFrames / b));
    if (list.length === size) {
      batches.push({ bucket: b, items: list });
      byBucket.set(b, []);
    } else byBucket.set(b, list);
  }
  // shuffle batches so buckets interleave
  yield* batches.map((x) => [rand(), x] as const).sort((p, q) => p[0] - q[0]).map((p) => p[1]);
}

const restartAt = Number(a['restart-at']);
const lrAt = (step: number) =>
  step < restartAt
    ? scheduleLr(step, { peakLr, warmupSteps: warmup, totalSteps, finalFraction: 0.05 })
    : scheduleLr(step - restartAt, { peakLr, warmupSteps: warmup, totalSteps: totalSteps - restartAt, finalFraction: 0.05 });

const arch = DEFAULT_ARCH;
const backend = nodeBackend({ threads: Number(a.threads) });
const first = BUCKETS[2];
const trainer = await CtcTrainer.create(backend, { arch, seed: Number(a.seed), optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 5 }, { batch: Math.floor(batchFrames / first), frames: first });
const ckptFile = join(out, 'state.safetensors');
let bestWer = Infinity;
if (existsSync(ckptFile)) {
  const c = decodeCheckpoint(new Uint8Array(readFileSync(ckptFile)));
  trainer.importState(c);
  bestWer = Number(c.metadata.best_wer ?? Infinity);
  log({ event: 'resumed', step: await trainer.stepCount, best_wer: bestWer });
} else log({ event: 'start', parameters: countParameters(arch), arch });

function atomicWrite(file: string, data: Uint8Array | string) {
  writeFileSync(file + '.tmp', data);
  renameSync(file + '.tmp', file);
}

async function evaluate(weights: Weights, step: number) {
  const files = writeModelDir({ arch, weights, vocab: DEFAULT_VOCAB, card: '# Earshot base model (training in progress)\n', provenance: { step } });
  const model = readModelDir(files);
  const rec = await Recognizer.create(backend, model);
  const score = async (utts: Utt[]) => {
    const hyps: string[] = [];
    for (const u of utts) hyps.push(await rec.transcribeSamples(await samples(u)));
    return { wer: wer(utts.map((u) => u.text), hyps).errorRate, cer: cer(utts.map((u) => u.text), hyps).errorRate, example: hyps[0] };
  };
  const synth = await score(devSynth);
  const realDev = await score(devReal);
  await rec.release();
  return { files, synth, real: realDev };
}

let step = await trainer.stepCount;
if (step > 0) rand = mulberry32(Number(a.seed) * 7919 + 17 + step);
let epoch = 0;
const t0 = performance.now();
let window = { loss: 0, n: 0, audio: 0, skipped: 0, start: performance.now() };
while (step < totalSteps) {
  epoch++;
  const utts = trainSet();
  log({ event: 'epoch', epoch, utterances: utts.length, hours: +(utts.reduce((s, u) => s + u.seconds, 0) / 3600).toFixed(2) });
  for (const { bucket, items } of epochBatches(utts)) {
    if (step >= totalSteps) break;
    const feats = await Promise.all(items.map((u) => features(u, true)));
    const B = items.length;
    const data = new Float32Array(B * bucket * arch.nMels);
    const lengths = feats.map((f, b) => {
      const n = Math.min(f.frames, bucket);
      data.set(f.data.subarray(0, n * arch.nMels), b * bucket * arch.nMels);
      return n;
    });
    const r = await trainer.step({ features: data, batch: B, frames: bucket, lengths, targets: items.map((u) => u.ids) }, lrAt(step));
    step = await trainer.stepCount;
    if (r.skipped) window.skipped++;
    else {
      window.loss += r.loss;
      window.n++;
    }
    window.audio += items.reduce((s, u) => s + u.seconds, 0);
    if (step % 20 === 0) {
      const secs = (performance.now() - window.start) / 1000;
      log({ step, epoch, loss: +(window.loss / Math.max(1, window.n)).toFixed(4), skipped: window.skipped, lr: +lrAt(step).toExponential(3), grad_norm: +r.gradNorm.toFixed(3), audio_x_realtime: +(window.audio / secs).toFixed(1), elapsed_min: +((performance.now() - t0) / 60000).toFixed(1) });
      window = { loss: 0, n: 0, audio: 0, skipped: 0, start: performance.now() };
    }
    if (step % Number(a['ckpt-every']) === 0) atomicWrite(ckptFile, encodeCheckpoint(await trainer.exportState({ best_wer: String(bestWer), epoch: String(epoch) })));
    if (step % Number(a['eval-every']) === 0) {
      const e = await evaluate(await trainer.weights(), step);
      log({ event: 'eval', step, dev_synth_wer: e.synth.wer, dev_synth_cer: e.synth.cer, dev_real_wer: e.real.wer, dev_real_cer: e.real.cer, example: e.real.example });
      const monitored = (e.synth.wer + e.real.wer) / 2;
      if (monitored < bestWer) {
        bestWer = monitored;
        mkdirSync(join(out, 'model'), { recursive: true });
        for (const [name, bytes] of Object.entries(e.files)) atomicWrite(join(out, 'model', name), bytes);
        atomicWrite(join(out, 'model', 'progress.json'), JSON.stringify({ step, dev_synth: e.synth, dev_real: e.real }, null, 2));
        log({ event: 'best', step, monitored_wer: monitored });
      }
    }
  }
}
atomicWrite(ckptFile, encodeCheckpoint(await trainer.exportState({ best_wer: String(bestWer), epoch: String(epoch) })));
log({ event: 'done', step });
