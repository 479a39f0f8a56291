// The flat layout (parameters and optimizer slots in one buffer, train-graph.ts) against the
// per-parameter formulation it replaced: the speech model's training graphs stay small, and ten
// steps of CTC training give the same losses and weights either way, on onnxruntime-node.
import { describe, expect, it } from 'vitest';
import { buildAcousticModel, DEFAULT_ARCH, type AdapterConfig, type Weights } from '../asr/model';
import type { OptimizerConfig } from '../engine/optim';
import { GraphBuilder } from '../engine/builder';
import { flatGradient, planFlatLayout } from '../engine/flat-params';
import { encodeModel, makeModel } from '../engine/onnx-proto';
import { concat, reduceSum } from '../engine/ops';
import { mulberry32 } from '../engine/testing/reference-encoder';
import { buildToyProblem } from '../engine/testing/toy-transformer';
import type { TrainingGraph } from '../engine/train-graph';
import { CtcTrainer, type CtcBatch, type CtcTrainerOptions } from '../train/ctc-trainer';
import { encodeCheckpoint, decodeCheckpoint } from './checkpoint';
import { nodeBackend } from './node';
import { Trainer } from './trainer';
import type { HostTensor } from './types';

const LORA: AdapterConfig = { lora: { rank: 8, alpha: 16, targets: ['q', 'v', 'ff1', 'ff2'] } }; // the recipe's default
const isLora = (n: string) => n.includes('.lora_');
const graphsOf = (o: CtcTrainerOptions, batch: number, frames: number) =>
  (CtcTrainer as unknown as { graphs(o: CtcTrainerOptions, b: number, t: number): { training: TrainingGraph } }).graphs(o, batch, frames);

