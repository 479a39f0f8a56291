// What our engine computes, written down for the PyTorch twin to check itself against
// (python/earshot_torch/parity.py): for a few real clips, the 16 kHz samples, our log-mel features
// and our ONNX model's logits; for one padded batch, the CTC loss and the gradient of every
// parameter from our own autodiff. Two models: the shipped base model, and a tiny one with LoRA on
// every target and bottleneck adapters (random non-zero adapter weights, so they matter).
//
//   npx tsx scripts/torch/parity-fixture.ts --model public/models/base --out /tmp/parity.safetensors

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeMono, logMel, DEFAULT_FRONTEND, mulberry32 } from '../../src/audio';
import { ctcLoss } from '../../src/asr/ctc';
import { buildAcousticModel, subsampledLength, type AdapterConfig, type ModelArch, type Weights } from '../../src/asr/model';
import { normalizeText } from '../../src/asr/text-normalize';
import { DEFAULT_VOCAB, encodeText } from '../../src/asr/vocab';
import { gradients } from '../../src/engine/autodiff';
import { encodeModel, makeModel } from '../../src/engine/onnx-proto';
import { encodeCheckpoint, type NamedTensor } from '../../src/runtime/checkpoint';
import { nodeBackend } from '../../src/runtime/node';
import type { Backend } from '../../src/runtime/types';
import { readManifest } from '../../src/cli/eval';
import { loadModelFromDisk } from '../../src/cli/model-files';
import { CtcTrainer } from '../../src/train/ctc-trainer';

export const TINY_ARCH: ModelArch = { nMels: 80, dModel: 32, heads: 4, blocks: 2, ffDim: 64, convKernel: 7, vocabSize: 29 };
export const TINY_ADAPTERS: AdapterConfig = { lora: { rank: 4, alpha: 8, targets: ['q', 'k', 'v', 'o', 'ff1', 'ff2'] }, bottleneck: { dim: 8 } };

interface Clip {
  name: string;
  samples: Float32Array;
  features: Float32Array;
  frames: number;
  targets: Int32Array;
}

/** The first `n` clips of a manifest, decoded to 16 kHz by our decoder, with our features. */
export async function readClips(manifest: string, n: number): Promise<Clip[]> {
  const rows = readManifest(manifest).slice(0, n);
  return Promise.all(rows.map(async (r) => {
    const samples = await decodeMono(new Uint8Array(readFileSync(r.path)), 16000, r.path);
    const f = logMel(samples, DEFAULT_FRONTEND);
    return { name: r.path, samples, features: f.data, frames: f.frames, targets: encodeText(DEFAULT_VOCAB, normalizeText(r.text)) };
  }));
}

async function runGraph(backend: Backend, graph: ReturnType<ReturnType<typeof buildAcousticModel>['g']['build']>, feeds: Record<string, { dims: number[]; data: Float32Array }>) {
  const s = await backend.createSession(encodeModel(makeModel(graph)));
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { dtype: 'float32' as const, ...v }])));
  await s.release();
  return out.host;
}

/** Logits, CTC loss and every parameter's gradient for a padded batch, all from our engine. */
export async function engineGradients(backend: Backend, o: { arch: ModelArch; adapters?: AdapterConfig; weights: Weights; clips: Clip[] }) {
  const frames = Math.max(...o.clips.map((c) => c.frames));
  const B = o.clips.length;
  const nMels = o.arch.nMels;
  const features = new Float32Array(B * frames * nMels);
  o.clips.forEach((c, b) => features.set(c.features, b * frames * nMels));
  const lengths = o.clips.map((c) => c.frames);
  const tOut = subsampledLength(frames);
  const mask = CtcTrainer.mask(B, frames, lengths);
  const feeds = { features: { dims: [B, frames, nMels], data: features }, mask: { dims: [B, tOut], data: mask } };

  const fwd = buildAcousticModel({ arch: o.arch, adapters: o.adapters, weights: o.weights, batch: B, frames, masked: true });
  fwd.g.output(fwd.logits, 'logits');
  const logits = (await runGraph(backend, fwd.g.build(), feeds)).logits.data as Float32Array;
  const V = o.arch.vocabSize;
  const ctc = ctcLoss({ logits, shape: [B, tOut, V], inputLengths: lengths.map(subsampledLength), targets: o.clips.map((c) => c.targets) }, { blank: 0, reduction: 'mean_per_target_length', zeroInfinity: true });

  const m = buildAcousticModel({ arch: o.arch, adapters: o.adapters, weights: o.weights, batch: B, frames, masked: true });
  const dlogits = m.g.input('dlogits', 'float32', m.logits.dims);
  const params = [...m.g.params.values()].map((p) => p.value);
  const grads = gradients(m.g, { seeds: [{ value: m.logits, grad: dlogits }], wrt: params });
  for (const p of params) m.g.output(grads.get(p.name)!, `grad.${p.name}`);
  const host = await runGraph(backend, m.g.build(), { ...feeds, dlogits: { dims: [B, tOut, V], data: ctc.grad as Float32Array } });
  const g = new Map<string, Float32Array>();
  for (const p of params) g.set(p.name, host[`grad.${p.name}`].data as Float32Array);
  return { features, frames, lengths, logits, loss: ctc.loss, grads: g };
}

