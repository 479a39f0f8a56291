// The base-model recipe: trains the CTC acoustic model with Earshot's own engine on onnxruntime-node
// (CPU), on real speech (speechocean762/train, librispeech_train28, train_extra) mixed with the
// synthetic corpus of scripts/corpus when it is present: every batch holds at least --real-share of
// real speech by audio seconds. Resumable: it checkpoints the whole training state (safetensors) and
// its progress atomically, and a rerun with the same --out continues where it stopped. Logs one JSON
// line per report.
//
//   npx tsx scripts/train-base.ts --out /work/earshot-data/base-run [--init public/models/base] [--budget-hours 2]
//
// A new run starts from --init's weights (fresh AdamW state) or, with --init none, from scratch.
// The learning rate warms up, then follows a cosine over the run's budget — the larger of its step
// progress and its training-time progress (--budget-hours of wall time, evaluations included, summed over resumes) — so a
// run that must end within a session still anneals. It stops when the budget is spent, or when the
// monitored WER has not improved for --patience evaluations.
//
// It never trains on speechocean762/dev, librispeech_dev4, personal_* or the other evaluation sets.
// Monitoring: 12 speechocean762/train speakers balanced by age group and sex (3 children and 3
// adults of each sex, never trained on) and librispeech_dev4; the model selected is the one with the
// best mean of the two WERs (greedy). Every evaluation's weights are kept in <out>/snapshots (the
// last --keep-snapshots) for checkpoint averaging at shipping time (scripts/average-checkpoints.ts).

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
import { loadModelFromDisk } from '../src/cli/model-files';
import { readManifest as readNemoManifest } from '../src/cli/eval';
import { balancedMonitorSpeakers, framesAfter, MixedBatcher, shouldStop, specAugmentFor, type PlannedItem } from './base-recipe';

const { values: a } = parseArgs({
  options: {
    shared: { type: 'string', default: '../shared/speech' },
    real: { type: 'string', default: 'speechocean762/train,librispeech_train28,train_extra' },
    corpus: { type: 'string', default: '/work/earshot-data/corpus' },
    out: { type: 'string', default: '/work/earshot-data/base-run' },
    init: { type: 'string', default: 'public/models/base' },
    steps: { type: 'string', default: '100000' },
    'budget-hours': { type: 'string', default: '2' },
    'peak-lr': { type: 'string', default: '1e-3' },
    warmup: { type: 'string', default: '300' },
    'real-share': { type: 'string', default: '0.5' },
    'synth-tempo': { type: 'string', default: '0.85' },
    'batch-frames': { type: 'string', default: '8000' },
    'eval-every': { type: 'string', default: '300' },
    'ckpt-every': { type: 'string', default: '50' },
    patience: { type: 'string', default: '3' },
    'keep-snapshots': { type: 'string', default: '8' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});
const out = resolve(a.out!);
mkdirSync(join(out, 'snapshots'), { recursive: true });
const totalSteps = Number(a.steps);
const budgetSeconds = Number(a['budget-hours']) * 3600;
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
  real: boolean;
  age?: number;
  gender?: string;
}

/** A manifest's utterances with normalized text and label ids (none if the file does not exist yet). */
function readManifest(file: string, real: boolean): Utt[] {
  if (!existsSync(file)) return [];
  return readNemoManifest(file).flatMap((r) => {
    const text = normalizeText(r.text);
    return text ? [{ path: r.path, text, ids: encodeText(DEFAULT_VOCAB, text), speaker: String(r.speaker ?? ''), seconds: r.duration ?? 0, real, age: r.age, gender: r.gender }] : [];
  });
}

const FORBIDDEN = /(^|\/)(speechocean762\/dev|librispeech_dev4|personal_[^/]*|ljspeech_coqui|misc_samples|fsdd|pocketsphinx_testdata|speech_commands[^/]*)(\/|$)/;
const realSets = a.real!.split(',').filter(Boolean);
for (const r of realSets) if (FORBIDDEN.test(r)) throw new Error(`${r} is a development, evaluation or personalization set: the base model never trains on it`);
const realAll = realSets.flatMap((r) => readManifest(join(a.shared!, r, 'manifest.jsonl'), true));
for (const r of realSets) if (!existsSync(join(a.shared!, r, 'manifest.jsonl'))) throw new Error(`${join(a.shared!, r, 'manifest.jsonl')} is missing: the training speech lives in ../shared/speech`);
// monitoring: 12 speechocean762/train speakers balanced by age group and sex, and librispeech_dev4
const so = realAll.filter((u) => u.path.includes('/speechocean762/train/'));
const monitorSpeakers = new Set(balancedMonitorSpeakers(so, 3).map((s) => `so:${s}`));
const isMonitor = (u: Utt) => u.path.includes('/speechocean762/train/') && monitorSpeakers.has(`so:${u.speaker}`);
const monitorSo = realAll.filter(isMonitor);
const monitorLs = readManifest(join(a.shared!, 'librispeech_dev4', 'manifest.jsonl'), true);
const realTrain = realAll.filter((u) => !isMonitor(u) && u.seconds <= 16 && u.seconds >= 0.3);
const devSynth = readManifest(join(a.corpus!, 'dev.jsonl'), false);

let synthCache: { at: number; utts: Utt[] } = { at: 0, utts: [] };
/** Synthetic utterances, re-read every 10 minutes so a corpus still being generated keeps growing. */
function synthTrain(): Utt[] {
  if (Date.now() - synthCache.at > 600_000) synthCache = { at: Date.now(), utts: readManifest(join(a.corpus!, 'train.jsonl'), false).filter((u) => u.seconds <= 16 && u.seconds >= 0.3) };
  return synthCache.utts;
}

// decoded audio, kept as 16-bit to halve the memory (all real training speech: ~0.9 GB)
const audioCache = new Map<string, Int16Array>();
async function samples(u: Utt): Promise<Float32Array> {
  const c = audioCache.get(u.path);
  if (c) return Float32Array.from(c, (v) => v / 32768);
  const s = await decodeMono(new Uint8Array(readFileSync(u.path)), 16000, u.path);
  audioCache.set(u.path, Int16Array.from(s, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768)))));
  return s;
}

