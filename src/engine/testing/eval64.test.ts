// eval64 against onnxruntime-node: one single-node graph per case, every op in WEBGPU_OPS and FOREIGN_OPS.
// Inputs are float32-representable, so the only difference is onnxruntime's float32 arithmetic.

import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Attr, DType, Graph, TensorConst } from '../ir';
import { encodeModel, makeModel, validateModel } from '../onnx-proto';
import { FOREIGN_OPS, WEBGPU_OPS, type GraphOpType } from '../op-types';
import { erf, evaluate, type Tensor64 } from './eval64';

// A small seeded PRNG (mulberry32) so failures reproduce.
let seed = 0x5eed;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
}

const f32 = (dims: number[], values: number[]): Tensor64 => ({ dtype: 'float32', dims, data: Float64Array.from(values, Math.fround) });
const rand = (dims: number[], lo = -2, hi = 2): Tensor64 => f32(dims, Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => lo + (hi - lo) * random()));
/** Magnitude in [lo, hi] with a random sign: keeps divisors away from zero. */
const awayFromZero = (dims: number[], lo = 0.5, hi = 2): Tensor64 =>
  f32(dims, Array.from(rand(dims, lo, hi).data as Float64Array, (v) => (random() < 0.5 ? -v : v)));
const smallInts = (dims: number[], n = 3): Tensor64 => f32(dims, Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => Math.floor(random() * n)));
const i64 = (values: number[], dims = [values.length]): Tensor64 => ({ dtype: 'int64', dims, data: BigInt64Array.from(values, BigInt) });
const i32 = (values: number[], dims = [values.length]): Tensor64 => ({ dtype: 'int32', dims, data: Int32Array.from(values) });
const bool = (values: number[], dims = [values.length]): Tensor64 => ({ dtype: 'bool', dims, data: Uint8Array.from(values) });
const randBool = (dims: number[]): Tensor64 => bool(Array.from({ length: dims.reduce((p, q) => p * q, 1) }, () => (random() < 0.5 ? 1 : 0)), dims);

const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const str = (value: string): Attr => ({ type: 'string', value });

interface Case {
  label?: string;
  /** null leaves an optional input out (''). int64 inputs become initializers, the rest are fed. */
  inputs: (Tensor64 | null)[];
  attrs?: Record<string, Attr>;
  outputs?: number;
}

const I64_MAX = 2 ** 63 - 1;
const I64_MIN = -(2 ** 63);

