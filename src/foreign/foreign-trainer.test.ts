// Fine-tuning imported models end to end on onnxruntime-node: LoRA steps lower the CTC loss on the
// wav2vec2 and NeMo fixtures (and on the int8 wav2vec2, dequantised), the merged export run by plain
// onnxruntime equals the adapted graph, and CTC on log-probabilities back-propagates the same
// gradient as CTC on the logits beneath them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ctcLoss } from '../asr/ctc';
import { gradients } from '../engine/autodiff';
import { GraphBuilder } from '../engine/builder';
import { isQuantized } from '../engine/dequantize';
import { injectLora, isLoraParam, type ProjectionKind } from '../engine/lora-inject';
import { FOREIGN_OPS, isWebGpuOp } from '../engine/op-types';
import { buildTrainingGraph } from '../engine/train-graph';
import { decodeModel, encodeModel, makeModel, validateModel } from '../engine/onnx-proto';
import { prepareStatic } from '../engine/static-graph';
import { evaluate } from '../engine/testing/eval64';
import { plainRun, relDiff } from '../engine/testing/plain-ort';
import { mulberry32 } from '../engine/testing/reference-encoder';
import { nodeBackend } from '../runtime/node';
import { ForeignCtcTrainer, ForeignRunner, type ForeignBatch } from './foreign-trainer';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const fixture = (path: string) => decodeModel(new Uint8Array(readFileSync(new URL(path, FIXTURES))));

function noise(seed: number, n: number, scale: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => scale * (2 * r() - 1));
}

function targets(seed: number, lengths: number[], vocab: number, blank: number): Int32Array[] {
  const r = mulberry32(seed);
  return lengths.map((n) => Int32Array.from({ length: n }, () => {
    let t = blank;
    while (t === blank) t = Math.floor(r() * vocab);
    return t;
  }));
}

async function trainAndExport(t: ForeignCtcTrainer, batch: ForeignBatch, steps: number, lr: number) {
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const r = await t.step(batch, lr);
    expect(r.skipped).toBe(false);
    losses.push(r.loss);
  }
  const adapted = (await t.scores(batch.inputs)).data as Float32Array;
  const merged = await t.mergedModel();
  expect(relDiff(await plainRun(encodeModel(merged), batch.inputs), adapted)).toBeLessThan(1e-4);
  return { losses, merged, adapted };
}

const backend = nodeBackend({ threads: 1 });

/** 20 LoRA steps on a NeMo fixture (log-probs, blank last, audio_signal + length) with two items of `lengths` frames. */
async function trainNemo(path: string, o: { lengths: [number, number]; seed: number; targets: ProjectionKind[] }) {
  const model = fixture(path);
  const V = Number(model.graph.outputs[0].shape[2]);
  const T = o.lengths[0];
  const inputs = {
    audio_signal: { dtype: 'float32' as const, dims: [2, 80, T], data: noise(o.seed, 2 * 80 * T, 1) },
    length: { dtype: 'int64' as const, dims: [2], data: BigInt64Array.from(o.lengths, BigInt) },
  };
  const t = await ForeignCtcTrainer.create(backend, {
    model, blank: V - 1, scores: 'logProbs',
    lora: { rank: 4, alpha: 8, targets: o.targets },
    optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5,
  }, inputs);
  const outputLengths = o.lengths.map((n) => t.outputFrames({ audio_signal: [1, 80, n], length: [1] }));
  const batch: ForeignBatch = { inputs, outputLengths, targets: targets(o.seed + 1, [4, 3], V, V - 1) };
  const { losses } = await trainAndExport(t, batch, 20, 1e-2);
  return { t, outputLengths, losses };
}