describe('flat parameter buffers', () => {
  it('the speech model’s training graphs stay lean: LoRA under 1,450 nodes, full training under 1,500 (issue 14’s budget)', () => {
    const lora = graphsOf({ arch: DEFAULT_ARCH, adapters: LORA, trainable: isLora, optimizer: { kind: 'adamw', weightDecay: 0.01, decayTo: 'start' }, clipNorm: 5 }, 4, 400);
    const full = graphsOf({ arch: DEFAULT_ARCH, optimizer: { kind: 'adamw' }, clipNorm: 5 }, 4, 400);
    // 3,767 and 7,203 nodes with a state tensor and an update chain per parameter (8412e04); 1,770
    // and 1,862 with flat buffers on [B, T, C] activations; 1,441 and 1,597 on rows [B·T, C] with
    // Gemm projections, x̂ from a LayerNormalization node, transposes of transposes folded (and the
    // depthwise conv input gradient as a flipped Conv); 1,433 and 1,492 with neighbouring bias and
    // norm gradients summed by one ReduceSum (flat-params.ts), state and report outputs written by
    // their own nodes instead of an Identity each, and Split/Concat trees with the fewest nodes
    expect(lora.training.graph.nodes.length).toBeLessThan(1450);
    expect(full.training.graph.nodes.length).toBeLessThan(1500);
    // one buffer for the parameters, one per Adam moment, and the step count
    expect(full.training.state.map((s) => s.input)).toEqual(['flat.float32', 'adam.m.flat.float32', 'adam.v.flat.float32', 'optim.step']);
    expect(full.training.state[0].segments!.length).toBe(216);
  });

  it('neighbouring column-sum gradients are summed by one ReduceSum per seven, to the bit of a ReduceSum each', async () => {
    // ten 1-D "bias gradients", each the column sum of its own [rows, n] tensor, values of widely
    // different size so that any change in the order of the additions would show
    const g = new GraphBuilder('row_sums');
    const widths = [5, 3, 8, 1, 4, 6, 2, 7, 3, 5];
    const rand = mulberry32(3);
    const feeds: Record<string, HostTensor> = {};
    const sums = widths.map((n, i) => {
      const x = g.input(`x${i}`, 'float32', [301, n]);
      feeds[x.name] = f32([301, n], Array.from({ length: 301 * n }, () => (rand() - 0.5) * 10 ** Math.floor(rand() * 8 - 4)));
      return reduceSum(x, [0], false);
    });
    const layout = planFlatLayout(widths.map((n, i) => ({ name: `b${i}`, dims: [n] })));
    g.output(flatGradient(layout, (name) => sums[Number(name.slice(1))]), 'fused');
    g.output(concat(sums, 0), 'separate');
    const graph = g.build();
    // ten ReduceSums for the reference, two for the fused sum (seven columns sums, then three)
    expect(graph.nodes.filter((n) => n.opType === 'ReduceSum').length).toBe(10 + 2);
    const session = await nodeBackend().createSession(encodeModel(makeModel(graph)));
    const { host } = await session.run(feeds);
    expect(Array.from(host.fused.data as Float32Array)).toEqual(Array.from(host.separate.data as Float32Array));
    await session.release();
  });

  /** Items whose frames encode their labels, different every step. */
  function batchFor(step: number, B = 2, frames = 96): CtcBatch {
    const nMels = DEFAULT_ARCH.nMels;
    const targets = Array.from({ length: B }, (_, b) => Int32Array.from({ length: 4 + b }, (_, i) => 1 + ((step * 7 + b * 3 + i * 5) % 28)));
    const lengths = Array.from({ length: B }, (_, b) => frames - 16 * b);
    const features = new Float32Array(B * frames * nMels);
    targets.forEach((t, b) => {
      for (let f = 0; f < lengths[b]; f++) {
        const label = t[Math.min(t.length - 1, Math.floor((f / lengths[b]) * t.length))];
        for (let m = 0; m < nMels; m++) features[(b * frames + f) * nMels + m] = Math.sin(label * 0.7 + m * 0.13) + 0.05 * Math.cos(f + step);
      }
    });
    return { features, batch: B, frames, lengths, targets };
  }

  /**
   * Ten CTC steps of CtcTrainer in the given layout: the per-parameter one (one state tensor and one
   * update chain per parameter) is the reference the flat one must reproduce.
   */
  async function run(o: CtcTrainerOptions, layout: 'flat' | 'per-parameter', steps: number, lr: number) {
    const b0 = batchFor(0);
    const t = await CtcTrainer.create(nodeBackend(), { ...o, layout }, { batch: b0.batch, frames: b0.frames });
    // the layout asked for is the one built: a handful of flat buffers, or a tensor per parameter and slot
    if (layout === 'flat') expect(t.trainer.tg.state.length).toBeLessThanOrEqual(6);
    else expect(t.trainer.tg.state.length).toBeGreaterThan(20);
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) {
      const r = await t.step(batchFor(s), lr);
      expect(r.skipped).toBe(false);
      losses.push(r.loss);
    }
    const weights = await t.weights();
    await t.dispose();
    return { losses, weights };
  }

  /** Each tensor within 1e-6 of its own largest magnitude; each loss within 1e-6 relative. */
  function expectSame(a: { losses: number[]; weights: Weights }, b: { losses: number[]; weights: Weights }) {
    a.losses.forEach((l, i) => expect(Math.abs(b.losses[i] - l) / Math.abs(l), `loss at step ${i + 1}`).toBeLessThanOrEqual(1e-6));
    for (const [name, w] of a.weights) {
      const got = b.weights.get(name)!;
      let scale = 0;
      let diff = 0;
      for (let k = 0; k < w.length; k++) {
        scale = Math.max(scale, Math.abs(w[k]));
        diff = Math.max(diff, Math.abs(got[k] - w[k]));
      }
      expect(diff, name).toBeLessThanOrEqual(1e-6 * scale);
    }
  }

  it('full training: ten CTC steps give the per-parameter formulation’s losses and weights (1e-6 relative)', async () => {
    // weight decay with its mask (biases and norm gains exempt), clipping that bites
    const o: CtcTrainerOptions = { arch: DEFAULT_ARCH, seed: 7, optimizer: { kind: 'adamw', weightDecay: 0.05 }, clipNorm: 1 };
    const ref = await run(o, 'per-parameter', 10, 1e-3);
    const flat = await run(o, 'flat', 10, 1e-3);
    expect(ref.losses[9]).toBeLessThan(ref.losses[0]);
    expectSame(ref, flat);
  }, 120_000);

  it('LoRA with L2-SP: ten CTC steps give the per-parameter formulation’s losses and weights (1e-6 relative)', async () => {
    const base = buildAcousticModel({ arch: DEFAULT_ARCH, seed: 11, batch: 1, frames: 64, masked: false });
    const weights: Weights = new Map([...base.g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
    const o: CtcTrainerOptions = { arch: DEFAULT_ARCH, weights, adapters: LORA, seed: 3, trainable: isLora, optimizer: { kind: 'adamw', weightDecay: 0.5, decayTo: 'start' }, clipNorm: 1 };
    const ref = await run(o, 'per-parameter', 10, 3e-3);
    const flat = await run(o, 'flat', 10, 3e-3);
    expectSame(ref, flat);
    expect([...flat.weights].filter(([n]) => n.endsWith('lora_b')).some(([, w]) => w.some((v) => v !== 0))).toBe(true);
  }, 120_000);

  it('SGD with momentum and a decay mask: flat and per-parameter agree; checkpoints move between the layouts', async () => {
    const optimizer: OptimizerConfig = { kind: 'sgd', momentum: 0.9, weightDecay: 0.1, decayTo: 'start' };
    const decays = (n: string) => !n.endsWith('.bias');
    const make = (layout: 'flat' | 'per-parameter') => {
      const p = buildToyProblem({ optimizer, decays, layout, clipNorm: 0.5 });
      return { p, batch: { x: f32([p.config.batch, p.config.time, p.config.dModel], p.x), target: f32([p.config.batch, p.config.time, p.config.dOut], p.target) } };
    };
    const run = async (layout: 'flat' | 'per-parameter', from?: Uint8Array, steps = 10) => {
      const { p, batch } = make(layout);
      const t = await Trainer.create(nodeBackend(), p.training);
      if (from) t.importState(decodeCheckpoint(from));
      const losses: number[] = [];
      for (let i = 0; i < steps; i++) losses.push((await t.step(batch, 0.05)).loss!);
      const out = { losses, weights: await t.parameters(), ckpt: encodeCheckpoint(await t.exportState()) };
      await t.dispose();
      return out;
    };
    const ref = await run('per-parameter');
    const flat = await run('flat');
    expectSame(ref, flat);
    // a per-parameter checkpoint resumes in the flat layout and vice versa, tensor names unchanged
    const half = await run('per-parameter', undefined, 5);
    const resumed = await run('flat', half.ckpt, 5);
    expectSame({ losses: ref.losses.slice(5), weights: ref.weights }, resumed);
    expect([...decodeCheckpoint(resumed.ckpt).tensors.keys()].sort()).toEqual([...decodeCheckpoint(ref.ckpt).tensors.keys()].sort());
  });
});

const f32 = (dims: number[], data: ArrayLike<number>): HostTensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });
