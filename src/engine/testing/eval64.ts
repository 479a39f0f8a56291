// A reference evaluator for IR graphs: plain loops in float64, one small function per op, so tests
// can check onnxruntime (float32) and the engine's graph transforms against an independent oracle.
// Semantics follow the ONNX operator spec at opset 20: https://onnx.ai/onnx/operators/
//
// float32 and float64 tensors are both computed in float64. Internally every tensor holds its
// values as doubles; int32/int64/bool values are kept as exact integers (int64 exactly only up to
// 2^53, plenty for shapes, axes and indices). Speed is not a goal: tensors here are test-sized.

import type { Attr, DType, Graph, Node, TensorConst } from '../ir';
import { numel, stridesOf } from '../ir';
import type { GraphOpType } from '../op-types';
import { dtypeFromCode } from '../onnx-proto';

export interface Tensor64 {
  dtype: DType;
  dims: number[];
  /** Float64Array for float32 and float64; Int32Array, BigInt64Array, Uint8Array (0/1) otherwise. */
  data: Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;
}

/** The evaluator's working form of a tensor. */
interface Val {
  dtype: DType;
  dims: number[];
  data: Float64Array;
}

/**
 * Runs `graph` on `feeds` (initializers come from the graph) and returns the requested values
 * (default: the graph outputs). Throws naming the node on any op it cannot evaluate.
 */
export function evaluate(graph: Graph, feeds: Record<string, Tensor64>, outputs = graph.outputs.map((o) => o.name)): Record<string, Tensor64> {
  const env = new Map<string, Val>();
  for (const t of graph.initializers) env.set(t.name, toVal(t));
  for (const [name, t] of Object.entries(feeds)) env.set(name, toVal(t));
  for (const input of graph.inputs) if (!env.has(input.name)) throw new Error(`eval64: no feed for graph input '${input.name}'`);

  for (const node of graph.nodes) {
    const label = `node '${node.name}' (${node.opType}${node.origin ? ` from ${node.origin}` : ''})`;
    const op = node.domain === '' && Object.hasOwn(OPS, node.opType) ? OPS[node.opType as GraphOpType] : undefined;
    if (!op) throw new Error(`eval64: no evaluator for op ${node.domain ? `${node.domain}.` : ''}${node.opType} at ${label}`);
    const inputs = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = env.get(name);
      if (!v) throw new Error(`eval64: ${label} reads '${name}', which is not defined yet`);
      return v;
    });
    let results: Val[];
    try {
      const r = op(inputs as Val[], new Attrs(node), node);
      results = Array.isArray(r) ? r : [r];
    } catch (e) {
      throw new Error(`eval64: ${label}: ${(e as Error).message}`, { cause: e });
    }
    node.outputs.forEach((name, i) => {
      if (name === '') return;
      if (!results[i]) throw new Error(`eval64: ${label} has no output ${i}`);
      env.set(name, results[i]);
    });
  }

  return Object.fromEntries(
    outputs.map((name) => {
      const v = env.get(name);
      if (!v) throw new Error(`eval64: '${name}' is never computed`);
      return [name, fromVal(v)];
    }),
  );
}

function toVal(t: Tensor64 | TensorConst): Val {
  if (numel(t.dims) !== t.data.length) throw new Error(`eval64: dims [${t.dims}] do not match ${t.data.length} values`);
  return { dtype: t.dtype, dims: [...t.dims], data: Float64Array.from(t.data as ArrayLike<number | bigint>, Number) };
}

function fromVal(v: Val): Tensor64 {
  const dims = [...v.dims];
  switch (v.dtype) {
    case 'float32':
    case 'float64': return { dtype: v.dtype, dims, data: Float64Array.from(v.data) };
    case 'int32': return { dtype: v.dtype, dims, data: Int32Array.from(v.data) };
    // ±2^63 stand for INT64_MAX/MIN (e.g. Slice ends), which doubles cannot hold exactly.
    case 'int64': return { dtype: v.dtype, dims, data: BigInt64Array.from(v.data, (x) => (x >= 2 ** 63 ? 2n ** 63n - 1n : BigInt(x))) };
    case 'bool':
    case 'uint8': return { dtype: v.dtype, dims, data: Uint8Array.from(v.data) };
    case 'int8': return { dtype: v.dtype, dims, data: Int8Array.from(v.data) };
  }
}

