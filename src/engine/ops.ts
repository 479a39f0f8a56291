// Op functions: what model code calls. Each appends one ONNX node (or a few, for composites) to the
// builder its first argument belongs to. Numbers are accepted where a tensor is expected and become
// scalar constants of the other operand's dtype.

import { float, Value, type GraphBuilder } from './builder';
import type { DType } from './ir';

export type Operand = Value | number;

const DTYPE_CODE: Record<DType, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 };

function lift(a: Operand, b: Operand): [Value, Value] {
  if (a instanceof Value && b instanceof Value) return [a, b];
  if (a instanceof Value) return [a, a.g.scalar(b as number, a.dtype)];
  if (b instanceof Value) return [b.g.scalar(a, b.dtype), b];
  throw new Error('at least one operand must be a tensor');
}

const binary = (op: string) => (a: Operand, b: Operand) => {
  const [x, y] = lift(a, b);
  return x.g.emit(op, [x, y])[0];
};
const unary = (op: string) => (x: Value) => x.g.emit(op, [x])[0];

export const add = binary('Add');
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');
export const pow = binary('Pow');
export const max = binary('Max');
export const min = binary('Min');
export const equal = binary('Equal');
export const greater = binary('Greater');
export const less = binary('Less');
export const and = binary('And');
export const neg = unary('Neg');
export const sqrt = unary('Sqrt');
export const reciprocal = unary('Reciprocal');
export const exp = unary('Exp');
export const log = unary('Log');
export const abs = unary('Abs');
export const erf = unary('Erf');
export const tanh = unary('Tanh');
export const sigmoid = unary('Sigmoid');
export const relu = unary('Relu');
export const not = unary('Not');
export const identity = unary('Identity');

/** GELU, erf form by default: x·Φ(x). */
export const gelu = (x: Value, approximate: 'none' | 'tanh' = 'none') => x.g.emit('Gelu', [x], { approximate })[0];

export const clip = (x: Value, lo?: number, hi?: number) =>
  x.g.emit('Clip', [x, lo === undefined ? null : x.g.scalar(lo, x.dtype), hi === undefined ? null : x.g.scalar(hi, x.dtype)])[0];

export const where = (cond: Value, a: Operand, b: Operand) => {
  const [x, y] = lift(a, b);
  return cond.g.emit('Where', [cond, x, y])[0];
};

export const cast = (x: Value, to: DType) => (x.dtype === to ? x : x.g.emit('Cast', [x], { to: DTYPE_CODE[to] })[0]);

const reduceOp = (op: string) => (x: Value, axes: number[], keepdims = true) =>
  x.g.emit(op, [x, x.g.int64s(axes)], { keepdims: keepdims ? 1 : 0 })[0];
export const reduceSum = reduceOp('ReduceSum');
export const reduceMean = reduceOp('ReduceMean');
export const reduceMax = reduceOp('ReduceMax');
/** Sum of every element, as a scalar. */
export const sumAll = (x: Value) => x.g.emit('ReduceSum', [x], { keepdims: 0 })[0];
export const meanAll = (x: Value) => x.g.emit('ReduceMean', [x], { keepdims: 0 })[0];

export const matmul = (a: Value, b: Value) => a.g.emit('MatMul', [a, b])[0];

export const gemm = (a: Value, b: Value, c: Value | null, opts: { alpha?: number; beta?: number; transA?: boolean; transB?: boolean } = {}) =>
  a.g.emit('Gemm', [a, b, c], {
    alpha: float(opts.alpha ?? 1),
    beta: float(opts.beta ?? 1),
    transA: opts.transA ? 1 : 0,
    transB: opts.transB ? 1 : 0,
  })[0];

export interface Conv1dOpts {
  stride?: number;
  pads?: [number, number];
  dilation?: number;
  group?: number;
}

