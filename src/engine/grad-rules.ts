// The gradient table: one entry per op, each a vector-Jacobian product written with the same op
// functions model code uses. A rule returns, per input, a thunk that builds that input's gradient
// (called only when someone needs it) or null where the input is not differentiable (indices,
// shapes, conditions). Gradients come back in the *output's* broadcast shape: autodiff.ts sums them
// down to each input's shape in one place.

import type { Value, GraphBuilder } from './builder';
import type { Attr, Node } from './ir';
import type { GraphOpType } from './op-types';
import {
  add, cast, concat, div, equal, erf, exp, expand, gather, gemm, greater, less, log, matmul, mul, neg, not, and,
  pad, pow, reduceMean, reduceSum, reshape, slice, sqrt, sub, transpose, unsqueeze, where, tanh,
} from './ops';
import { attrFloat, attrInt, attrInts, attrString, convGeometry, normAxis, sliceRange } from './shape-inference';

export interface GradContext {
  g: GraphBuilder;
  node: Node;
  /** The node's inputs (null where an optional input is omitted). */
  x: (Value | null)[];
  /** The node's outputs. */
  y: Value[];
  /** Gradient of the loss w.r.t. each output; null where no gradient flows into it. */
  dy: (Value | null)[];
  attrs: Record<string, Attr>;
  /** Which inputs' gradients will be asked for (a rule may share work between them). */
  wanted?: boolean[];
}

type Thunk = (() => Value) | null;
export type GradRule = (c: GradContext) => Thunk[];

/** Marks an op whose outputs carry no gradient (comparisons, logical ops). */
export const NON_DIFFERENTIABLE = 'non-differentiable' as const;

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Swaps the last two axes (a matrix transpose of every item in a batch). */
const mT = (v: Value) => {
  const perm = v.shape.map((_, i) => i);
  [perm[v.rank - 2], perm[v.rank - 1]] = [perm[v.rank - 1], perm[v.rank - 2]];
  return transpose(v, perm);
};

const fx = (v: Value) => cast(v, 'float32');

/** Index of axes reduced by a Reduce* node. */
function reducedAxes(c: GradContext): number[] {
  const x = c.x[0]!;
  const axes = c.x[1] ? c.g.constValue(c.x[1]) : undefined;
  return axes && axes.length ? axes.map((a) => normAxis(a, x.rank)) : x.shape.map((_, i) => i);
}

/** Brings a reduced gradient back to the input's shape (re-inserting dropped axes, then broadcasting). */
function unreduce(c: GradContext, d: Value): Value {
  const x = c.x[0]!;
  const kept = attrInt(c.attrs, 'keepdims', 1) === 1 ? d : reshape(d, x.dims.map((n, i) => (reducedAxes(c).includes(i) ? 1 : n)));
  return expand(kept, x.dims);
}

interface ConvAttrs {
  k: number[];
  strides: number[];
  /** [begin…, end…] per spatial axis, as ONNX writes them. */
  pads: number[];
  dilations: number[];
  group: number;
}

function convAttrs(c: GradContext): ConvAttrs {
  const { k, strides, pads, dilations, group } = convGeometry(c.x[0]!.shape, c.x[1]!.shape, c.attrs, c.node.opType);
  return { k, strides, pads, dilations, group };
}

/** Swaps the first two axes (batch ↔ channels) of an [A, B, spatial…] tensor. */
const swap01 = (v: Value) => transpose(v, [1, 0, ...v.shape.slice(2).map((_, i) => i + 2)]);

/**
 * Weight gradient of a grouped 1-D or 2-D convolution y = conv(x, w), written as another convolution
 * so it runs as one GPU kernel: dW[g·O+o, i, k] = Σ_b,t dY[b, g·O+o, t] · X[b, g·I+i, t·s + k·dil − p]
 * (t, k per spatial axis). The batch axis becomes the channel axis (and the per-group input channel
 * the batch axis), dY acts as the kernel with dilation = the original stride, and stride = the
 * original dilation.
 */
