// One part of the GPU measurement (scripts/device/gpu-bench.py runs each part in its own process, with
// its own timeout): times a training step on onnxruntime-node, on its WebGPU execution provider (the
// default) or on the CPU, and prints one JSON line.
//   --part reference   the reference encoder (REFERENCE-ENCODER.md), the graph bench:engine times
//                      (e2e/harness/reference-bench.ts): forward + backward + AdamW + the loss read back
//   --part speech-lora | speech-full
//                      the speech model's step as `earshot finetune` runs it (CtcTrainer.step: forward,
//                      logits to the CPU, CTC loss there, then backward + clipping + AdamW on the device),
//                      on a fixed synthetic batch (scripts/speech-step.ts), random weights of DEFAULT_ARCH
//
//   tsx scripts/device/gpu-bench-node.ts --part reference [--ep webgpu|cpu] [--size full|reduced]
//       [--batch 7 --frames 512] [--warmup 3] [--steps 10] [--budget-s 60] [--threads N]
// prepare-gpu-bench.sh bundles it into .gpu-bench/app/gpu-bench-node.mjs for a machine without tsx.
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { benchReference, type BenchResult } from '../../e2e/harness/reference-bench';
import { DEFAULT_ARCH } from '../../src/asr/model';
import { REFERENCE_LOSSES } from '../../src/engine/testing/reference-encoder';
import { nodeBackend } from '../../src/runtime/node';
import { CtcTrainer } from '../../src/train/ctc-trainer';
import { speechStepOptions, speechTrainingNodes, syntheticSpeechBatch, type SpeechStepKind } from '../speech-step';

const { values: a } = parseArgs({
  options: {
    part: { type: 'string', default: 'reference' },
    ep: { type: 'string', default: 'webgpu' },
    size: { type: 'string', default: 'full' },
    batch: { type: 'string', default: '7' },
    frames: { type: 'string', default: '512' },
    warmup: { type: 'string', default: '3' },
    steps: { type: 'string', default: '10' },
    'budget-s': { type: 'string', default: '60' },
    threads: { type: 'string' },
  },
});
const ep = a.ep === 'cpu' ? 'cpu' : 'webgpu';
const warmup = Math.max(0, Number(a.warmup));
const steps = Math.max(1, Number(a.steps));
const budgetMs = Number(a['budget-s']) * 1000;
const threads = a.threads ? Number(a.threads) : Math.max(1, cpus().length);
const log = (m: string) => process.stderr.write(`[gpu-bench-node ${a.part}] ${m}\n`);

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null;
};
const ms = (xs: number[]) => xs.map((x) => Math.round(x * 10) / 10);

/** One JSON line on stdout; the parent keeps the last one, so lines printed after each step survive a timeout. */
const emit = (o: object, partial: boolean) => process.stdout.write(`${JSON.stringify({ ...o, threads, node: process.version, ...(partial ? { partial: true } : {}) })}\n`);

async function reference() {
  const size = a.size === 'reduced' ? 'reduced' : 'full';
  const backend = nodeBackend({ executionProvider: ep, threads });
  log(`reference encoder, ${size} size, on ${backend.info.device}`);
  const summary = (r: BenchResult) => ({
    part: 'reference', ep, device: r.device, size, nodes: r.nodes,
    median_ms_per_step: median(r.stepMs), warmup_ms: ms(r.warmupMs), step_ms: ms(r.stepMs),
    session_create_ms: Math.round(r.createMs),
    first_step_loss: r.firstLoss, expected_first_step_loss: REFERENCE_LOSSES[size][1],
  });
  return summary(await benchReference(backend, size, warmup, steps, budgetMs, (r) => emit(summary(r), true)));
}

async function speech(kind: SpeechStepKind) {
  const batch = Number(a.batch);
  const frames = Number(a.frames);
  const o = speechStepOptions(kind);
  const backend = nodeBackend({ executionProvider: ep, threads });
  log(`speech model ${kind}, ${batch} × ${frames} frames, on ${backend.info.device}`);
  const data = syntheticSpeechBatch(o.arch, batch, frames);
  const nodes = speechTrainingNodes(o, batch, frames);
  const c0 = performance.now();
  const trainer = await CtcTrainer.create(backend, o, { batch, frames });
  const createMs = performance.now() - c0;
  const warmupMs: number[] = [];
  const stepMs: number[] = [];
  const losses: number[] = [];
  let skipped = 0;
  const summary = () => {
    const med = median(stepMs);
    return {
      part: `speech-${kind}`, ep, device: backend.info.device,
      arch: o.arch, batch, frames, audio_seconds_per_step: (batch * frames) / 100, nodes,
      median_ms_per_step: med, x_real_time: med ? Math.round(((batch * frames) / 100 / (med / 1000)) * 10) / 10 : null,
      warmup_ms: ms(warmupMs), step_ms: ms(stepMs), session_create_ms: Math.round(createMs),
      losses, skipped_steps: skipped,
    };
  };
  const t0 = performance.now();
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const s = performance.now();
      // two GPU sync points per step: the logits come to the CPU for CTC, then the loss scalars
      const r = await trainer.step(data, 1e-4);
      (i < warmup ? warmupMs : stepMs).push(performance.now() - s);
      losses.push(Math.round(r.loss * 1e5) / 1e5);
      if (r.skipped) skipped++;
      emit(summary(), true);
      if (stepMs.length && performance.now() - t0 > budgetMs) break;
    }
  } finally {
    await trainer.dispose();
  }
  return summary();
}

const out = a.part === 'reference' ? await reference() : a.part === 'speech-lora' ? await speech('lora') : a.part === 'speech-full' ? await speech('full') : null;
if (!out) throw new Error(`--part must be reference, speech-lora or speech-full, not '${a.part}'`);
emit(out, false);
// onnxruntime-node's WebGPU EP can keep the process alive after the work is done
process.exit(0);