/** 1-D convolution on [N, C, L] with weight [C_out, C_in/group, K]. */
export const conv1d = (x: Value, w: Value, b: Value | null, o: Conv1dOpts = {}) =>
  x.g.emit('Conv', [x, w, b], {
    kernel_shape: [w.dims[2]],
    strides: [o.stride ?? 1],
    pads: o.pads ?? [0, 0],
    dilations: [o.dilation ?? 1],
    group: o.group ?? 1,
  })[0];

export const convTranspose1d = (x: Value, w: Value, b: Value | null, o: Conv1dOpts & { outputPadding?: number } = {}) =>
  x.g.emit('ConvTranspose', [x, w, b], {
    kernel_shape: [w.dims[2]],
    strides: [o.stride ?? 1],
    pads: o.pads ?? [0, 0],
    dilations: [o.dilation ?? 1],
    group: o.group ?? 1,
    output_padding: [o.outputPadding ?? 0],
  })[0];

export const softmax = (x: Value, axis = -1) => x.g.emit('Softmax', [x], { axis })[0];

/**
 * log-softmax from primitives: x − m − log Σ exp(x − m), m = max(x). onnxruntime's LogSoftmax runs on
 * the CPU under WebGPU (FIELD.md), this form stays on the GPU and is just as stable.
 */
export const logSoftmax = (x: Value, axis = -1) => {
  const shifted = sub(x, reduceMax(x, [axis]));
  return sub(shifted, log(reduceSum(exp(shifted), [axis])));
};

/** Fused LayerNormalization over the last axis (fused because it is faster on the GPU, and one node instead of nine). */
export const layerNorm = (x: Value, scale: Value, bias: Value | null, eps = 1e-5) =>
  x.g.emit('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: float(eps) }, 1)[0];

export const transpose = (x: Value, perm: number[]) => x.g.emit('Transpose', [x], { perm })[0];
export const reshape = (x: Value, shape: number[]) => x.g.emit('Reshape', [x, x.g.int64s(shape)])[0];
export const unsqueeze = (x: Value, axes: number[]) => x.g.emit('Unsqueeze', [x, x.g.int64s(axes)])[0];
export const squeeze = (x: Value, axes: number[]) => x.g.emit('Squeeze', [x, x.g.int64s(axes)])[0];
export const concat = (xs: Value[], axis: number) => xs[0].g.emit('Concat', xs, { axis })[0];
export const split = (x: Value, sizes: number[], axis: number) => x.g.emit('Split', [x, x.g.int64s(sizes)], { axis }, sizes.length);

export const slice = (x: Value, axes: number[], starts: number[], ends: number[], steps?: number[]) =>
  x.g.emit('Slice', [x, x.g.int64s(starts), x.g.int64s(ends), x.g.int64s(axes), steps ? x.g.int64s(steps) : null])[0];

/** Zero padding: `pads` is [begin_0, …, begin_n, end_0, …, end_n] as in ONNX. */
export const pad = (x: Value, pads: number[], value = 0) => x.g.emit('Pad', [x, x.g.int64s(pads), x.g.scalar(value, x.dtype)], { mode: 'constant' })[0];

export const expand = (x: Value, shape: number[]) => x.g.emit('Expand', [x, x.g.int64s(shape)])[0];
export const tile = (x: Value, repeats: number[]) => x.g.emit('Tile', [x, x.g.int64s(repeats)])[0];
export const gather = (x: Value, indices: Value, axis = 0) => x.g.emit('Gather', [x, indices], { axis })[0];

/** y = x·W + b with W stored [in, out] (MatMul then Add; onnxruntime fuses the pair). */
export const linear = (x: Value, w: Value, b: Value | null) => (b ? add(matmul(x, w), b) : matmul(x, w));

export const square = (x: Value) => mul(x, x);

/** Σ over all elements of x², as a scalar. */
export const sumSquares = (x: Value) => sumAll(mul(x, x));

/** Helper so model code can write `zerosLike(x)` without knowing dtypes. */
export const zerosLike = (g: GraphBuilder, x: Value) => expand(g.scalar(0, x.dtype), x.dims);
