// LoRA injection on imported graphs: projections are found and named from the exporters' node
// names; an injected graph with B = 0 computes what the original did; a trained adapter merged into
// the original file (dynamic shapes, its opset) gives what the adapted static graph gives.

import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Graph, Model } from './ir';
import { findProjections, injectLora, loraNames, mergeLora, projectionKind } from './lora-inject';
import { decodeModel, encodeModel, makeModel, validateModel } from './onnx-proto';
import { prepareStatic } from './static-graph';
import { mulberry32 } from './testing/reference-encoder';

const FIXTURES = new URL('../foreign/fixtures/', import.meta.url);
const fixture = (path: string) => decodeModel(new Uint8Array(readFileSync(new URL(path, FIXTURES))));

const noise = (seed: number, n: number, scale = 1) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
};

async function run(model: Model, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeModel(model));
  const out = await s.run(feeds);
  await s.release();
  return Object.values(out)[0].data as Float32Array;
}

const relDiff = (a: Float32Array, b: Float32Array) => {
  const scale = b.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0) / scale;
};

/** Random trained-looking adapters: A as injected, B nonzero. */
function trainedValues(adapters: ReturnType<typeof injectLora>['adapters'], graph: Graph, seed: number) {
  const values = new Map<string, Float32Array>();
  for (const ad of adapters) {
    values.set(ad.a, graph.initializers.find((t) => t.name === ad.a)!.data as Float32Array);
    values.set(ad.b, noise(seed++, ad.rank * ad.projection.outFeatures, 0.3));
  }
  return values;
}

describe('findProjections', () => {
  it('names and groups the projections of the wav2vec2 and NeMo exports', () => {
    const w2v = findProjections(fixture('wav2vec2-tiny/onnx/model.onnx').graph);
    expect(w2v.map((p) => `${p.module} ${p.kind}`)).toEqual([
      'model.encoder.feature_projection.projection other',
      ...[0, 1].flatMap((l) => [
        `model.encoder.transformer.layers.${l}.attention.q_proj attention.q`,
        `model.encoder.transformer.layers.${l}.attention.k_proj attention.k`,
        `model.encoder.transformer.layers.${l}.attention.v_proj attention.v`,
        `model.encoder.transformer.layers.${l}.attention.out_proj attention.out`,
        `model.encoder.transformer.layers.${l}.feed_forward.intermediate_dense ff.in`,
        `model.encoder.transformer.layers.${l}.feed_forward.output_dense ff.out`,
      ]),
      'model.aux other',
    ]);
    // torch names the pre-transposed weight onnx::MatMul_<n>: the node name carries the module path
    expect(w2v[1]).toMatchObject({ node: '/model/encoder/transformer/layers.0/attention/q_proj/MatMul', layer: 0 });
    expect(w2v[1].weight).toMatch(/^onnx::MatMul_\d+$/);
    expect(w2v[5].outFeatures).toBe(2 * w2v[5].inFeatures); // intermediate_dense widens

    const nemo = findProjections(fixture('nemo-conformer-tiny/model.onnx').graph);
    const kinds = Object.fromEntries(nemo.filter((p) => p.layer === 1).map((p) => [p.module.split('.').slice(3).join('.'), p.kind]));
    expect(kinds).toEqual({
      'feed_forward1.linear1': 'ff.in', 'feed_forward1.linear2': 'ff.out',
      'self_attn.linear_q': 'attention.q', 'self_attn.linear_k': 'attention.k', 'self_attn.linear_v': 'attention.v',
      'self_attn.linear_pos': 'other', 'self_attn.linear_out': 'attention.out',
      'feed_forward2.linear1': 'ff.in', 'feed_forward2.linear2': 'ff.out',
      // the conv module's kernel-1 Conv1d layers are projections too
      'conv.pointwise_conv1': 'conv.pointwise', 'conv.pointwise_conv2': 'conv.pointwise',
    });
  });

  it('convolution-only NeMo (Citrinet-style): pointwise Convs are projections (pointwise, residual, decoder); depthwise ones are not', () => {
    const found = findProjections(fixture('nemo-citrinet-tiny/model.onnx').graph);
    const convs = found.filter((p) => p.convSpatial);
    expect(convs.map((p) => `${p.module} ${p.kind} ${p.inFeatures}→${p.outFeatures}`)).toEqual([
      'encoder.encoder.0.mconv.1.conv conv.pointwise 80→48',
      'encoder.encoder.1.mconv.1.conv conv.pointwise 48→48',
      'encoder.encoder.1.mconv.5.conv conv.pointwise 48→48',
      'encoder.encoder.1.res.0.0.conv conv.residual 48→48',
      'encoder.encoder.2.mconv.1.conv conv.pointwise 48→48',
      'encoder.encoder.2.mconv.5.conv conv.pointwise 48→48',
      'encoder.encoder.2.res.0.0.conv conv.residual 48→48',
      'encoder.encoder.3.mconv.1.conv conv.pointwise 48→48',
      'decoder.decoder_layers.decoder_layers.0 decoder 48→64',
    ]);
    expect(convs[1]).toMatchObject({ node: '/encoder/encoder.1/mconv.1/conv/Conv', layer: 1, transposed: true, convSpatial: 1 });
    // the squeeze-excitation's Linear layers (MatMul) are found as before
    expect(found.filter((p) => !p.convSpatial).map((p) => p.module)).toEqual(['encoder.encoder.1.mconv.7.fc.fc.0', 'encoder.encoder.1.mconv.7.fc.fc.2', 'encoder.encoder.2.mconv.7.fc.fc.0', 'encoder.encoder.2.mconv.7.fc.fc.2']);
  });

  it('knows the usual module names of other encoders', () => {
    expect(projectionKind('encoder.layer.3.attention.self.query')).toBe('attention.q');
    expect(projectionKind('encoder.layer.3.attention.output.dense')).toBe('attention.out');
    expect(projectionKind('encoder.layer.3.intermediate.dense')).toBe('ff.in');
    expect(projectionKind('encoder.layer.3.output.dense')).toBe('ff.out');
    expect(projectionKind('blocks.2.attn.qkv')).toBe('attention.qkv');
    expect(projectionKind('layers.0.mlp.down_proj')).toBe('ff.out');
    expect(projectionKind('lm_head')).toBe('other');
  });
});