// seeded by the step training starts from, so a resumed run does not replay the order it already saw
let rand = mulberry32(Number(a.seed) * 7919 + 17);

/** Waveform augmentation (the planned speed; noise at 10–35 dB SNR for half), then log-mel and SpecAugment of the current strength. */
async function features(p: PlannedItem<Utt>, smoothedLoss: number) {
  let x = await samples(p.item);
  if (p.speed !== 1) x = speedPerturb(x, p.speed);
  if (rand() < 0.5) x = addNoise(x, 10 + 25 * rand(), rand);
  return specAugment(logMel(x, DEFAULT_FRONTEND), specAugmentFor(smoothedLoss), rand);
}

/** Length buckets (frames); each has a fixed batch size so each shape compiles once. */
const BUCKETS = [256, 384, 512, 768, 1024, 1600];

const arch = DEFAULT_ARCH;
const backend = nodeBackend({ threads: Number(a.threads) });
const ckptFile = join(out, 'state.safetensors');
const resuming = existsSync(ckptFile);
const initWeights = !resuming && a.init !== 'none' ? loadModelFromDisk(resolve(a.init!)).weights : undefined;
const first = BUCKETS[2];
const trainer = await CtcTrainer.create(backend, { arch, seed: Number(a.seed), weights: initWeights, optimizer: { kind: 'adamw', weightDecay: 0.01 }, clipNorm: 5 }, { batch: Math.floor(batchFrames / first), frames: first });