// ---------------------------------------------------------------------------------------------
// Attribute access with the spec's defaults.

type AttrValue<K extends Attr['type']> = Extract<Attr, { type: K }>['value'];

class Attrs {
  constructor(private readonly node: Node) {}

  has(name: string): boolean {
    return name in this.node.attrs;
  }

  private get<K extends Attr['type']>(name: string, type: K, fallback?: AttrValue<K>): AttrValue<K> {
    const a = this.node.attrs[name];
    if (a === undefined) {
      if (fallback === undefined) throw new Error(`attribute '${name}' is required`);
      return fallback;
    }
    if (a.type !== type) throw new Error(`attribute '${name}' is ${a.type}, expected ${type}`);
    return a.value as AttrValue<K>;
  }

  int = (name: string, fallback?: number): number => this.get(name, 'int', fallback);
  float = (name: string, fallback?: number): number => this.get(name, 'float', fallback);
  string = (name: string, fallback?: string): string => this.get(name, 'string', fallback);
  ints = (name: string, fallback?: number[]): number[] => this.get(name, 'ints', fallback);
}

// ---------------------------------------------------------------------------------------------
// Shape helpers

/** Calls f with every multi-index of `dims` in row-major order (the index array is reused). */
function eachIndex(dims: readonly number[], f: (idx: number[], flat: number) => void): void {
  const idx = dims.map(() => 0);
  const n = numel(dims);
  for (let i = 0; i < n; i++) {
    f(idx, i);
    for (let k = dims.length - 1; k >= 0 && ++idx[k] === dims[k]; k--) idx[k] = 0;
  }
}

/** Reads a `dims`-shaped view of x that starts at flat offset `base` and moves `steps[k]` per index on axis k. */
function view(x: Val, dims: number[], steps: number[], base = 0): Float64Array {
  const out = new Float64Array(numel(dims));
  eachIndex(dims, (idx, i) => {
    let at = base;
    for (let k = 0; k < idx.length; k++) at += idx[k] * steps[k];
    out[i] = x.data[at];
  });
  return out;
}

