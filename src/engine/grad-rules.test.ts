// Every gradient rule against central finite differences, in float64 (eval64), and the same
// gradient graphs run by onnxruntime-node in float32. A rule without a case fails the suite.
// Each case's upstream gradient is a fixed random tensor (not ones), so a missing transpose or a
// swapped operand shows up.

import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { gradients } from './autodiff';
import { GraphBuilder, type Value } from './builder';
import { gradRules, NON_DIFFERENTIABLE } from './grad-rules';
import { encodeModel, makeModel } from './onnx-proto';
import { isWebGpuOp } from './op-types';
import * as op from './ops';
import { evaluate, type Tensor64 } from './testing/eval64';
import { mulberry32 } from './testing/reference-encoder';

type Domain = 'any' | 'positive' | 'awayFromZero' | 'distinct';

interface GradCase {
  label: string;
  inputs: { shape: number[]; domain?: Domain }[];
  build: (g: GraphBuilder, ...xs: Value[]) => Value | Value[];
}

const c = (label: string, inputs: GradCase['inputs'], build: GradCase['build']): GradCase => ({ label, inputs, build });
const un = (f: (x: Value) => Value, domain: Domain = 'any', shape = [2, 3]) => [c('unary', [{ shape, domain }], (_g, x) => f(x))];