describe('ForeignCtcTrainer', () => {
  it('wav2vec2 (logits, blank = pad = 0): 20 LoRA steps lower the CTC loss; the merged export equals the adapted graph', async () => {
    const model = fixture('wav2vec2-tiny/onnx/model.onnx');
    const V = Number(model.graph.outputs[0].shape[2]);
    const S = 3200;
    const inputs = { input_values: { dtype: 'float32' as const, dims: [2, S], data: noise(1, 2 * S, 0.5) } };
    (inputs.input_values.data as Float32Array).fill(0, S + 2400); // the second item is 2400 samples, padded
    const t = await ForeignCtcTrainer.create(backend, {
      model, blank: 0, scores: 'logits',
      lora: { rank: 4, alpha: 8, targets: ['attention.q', 'attention.k', 'attention.v', 'attention.out', 'ff.in', 'ff.out'] },
      optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5,
    }, inputs);
    expect(t.adapters).toHaveLength(12);
    const outputLengths = [S, 2400].map((n) => t.outputFrames({ input_values: [1, n] }));
    const batch: ForeignBatch = { inputs, outputLengths, targets: targets(2, [4, 3], V, 0) };
    const { losses, merged } = await trainAndExport(t, batch, 20, 1e-2);
    console.info(`wav2vec2-tiny LoRA: CTC loss ${losses[0].toFixed(3)} → ${losses[19].toFixed(3)} in 20 steps (frames ${outputLengths})`);
    expect(losses[19]).toBeLessThan(0.8 * losses[0]);
    // the export keeps the file's form: same opset, dynamic axes, node count
    expect(merged.opsets).toEqual(model.opsets);
    expect(merged.graph.inputs[0].shape).toEqual(model.graph.inputs[0].shape);
    expect(merged.graph.nodes.length).toBe(model.graph.nodes.length);
    // and runs at another length in the runner
    const runner = await ForeignRunner.create(backend, merged);
    const other = await runner.scores({ input_values: { dtype: 'float32', dims: [1, 2000], data: noise(3, 2000, 0.5) } });
    expect(other.dims).toEqual([1, t.outputFrames({ input_values: [1, 2000] }), V]);
    await runner.dispose();
    const adapter = await t.adapterCheckpoint();
    expect(adapter.tensors.size).toBe(24);
    await t.dispose();
  });

  it('NeMo Conformer (log-probs, blank last, audio_signal + length): LoRA steps lower the loss; merged export equals', async () => {
    const { t, outputLengths, losses } = await trainNemo('nemo-conformer-tiny/model.onnx', { lengths: [48, 37], seed: 4, targets: ['attention.q', 'attention.v', 'ff.in', 'ff.out'] });
    expect(outputLengths).toEqual([12, 10]);
    console.info(`nemo-conformer-tiny LoRA: CTC loss ${losses[0].toFixed(3)} → ${losses[19].toFixed(3)} in 20 steps`);
    expect(losses[19]).toBeLessThan(0.8 * losses[0]);
    await t.dispose();
  });

  it('NeMo Citrinet-style (convolution only): LoRA on the pointwise convolutions and the decoder lowers the loss; merged export equals', async () => {
    const { t, outputLengths, losses } = await trainNemo('nemo-citrinet-tiny/model.onnx', { lengths: [40, 29], seed: 11, targets: ['conv.pointwise', 'decoder'] });
    expect(t.adapters).toHaveLength(7);
    expect(outputLengths).toEqual([20, 15]);
    console.info(`nemo-citrinet-tiny LoRA (pointwise convs + decoder): CTC loss ${losses[0].toFixed(3)} → ${losses[19].toFixed(3)} in 20 steps`);
    expect(losses[19]).toBeLessThan(0.8 * losses[0]);
    const adapter = await t.adapterCheckpoint();
    expect(adapter.tensors.get('lora.encoder.encoder.1.mconv.1.conv.A')?.dims).toEqual([4, 48, 1]);
    await t.dispose();
  });

  it('frozen weights shared as inputs by every graph: the same steps as with initializers', async () => {
    const model = fixture('wav2vec2-tiny/onnx/model.onnx');
    const S = 1600;
    const inputs = { input_values: { dtype: 'float32' as const, dims: [1, S], data: noise(9, S, 0.5) } };
    const run3 = async (shareFrozenAbove?: number) => {
      const t = await ForeignCtcTrainer.create(backend, { model, blank: 0, scores: 'logits', lora: { rank: 2, alpha: 4 }, optimizer: { kind: 'adamw', weightDecay: 0 }, shareFrozenAbove }, inputs);
      const batch: ForeignBatch = { inputs, outputLengths: [t.outputFrames({ input_values: [1, S] })], targets: targets(10, [2], Number(model.graph.outputs[0].shape[2]), 0) };
      const losses = [];
      for (let s = 0; s < 3; s++) losses.push((await t.step(batch, 1e-2)).loss);
      const sharedInputs = t.trainer.tg.batchInputs.length;
      await t.dispose();
      return { losses, sharedInputs };
    };
    const plain = await run3(Infinity);
    const shared = await run3(1024);
    expect(shared.sharedInputs).toBeGreaterThan(plain.sharedInputs + 5); // the big weights moved to inputs
    shared.losses.forEach((l, i) => expect(Math.abs(l - plain.losses[i])).toBeLessThan(1e-4 * plain.losses[i]));
  });

  it('int8 wav2vec2: trains on the dequantised graph and exports float, adapters under the float model’s node names', async () => {
    const model = fixture('wav2vec2-tiny/onnx/model_quantized.onnx');
    expect(isQuantized(model)).toBe(true);
    const S = 1600;
    const inputs = { input_values: { dtype: 'float32' as const, dims: [1, S], data: noise(6, S, 0.5) } };
    const t = await ForeignCtcTrainer.create(backend, { model, blank: 0, scores: 'logits', lora: { rank: 2, alpha: 4 }, optimizer: { kind: 'adamw', weightDecay: 0 } }, inputs);
    expect(t.adapters.map((a) => a.projection.node)).toContain('/model/encoder/transformer/layers.0/attention/q_proj/MatMul');
    const batch: ForeignBatch = { inputs, outputLengths: [t.outputFrames({ input_values: [1, S] })], targets: targets(7, [2], Number(model.graph.outputs[0].shape[2]), 0) };
    const { merged } = await trainAndExport(t, batch, 3, 1e-2);
    expect(isQuantized(merged)).toBe(false);
    await t.dispose();
  });
});

