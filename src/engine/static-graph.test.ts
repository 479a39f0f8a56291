// Static preparation keeps a graph's meaning: onnxruntime-node runs the original file (dynamic
// shapes, its own opset) and the prepared graph (static, folded, lowered, opset 20) on the same
// input, and their outputs agree. Also: what is left is what the engine can differentiate, and
// weights are shared with the decoded model, not copied.

import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Attr, DType, Graph, Model, Node, TensorConst } from './ir';
import { decodeModel, encodeModel, makeModel, validateModel } from './onnx-proto';
import { FOREIGN_OPS, isWebGpuOp } from './op-types';
import { gradients } from './autodiff';
import { GraphBuilder } from './builder';
import * as op from './ops';
import { prepareStatic, staticOutputDims } from './static-graph';
import { evaluate } from './testing/eval64';
import { mulberry32 } from './testing/reference-encoder';

const FIXTURES = new URL('../foreign/fixtures/', import.meta.url);
const fixture = (path: string) => new Uint8Array(readFileSync(new URL(path, FIXTURES)));

type Feed = { dtype: DType; dims: number[]; data: Float32Array | BigInt64Array | Int32Array };

function randn(seed: number, n: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

async function run(bytes: Uint8Array, feeds: Record<string, Feed>): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims)])));
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, t.data as Float32Array]));
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

/** Prepares `model` for `feeds`' dims and checks the prepared graph against the original under onnxruntime. */
async function expectSameOutputs(bytes: Uint8Array, feeds: Record<string, Feed>, tol = 1e-5) {
  const model = decodeModel(bytes);
  const { graph, stats } = prepareStatic(model, { inputs: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.dims])) });
  const prepared = makeModel(graph);
  expect(validateModel(prepared)).toEqual([]);
  const want = await run(bytes, feeds);
  const got = await run(encodeModel(prepared), feeds);
  for (const o of graph.outputs) {
    expect(o.shape.reduce((a, b) => Number(a) * Number(b), 1)).toBe(want[o.name].length);
    expect(maxRelDiff(got[o.name], want[o.name]), o.name).toBeLessThan(tol);
  }
  return { model, graph, stats };
}

const opsOf = (g: Graph) => [...new Set(g.nodes.map((n) => n.opType))].sort();