const cases: Record<keyof typeof gradRules, GradCase[] | typeof NON_DIFFERENTIABLE> = {
  Add: [c('same shape', [{ shape: [2, 3] }, { shape: [2, 3] }], (_g, a, b) => op.add(a, b)), c('broadcast', [{ shape: [2, 3] }, { shape: [3] }], (_g, a, b) => op.add(a, b))],
  Sub: [c('broadcast both ways', [{ shape: [2, 1] }, { shape: [1, 3] }], (_g, a, b) => op.sub(a, b))],
  Mul: [c('broadcast', [{ shape: [2, 1, 4] }, { shape: [3, 1] }], (_g, a, b) => op.mul(a, b))],
  Div: [c('broadcast', [{ shape: [2, 3] }, { shape: [3], domain: 'awayFromZero' }], (_g, a, b) => op.div(a, b))],
  Pow: [
    c('tensor exponent', [{ shape: [2, 3], domain: 'positive' }, { shape: [2, 3] }], (_g, a, b) => op.pow(a, b)),
    c('constant exponent', [{ shape: [2, 3], domain: 'positive' }], (_g, a) => op.pow(a, 1.7)),
  ],
  Max: [c('binary', [{ shape: [2, 3] }, { shape: [2, 3] }], (_g, a, b) => op.max(a, b))],
  Min: [c('binary', [{ shape: [2, 3] }, { shape: [3] }], (_g, a, b) => op.min(a, b))],
  Neg: un(op.neg),
  Sqrt: un(op.sqrt, 'positive'),
  Reciprocal: un(op.reciprocal, 'awayFromZero'),
  Exp: un(op.exp),
  Log: un(op.log, 'positive'),
  Abs: un(op.abs, 'awayFromZero'),
  Clip: [c('both bounds', [{ shape: [3, 4] }], (_g, x) => op.clip(x, -0.5, 0.55)), c('lower bound', [{ shape: [3, 4] }], (_g, x) => op.clip(x, 0.05))],
  Erf: un(op.erf),
  Tanh: un(op.tanh),
  Sigmoid: un(op.sigmoid),
  Relu: un(op.relu, 'awayFromZero'),
  Gelu: [...un((x) => op.gelu(x)), ...un((x) => op.gelu(x, 'tanh'))],
  Identity: un(op.identity),
  Cast: [c('float32→float64→float32', [{ shape: [2, 3] }], (_g, x) => op.cast(op.mul(op.cast(x, 'float64'), 3), 'float32'))],
  Where: [c('broadcast condition', [{ shape: [2, 3] }, { shape: [3] }], (g, a, b) => op.where(op.greater(a, g.scalar(0)), a, b))],
  Equal: NON_DIFFERENTIABLE,
  Greater: NON_DIFFERENTIABLE,
  Less: NON_DIFFERENTIABLE,
  Not: NON_DIFFERENTIABLE,
  And: NON_DIFFERENTIABLE,
  ReduceSum: [
    c('keepdims', [{ shape: [2, 3, 4] }], (_g, x) => op.reduceSum(x, [1])),
    c('drop dims', [{ shape: [2, 3, 4] }], (_g, x) => op.reduceSum(x, [0, 2], false)),
    c('all', [{ shape: [2, 3] }], (_g, x) => op.sumAll(x)),
  ],
  ReduceMean: [c('keepdims', [{ shape: [2, 3, 4] }], (_g, x) => op.reduceMean(x, [-1])), c('drop dims', [{ shape: [2, 3, 4] }], (_g, x) => op.reduceMean(x, [1], false))],
  ReduceMax: [c('keepdims', [{ shape: [3, 4], domain: 'distinct' }], (_g, x) => op.reduceMax(x, [1])), c('drop dims', [{ shape: [3, 4], domain: 'distinct' }], (_g, x) => op.reduceMax(x, [0], false))],
  MatMul: [
    c('2-D', [{ shape: [3, 4] }, { shape: [4, 5] }], (_g, a, b) => op.matmul(a, b)),
    c('batch × matrix', [{ shape: [2, 3, 4] }, { shape: [4, 5] }], (_g, a, b) => op.matmul(a, b)),
    // LoRA's x·A·B: the 2-D gradient of one product feeds the next without reshaping back and forth
    c('batch × matrix × matrix', [{ shape: [2, 3, 4] }, { shape: [4, 2] }, { shape: [2, 5] }], (_g, x, a, b) => op.matmul(op.matmul(x, a), b)),
    c('broadcast batches', [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 2] }], (_g, a, b) => op.matmul(a, b)),
  ],
  Gemm: [
    c('plain with bias', [{ shape: [3, 4] }, { shape: [4, 5] }, { shape: [5] }], (_g, a, b, cc) => op.gemm(a, b, cc, { alpha: 0.7, beta: 1.3 })),
    c('transA', [{ shape: [4, 3] }, { shape: [4, 5] }], (_g, a, b) => op.gemm(a, b, null, { transA: true })),
    c('transB', [{ shape: [3, 4] }, { shape: [5, 4] }, { shape: [3, 5] }], (_g, a, b, cc) => op.gemm(a, b, cc, { transB: true })),
    c('transA transB', [{ shape: [4, 3] }, { shape: [5, 4] }], (_g, a, b) => op.gemm(a, b, null, { transA: true, transB: true, alpha: 2 })),
  ],
  Conv: [
    c('plain', [{ shape: [2, 3, 9] }, { shape: [4, 3, 3] }, { shape: [4] }], (_g, x, w, b) => op.conv1d(x, w, b, { pads: [1, 1] })),
    c('strided, asymmetric pads', [{ shape: [2, 2, 10] }, { shape: [3, 2, 3] }], (_g, x, w) => op.conv1d(x, w, null, { stride: 2, pads: [1, 0] })),
    c('dilated', [{ shape: [1, 2, 11] }, { shape: [2, 2, 3] }], (_g, x, w) => op.conv1d(x, w, null, { dilation: 2, pads: [2, 2] })),
    c('grouped', [{ shape: [2, 4, 8] }, { shape: [6, 2, 3] }], (_g, x, w) => op.conv1d(x, w, null, { group: 2, pads: [1, 1] })),
    // the speech model's conv module: depthwise, stride 1, 'same' pads (dx as a Conv with the kernel flipped)
    c('depthwise, same pads', [{ shape: [2, 3, 9] }, { shape: [3, 1, 5] }, { shape: [3] }], (_g, x, w, b) => op.conv1d(x, w, b, { group: 3, pads: [2, 2] })),
    c('depthwise, dilated, asymmetric pads', [{ shape: [1, 2, 10] }, { shape: [2, 1, 3] }], (_g, x, w) => op.conv1d(x, w, null, { group: 2, dilation: 2, pads: [3, 1] })),
    c('depthwise, strided', [{ shape: [2, 3, 9] }, { shape: [3, 1, 3] }, { shape: [3] }], (_g, x, w, b) => op.conv1d(x, w, b, { group: 3, stride: 2, pads: [1, 1] })),
    // NeMo's striding subsampling: Conv2d(1 → C, 3×3, stride 2, pad 1) on [B, 1, T, F]
    c('2-D strided, padded, bias', [{ shape: [2, 1, 7, 6] }, { shape: [3, 1, 3, 3] }, { shape: [3] }], (g, x, w, b) => g.emit('Conv', [x, w, b], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })[0]),
    c('2-D grouped, dilated, asymmetric', [{ shape: [1, 4, 6, 5] }, { shape: [4, 2, 2, 3] }], (g, x, w) => g.emit('Conv', [x, w], { kernel_shape: [2, 3], strides: [1, 2], dilations: [2, 1], pads: [1, 0, 0, 1], group: 2 })[0]),
    c('2-D depthwise', [{ shape: [1, 3, 5, 5] }, { shape: [3, 1, 3, 3] }], (g, x, w) => g.emit('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 3 })[0]),
  ],
  ConvTranspose: [
    c('plain', [{ shape: [2, 3, 5] }, { shape: [3, 2, 3] }, { shape: [2] }], (_g, x, w, b) => op.convTranspose1d(x, w, b)),
    c('strided, padded, output padding', [{ shape: [1, 2, 4] }, { shape: [2, 3, 3] }], (_g, x, w) => op.convTranspose1d(x, w, null, { stride: 2, pads: [1, 1], outputPadding: 1 })),
    c('grouped', [{ shape: [2, 4, 5] }, { shape: [4, 1, 2] }], (_g, x, w) => op.convTranspose1d(x, w, null, { group: 2 })),
    c('2-D strided, output padding', [{ shape: [1, 2, 3, 4] }, { shape: [2, 3, 3, 2] }, { shape: [3] }], (g, x, w, b) => g.emit('ConvTranspose', [x, w, b], { kernel_shape: [3, 2], strides: [2, 2], output_padding: [1, 0], pads: [1, 0, 1, 1] })[0]),
  ],
  Softmax: [c('last axis', [{ shape: [2, 5] }], (_g, x) => op.softmax(x)), c('middle axis', [{ shape: [2, 3, 4] }], (_g, x) => op.softmax(x, 1))],
  LayerNormalization: [c('scale and bias', [{ shape: [2, 3, 6] }, { shape: [6] }, { shape: [6] }], (_g, x, s, b) => op.layerNorm(x, s, b, 1e-5))],
  Transpose: [c('3-D', [{ shape: [2, 3, 4] }], (_g, x) => op.transpose(x, [2, 0, 1]))],
  Reshape: [c('with -1', [{ shape: [2, 3, 4] }], (_g, x) => op.reshape(x, [4, -1]))],
  Unsqueeze: [c('two axes', [{ shape: [2, 3] }], (_g, x) => op.unsqueeze(x, [0, 3]))],
  Squeeze: [c('one axis', [{ shape: [2, 1, 3] }], (_g, x) => op.squeeze(x, [1]))],
  Expand: [c('broadcast up', [{ shape: [3, 1] }], (_g, x) => op.expand(x, [2, 3, 4]))],
  Concat: [c('three inputs', [{ shape: [2, 1] }, { shape: [2, 3] }, { shape: [2, 2] }], (_g, a, b, cc) => op.concat([a, b, cc], 1))],
  Split: [
    c('used outputs', [{ shape: [2, 6] }], (_g, x) => op.split(x, [1, 2, 3], 1)),
    c('one output unused', [{ shape: [5, 2] }], (_g, x) => op.split(x, [2, 3], 0)[1]),
  ],
  Slice: [
    c('two axes', [{ shape: [4, 6] }], (_g, x) => op.slice(x, [0, 1], [1, -4], [3, 100])),
    c('negative start', [{ shape: [3, 5] }], (_g, x) => op.slice(x, [1], [-3], [-1])),
    c('steps, trailing zeros cut', [{ shape: [7, 4] }], (_g, x) => op.slice(x, [0, 1], [1, 0], [7, 4], [3, 2])),
    c('steps past the end', [{ shape: [3, 9] }], (_g, x) => op.slice(x, [1], [2], [100], [4])),
  ],
  Pad: [c('zeros both sides', [{ shape: [2, 3] }], (_g, x) => op.pad(x, [1, 0, 0, 2]))],
  Tile: [c('three axes', [{ shape: [2, 1, 3] }], (_g, x) => op.tile(x, [2, 3, 1])), c('no repeat', [{ shape: [2, 3] }], (_g, x) => op.tile(x, [1, 1]))],
  Floor: NON_DIFFERENTIABLE,
  Ceil: NON_DIFFERENTIABLE,
  Range: NON_DIFFERENTIABLE,
  Gather: [
    c('rows of a matrix', [{ shape: [5, 3] }], (g, x) => op.gather(x, g.constant('int32', [4], [4, 0, 4, 2]))),
    c('2-D indices into a 3-D table', [{ shape: [4, 2, 3] }], (g, x) => op.gather(x, g.constant('int64', [2, 2], [1, 3, 1, 0]))),
  ],
};

