// The acoustic model: log-mel frames → ×4 convolutional subsampling → Conformer-style blocks →
// per-frame character logits for CTC. Written with the engine's builder, so the same code gives the
// inference graph (symbolic batch and time) and the training graphs (static bucket shapes).
//
// Block (pre-norm, as in Gulati et al. 2020, "Conformer", with one feed-forward module instead of
// the macaron pair and LayerNorm in place of BatchNorm, which onnxruntime cannot train):
//   x = x + MHSA(LN(x))                 multi-head self-attention, padded keys masked
//   x = x + Conv(LN(x))                 pointwise → GLU → depthwise conv → LN → Swish → pointwise
//   x = x + FF(LN(x))                   linear → GELU → linear
// Adapters, all off by default: LoRA (Hu et al. 2021) on chosen projections, y = xW + b + (α/r)·xAB,
// with B zero-initialised so training starts from the base model; and residual bottleneck adapters
// (Houlsby et al. 2019) after each block, x = x + up(ReLU(down(LN(x)))), up zero-initialised.

import { GraphBuilder, type Value } from '../engine/builder';
import type { Dim } from '../engine/ir';
import {
  add, conv1d, gelu, gemm, layerNorm, linear, matmul, mul, reshape, sigmoid, softmax, split, sub, transpose, unsqueeze, relu,
} from '../engine/ops';

export interface ModelArch {
  nMels: number;
  dModel: number;
  heads: number;
  blocks: number;
  ffDim: number;
  convKernel: number;
  vocabSize: number;
}

export const DEFAULT_ARCH: ModelArch = { nMels: 80, dModel: 144, heads: 4, blocks: 8, ffDim: 576, convKernel: 15, vocabSize: 29 };

export type LoraTarget = 'q' | 'k' | 'v' | 'o' | 'ff1' | 'ff2';

export interface AdapterConfig {
  lora?: { rank: number; alpha: number; targets: LoraTarget[] };
  bottleneck?: { dim: number };
}

/** Parameter values by name (the names the builder gives, e.g. `encoder.3.attn.q.weight`). */
export type Weights = Map<string, Float32Array>;

/** Frames after the ×4 subsampling (two stride-2 convolutions, kernel 3, padding 1). */
export function subsampledLength(frames: number): number {
  const half = (n: number) => Math.floor((n + 2 - 3) / 2) + 1;
  return half(half(frames));
}

/** Deterministic initial values: uniform ±√(3/fan_in)·gain-ish (He/LeCun uniform), seeded. */
class Init {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  private next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(n: number, fanIn: number): Float32Array {
    const a = new Float32Array(n);
    const bound = Math.sqrt(3 / fanIn);
    for (let i = 0; i < n; i++) a[i] = (2 * this.next() - 1) * bound;
    return a;
  }
}

export interface BuildOptions {
  arch: ModelArch;
  adapters?: AdapterConfig;
  /** Known weights; any parameter missing here is freshly initialised from `seed`. */
  weights?: Weights;
  seed?: number;
  /** Batch and frame dims: numbers for training buckets, names for the inference graph. */
  batch: Dim;
  frames: Dim;
  /** Add a `mask` input [batch, subsampled frames] (1 = real frame, 0 = padding). */
  masked: boolean;
}

export interface AcousticGraph {
  g: GraphBuilder;
  features: Value;
  mask?: Value;
  logits: Value;
}

