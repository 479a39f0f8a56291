// Dequantisation against onnxruntime: the dequantised graph agrees with the int8 graph it came
// from within the int8 model's own activation-quantisation error, and exactly (to float32
// rounding) with a float graph built from independently dequantised weights.

import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { dequantizeModel, isQuantized } from './dequantize';
import type { Attr, Graph, Node, TensorConst } from './ir';
import { decodeModel, encodeModel, makeModel, validateModel } from './onnx-proto';
import { prepareStatic } from './static-graph';
import { mulberry32 } from './testing/reference-encoder';

const FIXTURES = new URL('../foreign/fixtures/', import.meta.url);
const fixture = (path: string) => new Uint8Array(readFileSync(new URL(path, FIXTURES)));

async function run(bytes: Uint8Array, name: string, data: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ [name]: new ort.Tensor('float32', data, dims) });
  await s.release();
  return Object.values(out)[0].data as Float32Array;
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const noise = (seed: number, n: number, scale: number) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
};

describe('dequantizeModel', () => {
  it('wav2vec2 model_quantized.onnx: float MatMuls under the float export’s node and weight names, output within the int8 model’s error', async () => {
    const qBytes = fixture('wav2vec2-tiny/onnx/model_quantized.onnx');
    const fBytes = fixture('wav2vec2-tiny/onnx/model.onnx');
    const q = decodeModel(qBytes);
    const f = decodeModel(fBytes);
    expect(isQuantized(q)).toBe(true);
    const { model: dq, report } = dequantizeModel(q);
    expect(isQuantized(dq)).toBe(false);
    expect(validateModel(dq)).toEqual([]);
    expect(dq.opsets.map((o) => o.domain)).toEqual(['']);
    expect(report.matmul).toBe(14);
    expect(report.floatBytes).toBe(4 * report.intBytes); // uint8 weights → float32

    // the projections carry the float export's node names and weight names
    const matmuls = (m: typeof q) => m.graph.nodes.filter((n) => n.opType === 'MatMul' && m.graph.initializers.some((t) => t.name === n.inputs[1])).map((n) => `${n.name} ${n.inputs[1]}`).sort();
    expect(matmuls(dq)).toEqual(matmuls(f));
    // each dequantised weight is the float weight to within half a quantisation step
    const fw = new Map(f.graph.initializers.map((t) => [t.name, t.data as Float32Array]));
    for (const n of dq.graph.nodes.filter((x) => x.opType === 'MatMul')) {
      const w = dq.graph.initializers.find((t) => t.name === n.inputs[1]);
      if (!w) continue;
      const ref = fw.get(w.name)!;
      const step = (Math.max(...ref) - Math.min(0, ...ref)) / 255;
      expect(maxDiff(w.data as Float32Array, ref), w.name).toBeLessThanOrEqual(0.5 * step * 1.0001);
    }

    const x = noise(3, 2 * 3200, 0.5);
    const want = await run(qBytes, 'input_values', x, [2, 3200]);
    const got = await run(encodeModel(dq), 'input_values', x, [2, 3200]);
    const float = await run(fBytes, 'input_values', x, [2, 3200]);
    // int8 vs dequantised: the activation quantisation error; dequantised vs float: the weight rounding
    const errInt8 = maxDiff(got, want) / maxAbs(want);
    const errFloat = maxDiff(got, float) / maxAbs(float);
    expect(errInt8).toBeLessThan(0.05);
    expect(errFloat).toBeLessThan(0.05);
    console.info(`wav2vec2-tiny: dequantised vs int8 model ${(100 * errInt8).toFixed(2)}%, vs float model ${(100 * errFloat).toFixed(2)}% of max |logit|`);

    // and it goes through static preparation like any float model
    const { graph } = prepareStatic(dq, { inputs: { input_values: [2, 3200] } });
    expect(graph.nodes.some((n) => /Integer|Quantize/.test(n.opType))).toBe(false);
  });

  it('ConvInteger, MatMulInteger with per-column int8 zero points, DequantizeLinear per axis: equal to a float graph of the same weights', async () => {
    const r = mulberry32(11);
    const u8 = (name: string, dims: number[]): TensorConst => ({ name, dtype: 'uint8', dims, data: Uint8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.floor(256 * r())) });
    const s8 = (name: string, dims: number[]): TensorConst => ({ name, dtype: 'int8', dims, data: Int8Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => Math.floor(256 * r()) - 128) });
    const f = (name: string, dims: number[], lo: number, hi: number): TensorConst => ({ name, dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * r()) });
    const ints = (value: number[]): Attr => ({ type: 'ints', value });
    const n = (opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): Node => ({ opType, domain: '', name, inputs, outputs, attrs });
    const weights = {
      conv: u8('conv.w_quantized', [4, 3, 3]), convZp: u8('conv.w_zero_point', []), convScale: f('conv.w_scale', [], 0.002, 0.004),
      mm: s8('mm.w_quantized', [4, 5]), mmZp: s8('mm.w_zero_point', [5]), mmScale: f('mm.w_scale', [5], 0.001, 0.01),
      dq: s8('dq.w', [5, 3]), dqZp: s8('dq.zp', [3]), dqScale: f('dq.scale', [3], 0.005, 0.02),
    };
    const graph: Graph = {
      name: 'quantized',
      nodes: [
        n('DynamicQuantizeLinear', 'x_QuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
        n('ConvInteger', '/conv/Conv_quant', ['xq', 'conv.w_quantized', 'xz', 'conv.w_zero_point'], ['ci'], { pads: ints([1, 1]), kernel_shape: ints([3]) }),
        n('Cast', 'ci_cast', ['ci'], ['cf'], { to: { type: 'int', value: 1 } }),
        n('Mul', '/conv/Conv_quant_scales_mul', ['xs', 'conv.w_scale'], ['cs']),
        n('Mul', '/conv/Conv_quant_output_scale_mul', ['cf', 'cs'], ['c']),
        n('Transpose', 't', ['c'], ['h'], { perm: ints([0, 2, 1]) }),
        n('DynamicQuantizeLinear', 'h_QuantizeLinear', ['h'], ['hq', 'hs', 'hz']),
        n('MatMulInteger', '/mm/MatMul_quant', ['hq', 'mm.w_quantized', 'hz', 'mm.w_zero_point'], ['mi']),
        n('Cast', 'mi_cast', ['mi'], ['mf'], { to: { type: 'int', value: 1 } }),
        n('Mul', '/mm/MatMul_quant_scales_mul', ['hs', 'mm.w_scale'], ['ms']),
        n('Mul', '/mm/MatMul_quant_output_scale_mul', ['mf', 'ms'], ['m']),
        n('DequantizeLinear', 'dq', ['dq.w', 'dq.scale', 'dq.zp'], ['wd'], { axis: { type: 'int', value: 1 } }),
        n('MatMul', '/out/MatMul', ['m', 'wd'], ['y']),
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 8] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 8, 3] }],
      initializers: Object.values(weights),
      valueInfo: [],
    };
    const qBytes = encodeModel(makeModel(graph, { opsets: [{ domain: '', version: 13 }], irVersion: 7 }));
    const { model: dq, report } = dequantizeModel(decodeModel(qBytes));
    expect(report).toMatchObject({ matmul: 1, conv: 1, constants: 1 });
    expect(dq.graph.nodes.map((x) => `${x.opType} ${x.name}`)).toEqual(['Conv /conv/Conv', 'Transpose t', 'MatMul /mm/MatMul', 'MatMul /out/MatMul']);

    // the float graph, weights dequantised here by the formula, independently
    const deq = (q: TensorConst, s: TensorConst, z: TensorConst, axisLen: number, inner: number): Float32Array =>
      Float32Array.from(q.data as Int8Array, (v, i) => {
        const c = axisLen === 1 ? 0 : Math.floor(i / inner) % axisLen;
        return (v - (z.data as Int8Array)[z.data.length === 1 ? 0 : c]) * (s.data as Float32Array)[s.data.length === 1 ? 0 : c];
      });
    const floatGraph: Graph = {
      ...graph,
      nodes: [
        n('Conv', 'c', ['x', 'cw'], ['c'], { pads: ints([1, 1]), kernel_shape: ints([3]) }),
        n('Transpose', 't', ['c'], ['h'], { perm: ints([0, 2, 1]) }),
        n('MatMul', 'm', ['h', 'mw'], ['m']),
        n('MatMul', 'o', ['m', 'dw'], ['y']),
      ],
      initializers: [
        { name: 'cw', dtype: 'float32', dims: [4, 3, 3], data: deq(weights.conv, weights.convScale, weights.convZp, 1, 1) },
        { name: 'mw', dtype: 'float32', dims: [4, 5], data: deq(weights.mm, weights.mmScale, weights.mmZp, 5, 1) },
        { name: 'dw', dtype: 'float32', dims: [5, 3], data: deq(weights.dq, weights.dqScale, weights.dqZp, 3, 1) },
      ],
    };
    const x = noise(5, 2 * 3 * 8, 1);
    const fromInt8 = await run(qBytes, 'x', x, [2, 3, 8]);
    const dequantised = await run(encodeModel(dq), 'x', x, [2, 3, 8]);
    const float = await run(encodeModel(makeModel(floatGraph, { opsets: [{ domain: '', version: 13 }], irVersion: 7 })), 'x', x, [2, 3, 8]);
    expect(maxDiff(dequantised, float) / maxAbs(float)).toBeLessThan(1e-5);
    expect(maxDiff(dequantised, fromInt8) / maxAbs(fromInt8)).toBeLessThan(0.05);
  });

  it('refuses static activation quantisation, naming the node', () => {
    const graph: Graph = {
      name: 'static',
      nodes: [{ opType: 'QuantizeLinear', domain: '', name: 'q', inputs: ['x', 's'], outputs: ['y'], attrs: {} }],
      inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
      outputs: [{ name: 'y', dtype: 'uint8', shape: [2] }],
      initializers: [{ name: 's', dtype: 'float32', dims: [], data: Float32Array.of(0.1) }],
      valueInfo: [],
    };
    expect(() => dequantizeModel(makeModel(graph))).toThrow(/node 'q': QuantizeLinear is not supported/);
  });
});
