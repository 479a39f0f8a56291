// Training on onnxruntime-node: the reference encoder reproduces PyTorch's losses, checkpoints
// resume bit for bit, the finite guard skips bad steps, and the optimizers match their definitions.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../engine/builder';
import * as op from '../engine/ops';
import { buildReferenceProblem, REFERENCE_LOSSES, REFERENCE_REDUCED } from '../engine/testing/reference-encoder';
import { buildToyProblem } from '../engine/testing/toy-transformer';
import { buildTrainingGraph } from '../engine/train-graph';
import type { OptimizerConfig } from '../engine/optim';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint';
import { nodeBackend } from './node';
import { Trainer } from './trainer';
import type { HostTensor } from './types';

const f32 = (dims: number[], data: ArrayLike<number>): HostTensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

function toyBatch() {
  const p = buildToyProblem();
  const c = p.config;
  return { p, batch: { x: f32([c.batch, c.time, c.dModel], p.x), target: f32([c.batch, c.time, c.dOut], p.target) } };
}

describe('Trainer on onnxruntime-node', () => {
  it('reproduces the reference encoder losses of PyTorch (reduced size, AdamW)', async () => {
    const p = buildReferenceProblem(REFERENCE_REDUCED);
    expect(p.paramCount).toBe(4_747_296);
    const c = p.config;
    const trainer = await Trainer.create(nodeBackend(), p.training);
    const batch = { x: f32([c.batch, c.time, c.dModel], p.x), target: f32([c.batch, c.time, c.dOut], p.target) };
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) losses.push((await trainer.step(batch, 1e-3)).loss!);
    await trainer.dispose();
    for (const [step, want] of Object.entries(REFERENCE_LOSSES.reduced)) expect(losses[Number(step) - 1]).toBeCloseTo(want, 4);
  });

  it('save after 5 steps, reload in a fresh session, 5 more = 10 straight, bit for bit', async () => {
    const { p, batch } = toyBatch();
    const straight = await Trainer.create(nodeBackend(), p.training);
    const lossesStraight: number[] = [];
    for (let i = 0; i < 10; i++) lossesStraight.push((await straight.step(batch, 1e-3)).loss!);
    const paramsStraight = await straight.parameters();
    await straight.dispose();

    const first = await Trainer.create(nodeBackend(), p.training);
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) losses.push((await first.step(batch, 1e-3)).loss!);
    const file = encodeCheckpoint(await first.exportState({ note: 'test' }));
    await first.dispose();

    const second = await Trainer.create(nodeBackend(), buildToyProblem().training);
    const ckpt = decodeCheckpoint(file);
    expect(ckpt.metadata.note).toBe('test');
    second.importState(ckpt);
    expect(await second.stepCount).toBe(5);
    for (let i = 0; i < 5; i++) losses.push((await second.step(batch, 1e-3)).loss!);
    const params = await second.parameters();
    await second.dispose();

    expect(losses).toEqual(lossesStraight);
    for (const [name, want] of paramsStraight) expect(Array.from(params.get(name)!), name).toEqual(Array.from(want));
  });

  it('a checkpoint that is truncated or shaped wrong is refused with a reason', async () => {
    const { p } = toyBatch();
    const t = await Trainer.create(nodeBackend(), p.training);
    const file = encodeCheckpoint(await t.exportState());
    expect(() => decodeCheckpoint(file.subarray(0, file.length - 10))).toThrow(/truncated/);
    const ckpt = decodeCheckpoint(file);
    const [name, tensor] = [...ckpt.tensors].find(([, t]) => t.dims.length > 1)!;
    ckpt.tensors.set(name, { dims: [tensor.data.length], data: tensor.data });
    expect(() => t.importState(ckpt)).toThrow(/shape/);
    await t.dispose();
  });

  it('skips the update and says so when the loss is not finite, then carries on', async () => {
    const { p, batch } = toyBatch();
    const t = await Trainer.create(nodeBackend(), p.training);
    const before = await t.parameters();
    const bad = { ...batch, x: f32(batch.x.dims, Float32Array.from(batch.x.data as Float32Array, (v, i) => (i === 3 ? NaN : v))) };
    const r = await t.step(bad, 1e-3);
    expect(r.skipped).toBe(true);
    expect(Number.isFinite(r.loss!)).toBe(false);
    for (const [name, v] of await t.parameters()) expect(Array.from(v), name).toEqual(Array.from(before.get(name)!));
    expect(await t.stepCount).toBe(0);
    const ok = await t.step(batch, 1e-3);
    expect(ok.skipped).toBe(false);
    expect(await t.stepCount).toBe(1);
    await t.dispose();
  });
});