function convWeightGrad(x: Value, dy: Value, a: ConvAttrs): Value {
  const [B, C, ...L] = x.dims;
  const [, Cout, ...Ly] = dy.dims;
  const G = a.group;
  const I = C / G;
  const spatial = L.map((_, i) => i + 3);
  // [I, G·B, L…]; a depthwise convolution (I = 1) needs only the swap of batch and channels
  const xr = I === 1
    ? reshape(transpose(x, [1, 0, ...spatial.map((s) => s - 1)]), [1, G * B, ...L])
    : reshape(transpose(reshape(x, [B, G, I, ...L]), [2, 1, 0, ...spatial]), [I, G * B, ...L]);
  const kernel = swap01(dy); // [C_out, B, L_y…]
  const full = x.g.emit('Conv', [xr, kernel, null], {
    kernel_shape: Ly,
    strides: a.dilations,
    pads: a.pads,
    dilations: a.strides,
    group: G,
  })[0]; // [I, C_out, ≥K…]
  const axes = a.k.map((_, i) => i + 2);
  const trimmed = full.dims.slice(2).every((d, i) => d === a.k[i]) ? full : slice(full, axes, a.k.map(() => 0), a.k);
  return swap01(trimmed); // [C_out, I, K…]
}

/** A depthwise convolution (one input and one output channel per group) with stride 1 and pads ≤ its reach. */
function isStride1Depthwise(x: Value, dy: Value, a: ConvAttrs): boolean {
  const n = a.k.length;
  return a.group === x.dims[1] && a.group === dy.dims[1] && a.strides.every((s) => s === 1) &&
    a.k.every((k, i) => a.pads[i] <= a.dilations[i] * (k - 1) && a.pads[i + n] <= a.dilations[i] * (k - 1));
}

/**
 * Input gradient of a stride-1 depthwise convolution as a depthwise convolution of dy with the
 * kernel flipped: dX[c, s] = Σ_j dY[c, s + j·dil − (dil·(K−1) − p_begin)] · W[c, K−1−j]. Equal to the
 * transposed convolution, but onnxruntime's CPU ConvTranspose runs a depthwise kernel as one small
 * GEMM + col2im per channel: ~0.7 ms (Node) and ~1 ms (WASM) a call for the speech model's
 * [2, 144, 50] × [144, 1, 15], against ~0.06 / 0.1 ms for the Conv (README, Performance).
 */
function depthwiseInputGrad(dy: Value, w: Value, a: ConvAttrs): Value {
  const n = a.k.length;
  let flipped = w;
  a.k.forEach((k, i) => {
    flipped = gather(flipped, w.g.int64s(Array.from({ length: k }, (_, j) => k - 1 - j)), i + 2);
  });
  const reach = a.k.map((k, i) => a.dilations[i] * (k - 1));
  return dy.g.emit('Conv', [dy, flipped, null], {
    kernel_shape: a.k,
    strides: a.strides,
    pads: [...reach.map((r, i) => r - a.pads[i]), ...reach.map((r, i) => r - a.pads[i + n])],
    dilations: a.dilations,
    group: a.group,
  })[0];
}

/** Inserts step − 1 zeros after every element of `d` along `axis` (the adjoint of a strided slice). */
function interleaveZeros(d: Value, axis: number, step: number): Value {
  const rank = d.rank + 1;
  const pads = new Array<number>(2 * rank).fill(0);
  pads[rank + axis + 1] = step - 1; // [… n, 1, …] → [… n, step, …], zeros after each element
  return reshape(pad(unsqueeze(d, [axis + 1]), pads), d.dims.map((n, i) => (i === axis ? n * step : n)));
}