describe('prepareStatic on the fixture models', () => {
  it('wav2vec2 (torch export, opset 14): same logits, shape arithmetic folded, InstanceNorm lowered, weights shared', async () => {
    const bytes = fixture('wav2vec2-tiny/onnx/model.onnx');
    const { model, graph, stats } = await expectSameOutputs(bytes, { input_values: { dtype: 'float32', dims: [2, 3200], data: randn(1, 6400, 0.3) } });
    const left = opsOf(graph);
    for (const gone of ['Shape', 'Constant', 'Gather', 'Concat', 'Identity', 'InstanceNormalization']) expect(left).not.toContain(gone);
    // every op left runs on the WebGPU EP
    expect(left.filter((op) => !isWebGpuOp(op))).toEqual([]);
    expect(stats.lowered.InstanceNormalization).toBe(1);
    // opset 14 spells LayerNorm and GELU out: fused back into LayerNormalization and Gelu
    expect(stats.fused.LayerNormalization).toBeGreaterThanOrEqual(5);
    expect(stats.fused.Gelu).toBeGreaterThanOrEqual(3);
    for (const gone of ['Pow', 'Erf', 'Sqrt']) expect(left).not.toContain(gone);
    // weights are the decoded tensors themselves (same buffers), under their own names
    const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
    const shared = graph.initializers.filter((t) => byName.get(t.name) === t);
    const weightBytes = model.graph.initializers.reduce((n, t) => n + t.data.byteLength, 0);
    expect(shared.reduce((n, t) => n + t.data.byteLength, 0)).toBeGreaterThan(0.95 * weightBytes);
    expect(stats.newConstBytes).toBeLessThan(0.05 * weightBytes);
  });

  it('NeMo Conformer-CTC (opset 17, audio_signal + length): same log-probs for a padded batch; only the length path stays off the WebGPU list', async () => {
    const bytes = fixture('nemo-conformer-tiny/model.onnx');
    const T = 64;
    const { graph, stats } = await expectSameOutputs(bytes, {
      audio_signal: { dtype: 'float32', dims: [2, 80, T], data: randn(2, 2 * 80 * T) },
      length: { dtype: 'int64', dims: [2], data: BigInt64Array.of(64n, 41n) },
    });
    expect(graph.outputs[0].shape.slice(0, 2)).toEqual([2, 16]); // 4× subsampling
    expect(stats.lowered.LogSoftmax).toBe(1);
    const off = opsOf(graph).filter((op) => !isWebGpuOp(op));
    expect(off.every((op) => (FOREIGN_OPS as readonly string[]).includes(op))).toBe(true);
    for (const gone of ['Shape', 'ConstantOfShape', 'LogSoftmax', 'Constant']) expect(opsOf(graph)).not.toContain(gone);
  });

  it('NeMo Citrinet-style CTC (convolution only, opset 17): masked convs, integer floor division (Mod, Xor) and GlobalAveragePool lowered; same log-probs for a padded batch', async () => {
    const bytes = fixture('nemo-citrinet-tiny/model.onnx');
    const T = 61;
    const { graph, stats } = await expectSameOutputs(bytes, {
      audio_signal: { dtype: 'float32', dims: [2, 80, T], data: randn(3, 2 * 80 * T) },
      length: { dtype: 'int64', dims: [2], data: BigInt64Array.of(61n, 40n) },
    });
    expect(graph.outputs[0].shape.slice(0, 2)).toEqual([2, 31]); // one stride-2 conv: ⌈T/2⌉
    expect(stats.lowered).toMatchObject({ GlobalAveragePool: 1, LogSoftmax: 1 });
    expect(stats.lowered.Mod).toBeGreaterThan(0);
    expect(stats.lowered.Xor).toBeGreaterThan(0);
    expect(opsOf(graph).filter((op) => !isWebGpuOp(op))).toEqual([]);
  });

  it('a shapes-only pass gives output dims for any input length without touching the weights', () => {
    const model = decodeModel(fixture('wav2vec2-tiny/onnx/model.onnx'));
    // per conv layer L ← ⌊(L − k)/s⌋ + 1, as transformers' _get_feat_extract_output_lengths computes it
    const config = JSON.parse(readFileSync(new URL('wav2vec2-tiny/config.json', FIXTURES), 'utf8')) as { conv_kernel: number[]; conv_stride: number[]; vocab_size: number };
    const frames = (n: number) => config.conv_kernel.reduce((l, k, i) => Math.floor((l - k) / config.conv_stride[i]) + 1, n);
    for (const n of [400, 3200, 16000, 16123]) expect(staticOutputDims(model, { input_values: [1, n] }).logits).toEqual([1, frames(n), config.vocab_size]);
  });
});

// --- small graphs for each rewrite, each in the opset whose semantics it tests -----------------

const I = (value: number): Attr => ({ type: 'int', value });
const IS = (value: number[]): Attr => ({ type: 'ints', value });
const F = (value: number): Attr => ({ type: 'float', value });
const node = (opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node => ({ opType, domain: '', name: `${opType}_${outputs[0]}`, inputs, outputs, attrs });
const f32 = (name: string, dims: number[], seed: number, positive = false): TensorConst => {
  const data = randn(seed, dims.reduce((a, b) => a * b, 1));
  return { name, dtype: 'float32', dims, data: positive ? data.map((v) => 0.5 + Math.abs(v)) : data };
};
const i64 = (name: string, values: number[]): TensorConst => ({ name, dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values, BigInt) });

