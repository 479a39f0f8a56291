// Evaluates one ONNX node on constant inputs, for constant folding (static-graph.ts): the shape
// arithmetic exporters emit (Shape → Gather → Unsqueeze → Concat → Reshape), masks built from
// static lengths (Range, Less, Expand, Where), and small weight preprocessing (weight norm,
// DequantizeLinear, a Transpose of a weight). Tensors stay in their own dtype (no float64 copies of
// big weights); float arithmetic is done in doubles and rounded once to float32.
// Semantics follow the ONNX operator spec at opset 20 (static-graph.ts upgrades older nodes first):
// https://onnx.ai/onnx/operators/
//
// This is not the test oracle: testing/eval64.ts is, and the folding tests check the folded graph
// against onnxruntime running the original one.

import type { Attr, DType, TensorConst } from './ir';
import { dtypeArray, numel, stridesOf } from './ir';
import { attrInt, attrInts, broadcastShapes, normAxis, onnxDType, sliceRange } from './shape-inference';

type Attrs = Record<string, Attr>;
/** A constant without a name: what an op produces before the folding pass names it. */
export type Const = Omit<TensorConst, 'name'>;
type Fn = (xs: (Const | null)[], attrs: Attrs, nOut: number) => Const[];

const isFloat = (d: DType) => d === 'float32' || d === 'float64';

/** Element i of a tensor as a JS number (int64 beyond 2^53 loses exactness; fine for shapes and indices). */
const at = (t: Const, i: number): number => Number(t.data[i]);

/** All values as numbers (only for small tensors: axes, shapes, indices). */
export const numbers = (t: Const): number[] => Array.from(t.data as ArrayLike<number | bigint>, Number);

/** A tensor of `dtype` from computed numbers, stored the way a tensor of that dtype holds them. */
export function fromNumbers(dtype: DType, dims: number[], values: ArrayLike<number>): Const {
  const data = dtypeArray(dtype, values.length);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      // ±2^63 stand for INT64_MAX/MIN (Slice ends): doubles cannot hold them exactly
      data[i] = v >= 2 ** 63 ? 2n ** 63n - 1n : v <= -(2 ** 63) ? -(2n ** 63n) : BigInt(Math.trunc(v));
    }
  } else if (dtype === 'bool') for (let i = 0; i < values.length; i++) data[i] = values[i] ? 1 : 0;
  else if (isFloat(dtype)) (data as Float32Array).set(values);
  else for (let i = 0; i < values.length; i++) data[i] = Math.trunc(values[i]); // typed arrays wrap like C casts
  return { dtype, dims, data };
}

/** Flat source index, per output element, of `x` broadcast to `dims`. */
function broadcastIndex(xDims: readonly number[], dims: readonly number[]): (i: number) => number {
  if (xDims.length === dims.length && xDims.every((d, k) => d === dims[k])) return (i) => i;
  if (numel(xDims) === 1) return () => 0;
  const lead = dims.length - xDims.length;
  const xs = stridesOf(xDims);
  const step = dims.map((_, k) => (k < lead || xDims[k - lead] === 1 ? 0 : xs[k - lead]));
  const os = stridesOf(dims);
  return (i) => {
    let src = 0;
    for (let k = 0; k < dims.length; k++) {
      const idx = Math.floor(i / os[k]) % dims[k];
      src += idx * step[k];
    }
    return src;
  };
}

function elementwise(dtype: DType, xs: Const[], f: (...v: number[]) => number): Const {
  const dims = broadcastShapes(...xs.map((x) => x.dims)) as number[];
  const n = numel(dims);
  const idx = xs.map((x) => broadcastIndex(x.dims, dims));
  const out = new Float64Array(n);
  const args = new Array<number>(xs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < xs.length; k++) args[k] = at(xs[k], idx[k](i));
    out[i] = f(...args);
  }
  return fromNumbers(dtype, dims, out);
}