const CASES = {
  Add: [
    { label: 'broadcast', inputs: [rand([2, 3, 4]), rand([3, 1])] },
    { label: 'int32', inputs: [i32([1, -2, 3]), i32([5])] },
  ],
  Sub: [{ inputs: [rand([3, 1]), rand([1, 4])] }],
  Mul: [{ inputs: [rand([2, 3]), rand([])] }],
  Div: [
    { inputs: [rand([2, 3]), awayFromZero([3])] },
    { label: 'int32 truncates', inputs: [i32([7, -7, 6, -1]), i32([2, 2, -4, 3])] },
  ],
  Neg: [{ inputs: [rand([3, 2])] }],
  Pow: [{ inputs: [rand([2, 3], 0.5, 2), rand([3], -2, 2)] }],
  Sqrt: [{ inputs: [rand([4], 0.01, 4)] }],
  Reciprocal: [{ inputs: [awayFromZero([5])] }],
  Exp: [{ inputs: [rand([5], -3, 3)] }],
  Log: [{ inputs: [rand([5], 0.05, 5)] }],
  Abs: [{ inputs: [rand([5])] }],
  Max: [
    { label: 'variadic broadcast', inputs: [rand([2, 3]), rand([3]), rand([1])] },
    { label: 'single', inputs: [rand([4])] },
  ],
  Min: [{ inputs: [rand([2, 3]), rand([2, 1])] }],
  Clip: [
    { label: 'min and max', inputs: [rand([6]), f32([], [-0.5]), f32([], [0.75])] },
    { label: 'max only', inputs: [rand([6]), null, f32([], [0.25])] },
    { label: 'no bounds', inputs: [rand([3])] },
    { label: 'min > max gives max', inputs: [rand([4]), f32([], [1]), f32([], [-1])] },
  ],
  Erf: [{ inputs: [rand([12], -4, 4)] }],
  Tanh: [{ inputs: [rand([6], -4, 4)] }],
  Sigmoid: [{ inputs: [rand([6], -6, 6)] }],
  Relu: [{ inputs: [rand([6])] }],
  Gelu: [
    { label: 'erf', inputs: [rand([8], -4, 4)] },
    { label: 'tanh', inputs: [rand([8], -4, 4)], attrs: { approximate: str('tanh') } },
  ],
  Equal: [
    { label: 'float', inputs: [smallInts([3, 4]), smallInts([4])] },
    { label: 'int32', inputs: [i32([1, 2, 3]), i32([3, 2, 1])] },
  ],
  Greater: [{ inputs: [rand([3, 4]), rand([4])] }, { label: 'int32', inputs: [i32([1, 2, 3]), i32([2])] }],
  Less: [{ inputs: [rand([2, 3]), rand([2, 1])] }],
  Not: [{ inputs: [randBool([5])] }],
  And: [{ inputs: [randBool([2, 3]), randBool([3])] }],
  Where: [
    { inputs: [randBool([2, 3]), rand([3]), rand([2, 1])] },
    { label: 'int32', inputs: [randBool([3]), i32([1, 2, 3]), i32([-1])] },
  ],
  Cast: [
    { label: 'float to int32 truncates', inputs: [f32([6], [-2.7, -0.5, 0, 0.5, 2.7, 100])], attrs: { to: int(6) } },
    { label: 'float to bool', inputs: [f32([4], [0, -0.0001, 3, 0])], attrs: { to: int(9) } },
    { label: 'bool to float', inputs: [randBool([4])], attrs: { to: int(1) } },
    { label: 'int32 to float', inputs: [i32([-3, 0, 7])], attrs: { to: int(1) } },
    { label: 'float to double', inputs: [rand([3])], attrs: { to: int(11) } },
  ],
  Identity: [{ inputs: [rand([2, 2])] }],
  ReduceSum: [
    { label: 'axes [1] keepdims', inputs: [rand([2, 3, 4]), i64([1])] },
    { label: 'axes [-1, 0] no keepdims', inputs: [rand([2, 3, 4]), i64([-1, 0])], attrs: { keepdims: int(0) } },
    { label: 'all axes', inputs: [rand([2, 3])], attrs: { keepdims: int(0) } },
    { label: 'noop with empty axes', inputs: [rand([2, 3])], attrs: { noop_with_empty_axes: int(1) } },
  ],
  ReduceMean: [
    { label: 'keepdims', inputs: [rand([2, 3, 4]), i64([2])] },
    { label: 'no keepdims', inputs: [rand([2, 3, 4]), i64([0, 2])], attrs: { keepdims: int(0) } },
  ],
  ReduceMax: [
    { label: 'keepdims', inputs: [rand([3, 5]), i64([1])] },
    { label: 'no keepdims, all', inputs: [rand([3, 5])], attrs: { keepdims: int(0) } },
  ],
  MatMul: [
    { label: '2-D', inputs: [rand([2, 3]), rand([3, 4])] },
    { label: 'batched broadcast', inputs: [rand([2, 1, 3, 4]), rand([5, 4, 2])] },
    { label: '1-D left', inputs: [rand([3]), rand([2, 3, 4])] },
    { label: '1-D right', inputs: [rand([2, 4, 3]), rand([3])] },
  ],
  Gemm: [
    { label: 'plain with C [N]', inputs: [rand([2, 3]), rand([3, 4]), rand([4])] },
    { label: 'transA transB alpha beta, C [M,1]', inputs: [rand([3, 2]), rand([4, 3]), rand([2, 1])], attrs: { transA: int(1), transB: int(1), alpha: float(0.5), beta: float(-2) } },
    { label: 'transB, no C', inputs: [rand([2, 3]), rand([5, 3])], attrs: { transB: int(1) } },
  ],
  Conv: [
    { label: 'plain', inputs: [rand([1, 2, 7]), rand([3, 2, 3])] },
    {
      label: 'groups, stride, pads, dilation, bias',
      inputs: [rand([2, 4, 11]), rand([6, 2, 3]), rand([6])],
      attrs: { group: int(2), strides: ints([2]), pads: ints([1, 2]), dilations: ints([2]), kernel_shape: ints([3]) },
    },
    { label: 'depthwise', inputs: [rand([1, 3, 8]), rand([3, 1, 5]), rand([3])], attrs: { group: int(3), pads: ints([2, 2]) } },
    { label: '2-D, stride, pads, bias', inputs: [rand([2, 1, 7, 6]), rand([3, 1, 3, 3]), rand([3])], attrs: { strides: ints([2, 2]), pads: ints([1, 1, 1, 0]) } },
    { label: '2-D, groups, dilation', inputs: [rand([1, 4, 6, 5]), rand([4, 2, 2, 3])], attrs: { group: int(2), dilations: ints([2, 1]), strides: ints([1, 2]) } },
  ],
  ConvTranspose: [
    { label: 'plain', inputs: [rand([1, 2, 5]), rand([2, 3, 3])] },
    {
      label: 'stride, output_padding, pads, groups, dilation, bias',
      inputs: [rand([2, 4, 6]), rand([4, 3, 3]), rand([6])],
      attrs: { group: int(2), strides: ints([3]), output_padding: ints([2]), pads: ints([1, 2]), dilations: ints([2]) },
    },
    { label: '2-D, stride, output_padding, pads', inputs: [rand([1, 2, 3, 4]), rand([2, 3, 3, 2]), rand([3])], attrs: { strides: ints([2, 2]), output_padding: ints([1, 0]), pads: ints([1, 0, 1, 1]) } },
  ],
  Softmax: [
    { label: 'default axis', inputs: [rand([2, 3, 4], -5, 5)] },
    { label: 'axis 1', inputs: [rand([2, 3, 4], -5, 5)], attrs: { axis: int(1) } },
    { label: 'axis 0', inputs: [rand([3, 2])], attrs: { axis: int(0) } },
  ],
  LayerNormalization: [
    { label: 'axis -1, scale and bias', inputs: [rand([2, 3, 8]), rand([8]), rand([8])] },
    { label: 'axis 1, scale only, epsilon', inputs: [rand([2, 3, 4]), rand([3, 4])], attrs: { axis: int(1), epsilon: float(1e-3) } },
    { label: 'Mean and InvStdDev outputs', inputs: [rand([3, 5]), rand([5]), rand([5])], outputs: 3 },
  ],
  Transpose: [
    { label: 'default reverses', inputs: [rand([2, 3, 4])] },
    { label: 'perm', inputs: [rand([2, 3, 4])], attrs: { perm: ints([1, 2, 0]) } },
  ],
  Reshape: [
    { label: '0 and -1', inputs: [rand([2, 3, 4]), i64([0, -1, 2])] },
    { label: 'flatten', inputs: [rand([2, 3]), i64([-1])] },
    { label: 'allowzero keeps a literal 0', inputs: [rand([0, 3]), i64([3, 0])], attrs: { allowzero: int(1) } },
  ],
  Unsqueeze: [{ inputs: [rand([3, 4]), i64([0, -1])] }],
  Squeeze: [
    { label: 'axes', inputs: [rand([1, 3, 1, 2]), i64([2])] },
    { label: 'all unit dims', inputs: [rand([1, 3, 1, 2])] },
  ],
  Concat: [
    { label: 'axis 1', inputs: [rand([2, 1, 3]), rand([2, 4, 3]), rand([2, 2, 3])], attrs: { axis: int(1) } },
    { label: 'axis -1', inputs: [rand([2, 2]), rand([2, 3])], attrs: { axis: int(-1) } },
    { label: 'with an empty input', inputs: [rand([0, 3]), rand([2, 3])], attrs: { axis: int(0) } },
  ],
  Split: [
    { label: 'split input', inputs: [rand([2, 4]), i64([1, 3])], attrs: { axis: int(1) }, outputs: 2 },
    { label: 'num_outputs uneven', inputs: [rand([7, 2])], attrs: { num_outputs: int(3) }, outputs: 3 },
    { label: 'num_outputs even, negative axis', inputs: [rand([2, 6])], attrs: { axis: int(-1), num_outputs: int(2) }, outputs: 2 },
  ],
  Slice: [
    { label: 'negative starts', inputs: [rand([4, 5]), i64([-3]), i64([I64_MAX]), i64([1])] },
    { label: 'steps 2, clamped ends', inputs: [rand([6, 5]), i64([1, 0]), i64([1000, 5]), i64([0, 1]), i64([2, 2])] },
    { label: 'negative step', inputs: [rand([7]), i64([-2]), i64([I64_MIN]), i64([0]), i64([-2])] },
    { label: 'negative step, negative end', inputs: [rand([3, 6]), i64([5]), i64([-6]), i64([-1]), i64([-1])] },
  ],
  Pad: [
    { label: 'constant with value', inputs: [rand([2, 3]), i64([1, 0, 0, 2]), f32([], [1.5])] },
    { label: 'constant default, negative (crop)', inputs: [rand([3, 4]), i64([0, -1, 1, 1])] },
    { label: 'axes input', inputs: [rand([2, 3, 4]), i64([2, 1]), null, i64([-1])] },
    { label: 'edge', inputs: [rand([2, 3]), i64([1, 2, 1, 2])], attrs: { mode: str('edge') } },
    { label: 'reflect', inputs: [rand([2, 4]), i64([1, 2, 1, 3])], attrs: { mode: str('reflect') } },
    { label: 'wrap', inputs: [rand([2, 3]), i64([0, 2, 1, 4])], attrs: { mode: str('wrap') } },
  ],
  Expand: [
    { label: 'to higher rank', inputs: [rand([3, 1]), i64([2, 3, 4])] },
    { label: 'shape with ones', inputs: [rand([2, 1]), i64([3, 1, 5])] },
  ],
  Gather: [
    { label: 'axis 0, negative indices', inputs: [rand([5, 3]), i64([0, -1, 2, -5])] },
    { label: 'axis 1, 2-D int32 indices', inputs: [rand([2, 4, 3]), i32([3, 0, 1, 1, 2, 3], [2, 3])], attrs: { axis: int(1) } },
  ],
  Tile: [{ label: 'two axes', inputs: [rand([2, 3, 1]), i64([2, 1, 3])] }],
  Floor: [{ inputs: [rand([2, 3], -3, 3)] }],
  Ceil: [{ inputs: [rand([2, 3], -3, 3)] }],
  Range: [
    { label: 'float', inputs: [f32([], [0.5]), f32([], [4]), f32([], [0.75])] },
    { label: 'int32, negative delta', inputs: [i32([7], []), i32([-2], []), i32([-3], [])] },
  ],
} satisfies Record<GraphOpType, Case[]>;