describe('injectLora and mergeLora', () => {
  it('wav2vec2: B = 0 changes nothing; a trained adapter merged into the original file gives the adapted output', async () => {
    const model = fixture('wav2vec2-tiny/onnx/model.onnx');
    const dims = [2, 1600];
    const feeds = { input_values: new ort.Tensor('float32', noise(1, 3200, 0.5), dims) };
    const { graph: prepared } = prepareStatic(model, { inputs: { input_values: dims } });
    const base = await run(makeModel(prepared), feeds);

    const { graph, adapters } = injectLora(prepared, { rank: 4, alpha: 8, targets: ['attention.q', 'attention.v', 'ff.in', 'ff.out', 'other'] });
    expect(adapters).toHaveLength(10);
    expect(adapters.map((a) => a.a)).toContain('lora.model.encoder.transformer.layers.1.attention.v_proj.A');
    expect(validateModel(makeModel(graph))).toEqual([]);
    expect(relDiff(await run(makeModel(graph), feeds), base)).toBeLessThan(1e-6);

    const values = trainedValues(adapters, graph, 100);
    const { graph: adapted } = injectLora(prepared, { rank: 4, alpha: 8, targets: ['attention.q', 'attention.v', 'ff.in', 'ff.out', 'other'] }, values);
    const want = await run(makeModel(adapted), feeds);
    expect(relDiff(want, base)).toBeGreaterThan(1e-2); // the adapters do something
    const merged = mergeLora(model, adapters, values);
    expect(merged.opsets).toEqual(model.opsets);
    expect(merged.graph.nodes.length).toBe(model.graph.nodes.length);
    expect(relDiff(await run(merged, feeds), want)).toBeLessThan(1e-5);
    // the original model is untouched
    expect(relDiff(await run(model, feeds), base)).toBeLessThan(1e-5);
  });

  it('NeMo Citrinet-style: pointwise-Conv LoRA with B = 0 changes nothing; merged into the original file equals the adapted graph (padded batch)', async () => {
    const model = fixture('nemo-citrinet-tiny/model.onnx');
    const T = 50;
    const feeds = { audio_signal: new ort.Tensor('float32', noise(7, 2 * 80 * T), [2, 80, T]), length: new ort.Tensor('int64', BigInt64Array.of(50n, 33n), [2]) };
    const { graph: prepared } = prepareStatic(model, { inputs: { audio_signal: [2, 80, T], length: [2] } });
    const base = await run(makeModel(prepared), feeds);
    const targets = ['conv.pointwise', 'conv.residual', 'decoder'] as const;
    const { graph, adapters } = injectLora(prepared, { rank: 4, alpha: 8, targets });
    expect(adapters).toHaveLength(9);
    expect(adapters[0]).toMatchObject({ a: 'lora.encoder.encoder.0.mconv.1.conv.A', aDims: [4, 80, 1], bDims: [48, 4, 1] });
    expect(validateModel(makeModel(graph))).toEqual([]);
    expect(relDiff(await run(makeModel(graph), feeds), base)).toBeLessThan(1e-6);

    const values = new Map<string, Float32Array>();
    let seed = 300;
    for (const ad of adapters) {
      values.set(ad.a, graph.initializers.find((t) => t.name === ad.a)!.data as Float32Array);
      values.set(ad.b, noise(seed++, ad.rank * ad.projection.outFeatures, 0.3));
    }
    const { graph: adapted } = injectLora(prepared, { rank: 4, alpha: 8, targets }, values);
    const want = await run(makeModel(adapted), feeds);
    expect(relDiff(want, base)).toBeGreaterThan(1e-2);
    const merged = mergeLora(model, adapters, values);
    expect(merged.graph.nodes.length).toBe(model.graph.nodes.length);
    expect(relDiff(await run(merged, feeds), want)).toBeLessThan(1e-5);
  });

  it('Gemm with transB and α, and a weight the original computes (Transpose of an initializer)', async () => {
    const r = mulberry32(4);
    const w = (name: string, dims: number[]) => ({ name, dtype: 'float32' as const, dims, data: Float32Array.from({ length: dims[0] * dims[1] }, () => 2 * r() - 1) });
    const model = makeModel({
      name: 'two',
      nodes: [
        { opType: 'Gemm', domain: '', name: '/layers.0/self_attn/linear_q/Gemm', inputs: ['x', 'wq', 'bq'], outputs: ['h'], attrs: { transB: { type: 'int', value: 1 }, alpha: { type: 'float', value: 0.5 } } },
        { opType: 'Transpose', domain: '', name: '/layers.0/ffn/t', inputs: ['wt'], outputs: ['wt_T'], attrs: { perm: { type: 'ints', value: [1, 0] } } },
        { opType: 'MatMul', domain: '', name: '/layers.0/ffn/linear1/MatMul', inputs: ['h', 'wt_T'], outputs: ['y'], attrs: {} },
      ],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['n', 4] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['n', 3] }],
      initializers: [w('wq', [5, 4]), { name: 'bq', dtype: 'float32', dims: [5], data: Float32Array.of(1, 2, 3, 4, 5) }, w('wt', [3, 5])],
      valueInfo: [],
    }, { opsets: [{ domain: '', version: 14 }], irVersion: 7 });
    const feeds = { x: new ort.Tensor('float32', noise(2, 12), [3, 4]) };
    const { graph: prepared } = prepareStatic(model, { inputs: { x: [3, 4] } });
    const cfg = { rank: 2, alpha: 3, targets: ['attention.q', 'ff.in'] as const };
    const { graph, adapters } = injectLora(prepared, { ...cfg, targets: [...cfg.targets] });
    expect(adapters.map((a) => [a.projection.kind, a.projection.transposed])).toEqual([['attention.q', true], ['ff.in', false]]);
    const values = trainedValues(adapters, graph, 7);
    const { graph: adapted } = injectLora(prepared, { ...cfg, targets: [...cfg.targets] }, values);
    const merged = mergeLora(model, adapters, values);
    // the computed weight gets ΔW added in front of its MatMul
    expect(merged.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Transpose', 'Add', 'MatMul']);
    expect(loraNames(adapters[0].projection).a).toBe('lora.layers.0.self_attn.linear_q.A');
    expect(relDiff(await run(merged, feeds), await run(makeModel(adapted), feeds))).toBeLessThan(1e-5);
  });
});