const unary = (f: (v: number) => number): Fn => ([x]) => [elementwise(x!.dtype, [x!], f)];
/** Integer division truncates toward zero, as C++ does. */
const arith = (f: (a: number, b: number) => number, intF = f): Fn => ([a, b]) => [elementwise(a!.dtype, [a!, b!], isFloat(a!.dtype) ? f : intF)];
const compare = (f: (a: number, b: number) => boolean): Fn => ([a, b]) => [elementwise('bool', [a!, b!], (p, q) => (f(p, q) ? 1 : 0))];

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for folding; use the series/continued-fraction pair
  const t = Math.abs(x);
  if (t < 2.5) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 60; n++) {
      term *= (-t * t) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc continued fraction (Lentz), accurate for t ≥ 2.5
  let f = t;
  let c = t;
  let d = 0;
  for (let n = 1; n < 100; n++) {
    const an = n / 2;
    d = t + an * d;
    d = 1 / d;
    c = t + an / c;
    const delta = c * d;
    f *= delta;
  }
  return Math.sign(x) * (1 - Math.exp(-t * t) / (f * Math.sqrt(Math.PI)));
}

function reduceAxes(x: Const, axesIn: Const | null, attrs: Attrs): number[] | null {
  const axes = axesIn ? numbers(axesIn) : [];
  if (axes.length === 0) return attrInt(attrs, 'noop_with_empty_axes', 0) ? null : x.dims.map((_, k) => k);
  return axes.map((a) => normAxis(a, x.dims.length));
}

function reduction(init: number, step: (acc: number, v: number) => number, finish = (acc: number, _n: number) => acc): Fn {
  return ([x, axesIn], attrs) => {
    const axes = reduceAxes(x!, axesIn, attrs);
    if (!axes) return [x!];
    const keep = attrInt(attrs, 'keepdims', 1) === 1;
    const outDims = x!.dims.map((d, k) => (axes.includes(k) ? 1 : d));
    const n = numel(outDims);
    const acc = new Float64Array(n).fill(init);
    const os = stridesOf(outDims);
    const xs = stridesOf(x!.dims);
    const total = numel(x!.dims);
    for (let i = 0; i < total; i++) {
      let o = 0;
      for (let k = 0; k < xs.length; k++) if (!axes.includes(k)) o += (Math.floor(i / xs[k]) % x!.dims[k]) * os[k];
      acc[o] = step(acc[o], at(x!, i));
    }
    const count = total / Math.max(n, 1);
    for (let o = 0; o < n; o++) acc[o] = finish(acc[o], count);
    return [fromNumbers(x!.dtype, keep ? outDims : x!.dims.filter((_, k) => !axes.includes(k)), acc)];
  };
}

/** Copies a strided view of x: output index → source offset `base + Σ idx[k]·step[k]`. */
function gatherView(x: Const, dims: number[], step: number[], base = 0): Const {
  const n = numel(dims);
  const out = dtypeArray(x.dtype, n);
  const os = stridesOf(dims);
  for (let i = 0; i < n; i++) {
    let src = base;
    for (let k = 0; k < dims.length; k++) src += (Math.floor(i / os[k]) % dims[k]) * step[k];
    out[i] = x.data[src] as never;
  }
  return { dtype: x.dtype, dims, data: out };
}

function transpose(x: Const, perm: number[]): Const {
  const s = stridesOf(x.dims);
  return gatherView(x, perm.map((p) => x.dims[p]), perm.map((p) => s[p]));
}

function sliceOf(x: Const, starts: number[], ends: number[], axesIn: number[] | null, stepsIn: number[] | null): Const {
  const axes = (axesIn ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.dims.length));
  const steps = stepsIn ?? starts.map(() => 1);
  const dims = [...x.dims];
  const s = stridesOf(x.dims);
  const step = [...s];
  let base = 0;
  axes.forEach((a, i) => {
    const D = x.dims[a];
    let b: number;
    let len: number;
    if (steps[i] > 0) {
      const [lo, hi] = sliceRange(starts[i], ends[i], steps[i], D);
      b = lo;
      len = Math.max(0, Math.ceil((hi - lo) / steps[i]));
    } else {
      // negative steps (x[::-1]): the spec's clamping to [-1, D-1]
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
      b = clamp(starts[i] < 0 ? starts[i] + D : starts[i], 0, D - 1);
      const e = clamp(ends[i] < 0 ? ends[i] + D : ends[i], -1, D - 1);
      len = Math.max(0, Math.ceil((e - b) / steps[i]));
    }
    dims[a] = len;
    step[a] = s[a] * steps[i];
    base += b * s[a];
  });
  return gatherView(x, dims, step, base);
}