function buildGraph(op: string, c: Case, outDtypes: DType[] = [], outDims: number[][] = []): { graph: Graph; feeds: Record<string, Tensor64> } {
  const names = c.inputs.map((t, i) => (t ? `in${i}` : ''));
  const feeds: Record<string, Tensor64> = {};
  const initializers: TensorConst[] = [];
  c.inputs.forEach((t, i) => {
    if (!t) return;
    if (t.dtype === 'int64') initializers.push({ name: names[i], dtype: 'int64', dims: t.dims, data: t.data as BigInt64Array });
    else feeds[names[i]] = t;
  });
  const outputs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `out${i}`);
  const graph: Graph = {
    name: `${op}_test`,
    nodes: [{ opType: op, domain: '', name: op, inputs: names, outputs, attrs: c.attrs ?? {} }],
    inputs: Object.entries(feeds).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.dims })),
    outputs: outputs.map((name, i) => ({ name, dtype: outDtypes[i] ?? 'float32', shape: outDims[i] ?? [] })),
    initializers,
    valueInfo: [],
  };
  return { graph, feeds };
}

function toOrt(t: Tensor64): ort.Tensor {
  switch (t.dtype) {
    case 'float32': return new ort.Tensor('float32', Float32Array.from(t.data as Float64Array), t.dims);
    case 'float64': return new ort.Tensor('float64', Float64Array.from(t.data as Float64Array), t.dims);
    default: return new ort.Tensor(t.dtype, t.data as Int32Array | BigInt64Array | Uint8Array, t.dims);
  }
}