/** loss = ½‖Wx − y‖² for a 2×3 W: small enough to follow an optimizer by hand. */
function linearProblem(optimizer: OptimizerConfig, clipNorm?: number) {
  const g = new GraphBuilder('linear');
  const w0 = [0.5, -0.2, 0.1, 0.3, 0.8, -0.6];
  const w = g.param('w', [2, 3], Float32Array.from(w0));
  const x = g.input('x', 'float32', [3, 1]);
  const y = g.input('y', 'float32', [2, 1]);
  const r = op.sub(op.matmul(w, x), y);
  const loss = op.mul(op.sumAll(op.mul(r, r)), 0.5);
  const tg = buildTrainingGraph(g, { loss, optimizer, clipNorm });
  const xs = [1, 2, -1];
  const ys = [0.5, -1];
  const grad = (wv: number[]) => {
    const res = [0, 1].map((i) => wv[3 * i] * xs[0] + wv[3 * i + 1] * xs[1] + wv[3 * i + 2] * xs[2] - ys[i]);
    return wv.map((_, k) => res[Math.floor(k / 3)] * xs[k % 3]); // dL/dW = r·xᵀ
  };
  return { tg, w0, grad, batch: { x: f32([3, 1], xs), y: f32([2, 1], ys) } };
}

describe('optimizers emitted into the graph', () => {
  it('SGD with momentum and weight decay follows PyTorch’s definition', async () => {
    const lr = 0.05, mu = 0.9, wd = 0.01;
    const { tg, w0, grad, batch } = linearProblem({ kind: 'sgd', momentum: mu, weightDecay: wd });
    const t = await Trainer.create(nodeBackend(), tg);
    let w = [...w0];
    let buf = w.map(() => 0);
    for (let s = 0; s < 3; s++) {
      await t.step(batch, lr);
      const g = grad(w).map((gi, k) => gi + wd * w[k]);
      buf = buf.map((b, k) => mu * b + g[k]);
      w = w.map((wk, k) => wk - lr * buf[k]);
    }
    const got = (await t.parameters()).get('w')!;
    w.forEach((v, k) => expect(got[k]).toBeCloseTo(v, 6));
    await t.dispose();
  });

  /**
   * Three AdamW steps of the trainer against the bias-corrected update computed here; `decayed`
   * gives a weight after its decay term (the part that differs between plain and L2-SP decay).
   */
  async function expectAdamWSteps(
    o: { lr: number; wd: number; decayTo?: 'start' },
    decayed: (wk: number, k: number, lr: number, wd: number, w0: number[]) => number,
  ) {
    const { lr, wd } = o;
    const b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const { tg, w0, grad, batch } = linearProblem({ kind: 'adamw', beta1: b1, beta2: b2, eps, weightDecay: wd, ...(o.decayTo ? { decayTo: o.decayTo } : {}) });
    const t = await Trainer.create(nodeBackend(), tg);
    let w = [...w0];
    let m = w.map(() => 0);
    let v = w.map(() => 0);
    for (let s = 1; s <= 3; s++) {
      await t.step(batch, lr);
      const g = grad(w);
      m = m.map((mk, k) => b1 * mk + (1 - b1) * g[k]);
      v = v.map((vk, k) => b2 * vk + (1 - b2) * g[k] ** 2);
      w = w.map((wk, k) => decayed(wk, k, lr, wd, w0) - (lr * (m[k] / (1 - b1 ** s))) / (Math.sqrt(v[k] / (1 - b2 ** s)) + eps));
    }
    const got = (await t.parameters()).get('w')!;
    w.forEach((val, k) => expect(got[k]).toBeCloseTo(val, 6));
    await t.dispose();
  }

  it('AdamW’s first steps match the bias-corrected, decoupled-decay update', async () => {
    // decoupled decay toward zero: p ← p·(1 − lr·λ) − lr·m̂/(√v̂ + ε)
    await expectAdamWSteps({ lr: 0.01, wd: 0.1 }, (wk, _k, lr, wd) => wk * (1 - lr * wd));
  });

  it('L2-SP (decayTo start) decays toward the starting weights, not toward zero', async () => {
    // decay toward the starting weights: p ← p − lr·λ·(p − p₀) − lr·m̂/(√v̂ + ε)
    await expectAdamWSteps({ lr: 0.01, wd: 5, decayTo: 'start' }, (wk, k, lr, wd, w0) => wk - lr * wd * (wk - w0[k]));
    // SGD: the decay term λ·(p − p₀) joins the gradient
    const sgd = linearProblem({ kind: 'sgd', weightDecay: 0.5, decayTo: 'start' });
    const ts = await Trainer.create(nodeBackend(), sgd.tg);
    let ws = [...sgd.w0];
    for (let s = 0; s < 3; s++) {
      await ts.step(sgd.batch, 0.05);
      const g = sgd.grad(ws);
      ws = ws.map((wk, k) => wk - 0.05 * (g[k] + 0.5 * (wk - sgd.w0[k])));
    }
    const gs = (await ts.parameters()).get('w')!;
    ws.forEach((val, k) => expect(gs[k]).toBeCloseTo(val, 6));
    await ts.dispose();
  });

  it('global-norm clipping scales the gradient to the limit and reports the unclipped norm', async () => {
    const { tg, w0, grad, batch } = linearProblem({ kind: 'sgd' }, 0.5);
    const t = await Trainer.create(nodeBackend(), tg);
    const r = await t.step(batch, 1);
    const g = grad(w0);
    const norm = Math.hypot(...g);
    expect(norm).toBeGreaterThan(0.5);
    expect(r.gradNorm).toBeCloseTo(norm, 5);
    const w = (await t.parameters()).get('w')!;
    expect(Math.hypot(...Array.from(w, (x, k) => x - w0[k]))).toBeCloseTo(0.5, 5);
    await t.dispose();
  });
});