function concat(xs: Const[], axis: number): Const {
  const a = normAxis(axis, xs[0].dims.length);
  const dims = [...xs[0].dims];
  dims[a] = xs.reduce((n, x) => n + x.dims[a], 0);
  const outer = numel(dims.slice(0, a));
  const out = dtypeArray(xs[0].dtype, numel(dims));
  let pos = 0;
  for (let o = 0; o < outer; o++)
    for (const x of xs) {
      const chunk = x.data.length / Math.max(outer, 1);
      (out as Float32Array).set((x.data as Float32Array).subarray(o * chunk, (o + 1) * chunk), pos);
      pos += chunk;
    }
  return { dtype: xs[0].dtype, dims, data: out };
}

function reshapeDims(x: Const, target: number[], allowZero: boolean): number[] {
  const dims = target.map((d, k) => (d === 0 && !allowZero ? x.dims[k] : d));
  const hole = dims.indexOf(-1);
  if (hole >= 0) dims[hole] = numel(x.dims) / numel(dims.filter((_, k) => k !== hole));
  if (numel(dims) !== numel(x.dims) || !dims.every(Number.isInteger)) throw new Error(`cannot reshape [${x.dims}] to [${target}]`);
  return dims;
}

const same = (x: Const, dims: number[]): Const => ({ dtype: x.dtype, dims, data: x.data });

function matmul(a: Const, b: Const): Const {
  if (a.dims.length < 2 || b.dims.length < 2) throw new Error('MatMul folding needs rank ≥ 2 operands');
  const [m, k] = a.dims.slice(-2);
  const n = b.dims[b.dims.length - 1];
  const batch = broadcastShapes(a.dims.slice(0, -2), b.dims.slice(0, -2)) as number[];
  const nb = numel(batch);
  const ai = broadcastIndex(a.dims.slice(0, -2), batch);
  const bi = broadcastIndex(b.dims.slice(0, -2), batch);
  const out = new Float64Array(nb * m * n);
  for (let t = 0; t < nb; t++) {
    const ao = ai(t) * m * k;
    const bo = bi(t) * k * n;
    for (let i = 0; i < m; i++)
      for (let p = 0; p < k; p++) {
        const av = at(a, ao + i * k + p);
        if (av === 0) continue;
        for (let j = 0; j < n; j++) out[t * m * n + i * n + j] += av * at(b, bo + p * n + j);
      }
  }
  return fromNumbers(a.dtype, [...batch, m, n], out);
}

/** DequantizeLinear: (x − zero_point)·scale, per tensor or per `axis` (opset 13+). */
export function dequantizeLinear(x: Const, scale: Const, zp: Const | null, axis = 1): Const {
  const n = numel(x.dims);
  const out = new Float32Array(n);
  const perAxis = numel(scale.dims) > 1;
  const a = perAxis ? normAxis(axis, x.dims.length) : 0;
  const inner = perAxis ? numel(x.dims.slice(a + 1)) : 1;
  const len = perAxis ? x.dims[a] : 1;
  for (let i = 0; i < n; i++) {
    const c = perAxis ? Math.floor(i / inner) % len : 0;
    out[i] = (at(x, i) - (zp ? at(zp, c) : 0)) * at(scale, c);
  }
  return { dtype: 'float32', dims: [...x.dims], data: out };
}