/** Random weights for every parameter of an architecture (adapter B/up matrices included, unlike the builder's zero init). */
export function randomWeights(arch: ModelArch, adapters: AdapterConfig, seed: number): Weights {
  const rand = mulberry32(seed);
  const { g } = buildAcousticModel({ arch, adapters, batch: 1, frames: 64, masked: false, seed });
  const w: Weights = new Map();
  for (const [name, p] of g.params) {
    const data = Float32Array.from(p.init.data as Float32Array);
    if (/\.(lora_b|adapter\.up\.weight)$/.test(name)) for (let i = 0; i < data.length; i++) data[i] = (rand() - 0.5) * 0.2;
    w.set(name, data);
  }
  return w;
}

export async function writeParityFixture(o: { modelDir: string; manifest: string; clips: number; batchClips: number; out: string }) {
  const backend = nodeBackend({ threads: 2 });
  const model = loadModelFromDisk(o.modelDir);
  const clips = await readClips(o.manifest, o.clips);
  const tensors = new Map<string, NamedTensor>();
  const f32 = (name: string, dims: number[], data: Float32Array) => tensors.set(name, { dims, data });
  const i32 = (name: string, dims: number[], data: Int32Array) => tensors.set(name, { dims, data });

  // 1. the shipped model, one clip at a time, through model.onnx exactly as the recognizer runs it
  const session = await backend.createSession(model.onnx);
  for (const [i, c] of clips.entries()) {
    const out = await session.run({ features: { dtype: 'float32', dims: [1, c.frames, 80], data: c.features } });
    f32(`clip${i}.samples`, [c.samples.length], c.samples);
    f32(`clip${i}.features`, [c.frames, 80], c.features);
    f32(`clip${i}.logits`, out.host.logits.dims, out.host.logits.data as Float32Array);
  }
  await session.release();

  // 2. loss and gradients: the base model and the tiny adapter model on one padded batch
  const meta: Record<string, string> = { clips: String(clips.length), model: o.modelDir };
  const batchClips = [...clips].sort((x, y) => x.frames - y.frames).slice(0, o.batchClips); // the shortest: padding is exercised, time is saved
  const cases = [
    { key: 'base', arch: model.config.arch, adapters: model.config.adapters, weights: model.weights },
    { key: 'tiny', arch: TINY_ARCH, adapters: TINY_ADAPTERS, weights: randomWeights(TINY_ARCH, TINY_ADAPTERS, 7) },
  ];
  for (const c of cases) {
    const r = await engineGradients(backend, { arch: c.arch, adapters: c.adapters, weights: c.weights, clips: batchClips });
    f32(`${c.key}.features`, [batchClips.length, r.frames, 80], r.features);
    i32(`${c.key}.lengths`, [r.lengths.length], Int32Array.from(r.lengths));
    f32(`${c.key}.logits`, [batchClips.length, subsampledLength(r.frames), c.arch.vocabSize], r.logits);
    for (const [name, g] of r.grads) f32(`${c.key}.grad.${name}`, [g.length], g);
    if (c.key === 'tiny') for (const [name, w] of c.weights) f32(`tiny.weight.${name}`, [w.length], w);
    meta[`${c.key}.loss`] = String(r.loss);
    meta[`${c.key}.config`] = JSON.stringify({ arch: c.arch, adapters: c.adapters });
  }
  batchClips.forEach((c, i) => i32(`target${i}`, [c.targets.length], c.targets));
  meta.batch = String(batchClips.length);
  writeFileSync(o.out, encodeCheckpoint({ tensors, metadata: meta }));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values: a } = parseArgs({
    options: {
      model: { type: 'string', default: 'public/models/base' },
      manifest: { type: 'string', default: join(dirname(import.meta.filename), '../../../shared/speech/ljspeech_coqui/manifest.jsonl') },
      clips: { type: 'string', default: '3' },
      'batch-clips': { type: 'string', default: '2' },
      out: { type: 'string', default: '/tmp/earshot-parity.safetensors' },
    },
  });
  await writeParityFixture({ modelDir: a.model!, manifest: a.manifest!, clips: Number(a.clips), batchClips: Number(a['batch-clips']), out: a.out! });
  console.log(a.out);
}