const normAxis = (axis: number, rank: number): number => {
  if (axis < -rank || axis >= rank) throw new Error(`axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
};

const ints = (t: Val): number[] => Array.from(t.data);
const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);
const product = (dims: readonly number[]): number => numel(dims);

/** Numpy-style broadcast: https://onnx.ai/onnx/repo-docs/Broadcasting.html */
function broadcastDims(...shapes: number[][]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, k) => {
    let d = 1;
    for (const s of shapes) {
      const v = k - rank + s.length < 0 ? 1 : s[k - rank + s.length];
      if (v === 1) continue;
      if (d !== 1 && d !== v) throw new Error(`shapes ${shapes.map((s) => `[${s}]`).join(', ')} do not broadcast`);
      d = v;
    }
    return d;
  });
}

function broadcastTo(x: Val, dims: number[]): Float64Array {
  const lead = dims.length - x.dims.length;
  const s = stridesOf(x.dims);
  const steps = dims.map((d, k) => {
    if (k < lead || x.dims[k - lead] === 1) return 0;
    if (x.dims[k - lead] !== d) throw new Error(`[${x.dims}] does not broadcast to [${dims}]`);
    return s[k - lead];
  });
  return view(x, dims, steps);
}

/** Rounds a computed value the way a tensor of `dtype` stores it (C++ conversions truncate toward zero). */
function fit(dtype: DType, v: number): number {
  switch (dtype) {
    case 'float32':
    case 'float64': return v;
    case 'int32': return v | 0; // truncates and wraps like int32 arithmetic (exact while |v| < 2^53)
    case 'int64': return Math.trunc(v);
    case 'bool': return v !== 0 ? 1 : 0;
    case 'int8': return (v << 24) >> 24;
    case 'uint8': return v & 0xff;
  }
}

function elementwise(dtype: DType, xs: Val[], f: (...v: number[]) => number): Val {
  const dims = broadcastDims(...xs.map((x) => x.dims));
  const cols = xs.map((x) => broadcastTo(x, dims));
  const data = new Float64Array(numel(dims));
  const args = new Array<number>(xs.length);
  for (let i = 0; i < data.length; i++) {
    for (let j = 0; j < cols.length; j++) args[j] = cols[j][i];
    data[i] = fit(dtype, f(...args));
  }
  return { dtype, dims, data };
}

const unary = (f: (v: number) => number) => ([x]: Val[]): Val => elementwise(x.dtype, [x], f);
const binary = (f: (a: number, b: number) => number) => ([a, b]: Val[]): Val => elementwise(a.dtype, [a, b], f);
const compare = (f: (a: number, b: number) => boolean) => ([a, b]: Val[]): Val => elementwise('bool', [a, b], (p, q) => (f(p, q) ? 1 : 0));
const variadic = (f: (...v: number[]) => number) => (xs: Val[]): Val => elementwise(xs[0].dtype, xs, f);

// ---------------------------------------------------------------------------------------------
// Numerics

/**
 * erf in float64 to ~1e-16 relative. Below 3: A&S 7.1.6, erf x = 2/√π e^{-x²} Σ 2ⁿx^{2n+1}/(2n+1)!!,
 * whose terms are all positive, so nothing cancels. From 3: the erfc continued fraction (DLMF 7.9.2)
 * √π e^{x²} erfc x = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), which converges fast there.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (!(ax < 6)) return Number.isNaN(x) ? NaN : Math.sign(x); // erfc(6) ≈ 2e-17: erf rounds to ±1
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; term > sum * 1e-17; n++) {
      term *= (2 * ax * ax) / (2 * n + 1);
      sum += term;
    }
    return (Math.sign(x) * 2 * Math.exp(-ax * ax) * sum) / Math.sqrt(Math.PI);
  }
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f);
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

// GELU: https://onnx.ai/onnx/operators/onnx__Gelu.html
const geluErf = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));
const geluTanh = (v: number): number => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

// ---------------------------------------------------------------------------------------------
// Reductions, linear algebra, convolution, normalization

/** The axes a Reduce* node reduces, or null when it is a no-op (opset 18: axes as an optional input). */
function reductionAxes(x: Val, axes: Val | undefined, a: Attrs): number[] | null {
  const list = axes ? ints(axes) : [];
  if (list.length === 0) return a.int('noop_with_empty_axes', 0) ? null : x.dims.map((_, k) => k);
  return list.map((ax) => normAxis(ax, x.dims.length));
}

function reduction(init: number, step: (acc: number, v: number) => number, finish = (acc: number, _n: number) => acc) {
  return ([x, axesInput]: Val[], a: Attrs): Val => {
    const axes = reductionAxes(x, axesInput, a);
    if (!axes) return x;
    const kept = x.dims.map((d, k) => (axes.includes(k) ? 1 : d));
    const outStrides = stridesOf(kept);
    const acc = new Float64Array(numel(kept)).fill(init);
    eachIndex(x.dims, (idx, i) => {
      let at = 0;
      for (let k = 0; k < idx.length; k++) if (!axes.includes(k)) at += idx[k] * outStrides[k];
      acc[at] = step(acc[at], x.data[i]);
    });
    const n = product(axes.map((k) => x.dims[k]));
    const dims = a.int('keepdims', 1) ? kept : x.dims.filter((_, k) => !axes.includes(k));
    return { dtype: x.dtype, dims, data: acc.map((v) => fit(x.dtype, finish(v, n))) };
  };
}

/** MatMul with numpy semantics: batch dims broadcast; a 1-D operand gains and then loses a unit dim. */
function matmul([a, b]: Val[]): Val {
  const a2 = a.dims.length === 1 ? { ...a, dims: [1, a.dims[0]] } : a;
  const b2 = b.dims.length === 1 ? { ...b, dims: [b.dims[0], 1] } : b;
  const [M, K] = a2.dims.slice(-2);
  const [K2, N] = b2.dims.slice(-2);
  if (K !== K2) throw new Error(`inner dimensions differ: [${a.dims}] x [${b.dims}]`);
  const batch = broadcastDims(a2.dims.slice(0, -2), b2.dims.slice(0, -2));
  const A = broadcastTo(a2, [...batch, M, K]);
  const B = broadcastTo(b2, [...batch, K, N]);
  const data = new Float64Array(product(batch) * M * N);
  for (let t = 0; t < product(batch); t++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[(t * M + i) * K + k] * B[(t * K + k) * N + j];
        data[(t * M + i) * N + j] = fit(a.dtype, s);
      }
    }
  }
  const dims = [...batch, ...(a.dims.length === 1 ? [] : [M]), ...(b.dims.length === 1 ? [] : [N])];
  return { dtype: a.dtype, dims, data };
}

/** Y = alpha·A'·B' + beta·C: https://onnx.ai/onnx/operators/onnx__Gemm.html */
function gemm([A, B, C]: Val[], a: Attrs): Val {
  const transA = a.int('transA', 0);
  const transB = a.int('transB', 0);
  const alpha = a.float('alpha', 1);
  const beta = a.float('beta', 1);
  const [M, K] = transA ? [A.dims[1], A.dims[0]] : A.dims;
  const N = transB ? B.dims[0] : B.dims[1];
  const c = C ? broadcastTo(C, [M, N]) : undefined;
  const data = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A.data[transA ? k * M + i : i * K + k] * B.data[transB ? j * K + k : k * N + j];
      data[i * N + j] = fit(A.dtype, alpha * s + (c ? beta * c[i * N + j] : 0));
    }
  }
  return { dtype: A.dtype, dims: [M, N], data };
}

/** Kernel, strides, dilations and pads ([begin…, end…]) of a 1-D or 2-D Conv/ConvTranspose; auto_pad is not modelled. */
function convParams(x: Val, w: Val, a: Attrs) {
  const S = x.dims.length - 2;
  if ((S !== 1 && S !== 2) || w.dims.length !== x.dims.length) throw new Error(`eval64 handles 1-D and 2-D convolution only, got [${x.dims}] and [${w.dims}]`);
  if (a.string('auto_pad', 'NOTSET') !== 'NOTSET') throw new Error('eval64 supports explicit pads only (auto_pad NOTSET)');
  const ones = new Array<number>(S).fill(1);
  const pads = a.ints('pads', new Array<number>(2 * S).fill(0));
  return { S, K: w.dims.slice(2), stride: a.ints('strides', ones), dilation: a.ints('dilations', ones), begin: pads.slice(0, S), end: pads.slice(S), group: a.int('group', 1) };
}

/** Flat offset of the spatial position `o·s + k·d − pad` (per axis), or −1 when it falls outside `L`. */
function spatialAt(o: number[], k: number[], stride: number[], dilation: number[], begin: number[], L: number[]): number {
  let at = 0;
  for (let i = 0; i < L.length; i++) {
    const p = o[i] * stride[i] + k[i] * dilation[i] - begin[i];
    if (p < 0 || p >= L[i]) return -1;
    at = at * L[i] + p;
  }
  return at;
}

/** y[n,m,o] = b[m] + Σ_{c,k} x[n, g·Cg + c, o·s + k·d − pad] · w[m, c, k], g = m's group (o, k per spatial axis). */
function conv([x, w, bias]: Val[], a: Attrs): Val {
  const { K, stride, dilation, begin, end, group } = convParams(x, w, a);
  const [N, C] = x.dims;
  const L = x.dims.slice(2);
  const [M, Cg] = w.dims;
  if (Cg * group !== C || M % group !== 0) throw new Error(`weights [${w.dims}] do not fit ${C} channels in ${group} groups`);
  const Lout = L.map((l, i) => Math.floor((l + begin[i] + end[i] - dilation[i] * (K[i] - 1) - 1) / stride[i]) + 1);
  const [inSize, outSize, kSize] = [product(L), product(Lout), product(K)];
  const data = new Float64Array(N * M * outSize);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / (M / group));
      eachIndex(Lout, (o, oi) => {
        let s = bias ? bias.data[m] : 0;
        eachIndex(K, (k, ki) => {
          const i = spatialAt(o, k, stride, dilation, begin, L);
          if (i < 0) return;
          for (let c = 0; c < Cg; c++) s += x.data[(n * C + g * Cg + c) * inSize + i] * w.data[(m * Cg + c) * kSize + ki];
        });
        data[(n * M + m) * outSize + oi] = s;
      });
    }
  }
  return { dtype: x.dtype, dims: [N, M, ...Lout], data };
}

/** The adjoint of conv: each x[n,c,i] scatters into y[n, g·Mg + m, i·s + k·d − pad] with weight w[c, m, k]. */
function convTranspose([x, w, bias]: Val[], a: Attrs): Val {
  const { S, K, stride, dilation, begin, end, group } = convParams(x, w, a);
  if (a.has('output_shape')) throw new Error('eval64 does not model output_shape; give pads and output_padding');
  const outputPadding = a.ints('output_padding', new Array<number>(S).fill(0));
  const [N, C] = x.dims;
  const L = x.dims.slice(2);
  const [C2, Mg] = w.dims;
  if (C2 !== C || C % group !== 0) throw new Error(`weights [${w.dims}] do not fit ${C} channels in ${group} groups`);
  const M = Mg * group;
  const Cg = C / group;
  const Lout = L.map((l, i) => stride[i] * (l - 1) + outputPadding[i] + dilation[i] * (K[i] - 1) + 1 - begin[i] - end[i]);
  const [inSize, outSize, kSize] = [product(L), product(Lout), product(K)];
  const data = new Float64Array(N * M * outSize);
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) data.fill(bias ? bias.data[m] : 0, (n * M + m) * outSize, (n * M + m + 1) * outSize);
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / Cg);
      eachIndex(L, (i, ii) => {
        eachIndex(K, (k, ki) => {
          const o = spatialAt(i, k, stride, dilation, begin, Lout);
          if (o < 0) return;
          for (let m = 0; m < Mg; m++) data[(n * M + g * Mg + m) * outSize + o] += x.data[(n * C + c) * inSize + ii] * w.data[(c * Mg + m) * kSize + ki];
        });
      });
    }
  }
  return { dtype: x.dtype, dims: [N, M, ...Lout], data };
}

/** Splits dims around `axis` into (outer, n, inner) so per-axis loops stay flat. */
function around(dims: number[], axis: number): [outer: number, n: number, inner: number] {
  return [product(dims.slice(0, axis)), dims[axis], product(dims.slice(axis + 1))];
}

/** Softmax along one axis (opset 13+; no flattening), shifted by the max for stability. */
function softmax([x]: Val[], a: Attrs): Val {
  const [outer, n, inner] = around(x.dims, normAxis(a.int('axis', -1), x.dims.length));
  const data = new Float64Array(x.data.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (k: number) => (o * n + k) * inner + j;
      let max = -Infinity;
      for (let k = 0; k < n; k++) max = Math.max(max, x.data[at(k)]);
      let sum = 0;
      for (let k = 0; k < n; k++) sum += data[at(k)] = Math.exp(x.data[at(k)] - max);
      for (let k = 0; k < n; k++) data[at(k)] /= sum;
    }
  }
  return { dtype: x.dtype, dims: [...x.dims], data };
}

/** Normalizes over dims[axis:], then Scale and B (broadcast to those dims): https://onnx.ai/onnx/operators/onnx__LayerNormalization.html */
function layerNorm([x, scale, bias]: Val[], a: Attrs): Val[] {
  const axis = normAxis(a.int('axis', -1), x.dims.length);
  const eps = a.float('epsilon', 1e-5);
  const normDims = x.dims.slice(axis);
  const n = product(normDims);
  const outer = product(x.dims.slice(0, axis));
  const s = scale ? broadcastTo(scale, normDims) : new Float64Array(n).fill(1);
  const b = bias ? broadcastTo(bias, normDims) : new Float64Array(n);
  const y = new Float64Array(x.data.length);
  const means = new Float64Array(outer);
  const invStd = new Float64Array(outer);
  for (let o = 0; o < outer; o++) {
    const row = x.data.subarray(o * n, (o + 1) * n);
    const mean = row.reduce((acc, v) => acc + v, 0) / n;
    const variance = row.reduce((acc, v) => acc + (v - mean) ** 2, 0) / n;
    means[o] = mean;
    invStd[o] = 1 / Math.sqrt(variance + eps);
    row.forEach((v, j) => (y[o * n + j] = (v - mean) * invStd[o] * s[j] + b[j]));
  }
  const statDims = x.dims.map((d, k) => (k < axis ? d : 1));
  return [
    { dtype: x.dtype, dims: [...x.dims], data: y },
    { dtype: x.dtype, dims: statDims, data: means },
    { dtype: x.dtype, dims: statDims, data: invStd },
  ];
}

// ---------------------------------------------------------------------------------------------
// Layout

function transpose([x]: Val[], a: Attrs): Val {
  const perm = a.ints('perm', x.dims.map((_, k) => x.dims.length - 1 - k));
  const s = stridesOf(x.dims);
  const dims = perm.map((p) => x.dims[p]);
  return { dtype: x.dtype, dims, data: view(x, dims, perm.map((p) => s[p])) };
}

/** Reshape: 0 copies the input dim (unless allowzero), -1 takes what is left. */
function reshape([x, shape]: Val[], a: Attrs): Val {
  const allowZero = a.int('allowzero', 0);
  const dims = ints(shape).map((d, k) => (d === 0 && !allowZero ? x.dims[k] : d));
  const hole = dims.indexOf(-1);
  if (hole >= 0) dims[hole] = x.data.length / product(dims.filter((_, k) => k !== hole));
  if (!dims.every((d) => Number.isInteger(d) && d >= 0) || product(dims) !== x.data.length) {
    throw new Error(`cannot reshape [${x.dims}] to [${ints(shape)}]`);
  }
  return { ...x, dims };
}

function unsqueeze([x, axes]: Val[]): Val {
  const rank = x.dims.length + axes.data.length;
  const dims = [...x.dims];
  for (const ax of ints(axes).map((v) => normAxis(v, rank)).sort((p, q) => p - q)) dims.splice(ax, 0, 1);
  return { ...x, dims };
}

function squeeze([x, axes]: Val[]): Val {
  const drop = axes ? ints(axes).map((v) => normAxis(v, x.dims.length)) : x.dims.flatMap((d, k) => (d === 1 ? [k] : []));
  if (drop.some((k) => x.dims[k] !== 1)) throw new Error(`cannot squeeze axes [${drop}] of [${x.dims}]`);
  return { ...x, dims: x.dims.filter((_, k) => !drop.includes(k)) };
}

function concat(xs: Val[], a: Attrs): Val {
  const axis = normAxis(a.int('axis'), xs[0].dims.length);
  const dims = [...xs[0].dims];
  dims[axis] = xs.reduce((acc, x) => acc + x.dims[axis], 0);
  const outer = product(dims.slice(0, axis));
  const data = new Float64Array(product(dims));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      const chunk = x.data.length / outer;
      data.set(x.data.subarray(o * chunk, (o + 1) * chunk), at);
      at += chunk;
    }
  }
  return { dtype: xs[0].dtype, dims, data };
}

/** The part of x with indices [start, start + size) along `axis`. */
function sliceAxis(x: Val, axis: number, start: number, size: number): Val {
  const s = stridesOf(x.dims);
  const dims = x.dims.map((d, k) => (k === axis ? size : d));
  return { dtype: x.dtype, dims, data: view(x, dims, s, start * s[axis]) };
}

/** Split by the `split` input, or into num_outputs parts (the last one smaller when uneven, opset 18). */
function split([x, sizes]: Val[], a: Attrs, node: Node): Val[] {
  const axis = normAxis(a.int('axis', 0), x.dims.length);
  const D = x.dims[axis];
  let parts: number[];
  if (sizes) parts = ints(sizes);
  else {
    const count = a.int('num_outputs', node.outputs.length);
    const chunk = Math.ceil(D / count);
    parts = Array.from({ length: count }, (_, i) => clamp(D - i * chunk, 0, chunk));
  }
  if (parts.reduce((p, q) => p + q, 0) !== D) throw new Error(`split sizes [${parts}] do not add up to ${D}`);
  let start = 0;
  return parts.map((size) => sliceAxis(x, axis, (start += size) - size, size));
}

/** Slice with negative indices and the spec's clamping (different for negative steps). */
function slice([x, starts, ends, axesIn, stepsIn]: Val[]): Val {
  const st = ints(starts);
  const en = ints(ends);
  const axes = axesIn ? ints(axesIn).map((v) => normAxis(v, x.dims.length)) : st.map((_, i) => i);
  const steps = stepsIn ? ints(stepsIn) : st.map(() => 1);
  const begin = x.dims.map(() => 0);
  const step = x.dims.map(() => 1);
  const dims = [...x.dims];
  axes.forEach((k, i) => {
    const D = x.dims[k];
    const s = steps[i];
    if (s === 0) throw new Error('slice step 0');
    let b = st[i] < 0 ? st[i] + D : st[i];
    let e = en[i] < 0 ? en[i] + D : en[i];
    [b, e] = s > 0 ? [clamp(b, 0, D), clamp(e, 0, D)] : [clamp(b, 0, D - 1), clamp(e, -1, D - 1)];
    begin[k] = b;
    step[k] = s;
    dims[k] = Math.max(0, Math.ceil((e - b) / s));
  });
  const s = stridesOf(x.dims);
  const base = begin.reduce((acc, b, k) => acc + b * s[k], 0);
  return { dtype: x.dtype, dims, data: view(x, dims, s.map((t, k) => t * step[k]), base) };
}

/** Pad (opset 18+: pads, constant_value and axes as inputs); negative pads crop. */
function pad([x, padsIn, constant, axesIn]: Val[], a: Attrs): Val {
  const mode = a.string('mode', 'constant');
  const rank = x.dims.length;
  const axes = axesIn ? ints(axesIn).map((v) => normAxis(v, rank)) : x.dims.map((_, k) => k);
  const pads = ints(padsIn);
  const before = x.dims.map(() => 0);
  const after = x.dims.map(() => 0);
  axes.forEach((k, i) => ([before[k], after[k]] = [pads[i], pads[i + axes.length]]));
  const dims = x.dims.map((d, k) => d + before[k] + after[k]);
  // For each axis, the source index of every output position, or -1 for the constant.
  const source = dims.map((d, k) =>
    Array.from({ length: d }, (_, o) => {
      const D = x.dims[k];
      const i = o - before[k];
      if (i >= 0 && i < D) return i;
      if (mode === 'constant') return -1;
      if (mode === 'edge') return clamp(i, 0, D - 1);
      if (mode === 'wrap') return ((i % D) + D) % D;
      if (mode === 'reflect') {
        const period = 2 * (D - 1) || 1;
        const r = ((i % period) + period) % period;
        return r < D ? r : period - r;
      }
      throw new Error(`pad mode '${mode}'`);
    }),
  );
  const s = stridesOf(x.dims);
  const value = constant && constant.data.length ? constant.data[0] : 0;
  const data = new Float64Array(product(dims));
  eachIndex(dims, (idx, i) => {
    let at = 0;
    for (let k = 0; k < rank && at >= 0; k++) at = source[k][idx[k]] < 0 ? -1 : at + source[k][idx[k]] * s[k];
    data[i] = at < 0 ? value : x.data[at];
  });
  return { dtype: x.dtype, dims, data };
}

/** out[i] = x[i mod dims] on every axis, the input repeated `repeats[k]` times along axis k. */
function tile([x, repeats]: Val[]): Val {
  const r = ints(repeats);
  const dims = x.dims.map((d, k) => d * r[k]);
  const s = stridesOf(x.dims);
  const data = new Float64Array(product(dims));
  eachIndex(dims, (idx, i) => {
    let at = 0;
    for (let k = 0; k < idx.length; k++) at += (idx[k] % x.dims[k]) * s[k];
    data[i] = x.data[at];
  });
  return { dtype: x.dtype, dims, data };
}

/** start, start + delta, … while short of limit. */
function range([start, limit, delta]: Val[]): Val {
  const [s, l, d] = [start.data[0], limit.data[0], delta.data[0]];
  const n = Math.max(Math.ceil((l - s) / d), 0);
  return { dtype: start.dtype, dims: [n], data: Float64Array.from({ length: n }, (_, i) => fit(start.dtype, s + i * d)) };
}

function expand([x, shape]: Val[]): Val {
  const dims = broadcastDims(x.dims, ints(shape));
  return { dtype: x.dtype, dims, data: broadcastTo(x, dims) };
}

/** out[..., j..., ...] = x[..., indices[j...] (negative counts from the end), ...] */
function gather([x, indices]: Val[], a: Attrs): Val {
  const axis = normAxis(a.int('axis', 0), x.dims.length);
  const [outer, D, inner] = around(x.dims, axis);
  const dims = [...x.dims.slice(0, axis), ...indices.dims, ...x.dims.slice(axis + 1)];
  const data = new Float64Array(product(dims));
  const n = indices.data.length;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const i = indices.data[j] < 0 ? indices.data[j] + D : indices.data[j];
      if (i < 0 || i >= D) throw new Error(`index ${indices.data[j]} is out of range for size ${D}`);
      data.set(x.data.subarray((o * D + i) * inner, (o * D + i + 1) * inner), (o * n + j) * inner);
    }
  }
  return { dtype: x.dtype, dims, data };
}

function cast([x]: Val[], a: Attrs): Val {
  const to = dtypeFromCode(a.int('to'));
  if (!to) throw new Error(`Cast to data type ${a.int('to')} is not supported`);
  return { dtype: to, dims: [...x.dims], data: x.data.map((v) => fit(to, v)) };
}

function clip([x, min, max]: Val[]): Val {
  const lo = min ? min.data[0] : -Infinity;
  const hi = max ? max.data[0] : Infinity;
  return elementwise(x.dtype, [x], (v) => Math.min(Math.max(v, lo), hi));
}

// ---------------------------------------------------------------------------------------------
// The table. Omitted optional inputs arrive as undefined at their position.

type OpFn = (inputs: Val[], attrs: Attrs, node: Node) => Val | Val[];

const OPS = {
  Add: binary((a, b) => a + b),
  Sub: binary((a, b) => a - b),
  Mul: binary((a, b) => a * b),
  Div: binary((a, b) => a / b), // integer dtypes truncate toward zero in fit()
  Neg: unary((v) => -v),
  Pow: ([x, y]) => elementwise(x.dtype, [x, y], (a, b) => a ** b),
  Sqrt: unary(Math.sqrt),
  Reciprocal: unary((v) => 1 / v),
  Exp: unary(Math.exp),
  Log: unary(Math.log),
  Abs: unary(Math.abs),
  Max: variadic(Math.max),
  Min: variadic(Math.min),
  Clip: clip,
  Erf: unary(erf),
  Tanh: unary(Math.tanh),
  Sigmoid: unary(sigmoid),
  Relu: unary((v) => Math.max(v, 0)),
  Gelu: ([x], a) => elementwise(x.dtype, [x], a.string('approximate', 'none') === 'tanh' ? geluTanh : geluErf),
  Equal: compare((a, b) => a === b),
  Greater: compare((a, b) => a > b),
  Less: compare((a, b) => a < b),
  Not: ([x]) => elementwise('bool', [x], (v) => (v ? 0 : 1)),
  And: compare((a, b) => a !== 0 && b !== 0),
  Where: ([c, x, y]) => elementwise(x.dtype, [c, x, y], (cond, a, b) => (cond ? a : b)),
  Cast: cast,
  Identity: ([x]) => x,
  ReduceSum: reduction(0, (acc, v) => acc + v),
  ReduceMean: reduction(0, (acc, v) => acc + v, (acc, n) => acc / n),
  ReduceMax: reduction(-Infinity, Math.max),
  MatMul: matmul,
  Gemm: gemm,
  Conv: conv,
  ConvTranspose: convTranspose,
  Softmax: softmax,
  LayerNormalization: layerNorm,
  Transpose: transpose,
  Reshape: reshape,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,
  Expand: expand,
  Gather: gather,
  Tile: tile,
  Floor: unary(Math.floor),
  Ceil: unary(Math.ceil),
  Range: range,
} satisfies Record<GraphOpType, OpFn>;