/** Builds the model into a new builder: input `features` [B, T, n_mels] → `logits` [B, T/4, V]. */
export function buildAcousticModel(o: BuildOptions): AcousticGraph {
  const { arch } = o;
  const g = new GraphBuilder('earshot_ctc');
  const init = new Init(o.seed ?? 1);
  const param = (local: string, dims: number[], fanIn: number, fill?: number) => {
    const name = g.modulePath ? `${g.modulePath}.${local}` : local;
    const n = dims.reduce((a, b) => a * b, 1);
    const known = o.weights?.get(name);
    if (known && known.length !== n) throw new Error(`weight ${name} has ${known.length} values, the architecture needs [${dims}]`);
    const data = known ?? (fill === undefined ? init.uniform(n, fanIn) : new Float32Array(n).fill(fill));
    return g.param(local, dims, data);
  };
  // A projection. On the rows layout (2-D [B·T', C], training buckets) it is one Gemm with its bias,
  // whose gradients are single Gemms too; on the inference graph's symbolic [B, T', C] it is MatMul + Add.
  // On rows, `outScale` multiplies the output inside the Gemms (attention's 1/√d_head on the queries).
  const dense = (name: string, x: Value, din: number, dout: number, lora = false, zero = false, outScale = 1) =>
    g.scope(name, () => {
      const w = param('weight', [din, dout], din, zero ? 0 : undefined);
      const bias = param('bias', [dout], din, 0);
      const rowsLayout = x.rank === 2;
      if (!rowsLayout && outScale !== 1) throw new Error('dense: an output scale needs the rows layout');
      let y = rowsLayout ? gemm(x, w, bias, { alpha: outScale, beta: outScale }) : linear(x, w, bias);
      const l = o.adapters?.lora;
      if (lora && l) {
        const a = param('lora_a', [din, l.rank], din);
        const b = param('lora_b', [l.rank, dout], l.rank, 0);
        const scale = l.alpha / l.rank;
        y = add(y, rowsLayout ? gemm(gemm(x, a, null), b, null, { alpha: scale * outScale }) : mul(matmul(matmul(x, a), b), scale));
      }
      return y;
    });
  const norm = (name: string, x: Value, d: number) => g.scope(name, () => layerNorm(x, param('weight', [d], 1, 1), param('bias', [d], 1, 0)));
  const loraOn = (t: LoraTarget) => o.adapters?.lora?.targets.includes(t) ?? false;
  const D = arch.dModel;
  const H = arch.heads;
  const dh = D / H;

  const features = g.input('features', 'float32', [o.batch, o.frames, arch.nMels]);
  // ×4 subsampling: two stride-2 convolutions over time with GELU, on [B, C, T]
  let x = transpose(features, [0, 2, 1]);
  x = g.scope('subsample.0', () => gelu(conv1d(x, param('weight', [D, arch.nMels, 3], arch.nMels * 3), param('bias', [D], 1, 0), { stride: 2, pads: [1, 1] })));
  x = g.scope('subsample.1', () => gelu(conv1d(x, param('weight', [D, D, 3], D * 3), param('bias', [D], 1, 0), { stride: 2, pads: [1, 1] })));
  x = transpose(x, [0, 2, 1]); // [B, T', D]
  const framesOut = x.shape[1];
  // Training buckets have static shapes, so the blocks run on rows [B·T', C]: every projection is
  // then one Gemm forward and one Gemm per gradient, with no reshapes around it (issue 14's node
  // budget). The inference graph, with symbolic batch and time, keeps [B, T', C].
  const rowsLayout = typeof o.batch === 'number' && typeof framesOut === 'number';
  const toRows = (v: Value) => (rowsLayout ? reshape(v, [-1, v.shape[v.rank - 1] as number]) : v);
  const fromRows = (v: Value, tail: number[] = [v.shape[v.rank - 1] as number]) =>
    reshape(v, rowsLayout ? [o.batch as number, framesOut as number, ...tail] : [0, 0, ...tail]);
  x = toRows(x);

  let mask: Value | undefined;
  let keyBias: Value | undefined; // [B, 1, 1, T']: 0 for real frames, −10⁴ for padding
  let frameMask: Value | undefined; // [B, T', 1]
  if (o.masked) {
    mask = g.input('mask', 'float32', [o.batch, framesOut]);
    keyBias = unsqueeze(mul(sub(mask, 1), 1e4), [1, 2]);
    frameMask = rowsLayout ? reshape(mask, [-1, 1]) : unsqueeze(mask, [2]);
  }

  const attention = (h: Value) => {
    const heads = (v: Value) => transpose(fromRows(v, [H, dh]), [0, 2, 1, 3]); // [B, H, T, dh]
    // on rows the queries come out of their Gemm already scaled by 1/√d_head (no Mul over the scores)
    const q = heads(dense('q', h, D, D, loraOn('q'), false, rowsLayout ? 1 / Math.sqrt(dh) : 1));
    const k = heads(dense('k', h, D, D, loraOn('k')));
    const v = heads(dense('v', h, D, D, loraOn('v')));
    let scores = matmul(q, transpose(k, [0, 1, 3, 2]));
    if (!rowsLayout) scores = mul(scores, 1 / Math.sqrt(dh));
    if (keyBias) scores = add(scores, keyBias);
    const ctx = transpose(matmul(softmax(scores, -1), v), [0, 2, 1, 3]);
    return dense('o', rowsLayout ? reshape(ctx, [-1, D]) : reshape(ctx, [0, 0, D]), D, D, loraOn('o'));
  };

  const convModule = (h: Value) => {
    const [a, b] = split(dense('pointwise1', h, D, 2 * D), [D, D], rowsLayout ? 1 : 2);
    let c = mul(a, sigmoid(b)); // GLU
    if (frameMask) c = mul(c, frameMask); // padding must not leak into real frames through the conv
    c = transpose(fromRows(c), [0, 2, 1]);
    c = g.scope('depthwise', () => conv1d(c, param('weight', [D, 1, arch.convKernel], arch.convKernel), param('bias', [D], 1, 0), {
      group: D,
      pads: [(arch.convKernel - 1) / 2, (arch.convKernel - 1) / 2],
    }));
    c = norm('norm', toRows(transpose(c, [0, 2, 1])), D);
    c = mul(c, sigmoid(c)); // Swish
    return dense('pointwise2', c, D, D);
  };

  const feedForward = (h: Value) => dense('ff2', gelu(dense('ff1', h, D, arch.ffDim, loraOn('ff1'))), arch.ffDim, D, loraOn('ff2'));

  for (let i = 0; i < arch.blocks; i++) {
    x = g.scope(`encoder.${i}`, () => {
      let h = add(x, g.scope('attn', () => attention(norm('norm', x, D))));
      h = add(h, g.scope('conv', () => convModule(norm('norm_in', h, D))));
      h = add(h, g.scope('ff', () => feedForward(norm('norm', h, D))));
      const bn = o.adapters?.bottleneck;
      if (bn) h = add(h, g.scope('adapter', () => dense('up', relu(dense('down', norm('norm', h, D), D, bn.dim)), bn.dim, D, false, true)));
      return h;
    });
  }
  x = norm('final_norm', x, D);
  const logits = g.scope('head', () => {
    const w = param('weight', [D, arch.vocabSize], D);
    const bias = param('bias', [arch.vocabSize], 1, 0);
    return rowsLayout ? fromRows(gemm(x, w, bias)) : linear(x, w, bias);
  });
  return { g, features, mask, logits };
}