function modelOf(opset: number, nodes: Node[], inputs: [string, number[]][], initializers: TensorConst[], outputs = ['y']): Uint8Array {
  const graph: Graph = {
    name: 'case',
    nodes,
    inputs: inputs.map(([name, dims]) => ({ name, dtype: 'float32', shape: dims.map((d, i) => (i === 0 ? 'batch' : d)) })),
    outputs: outputs.map((name) => ({ name, dtype: 'float32', shape: [] })),
    initializers,
    valueInfo: [],
  };
  const m: Model = makeModel(graph, { opsets: [{ domain: '', version: opset }], irVersion: opset >= 18 ? 8 : 7 });
  return encodeModel(m);
}

describe('prepareStatic rewrites', () => {
  const x = (dims: number[], seed = 7): Record<string, Feed> => ({ x: { dtype: 'float32', dims, data: randn(seed, dims.reduce((a, b) => a * b, 1)) } });

  it('opset 11: axes, split and pads attributes become inputs; coerced Softmax over two axes', async () => {
    const bytes = modelOf(11, [
      node('ReduceMean', ['x'], ['m'], { axes: IS([-1]), keepdims: I(1) }),
      node('Sub', ['x', 'm'], ['c']),
      node('Unsqueeze', ['c'], ['u'], { axes: IS([1]) }),
      node('Squeeze', ['u'], ['s'], { axes: IS([1]) }),
      node('Split', ['s'], ['a', 'b'], { axis: I(2), split: IS([2, 3]) }),
      node('Softmax', ['a'], ['sa'], { axis: I(1) }),
      node('ReduceSum', ['b'], ['rb'], { axes: IS([2]), keepdims: I(1) }),
      node('Mul', ['sa', 'rb'], ['y']),
    ], [['x', [2, 3, 5]]], []);
    const { graph } = await expectSameOutputs(bytes, x([2, 3, 5]));
    expect(graph.nodes.every((n) => !n.attrs.axes && !n.attrs.split)).toBe(true);
  });

  it('opset 9: Conv auto_pad, Clip, Pad and Slice attributes', async () => {
    const bytes = modelOf(9, [
      node('Conv', ['x', 'w'], ['c'], { auto_pad: { type: 'string', value: 'SAME_UPPER' }, strides: IS([2]) }),
      node('Clip', ['c'], ['k'], { min: F(-0.5), max: F(0.75) }),
      node('Pad', ['k'], ['p'], { pads: IS([0, 0, 2, 0, 0, 1]), value: F(0.25) }),
      node('Slice', ['p'], ['y'], { starts: IS([1]), ends: IS([-1]), axes: IS([2]) }),
    ], [['x', [2, 3, 9]]], [f32('w', [4, 3, 4], 14)]);
    const { graph } = await expectSameOutputs(bytes, x([2, 3, 9]));
    expect(opsOf(graph)).toEqual(['Clip', 'Conv', 'Pad', 'Slice']);
  });

  it('BatchNormalization (inference) folds into a per-channel scale and shift', async () => {
    const bytes = modelOf(14, [node('BatchNormalization', ['x', 'g', 'b', 'mu', 'var'], ['y'], { epsilon: F(1e-3) })], [['x', [2, 4, 6]]], [
      f32('g', [4], 1), f32('b', [4], 2), f32('mu', [4], 3), f32('var', [4], 4, true),
    ]);
    const { graph } = await expectSameOutputs(bytes, x([2, 4, 6]));
    expect(opsOf(graph)).toEqual(['Add', 'Mul']);
  });

  it('InstanceNormalization with an affine, GroupNormalization (opset 18, per-group and per-channel γ)', async () => {
    await expectSameOutputs(modelOf(14, [node('InstanceNormalization', ['x', 'g', 'b'], ['y'], { epsilon: F(1e-4) })], [['x', [2, 3, 7]]], [f32('g', [3], 5), f32('b', [3], 6)]), x([2, 3, 7]));
    // opset 18 gives γ and β one value per group (the spec changed that in opset 21)
    const perGroup = await expectSameOutputs(modelOf(18, [node('GroupNormalization', ['x', 'g', 'b'], ['y'], { num_groups: I(2), epsilon: F(1e-5) })], [['x', [2, 4, 5]]], [f32('g', [2], 7), f32('b', [2], 8)]), x([2, 4, 5]));
    expect(opsOf(perGroup.graph)).toEqual(['Add', 'LayerNormalization', 'Mul', 'Reshape']);
  });

  it('LogSoftmax, ReduceL2 weight norm on a frozen weight, LeakyRelu, Sum, GreaterOrEqual', async () => {
    const bytes = modelOf(14, [
      // weight norm: w = g · v / ‖v‖ over the input axis, folded to one weight
      node('ReduceL2', ['v'], ['vn'], { axes: IS([0]), keepdims: I(1) }),
      node('Div', ['v', 'vn'], ['vd']),
      node('Mul', ['vd', 'g'], ['w']),
      node('MatMul', ['x', 'w'], ['h']),
      node('LeakyRelu', ['h'], ['lr'], { alpha: F(0.2) }),
      node('Sum', ['lr', 'h', 'x2'], ['s']),
      node('Constant', [], ['zero'], { value: { type: 'tensor', value: { name: '', dtype: 'float32', dims: [], data: Float32Array.of(0) } } }),
      node('GreaterOrEqual', ['s', 'zero'], ['ge']),
      node('Where', ['ge', 's', 'h'], ['wsel']),
      node('LogSoftmax', ['wsel'], ['y'], { axis: I(-1) }),
    ], [['x', [2, 3, 4]]], [f32('v', [4, 4], 9), f32('g', [1, 4], 10), f32('x2', [4], 11)]);
    const { graph } = await expectSameOutputs(bytes, x([2, 3, 4]));
    const ops = opsOf(graph);
    expect(ops).not.toContain('ReduceL2');
    expect(ops).not.toContain('LogSoftmax');
    expect(ops.filter((op) => !isWebGpuOp(op))).toEqual([]);
    expect(graph.nodes.find((n) => n.opType === 'MatMul')!.inputs[1]).toBe('w'); // the folded weight, named by the exporter
  });

  it('GlobalAveragePool, GlobalMaxPool (1-D and 2-D), Xor, and integer Mod (fmod 0 and 1, every sign)', async () => {
    const pooled = await expectSameOutputs(modelOf(17, [
      node('GlobalAveragePool', ['x'], ['a']), node('GlobalMaxPool', ['x'], ['m']), node('Mul', ['x', 'a'], ['xa']), node('Add', ['xa', 'm'], ['y']),
    ], [['x', [2, 3, 7]]], []), x([2, 3, 7]));
    expect(opsOf(pooled.graph)).toEqual(['Add', 'Mul', 'ReduceMax', 'ReduceMean']);
    await expectSameOutputs(modelOf(17, [node('GlobalAveragePool', ['x'], ['a']), node('Sub', ['x', 'a'], ['y'])], [['x', [2, 3, 4, 5]]], []), x([2, 3, 4, 5]));
    // integers from a float input (Cast), so the runtime values are not folded away
    const ints = (name: string): Node[] => [node('Mul', ['x', 'ten'], [`${name}_s`]), node('Floor', [`${name}_s`], [`${name}_f`]), node('Cast', [`${name}_f`], [name], { to: I(7) })];
    const bytes = modelOf(17, [
      ...ints('a'),
      node('Mod', ['a', 'b'], ['m0']), node('Mod', ['a', 'b'], ['m1'], { fmod: I(1) }),
      node('Less', ['a', 'zero'], ['an']), node('Less', ['b', 'zero'], ['bn']), node('Xor', ['an', 'bn'], ['xr']), node('Cast', ['xr'], ['xf'], { to: I(7) }),
      node('Add', ['m0', 'm1'], ['s1']), node('Mul', ['s1', 'three'], ['s2']), node('Add', ['s2', 'xf'], ['s3']), node('Cast', ['s3'], ['y'], { to: I(1) }),
    ], [['x', [2, 6]]], [
      i64('b', [3, -3, 4, -4, 5, 7]), { name: 'zero', dtype: 'int64', dims: [], data: BigInt64Array.of(0n) },
      { name: 'ten', dtype: 'float32', dims: [], data: Float32Array.of(10) }, { name: 'three', dtype: 'int64', dims: [], data: BigInt64Array.of(3n) },
    ]);
    const { graph, stats } = await expectSameOutputs(bytes, x([2, 6], 33));
    expect(stats.lowered).toMatchObject({ Mod: 2, Xor: 1 });
    expect(opsOf(graph)).not.toContain('Mod');
    expect(opsOf(graph)).not.toContain('Xor');
  });

  it('keep: a trained initializer is not folded through', () => {
    const bytes = modelOf(14, [node('Mul', ['v', 'g'], ['w']), node('MatMul', ['x', 'w'], ['y'])], [['x', [2, 4]]], [f32('v', [4, 4], 12), f32('g', [1, 4], 13)]);
    const model = decodeModel(bytes);
    expect(prepareStatic(model, { inputs: { x: [2, 4] } }).graph.nodes.map((n) => n.opType)).toEqual(['MatMul']);
    expect(prepareStatic(model, { inputs: { x: [2, 4] }, keep: (n) => n === 'g' }).graph.nodes.map((n) => n.opType)).toEqual(['Mul', 'MatMul']);
  });

  it('refuses an op it cannot handle, naming the node and the op', () => {
    const bytes = modelOf(14, [node('Einsum', ['x', 'x'], ['y'], { equation: { type: 'string', value: 'ij,ij->i' } })], [['x', [2, 4]]], []);
    expect(() => prepareStatic(decodeModel(bytes), { inputs: { x: [2, 4] } })).toThrow(/node 'Einsum_y' \(Einsum\): operator Einsum is not supported/);
  });
});