interface RunState {
  best_wer: number;
  history: number[];
  train_seconds: number;
  cpu_seconds: number;
  audio_seconds: number;
  smoothed_loss: number;
  init: string;
}
let st: RunState = { best_wer: Infinity, history: [], train_seconds: 0, cpu_seconds: 0, audio_seconds: 0, smoothed_loss: Infinity, init: a.init! };
if (resuming) {
  const c = decodeCheckpoint(new Uint8Array(readFileSync(ckptFile)));
  trainer.importState(c);
  st = { ...st, ...(JSON.parse(c.metadata.run ?? '{}') as Partial<RunState>) };
  st.best_wer = Number(st.best_wer ?? Infinity);
  log({ event: 'resumed', step: await trainer.stepCount, ...st });
} else log({ event: 'start', parameters: countParameters(arch), arch, init: a.init, real_train_utterances: realTrain.length, real_train_hours: +(realTrain.reduce((s, u) => s + u.seconds, 0) / 3600).toFixed(2), synthetic_utterances: synthTrain().length, monitor_speakers: [...monitorSpeakers], monitor_so_utterances: monitorSo.length, monitor_ls_utterances: monitorLs.length });

/** Fraction of the run done: the larger of step progress and training-time progress. */
const progress = (step: number) => Math.max(step / totalSteps, st.train_seconds / budgetSeconds);
const lrAt = (step: number) => {
  if (step < warmup) return scheduleLr(step, { peakLr, warmupSteps: warmup, totalSteps: warmup + 1 });
  const p = Math.min(1, progress(step));
  return scheduleLr(Math.round(p * 1e6), { peakLr, warmupSteps: 0, totalSteps: 1e6, finalFraction: 0.05 });
};

function atomicWrite(file: string, data: Uint8Array | string) {
  writeFileSync(file + '.tmp', data);
  renameSync(file + '.tmp', file);
}

async function evaluate(weights: Weights, step: number) {
  const files = writeModelDir({ arch, weights, vocab: DEFAULT_VOCAB, card: '# Earshot base model (training in progress)\n', provenance: { step } });
  const model = readModelDir(files);
  const rec = await Recognizer.create(backend, model);
  const score = async (utts: Utt[]) => {
    if (!utts.length) return undefined;
    const hyps: string[] = [];
    for (const u of utts) hyps.push(await rec.transcribeSamples(await samples(u)));
    return { wer: wer(utts.map((u) => u.text), hyps).errorRate, cer: cer(utts.map((u) => u.text), hyps).errorRate, example: hyps[0] };
  };
  const r = { so: await score(monitorSo), ls: await score(monitorLs), synth: await score(devSynth.slice(0, 100)) };
  await rec.release();
  return { files, ...r };
}

const saveState = async (epochNote: string) => atomicWrite(ckptFile, encodeCheckpoint(await trainer.exportState({ run: JSON.stringify(st), note: epochNote })));