export const gradRules = {
  // y = a + b, a − b, a·b, a / b (broadcasting undone centrally)
  Add: ({ dy: [d] }) => [() => d!, () => d!],
  Sub: ({ dy: [d] }) => [() => d!, () => neg(d!)],
  Mul: ({ x: [a, b], dy: [d] }) => [() => mul(d!, b!), () => mul(d!, a!)],
  Div: ({ x: [, b], y: [y], dy: [d] }) => [() => div(d!, b!), () => neg(div(mul(d!, y), b!))],
  // y = a^b: da = b·a^(b−1)·d, db = y·ln(a)·d
  Pow: ({ x: [a, b], y: [y], dy: [d] }) => [() => mul(d!, mul(b!, pow(a!, sub(b!, 1)))), () => mul(d!, mul(y, log(a!)))],
  // ties split the gradient evenly, as PyTorch's maximum/minimum do
  Max: ({ x: [a, b], dy: [d] }) => [
    () => mul(d!, add(fx(greater(a!, b!)), mul(fx(equal(a!, b!)), 0.5))),
    () => mul(d!, add(fx(less(a!, b!)), mul(fx(equal(a!, b!)), 0.5))),
  ],
  Min: ({ x: [a, b], dy: [d] }) => [
    () => mul(d!, add(fx(less(a!, b!)), mul(fx(equal(a!, b!)), 0.5))),
    () => mul(d!, add(fx(greater(a!, b!)), mul(fx(equal(a!, b!)), 0.5))),
  ],
  Neg: ({ dy: [d] }) => [() => neg(d!)],
  Sqrt: ({ y: [y], dy: [d] }) => [() => div(mul(d!, 0.5), y)], // d/dx √x = 1/(2√x)
  Reciprocal: ({ y: [y], dy: [d] }) => [() => neg(mul(d!, mul(y, y)))], // d/dx 1/x = −1/x²
  Exp: ({ y: [y], dy: [d] }) => [() => mul(d!, y)],
  Log: ({ x: [x], dy: [d] }) => [() => div(d!, x!)],
  Abs: ({ x: [x], dy: [d] }) => [() => mul(d!, sub(fx(greater(x!, 0)), fx(less(x!, 0))))], // sign(x), 0 at 0
  // passes where lo ≤ x ≤ hi
  Clip: ({ x: [x, lo, hi], dy: [d] }) => {
    let inside: Value | null = null;
    if (lo) inside = not(less(x!, lo));
    if (hi) inside = inside ? and(inside, not(greater(x!, hi))) : not(greater(x!, hi));
    const mask = inside;
    return [() => (mask ? mul(d!, fx(mask)) : d!), null, null];
  },
  Erf: ({ x: [x], dy: [d] }) => [() => mul(d!, mul(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI)))], // 2/√π·e^(−x²)
  Tanh: ({ y: [y], dy: [d] }) => [() => mul(d!, sub(1, mul(y, y)))],
  Sigmoid: ({ y: [y], dy: [d] }) => [() => mul(d!, mul(y, sub(1, y)))],
  Relu: ({ x: [x], dy: [d] }) => [() => where(greater(x!, 0), d!, 0)],
  Gelu: ({ x: [x], dy: [d], attrs }) => [
    () => {
      if (attrString(attrs, 'approximate', 'none') === 'tanh') {
        // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
        const x3 = mul(mul(x!, x!), x!);
        const t = tanh(mul(add(x!, mul(x3, 0.044715)), SQRT_2_OVER_PI));
        const du = mul(add(mul(mul(x!, x!), 3 * 0.044715), 1), SQRT_2_OVER_PI);
        return mul(d!, add(mul(add(t, 1), 0.5), mul(mul(mul(x!, 0.5), sub(1, mul(t, t))), du)));
      }
      // y = x·Φ(x): dy/dx = Φ(x) + x·φ(x)
      const cdf = mul(add(erf(mul(x!, Math.SQRT1_2)), 1), 0.5);
      const pdf = mul(exp(mul(mul(x!, x!), -0.5)), INV_SQRT_2PI);
      return mul(d!, add(cdf, mul(x!, pdf)));
    },
  ],
  Identity: ({ dy: [d] }) => [() => d!],
  Cast: ({ x: [x], dy: [d] }) => [x!.dtype === 'float32' || x!.dtype === 'float64' ? () => cast(d!, x!.dtype) : null],
  Where: ({ x: [c], dy: [d] }) => [null, () => where(c!, d!, 0), () => where(c!, 0, d!)],
  Equal: NON_DIFFERENTIABLE,
  Greater: NON_DIFFERENTIABLE,
  Less: NON_DIFFERENTIABLE,
  Not: NON_DIFFERENTIABLE,
  And: NON_DIFFERENTIABLE,

  ReduceSum: (c) => [() => unreduce(c, c.dy[0]!), null],
  ReduceMean: (c) => {
    const x = c.x[0]!;
    const count = reducedAxes(c).reduce((n, a) => n * x.dims[a], 1);
    return [() => unreduce(c, div(c.dy[0]!, count)), null];
  },
  // the gradient goes to the maximal elements, split evenly among ties
  ReduceMax: (c) => [
    () => {
      const x = c.x[0]!;
      const yKeep = attrInt(c.attrs, 'keepdims', 1) === 1 ? c.y[0] : reshape(c.y[0], x.dims.map((n, i) => (reducedAxes(c).includes(i) ? 1 : n)));
      const mask = fx(equal(x, yKeep));
      const count = reduceSum(mask, reducedAxes(c));
      return mul(mask, unreduce(c, div(c.dy[0]!, attrInt(c.attrs, 'keepdims', 1) === 1 ? count : reshape(count, c.dy[0]!.dims))));
    },
    null,
  ],

  // Y = A·B (batched): dA = dY·Bᵀ, dB = Aᵀ·dY. When B is a plain matrix shared by a batch of A, dB is
  // one big [k, M]·[M, n] product instead of a batched product summed afterwards.
  // When both gradients of x·W (W a matrix) are needed, both are 2-D products over dY as rows, Wᵀ
  // and Xᵀ read in place by Gemm; the reshapes between chained products (LoRA's x·A·B) cancel.
  MatMul: ({ x: [a, b], dy: [d], wanted }) => {
    const rows = b!.rank === 2 && a!.rank > 2;
    const d2 = () => reshape(d!, [-1, d!.dims[d!.rank - 1]]);
    return [
      () => (rows && wanted?.[1] ? reshape(gemm(d2(), b!, null, { transB: true }), a!.dims) : matmul(d!, mT(b!))),
      () => (rows ? gemm(reshape(a!, [-1, a!.dims[a!.rank - 1]]), d2(), null, { transA: true }) : matmul(mT(a!), d!)),
    ];
  },
  // Y = α·op(A)·op(B) + β·C
  Gemm: ({ x: [a, b], dy: [d], attrs }) => {
    const alpha = attrFloat(attrs, 'alpha', 1);
    const beta = attrFloat(attrs, 'beta', 1);
    const tA = attrInt(attrs, 'transA', 0) === 1;
    const tB = attrInt(attrs, 'transB', 0) === 1;
    return [
      () => (tA ? gemm(b!, d!, null, { alpha, transA: tB, transB: true }) : gemm(d!, b!, null, { alpha, transB: !tB })),
      () => (tB ? gemm(d!, a!, null, { alpha, transA: true, transB: tA }) : gemm(a!, d!, null, { alpha, transA: !tA })),
      () => (beta === 1 ? d! : mul(d!, beta)),
    ];
  },
  // y = conv(x, w) + b (1-D or 2-D): dx is the transposed convolution of dy, dw a convolution of x with dy.
  Conv: (c) => {
    const a = convAttrs(c);
    const [x, w] = c.x as Value[];
    const d = c.dy[0]!;
    const n = a.k.length;
    return [
      () => {
        if (isStride1Depthwise(x, d, a)) return depthwiseInputGrad(d, w, a);
        // output_padding recovers the input positions a strided convolution never reached
        const outPad = a.k.map((k, i) => x.dims[2 + i] - (a.strides[i] * (d.dims[2 + i] - 1) + a.dilations[i] * (k - 1) + 1 - a.pads[i] - a.pads[i + n]));
        return c.g.emit('ConvTranspose', [d, w, null], {
          kernel_shape: a.k, strides: a.strides, pads: a.pads, dilations: a.dilations, group: a.group, output_padding: outPad,
        })[0];
      },
      () => convWeightGrad(x, d, a),
      () => reduceSum(d, [0, ...a.k.map((_, i) => i + 2)], false),
    ];
  },
  // y = convT(x, w) + b: dx = conv(dy, w); dw is the convolution weight gradient with x and dy swapped.
  ConvTranspose: (c) => {
    const a = convAttrs(c);
    const [x, w] = c.x as Value[];
    const d = c.dy[0]!;
    return [
      () => c.g.emit('Conv', [d, w, null], { kernel_shape: a.k, strides: a.strides, pads: a.pads, dilations: a.dilations, group: a.group })[0],
      () => convWeightGrad(d, x, a),
      () => reduceSum(d, [0, ...a.k.map((_, i) => i + 2)], false),
    ];
  },
  // y = softmax(x): dx = y·(dy − Σ dy·y)
  Softmax: ({ y: [y], dy: [d], attrs }) => [() => mul(y, sub(d!, reduceSum(mul(d!, y), [attrInt(attrs, 'axis', -1)])))],
  // y = x̂·γ + β with x̂ = (x − μ)/σ over the trailing axes from `axis`:
  // dx = (g − mean(g) − x̂·mean(g·x̂))/σ with g = dy·γ; dγ = dy·x̂; dβ = dy.
  // μ and 1/σ come from the forward node's own optional outputs rather than being recomputed.
  LayerNormalization: ({ g, node, x: [x, scale], dy: [d], attrs }) => {
    const axis = normAxis(attrInt(attrs, 'axis', -1), x!.rank);
    const axes = x!.shape.map((_, i) => i).filter((i) => i >= axis);
    let st: { xhat: Value; rstd: Value } | undefined;
    const stats = () => {
      if (!st) {
        const [, mean, rstd] = g.outputsOf(node, 3);
        // x̂ is a LayerNormalization of x with unit scale and no bias (one node, the same statistics
        // as the forward's); (x − μ)·(1/σ) from the saved statistics when the normalized dims are symbolic
        const normDims = x!.shape.slice(axis);
        const unit = normDims.every((n) => typeof n === 'number') && (x!.dtype === 'float32' || x!.dtype === 'float64')
          ? g.constant(x!.dtype, normDims as number[], new Array<number>((normDims as number[]).reduce((p, q) => p * q, 1)).fill(1))
          : undefined;
        const xhat = unit ? g.emit('LayerNormalization', [x!, unit], { ...node.attrs })[0] : mul(sub(x!, mean), rstd);
        st = { xhat, rstd };
      }
      return st;
    };
    return [
      () => {
        const { xhat, rstd } = stats();
        const gy = mul(d!, scale!);
        return mul(rstd, sub(sub(gy, reduceMean(gy, axes)), mul(xhat, reduceMean(mul(gy, xhat), axes))));
      },
      () => mul(d!, stats().xhat),
      () => d!,
    ];
  },

  Transpose: ({ x: [x], dy: [d], attrs }) => {
    const perm = attrInts(attrs, 'perm') ?? x!.shape.map((_, i) => x!.rank - 1 - i);
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [() => transpose(d!, inverse)];
  },
  Reshape: ({ x: [x], dy: [d] }) => [() => reshape(d!, x!.dims), null],
  Unsqueeze: ({ x: [x], dy: [d] }) => [() => reshape(d!, x!.dims), null],
  Squeeze: ({ x: [x], dy: [d] }) => [() => reshape(d!, x!.dims), null],
  Expand: ({ dy: [d] }) => [() => d!, null],
  Concat: ({ x, dy: [d], attrs }) => {
    const axis = normAxis(attrInt(attrs, 'axis', 0), x[0]!.rank);
    let offset = 0;
    return x.map((xi) => {
      const start = offset;
      const len = xi!.dims[axis];
      offset += len;
      return () => slice(d!, [axis], [start], [start + len]);
    });
  },
  Split: ({ g, x: [x], y, dy, attrs }) => [
    () => {
      const axis = normAxis(attrInt(attrs, 'axis', 0), x!.rank);
      const parts = dy.map((d, i) => d ?? expand(g.scalar(0, y[i].dtype), y[i].dims));
      return concat(parts, axis);
    },
    null,
  ],
  // the slice's gradient is dy padded with zeros back to the input's extent; along an axis sliced
  // with step k > 1, k − 1 zeros go between its elements first (positive steps only)
  Slice: ({ g, x: [x, starts, ends, axesIn, stepsIn], dy: [d] }) => [
    () => {
      const s = g.constValue(starts!)!;
      const e = g.constValue(ends!)!;
      const axes = axesIn ? g.constValue(axesIn)!.map((a) => normAxis(a, x!.rank)) : s.map((_, i) => i);
      const steps = stepsIn ? g.constValue(stepsIn)! : s.map(() => 1);
      if (steps.some((k) => k < 1)) throw new Error(`Slice gradient supports positive steps only (got ${steps})`);
      let spread = d!;
      const pads = new Array(2 * x!.rank).fill(0);
      axes.forEach((a, i) => {
        const n = x!.dims[a];
        const [begin] = sliceRange(s[i], e[i], steps[i], n);
        if (steps[i] > 1 && spread.dims[a] > 0) {
          // d₀ 0 … 0 d₁ 0 … : the zeros after the last element that fall past the input are cut
          spread = interleaveZeros(spread, a, steps[i]);
          if (spread.dims[a] > n - begin) spread = slice(spread, [a], [0], [n - begin]);
        }
        pads[a] = begin;
        pads[a + x!.rank] = n - begin - spread.dims[a];
      });
      return pad(spread, pads);
    },
    null, null, null, null,
  ],
  Pad: ({ g, x: [x, padsIn, , axesIn], dy: [d] }) => [
    () => {
      const p = g.constValue(padsIn!)!;
      const axes = axesIn ? g.constValue(axesIn)!.map((a) => normAxis(a, x!.rank)) : x!.shape.map((_, i) => i);
      return slice(d!, axes, axes.map((_, i) => p[i]), axes.map((a, i) => p[i] + x!.dims[a]));
    },
    null, null, null,
  ],
  // dx = onehot(indices)ᵀ · dy: a deterministic matrix product instead of a scatter-add (whose
  // summation order is not deterministic on the GPU)
  Gather: ({ g, x: [x, idx], dy: [d], attrs }) => [
    () => {
      if (normAxis(attrInt(attrs, 'axis', 0), x!.rank) !== 0) throw new Error('Gather gradient supports axis 0 only');
      const n = x!.dims[0];
      const rest = x!.dims.slice(1);
      const restSize = rest.reduce((p, q) => p * q, 1);
      const flatIdx = reshape(idx!, [-1, 1]);
      const ids = g.constant(idx!.dtype, [n], Array.from({ length: n }, (_, i) => i));
      const onehot = fx(equal(flatIdx, ids)); // [M, N]
      const dx = matmul(transpose(onehot, [1, 0]), reshape(d!, [-1, restSize]));
      return reshape(dx, x!.dims);
    },
    null,
  ],
  // y = tile(x, r): each x element is copied r times per axis, so dx sums dy over the copies —
  // dy seen as [r₀, d₀, r₁, d₁, …], summed over the r axes
  Tile: ({ x: [x], dy: [d] }) => [
    () => {
      const r = d!.dims.map((n, i) => n / x!.dims[i]);
      if (r.every((k) => k === 1)) return d!;
      const split = reshape(d!, x!.dims.flatMap((n, i) => [r[i], n]));
      return reduceSum(split, r.map((_, i) => 2 * i), false);
    },
    null,
  ],
  // piecewise constant (zero gradient almost everywhere) or integer-valued
  Floor: NON_DIFFERENTIABLE,
  Ceil: NON_DIFFERENTIABLE,
  Range: NON_DIFFERENTIABLE,
} satisfies Record<GraphOpType, GradRule | typeof NON_DIFFERENTIABLE>;