function expectClose(got: ort.Tensor, want: Tensor64, what: string): void {
  expect(got.dims, `${what} dims`).toEqual(want.dims);
  const g = Array.from(got.data as ArrayLike<number | bigint>, Number);
  const w = Array.from(want.data as ArrayLike<number | bigint>, Number);
  if (want.dtype !== 'float32' && want.dtype !== 'float64') {
    expect(g, `${what} values`).toEqual(w);
    return;
  }
  // float32 rounding in onnxruntime vs float64 here: relative 1e-5, with a floor for values near 0.
  const scale = Math.max(1, ...w.map(Math.abs));
  const bad = w.flatMap((v, i) => (Math.abs(g[i] - v) <= 1e-5 * Math.abs(v) + 1e-6 * scale ? [] : [`[${i}] ort ${g[i]} vs eval64 ${v}`]));
  expect(bad, `${what} values`).toEqual([]);
}

describe('eval64 agrees with onnxruntime-node', () => {
  it('has a case for every op in WEBGPU_OPS and FOREIGN_OPS', () => {
    const table = CASES as Record<string, Case[] | undefined>;
    expect([...WEBGPU_OPS, ...FOREIGN_OPS].filter((op) => !table[op]?.length)).toEqual([]);
  });

  for (const op of [...WEBGPU_OPS, ...FOREIGN_OPS]) {
    const cases: Case[] = (CASES as Record<string, Case[] | undefined>)[op] ?? [];
    for (const c of cases) {
      it(`${op}${c.label ? ` (${c.label})` : ''}`, async () => {
        const probe = buildGraph(op, c);
        const want = evaluate(probe.graph, probe.feeds);
        const names = probe.graph.outputs.map((o) => o.name);
        // Declare the outputs with eval64's dtypes and shapes; onnxruntime's own shape inference checks them.
        const { graph, feeds } = buildGraph(op, c, names.map((n) => want[n].dtype), names.map((n) => want[n].dims));
        const model = makeModel(graph);
        expect(validateModel(model)).toEqual([]);
        const session = await ort.InferenceSession.create(encodeModel(model));
        try {
          const got = await session.run(Object.fromEntries(Object.entries(feeds).map(([n, t]) => [n, toOrt(t)])));
          for (const n of names) {
            expect(got[n].type, `${n} dtype`).toBe(want[n].dtype === 'float64' ? 'float64' : want[n].dtype);
            expectClose(got[n], want[n], n);
          }
        } finally {
          await session.release();
        }
      });
    }
  }
});