// Lowered ops have no gradient rule of their own: their gradient is the chain of the primitives'
// rules. Checked here end to end, in float64, against central finite differences of the prepared
// graph (eval64), with a fixed random upstream gradient.
describe('gradients through lowered ops', () => {
  const cases: [string, Uint8Array, number[]][] = [
    ['InstanceNormalization with affine', modelOf(14, [node('InstanceNormalization', ['x', 'g', 'b'], ['y'], { epsilon: F(1e-3) })], [['x', [2, 3, 5]]], [f32('g', [3], 21), f32('b', [3], 22)]), [2, 3, 5]],
    ['torch GroupNorm: Reshape, InstanceNorm, Reshape, affine', modelOf(14, [
      node('Reshape', ['x', 'grp'], ['r']),
      node('InstanceNormalization', ['r', 'one', 'zero'], ['n'], { epsilon: F(1e-3) }),
      node('Shape', ['x'], ['xs']),
      node('Reshape', ['n', 'xs'], ['nb']),
      node('Mul', ['nb', 'g'], ['m']),
      node('Add', ['m', 'b'], ['y']),
    ], [['x', [2, 4, 3]]], [i64('grp', [0, 2, -1]), { name: 'one', dtype: 'float32', dims: [2], data: Float32Array.of(1, 1) }, { name: 'zero', dtype: 'float32', dims: [2], data: Float32Array.of(0, 0) }, f32('g', [4, 1], 23), f32('b', [4, 1], 24)]), [2, 4, 3]],
    ['GroupNormalization (opset 18)', modelOf(18, [node('GroupNormalization', ['x', 'g', 'b'], ['y'], { num_groups: I(2), epsilon: F(1e-3) })], [['x', [2, 4, 3]]], [f32('g', [2], 25), f32('b', [2], 26)]), [2, 4, 3]],
    ['BatchNormalization (inference)', modelOf(14, [node('BatchNormalization', ['x', 'g', 'b', 'mu', 'var'], ['y'])], [['x', [2, 3, 4]]], [f32('g', [3], 27), f32('b', [3], 28), f32('mu', [3], 29), f32('var', [3], 30, true)]), [2, 3, 4]],
    ['LogSoftmax', modelOf(14, [node('LogSoftmax', ['x'], ['y'], { axis: I(-1) })], [['x', [2, 3, 5]]], []), [2, 3, 5]],
    ['GlobalAveragePool and GlobalMaxPool in a squeeze-excitation', modelOf(17, [
      node('GlobalAveragePool', ['x'], ['a']), node('GlobalMaxPool', ['x'], ['m']), node('Add', ['a', 'm'], ['s']), node('Sigmoid', ['s'], ['g']), node('Mul', ['x', 'g'], ['y']),
    ], [['x', [2, 3, 5]]], []), [2, 3, 5]],
    ['decomposed LayerNorm and erf-GELU, fused', modelOf(14, [
      node('ReduceMean', ['x'], ['m'], { axes: IS([-1]) }), node('Sub', ['x', 'm'], ['d']), node('Pow', ['d', 'two'], ['p']),
      node('ReduceMean', ['p'], ['v'], { axes: IS([-1]) }), node('Add', ['v', 'eps'], ['e']), node('Sqrt', ['e'], ['s']),
      node('Div', ['d', 's'], ['n']), node('Mul', ['n', 'g'], ['ng']), node('Add', ['ng', 'b'], ['ln']),
      node('Div', ['ln', 'sqrt2'], ['u']), node('Erf', ['u'], ['eu']), node('Add', ['eu', 'one'], ['a1']), node('Mul', ['ln', 'a1'], ['xm']), node('Mul', ['xm', 'half'], ['y']),
    ], [['x', [2, 3, 6]]], [
      { name: 'two', dtype: 'float32', dims: [], data: Float32Array.of(2) }, { name: 'eps', dtype: 'float32', dims: [], data: Float32Array.of(1e-5) },
      { name: 'sqrt2', dtype: 'float32', dims: [], data: Float32Array.of(Math.SQRT2) }, { name: 'one', dtype: 'float32', dims: [], data: Float32Array.of(1) },
      { name: 'half', dtype: 'float32', dims: [], data: Float32Array.of(0.5) }, f32('g', [6], 31), f32('b', [6], 32),
    ]), [2, 3, 6]],
  ];

  it.each(cases)('%s', (_label, bytes, dims) => {
    const { graph, stats } = prepareStatic(decodeModel(bytes), { inputs: { x: dims } });
    expect(Object.keys(stats.lowered).length + Object.keys(stats.fused).length).toBeGreaterThan(0);
    const g = GraphBuilder.fromGraph(graph);
    g.outputs.splice(0);
    const y = g.value('y');
    const n = dims.reduce((a, b) => a * b, 1);
    const r = g.constant('float32', y.dims, Array.from(randn(40, n)));
    const loss = op.sumAll(op.mul(y, r));
    g.output(loss, 'loss');
    const dx = gradients(g, { loss, wrt: [g.value('x')] }).get('x')!;
    g.output(dx, 'dx');
    const built = g.build();
    const x = Float64Array.from(randn(41, n));
    const at = (data: Float64Array, outs: string[]) => evaluate(built, { x: { dtype: 'float32', dims, data } }, outs);
    const analytic = at(x, ['dx']).dx.data as Float64Array;
    const h = 1e-6;
    for (let i = 0; i < n; i++) {
      const shifted = (d: number) => {
        const xi = Float64Array.from(x);
        xi[i] += d;
        return (at(xi, ['loss']).loss.data as Float64Array)[0];
      };
      const numeric = (shifted(h) - shifted(-h)) / (2 * h);
      expect(Math.abs(analytic[i] - numeric), `dx[${i}]`).toBeLessThan(1e-6 + 1e-6 * Math.abs(numeric));
    }
  });
});