describe('training graphs of imported models', () => {
  it.each([
    ['wav2vec2-tiny/onnx/model.onnx', { input_values: [2, 16000] }, []],
    // NeMo computes output lengths in the graph: Floor of a float length (a few scalars per batch)
    ['nemo-conformer-tiny/model.onnx', { audio_signal: [2, 80, 400], length: [2] }, ['Floor']],
    ['nemo-citrinet-tiny/model.onnx', { audio_signal: [2, 80, 400], length: [2] }, []],
  ] as const)('%s: every node on the WebGPU list but the FOREIGN_OPS expected', (path, dims, foreign) => {
    const { graph } = prepareStatic(fixture(path), { inputs: dims as unknown as Record<string, number[]> });
    const { graph: adapted } = injectLora(graph, { rank: 8, alpha: 16, targets: ['attention.q', 'attention.k', 'attention.v', 'attention.out', 'ff.in', 'ff.out', 'conv.pointwise', 'decoder'] });
    const g = GraphBuilder.fromGraph(adapted, isLoraParam);
    g.outputs.splice(0);
    const out = g.value(graph.outputs[0].name);
    const tg = buildTrainingGraph(g, { seeds: [{ value: out, grad: g.input('d', 'float32', out.dims) }], optimizer: { kind: 'adamw' }, clipNorm: 5, trainable: isLoraParam });
    const off = [...new Set(tg.graph.nodes.filter((n) => !isWebGpuOp(n.opType, n.domain)).map((n) => n.opType))];
    expect(off).toEqual([...foreign]);
    expect(off.every((op) => (FOREIGN_OPS as readonly string[]).includes(op))).toBe(true);
    expect(tg.graph.nodes.filter((n) => n.inputs.length > 0 && n.inputs[n.inputs.length - 1] === '').map((n) => n.name)).toEqual([]);
    expect(validateModel(makeModel(tg.graph))).toEqual([]);
  });
});

describe('CTC on log-probabilities', () => {
  it('gives the logits beneath a log_softmax the same gradient as CTC on those logits', () => {
    // a graph whose output is log_softmax(x), as NeMo's is, made static and lowered like an import
    const [B, T, V] = [2, 6, 5];
    const model = makeModel({
      name: 'logprobs',
      nodes: [{ opType: 'LogSoftmax', domain: '', name: 'lsm', inputs: ['x'], outputs: ['y'], attrs: { axis: { type: 'int', value: -1 } } }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['B', 'T', V] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['B', 'T', V] }],
      initializers: [],
      valueInfo: [],
    }, { opsets: [{ domain: '', version: 17 }] });
    const { graph } = prepareStatic(model, { inputs: { x: [B, T, V] } });
    const x = Float64Array.from(noise(8, B * T * V, 3));
    const ys = targets(9, [3, 2], V, 0);
    const lens = [6, 4];
    const lp = evaluate(graph, { x: { dtype: 'float32', dims: [B, T, V], data: x } }).y.data as Float64Array;
    const onLogProbs = ctcLoss({ logits: lp, shape: [B, T, V], inputLengths: lens, targets: ys }, { blank: 0 });
    const onLogits = ctcLoss({ logits: x, shape: [B, T, V], inputLengths: lens, targets: ys }, { blank: 0 });
    expect(Math.abs(onLogProbs.loss - onLogits.loss)).toBeLessThan(1e-9);

    // back through the graph's log_softmax, seeded with CTC's gradient w.r.t. the log-probs
    const g = GraphBuilder.fromGraph(graph);
    const xv = g.value('x');
    const seed = g.input('dy', 'float32', [B, T, V]);
    const dx = gradients(g, { seeds: [{ value: g.value('y'), grad: seed }], wrt: [xv] }).get('x')!;
    g.output(dx, 'dx');
    const got = evaluate(g.build(), { x: { dtype: 'float32', dims: [B, T, V], data: x }, dy: { dtype: 'float32', dims: [B, T, V], data: onLogProbs.grad as Float64Array } }, ['dx']).dx.data as Float64Array;
    expect(relDiff(got, onLogits.grad as Float64Array)).toBeLessThan(1e-9);
  });
});