describe('eval64 details', () => {
  it('computes erf to float64 accuracy', () => {
    // Reference values: DLMF / A&S Table 7.1, to 16 significant digits.
    const known: [number, number][] = [
      [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149],
      [2, 0.9953222650189527], [3, 0.9999779095030014], [-1, -0.8427007929497149],
    ];
    for (const [x, v] of known) expect(Math.abs(erf(x) - v)).toBeLessThan(1e-15);
    expect(erf(0)).toBe(0);
    expect(erf(7)).toBe(1);
    expect(erf(-Infinity)).toBe(-1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  it('keeps int64 results as BigInt64Array and evaluates multi-node graphs in order', () => {
    const graph: Graph = {
      name: 'chain',
      inputs: [{ name: 'x', dtype: 'float32', shape: [2, 3] }],
      outputs: [{ name: 'shape', dtype: 'int64', shape: [2] }, { name: 'y', dtype: 'float32', shape: [3, 2] }],
      initializers: [{ name: 'shape', dtype: 'int64', dims: [2], data: BigInt64Array.from([3n, 2n]) }],
      valueInfo: [],
      nodes: [
        { opType: 'Relu', domain: '', name: 'r', inputs: ['x'], outputs: ['h'], attrs: {} },
        { opType: 'Reshape', domain: '', name: 's', inputs: ['h', 'shape'], outputs: ['y'], attrs: {} },
      ],
    };
    const out = evaluate(graph, { x: f32([2, 3], [1, -1, 2, -2, 3, -3]) });
    expect(out.shape.data).toEqual(BigInt64Array.from([3n, 2n]));
    expect(out.y).toEqual({ dtype: 'float32', dims: [3, 2], data: Float64Array.from([1, 0, 2, 0, 3, 0]) });
  });

  it('names the op and node it cannot evaluate', () => {
    const graph: Graph = {
      name: 'unknown', inputs: [{ name: 'x', dtype: 'float32', shape: [1] }], outputs: [{ name: 'y', dtype: 'float32', shape: [1] }],
      initializers: [], valueInfo: [],
      nodes: [{ opType: 'LogSoftmax', domain: '', name: 'encoder.0.lsm', inputs: ['x'], outputs: ['y'], attrs: {} }],
    };
    expect(() => evaluate(graph, { x: f32([1], [0]) })).toThrow(/LogSoftmax.*encoder\.0\.lsm/);
  });
});