function randomInput(rand: () => number, shape: number[], domain: Domain = 'any'): Float64Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 2 * rand() - 1;
    if (domain === 'positive') a[i] = 0.3 + 1.5 * rand();
    else if (domain === 'awayFromZero') a[i] = Math.sign(u || 1) * (0.2 + Math.abs(u));
    else if (domain === 'distinct') a[i] = i * 0.37 - Math.floor(i * 0.37) + 0.1 * u; // well separated, no ties
    else a[i] = u;
  }
  return a;
}

interface Prepared {
  g: GraphBuilder;
  xs: Value[];
  feeds: Record<string, Tensor64>;
  grads: Map<string, Value>;
}

/** loss = Σ_outputs Σ out ⊙ r with fixed random r: an upstream gradient that is not all ones. */
function prepare(gc: GradCase, seed: number): Prepared {
  const rand = mulberry32(seed);
  const g = new GraphBuilder('grad_check');
  const xs = gc.inputs.map((inp, i) => g.input(`x${i}`, 'float32', inp.shape));
  const feeds: Record<string, Tensor64> = {};
  gc.inputs.forEach((inp, i) => (feeds[`x${i}`] = { dtype: 'float32', dims: inp.shape, data: randomInput(rand, inp.shape, inp.domain) }));
  const outs = [gc.build(g, ...xs)].flat();
  const terms = outs.map((o) => {
    const r = g.constant('float32', o.dims, Array.from({ length: o.dims.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1));
    return op.sumAll(op.mul(o, r));
  });
  const loss = terms.reduce((a, b) => op.add(a, b));
  g.output(loss, 'loss');
  const grads = gradients(g, { loss, wrt: xs });
  for (const [name, v] of grads) g.output(v, `grad.${name}`);
  return { g, xs, feeds, grads };
}

describe('gradient table', () => {
  it('has a finite-difference case for every rule', () => {
    for (const opType of Object.keys(gradRules)) expect(cases, `no case for ${opType}`).toHaveProperty(opType);
    for (const [opType, cs] of Object.entries(cases)) {
      if (cs === NON_DIFFERENTIABLE) expect(gradRules[opType as keyof typeof gradRules]).toBe(NON_DIFFERENTIABLE);
      else expect(cs.length).toBeGreaterThan(0);
    }
  });

  const table = Object.entries(cases).flatMap(([opType, cs]) => (cs === NON_DIFFERENTIABLE ? [] : cs.map((gc, k) => [`${opType}: ${gc.label}`, gc, opType, k] as const)));

  it.each(table)('%s', async (_label, gc, opType, k) => {
    const { g, xs, feeds } = prepare(gc, 1000 + k);
    const graph = g.build();
    // the op under test is actually in the forward graph, and every emitted node runs on WebGPU
    expect(graph.nodes.some((n) => n.opType === opType)).toBe(true);
    for (const n of graph.nodes) expect(isWebGpuOp(n.opType, n.domain), `${n.opType} in ${n.name}`).toBe(true);

    const analytic = evaluate(graph, feeds);
    const lossAt = (name: string, i: number, delta: number) => {
      const data = Float64Array.from(feeds[name].data as Float64Array);
      data[i] += delta;
      return (evaluate(graph, { ...feeds, [name]: { ...feeds[name], data } }, ['loss']).loss.data as Float64Array)[0];
    };
    const h = 1e-6;
    for (const x of xs) {
      const got = analytic[`grad.${x.name}`];
      expect(got, `gradient for ${x.name}`).toBeDefined();
      expect(got.dims).toEqual(x.dims);
      const n = (feeds[x.name].data as Float64Array).length;
      for (let i = 0; i < n; i++) {
        const numeric = (lossAt(x.name, i, h) - lossAt(x.name, i, -h)) / (2 * h);
        const a = (got.data as Float64Array)[i];
        expect(Math.abs(a - numeric), `${x.name}[${i}]: analytic ${a}, numeric ${numeric}`).toBeLessThan(1e-6 + 1e-6 * Math.abs(numeric));
      }
    }

    // the same gradient graph in onnxruntime (float32) agrees with the float64 evaluation
    const session = await ort.InferenceSession.create(encodeModel(makeModel(graph)));
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor('float32', Float32Array.from(t.data as Float64Array), t.dims);
    const out = await session.run(ortFeeds);
    for (const x of xs) {
      const ref = analytic[`grad.${x.name}`].data as Float64Array;
      const got = out[`grad.${x.name}`].data as Float32Array;
      const scale = Math.max(1, ...Array.from(ref, Math.abs));
      ref.forEach((r, i) => expect(Math.abs(got[i] - r), `onnxruntime ${x.name}[${i}]`).toBeLessThan(1e-4 * scale));
    }
  });
});
