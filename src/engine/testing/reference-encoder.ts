// The reference encoder of ../shared/docs/REFERENCE-ENCODER.md: a fully specified training problem
// (6 pre-LN Transformer blocks, MSE loss, AdamW) whose losses PyTorch and TensorFlow.js agree on.
// Used as an end-to-end oracle in tests and as the workload of `npm run bench:engine`.

import { GraphBuilder, type Value } from '../builder';
import { add, gelu, gemm, layerNorm, matmul, meanAll, mul, reshape, softmax, sub, transpose } from '../ops';
import type { OptimizerConfig } from '../optim';
import { buildTrainingGraph, type TrainGraphOptions, type TrainingGraph } from '../train-graph';

/** The "mulberry32" PRNG exactly as the reference spells it. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ReferenceEncoderConfig {
  batch: number;
  time: number;
  blocks: number;
  dModel: number;
  heads: number;
  dFF: number;
  dOut: number;
  /**
   * Whether the key projection has a bias. The reference has one; but softmax is invariant to a
   * constant added across keys, so that bias's gradient is identically zero and Adam turns its
   * rounding noise into updates of size ~lr. Cross-backend comparisons leave it out.
   */
  keyBias?: boolean;
}

export const REFERENCE_FULL: ReferenceEncoderConfig = { batch: 8, time: 300, blocks: 6, dModel: 256, heads: 4, dFF: 1024, dOut: 32 };
export const REFERENCE_REDUCED: ReferenceEncoderConfig = { ...REFERENCE_FULL, batch: 2, time: 100 };

/** Expected losses (step k's loss, before its update), from REFERENCE-ENCODER.md. */
export const REFERENCE_LOSSES = {
  reduced: { 1: 1.36495, 2: 1.33389, 3: 0.78182, 10: 0.17916 },
  full: { 1: 1.33108, 10: 0.9068 },
} as const;

function denseInit(rand: () => number, fanIn: number, n: number): Float32Array {
  const a = new Float32Array(n);
  const s = 1 / Math.sqrt(fanIn);
  for (let i = 0; i < n; i++) a[i] = (2 * rand() - 1) * s;
  return a;
}

function normals(rand: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = rand();
    const u2 = rand();
    a[i] = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
  return a;
}

/**
 * A dense layer y = s·(xW + b), W [in, out], drawn W then b from `rand` as the reference specifies.
 * The activations are rows [B·T, C], so it is one Gemm (and each of its gradients one Gemm).
 */
function dense(g: GraphBuilder, rand: () => number, name: string, x: Value, din: number, dout: number, bias = true, s = 1): Value {
  return g.scope(name, () => {
    const w = g.param('weight', [din, dout], denseInit(rand, din, din * dout));
    const bData = denseInit(rand, din, dout); // drawn even when unused, so later draws stay in step
    return gemm(x, w, bias ? g.param('bias', [dout], bData) : null, { alpha: s, beta: s });
  });
}

function ln(g: GraphBuilder, name: string, x: Value, d: number): Value {
  return g.scope(name, () => layerNorm(x, g.param('weight', [d], new Float32Array(d).fill(1)), g.param('bias', [d], new Float32Array(d)), 1e-5));
}

/** Multi-head self-attention without a mask: softmax(QKᵀ/√d_head)·V, heads concatenated, then O. */
function attention(g: GraphBuilder, rand: () => number, x: Value, c: ReferenceEncoderConfig): Value {
  const dh = c.dModel / c.heads;
  const heads = (v: Value) => transpose(reshape(v, [c.batch, c.time, c.heads, dh]), [0, 2, 1, 3]); // [B, H, T, dh]
  // the queries leave their Gemm scaled by 1/√d_head, so the scores need no Mul
  const q = heads(dense(g, rand, 'q', x, c.dModel, c.dModel, true, 1 / Math.sqrt(dh)));
  const k = heads(dense(g, rand, 'k', x, c.dModel, c.dModel, c.keyBias ?? true));
  const v = heads(dense(g, rand, 'v', x, c.dModel, c.dModel));
  const scores = matmul(q, transpose(k, [0, 1, 3, 2]));
  const ctx = matmul(softmax(scores, -1), v); // [B, H, T, dh]
  const merged = reshape(transpose(ctx, [0, 2, 1, 3]), [c.batch * c.time, c.dModel]);
  return dense(g, rand, 'o', merged, c.dModel, c.dModel);
}

export interface ReferenceProblem {
  training: TrainingGraph;
  x: Float32Array;
  target: Float32Array;
  config: ReferenceEncoderConfig;
  paramCount: number;
}

/** The problem's fixed batch, as runtime feeds. */
export function referenceBatch(p: ReferenceProblem) {
  const c = p.config;
  return {
    x: { dtype: 'float32' as const, dims: [c.batch, c.time, c.dModel], data: p.x },
    target: { dtype: 'float32' as const, dims: [c.batch, c.time, c.dOut], data: p.target },
  };
}

/** `train` overrides the training-graph options (optimizer, layout, clipping, decay mask). */
export function buildReferenceProblem(c: ReferenceEncoderConfig, train: Omit<TrainGraphOptions, 'loss' | 'seeds' | 'optimizer'> & { optimizer?: OptimizerConfig } = {}): ReferenceProblem {
  const g = new GraphBuilder('reference_encoder');
  const rand = mulberry32(1234);
  const x = g.input('x', 'float32', [c.batch, c.time, c.dModel]);
  const target = g.input('target', 'float32', [c.batch, c.time, c.dOut]);
  let h = reshape(x, [c.batch * c.time, c.dModel]); // rows [B·T, d_model]
  for (let i = 0; i < c.blocks; i++) {
    h = g.scope(`encoder.${i}`, () => {
      // pre-LN block: x + attn(ln1(x)), then x + ff2(gelu(ff1(ln2(x))))
      const a = g.scope('attn', () => attention(g, rand, ln(g, 'ln1', h, c.dModel), c));
      const h1 = add(h, a);
      const f = gelu(dense(g, rand, 'ff1', ln(g, 'ln2', h1, c.dModel), c.dModel, c.dFF));
      return add(h1, dense(g, rand, 'ff2', f, c.dFF, c.dModel));
    });
  }
  const out = dense(g, rand, 'head', ln(g, 'final_ln', h, c.dModel), c.dModel, c.dOut);
  const diff = sub(out, reshape(target, [c.batch * c.time, c.dOut]));
  const loss = meanAll(mul(diff, diff));
  const paramCount = [...g.params.values()].reduce((n, p) => n + p.init.data.length, 0);
  const training = buildTrainingGraph(g, { optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 }, ...train, loss });
  const data = mulberry32(42);
  const xs = normals(data, c.batch * c.time * c.dModel);
  const ts = normals(data, c.batch * c.time * c.dOut);
  return { training, x: xs, target: ts, config: c, paramCount };
}