let step = await trainer.stepCount;
if (step > 0) rand = mulberry32(Number(a.seed) * 7919 + 17 + step);
const batcher = new MixedBatcher<Utt>(() => realTrain, synthTrain, BUCKETS, batchFrames, rand, { realShare: Number(a['real-share']), synthTempo: Number(a['synth-tempo']) });
let window = { loss: 0, n: 0, audio: 0, real: 0, skipped: 0, start: performance.now() };
let cpu0 = process.cpuUsage();
let tLast = performance.now();
let stopReason = '';
while (!stopReason) {
  if (step >= totalSteps) stopReason = 'steps';
  else if (st.train_seconds >= budgetSeconds) stopReason = 'budget';
  if (stopReason) break;
  const { bucket, items } = batcher.next();
  const feats = await Promise.all(items.map((p) => features(p, st.smoothed_loss)));
  const B = items.length;
  const data = new Float32Array(B * bucket * arch.nMels);
  const lengths = feats.map((f, b) => {
    const n = Math.min(f.frames, bucket);
    data.set(f.data.subarray(0, n * arch.nMels), b * bucket * arch.nMels);
    return n;
  });
  const r = await trainer.step({ features: data, batch: B, frames: bucket, lengths, targets: items.map((p) => p.item.ids) }, lrAt(step));
  step = await trainer.stepCount;
  const now = performance.now();
  st.train_seconds += (now - tLast) / 1000;
  tLast = now;
  const cpu = process.cpuUsage(cpu0);
  st.cpu_seconds += (cpu.user + cpu.system) / 1e6;
  cpu0 = process.cpuUsage();
  const audio = items.reduce((s, p) => s + p.item.seconds / p.speed, 0);
  st.audio_seconds += audio;
  if (r.skipped) window.skipped++;
  else {
    window.loss += r.loss;
    window.n++;
    st.smoothed_loss = Number.isFinite(st.smoothed_loss) ? 0.98 * st.smoothed_loss + 0.02 * r.loss : r.loss;
  }
  window.audio += audio;
  window.real += items.filter((p) => p.item.real).reduce((s, p) => s + p.item.seconds / p.speed, 0);
  if (step % 20 === 0) {
    const secs = (performance.now() - window.start) / 1000;
    log({ step, loss: +(window.loss / Math.max(1, window.n)).toFixed(4), smoothed_loss: +st.smoothed_loss.toFixed(4), specaug: specAugmentFor(st.smoothed_loss).strength, skipped: window.skipped, lr: +lrAt(step).toExponential(3), progress: +progress(step).toFixed(4), grad_norm: +r.gradNorm.toFixed(3), real_share: +(window.real / window.audio).toFixed(3), audio_x_realtime: +(window.audio / secs).toFixed(1), s_per_step: +(secs / 20).toFixed(2), audio_hours_seen: +(st.audio_seconds / 3600).toFixed(2), cpu_hours: +(st.cpu_seconds / 3600).toFixed(3) });
    window = { loss: 0, n: 0, audio: 0, real: 0, skipped: 0, start: performance.now() };
  }
  if (step % Number(a['ckpt-every']) === 0) await saveState('');
  if (step % Number(a['eval-every']) === 0) {
    const weights = await trainer.weights();
    const e = await evaluate(weights, step);
    const monitored = ((e.so?.wer ?? 0) + (e.ls?.wer ?? 0)) / ((e.so ? 1 : 0) + (e.ls ? 1 : 0));
    st.history.push(monitored);
    log({ event: 'eval', step, monitor_so_wer: e.so?.wer, monitor_so_cer: e.so?.cer, librispeech_dev4_wer: e.ls?.wer, librispeech_dev4_cer: e.ls?.cer, synth_dev_wer: e.synth?.wer, monitored_wer: monitored, example: e.ls?.example });
    // weights of every evaluation, for checkpoint averaging when shipping
    atomicWrite(join(out, 'snapshots', `step-${String(step).padStart(7, '0')}.safetensors`), encodeCheckpoint({ tensors: new Map([...weights].map(([name, w]) => [name, { dims: [w.length], data: w }])), metadata: { step: String(step), monitored_wer: String(monitored) } }));
    const snaps = readdirSync(join(out, 'snapshots')).filter((f) => f.endsWith('.safetensors')).sort();
    for (const f of snaps.slice(0, Math.max(0, snaps.length - Number(a['keep-snapshots'])))) rmSync(join(out, 'snapshots', f));
    const progressRecord = { step, monitor_so: e.so, librispeech_dev4: e.ls, synth_dev: e.synth, monitored_wer: monitored, audio_hours_seen: st.audio_seconds / 3600, cpu_hours: st.cpu_seconds / 3600, train_hours: st.train_seconds / 3600, init: st.init };
    if (monitored < st.best_wer) {
      st.best_wer = monitored;
      mkdirSync(join(out, 'model'), { recursive: true });
      for (const [name, bytes] of Object.entries(e.files)) atomicWrite(join(out, 'model', name), bytes);
      atomicWrite(join(out, 'model', 'progress.json'), JSON.stringify(progressRecord, null, 2));
      log({ event: 'best', step, monitored_wer: monitored });
    }
    atomicWrite(join(out, 'last-eval.json'), JSON.stringify(progressRecord, null, 2));
    await saveState('');
    if (shouldStop(st.history, Number(a.patience))) stopReason = `no improvement in ${a.patience} evaluations`;
  }
}
await saveState('');
log({ event: 'done', step, reason: stopReason, ...st });