/** Parameter count of an architecture (without adapters). */
export function countParameters(arch: ModelArch): number {
  const { g } = buildAcousticModel({ arch, batch: 1, frames: 64, masked: false });
  return [...g.params.values()].reduce((n, p) => n + p.init.data.length, 0);
}

/** LoRA weights folded into the base weights: W ← W + (α/r)·A·B. Other adapters are returned as they are. */
export function mergeLora(weights: Weights, adapters: AdapterConfig | undefined): Weights {
  const out: Weights = new Map();
  const l = adapters?.lora;
  for (const [name, w] of weights) if (!name.includes('.lora_')) out.set(name, Float32Array.from(w));
  if (!l) return out;
  for (const [name] of weights) {
    if (!name.endsWith('.lora_a')) continue;
    const base = name.slice(0, -'.lora_a'.length);
    const a = weights.get(name)!;
    const b = weights.get(`${base}.lora_b`)!;
    const w = out.get(`${base}.weight`)!;
    const r = l.rank;
    const dout = b.length / r;
    const din = a.length / r;
    const s = l.alpha / r;
    for (let i = 0; i < din; i++)
      for (let k = 0; k < r; k++) {
        const aik = a[i * r + k] * s;
        if (aik === 0) continue;
        for (let j = 0; j < dout; j++) w[i * dout + j] += aik * b[k * dout + j];
      }
  }
  return out;
}