const OPS: Record<string, Fn> = {
  Add: arith((a, b) => a + b),
  Sub: arith((a, b) => a - b),
  Mul: arith((a, b) => a * b),
  Div: arith((a, b) => a / b, (a, b) => Math.trunc(a / b)),
  Mod: ([a, b], attrs) => [elementwise(a!.dtype, [a!, b!], attrInt(attrs, 'fmod', 0) ? (p, q) => p % q : (p, q) => p - q * Math.floor(p / q))],
  Pow: ([a, b]) => [elementwise(a!.dtype, [a!, b!], (p, q) => p ** q)],
  Max: (xs) => [elementwise(xs[0]!.dtype, xs as Const[], Math.max)],
  Min: (xs) => [elementwise(xs[0]!.dtype, xs as Const[], Math.min)],
  Neg: unary((v) => -v),
  Abs: unary(Math.abs),
  Sign: unary(Math.sign),
  Sqrt: unary(Math.sqrt),
  Reciprocal: unary((v) => 1 / v),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Round: unary((v) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v))), // half to even
  Erf: unary(erf),
  Tanh: unary(Math.tanh),
  Sigmoid: unary((v) => 1 / (1 + Math.exp(-v))),
  Relu: unary((v) => Math.max(v, 0)),
  Equal: compare((a, b) => a === b),
  Less: compare((a, b) => a < b),
  LessOrEqual: compare((a, b) => a <= b),
  Greater: compare((a, b) => a > b),
  GreaterOrEqual: compare((a, b) => a >= b),
  And: compare((a, b) => a !== 0 && b !== 0),
  Or: compare((a, b) => a !== 0 || b !== 0),
  Xor: compare((a, b) => (a !== 0) !== (b !== 0)),
  Not: ([x]) => [elementwise('bool', [x!], (v) => (v ? 0 : 1))],
  Where: ([c, a, b]) => [elementwise(a!.dtype, [c!, a!, b!], (p, q, r) => (p ? q : r))],
  Clip: ([x, lo, hi]) => {
    const l = lo ? at(lo, 0) : -Infinity;
    const h = hi ? at(hi, 0) : Infinity;
    return [elementwise(x!.dtype, [x!], (v) => Math.min(Math.max(v, l), h))];
  },
  Cast: ([x], attrs) => {
    const to = onnxDType(attrInt(attrs, 'to', 1));
    if (to === x!.dtype) return [x!];
    const n = numel(x!.dims);
    const vals = new Float64Array(n);
    for (let i = 0; i < n; i++) vals[i] = at(x!, i);
    return [fromNumbers(to, [...x!.dims], vals)];
  },
  Identity: ([x]) => [x!],
  Shape: ([x], attrs) => {
    const r = x!.dims.length;
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = x!.dims.slice(clamp(attrInt(attrs, 'start', 0)), clamp(attrInt(attrs, 'end', r)));
    return [fromNumbers('int64', [dims.length], dims)];
  },
  Size: ([x]) => [fromNumbers('int64', [], [numel(x!.dims)])],
  ConstantOfShape: ([shape], attrs) => {
    const dims = numbers(shape!);
    const v = attrs.value?.type === 'tensor' ? attrs.value.value : undefined;
    const dtype = v?.dtype ?? 'float32';
    const out = dtypeArray(dtype, numel(dims));
    if (v) out.fill(v.data[0] as never);
    return [{ dtype, dims, data: out }];
  },
  Range: ([start, limit, delta]) => {
    const s = at(start!, 0);
    const d = at(delta!, 0);
    const n = Math.max(Math.ceil((at(limit!, 0) - s) / d), 0);
    return [fromNumbers(start!.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
  },
  Reshape: ([x, shape], attrs) => [same(x!, reshapeDims(x!, numbers(shape!), attrInt(attrs, 'allowzero', 0) === 1))],
  Unsqueeze: ([x, axes]) => {
    const rank = x!.dims.length + axes!.data.length;
    const dims = [...x!.dims];
    for (const a of numbers(axes!).map((v) => normAxis(v, rank)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
    return [same(x!, dims)];
  },
  Squeeze: ([x, axes]) => {
    const drop = axes ? numbers(axes).map((v) => normAxis(v, x!.dims.length)) : x!.dims.flatMap((d, k) => (d === 1 ? [k] : []));
    return [same(x!, x!.dims.filter((_, k) => !drop.includes(k)))];
  },
  Flatten: ([x], attrs) => {
    const a = attrInt(attrs, 'axis', 1);
    const k = a < 0 ? a + x!.dims.length : a;
    return [same(x!, [numel(x!.dims.slice(0, k)), numel(x!.dims.slice(k))])];
  },
  Concat: (xs, attrs) => [concat(xs.filter((x): x is Const => x !== null), attrInt(attrs, 'axis', 0))],
  Transpose: ([x], attrs) => [transpose(x!, attrInts(attrs, 'perm') ?? x!.dims.map((_, i) => x!.dims.length - 1 - i))],
  Slice: ([x, s, e, a, st]) => [sliceOf(x!, numbers(s!), numbers(e!), a ? numbers(a) : null, st ? numbers(st) : null)],
  Split: ([x, sizes], attrs, nOut) => {
    const axis = normAxis(attrInt(attrs, 'axis', 0), x!.dims.length);
    const D = x!.dims[axis];
    let parts: number[];
    if (sizes) parts = numbers(sizes);
    else {
      const n = attrInt(attrs, 'num_outputs', nOut);
      const chunk = Math.ceil(D / n);
      parts = Array.from({ length: n }, (_, i) => Math.max(0, Math.min(chunk, D - i * chunk)));
    }
    let start = 0;
    return parts.map((p) => sliceOf(x!, [start], [(start += p)], [axis], null));
  },
  Gather: ([x, idx], attrs) => {
    const axis = normAxis(attrInt(attrs, 'axis', 0), x!.dims.length);
    const D = x!.dims[axis];
    const outer = numel(x!.dims.slice(0, axis));
    const inner = numel(x!.dims.slice(axis + 1));
    const ids = numbers(idx!).map((i) => (i < 0 ? i + D : i));
    const out = dtypeArray(x!.dtype, outer * ids.length * inner);
    for (let o = 0; o < outer; o++)
      ids.forEach((i, j) => {
        if (i < 0 || i >= D) throw new Error(`Gather index ${i} out of range for size ${D}`);
        for (let q = 0; q < inner; q++) out[(o * ids.length + j) * inner + q] = x!.data[(o * D + i) * inner + q] as never;
      });
    return [{ dtype: x!.dtype, dims: [...x!.dims.slice(0, axis), ...idx!.dims, ...x!.dims.slice(axis + 1)], data: out }];
  },
  Expand: ([x, shape]) => {
    const dims = broadcastShapes(x!.dims, numbers(shape!)) as number[];
    const src = broadcastIndex(x!.dims, dims);
    const out = dtypeArray(x!.dtype, numel(dims));
    for (let i = 0; i < out.length; i++) out[i] = x!.data[src(i)] as never;
    return [{ dtype: x!.dtype, dims, data: out }];
  },
  Tile: ([x, repeats]) => {
    const r = numbers(repeats!);
    const dims = x!.dims.map((d, k) => d * r[k]);
    const xs = stridesOf(x!.dims);
    const os = stridesOf(dims);
    const out = dtypeArray(x!.dtype, numel(dims));
    for (let i = 0; i < out.length; i++) {
      let src = 0;
      for (let k = 0; k < dims.length; k++) src += ((Math.floor(i / os[k]) % dims[k]) % x!.dims[k]) * xs[k];
      out[i] = x!.data[src] as never;
    }
    return [{ dtype: x!.dtype, dims, data: out }];
  },
  ReduceSum: reduction(0, (a, v) => a + v),
  ReduceMean: reduction(0, (a, v) => a + v, (a, n) => a / n),
  ReduceMax: reduction(-Infinity, Math.max),
  ReduceMin: reduction(Infinity, Math.min),
  ReduceProd: reduction(1, (a, v) => a * v),
  ReduceSumSquare: reduction(0, (a, v) => a + v * v),
  ReduceL2: reduction(0, (a, v) => a + v * v, (a) => Math.sqrt(a)),
  MatMul: ([a, b]) => [matmul(a!, b!)],
  DequantizeLinear: ([x, s, z], attrs) => [dequantizeLinear(x!, s!, z, attrInt(attrs, 'axis', 1))],
};

/** Ops this evaluator can fold. */
export const FOLDABLE_OPS: ReadonlySet<string> = new Set(Object.keys(OPS));

/** Evaluates `opType` on constant inputs (null for omitted optionals); throws on what it cannot fold. */
export function evalConst(opType: string, inputs: (Const | null)[], attrs: Attrs, nOut = 1): Const[] {
  const fn = OPS[opType];
  if (!fn) throw new Error(`cannot fold ${opType}`);
  return fn(inputs, attrs, nOut);
}
