import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { encodeModel, makeModel } from '../engine/onnx-proto';
import { buildAcousticModel, mergeLora, subsampledLength, type ModelArch, type Weights } from './model';
import { inferenceGraph } from './model-dir';

const TINY: ModelArch = { nMels: 16, dModel: 16, heads: 2, blocks: 2, ffDim: 32, convKernel: 5, vocabSize: 29 };

async function run(graphBytes: Uint8Array, features: Float32Array, frames: number, nMels: number) {
  const s = await ort.InferenceSession.create(graphBytes);
  const out = await s.run({ features: new ort.Tensor('float32', features, [1, frames, nMels]) });
  return out.logits;
}

function weightsOf(m: ReturnType<typeof buildAcousticModel>): Weights {
  return new Map([...m.g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
}

const features = (frames: number, nMels: number) => Float32Array.from({ length: frames * nMels }, (_, i) => Math.sin(i * 0.37));

describe('acoustic model', () => {
  it('subsamples time by 4 with symbolic or static shapes', async () => {
    expect(subsampledLength(400)).toBe(100);
    expect(subsampledLength(401)).toBe(101);
    const m = buildAcousticModel({ arch: TINY, batch: 'batch', frames: 'time', masked: false });
    const bytes = encodeModel(makeModel(inferenceGraph(TINY, weightsOf(m))));
    for (const frames of [37, 64]) {
      const logits = await run(bytes, features(frames, 16), frames, 16);
      expect(logits.dims).toEqual([1, subsampledLength(frames), 29]);
    }
  });

  it('a masked batch gives each item the logits it gets alone (padding does not leak)', async () => {
    const base = buildAcousticModel({ arch: TINY, batch: 'batch', frames: 'time', masked: false });
    const w = weightsOf(base);
    const alone = await run(encodeModel(makeModel(inferenceGraph(TINY, w))), features(40, 16), 40, 16);
    const m = buildAcousticModel({ arch: TINY, weights: w, batch: 2, frames: 64, masked: true });
    m.g.output(m.logits, 'logits');
    const s = await ort.InferenceSession.create(encodeModel(makeModel(m.g.build())));
    const feats = new Float32Array(2 * 64 * 16);
    feats.set(features(40, 16));
    feats.set(features(64, 16).map((v) => v * 3), 64 * 16);
    const mask = new Float32Array(2 * 16);
    mask.fill(1, 0, subsampledLength(40));
    mask.fill(1, 16, 32);
    const out = await s.run({ features: new ort.Tensor('float32', feats, [2, 64, 16]), mask: new ort.Tensor('float32', mask, [2, 16]) });
    const a = alone.data as Float32Array;
    const b = out.logits.data as Float32Array;
    // padding is zeros in both cases, so the subsampling convs agree; attention and the depthwise
    // conv would read the second half of item 0's padded frames unless the mask stops them
    for (let t = 0; t < subsampledLength(40); t++)
      for (let v = 0; v < 29; v++) expect(b[t * 29 + v]).toBeCloseTo(a[t * 29 + v], 3);
  });

  it('LoRA starts as the base model and merges exactly into the base weights', async () => {
    const base = buildAcousticModel({ arch: TINY, batch: 1, frames: 48, masked: false });
    const w = weightsOf(base);
    const adapters = { lora: { rank: 4, alpha: 8, targets: ['q', 'v', 'ff1'] as const } };
    const lora = buildAcousticModel({ arch: TINY, adapters: { lora: { ...adapters.lora, targets: [...adapters.lora.targets] } }, weights: w, batch: 1, frames: 48, masked: false });
    const lw = weightsOf(lora);
    // B is zero-initialised: identical outputs to the base model built for the same static shape
    // (both on the rows layout training buckets use, Gemm projections) …
    lora.g.output(lora.logits, 'logits');
    base.g.output(base.logits, 'logits');
    const f = features(48, 16);
    const runStatic = async (m: typeof base) =>
      (await (await ort.InferenceSession.create(encodeModel(makeModel(m.g.build())))).run({ features: new ort.Tensor('float32', f, [1, 48, 16]) })).logits.data as Float32Array;
    const baseStatic = await runStatic(base);
    expect(Array.from(await runStatic(lora))).toEqual(Array.from(baseStatic));
    // … and the same function as the inference graph (symbolic shapes, MatMul + Add) up to rounding
    const before = await run(encodeModel(makeModel(inferenceGraph(TINY, w))), f, 48, 16);
    expect(Math.max(...Array.from(baseStatic, (v, i) => Math.abs(v - (before.data as Float32Array)[i])))).toBeLessThan(1e-5);
    // give B values, then merging must reproduce the adapted model's outputs with plain weights
    for (const [n, v] of lw) if (n.endsWith('lora_b')) v.forEach((_, i) => (v[i] = Math.cos(i) * 0.1));
    const adapted = buildAcousticModel({ arch: TINY, adapters: { lora: { ...adapters.lora, targets: [...adapters.lora.targets] } }, weights: lw, batch: 1, frames: 48, masked: false });
    adapted.g.output(adapted.logits, 'logits');
    const want = (await (await ort.InferenceSession.create(encodeModel(makeModel(adapted.g.build())))).run({ features: new ort.Tensor('float32', f, [1, 48, 16]) })).logits.data as Float32Array;
    const merged = mergeLora(lw, { lora: { ...adapters.lora, targets: [...adapters.lora.targets] } });
    expect([...merged.keys()].some((n) => n.includes('lora'))).toBe(false);
    const got = (await run(encodeModel(makeModel(inferenceGraph(TINY, merged))), f, 48, 16)).data as Float32Array;
    want.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 4));
    expect(Math.max(...Array.from(want, (v, i) => Math.abs(v - (before.data as Float32Array)[i])))).toBeGreaterThan(1e-3);
  });

  it('bottleneck adapters start as the identity (up-projection zero-initialised)', async () => {
    const base = buildAcousticModel({ arch: TINY, batch: 1, frames: 48, masked: false });
    const w = weightsOf(base);
    const f = features(48, 16);
    const before = (await run(encodeModel(makeModel(inferenceGraph(TINY, w))), f, 48, 16)).data as Float32Array;
    const ad = buildAcousticModel({ arch: TINY, adapters: { bottleneck: { dim: 8 } }, weights: w, batch: 1, frames: 48, masked: false });
    const aw = weightsOf(ad);
    expect([...aw.keys()].filter((n) => n.includes('adapter')).length).toBeGreaterThan(0);
    const after = (await run(encodeModel(makeModel(inferenceGraph(TINY, aw, { bottleneck: { dim: 8 } }))), f, 48, 16)).data as Float32Array;
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});
