// Scale check for imported models (issue 12, item 5) on the engine side: how long decoding,
// dequantising, static preparation, LoRA injection and training-graph construction take on a
// base-size model, how much JS memory they hold, and (with --steps) seconds per LoRA step on
// onnxruntime-node CPU.
//
//   npx tsx scripts/bench-foreign.ts <model.onnx> [--dims input_values=1x16000] [--steps 2] [--threads 1] [--share Infinity]
//
// --share N: frozen weights of ≥ N elements are fed to the sessions as shared inputs instead of
// each session holding them as initializers (ForeignTrainerOptions.shareFrozenAbove, default
// 4096; Infinity keeps them all as initializers).
//
// Measured here (wav2vec2-base from torchaudio, 94.4 M parameters, 1 s of audio, LoRA r = 8 on
// q and v, onnxruntime-node CPU, 1 thread, 2 shared cores): decode 2.3 s; prepareStatic 0.12 s,
// 1318 → 405 nodes, no new constant bytes; training graph 1706 nodes in 0.07 s; trainer and its
// first bucket's sessions 0.9 s / rss 0.9 GB shared vs 25 s / 3.0 GB as initializers; a step
// 0.8 s either way. The int8 file: decode 0.8 s, dequantise 81 MB → 326 MB.
//
// A base-size model (wav2vec2-base, 95 M parameters) can be exported with torchaudio:
// `torchaudio.models.wav2vec2_base(aux_num_out=32)` through `torch.onnx.export` (opset 14).

import { readFileSync } from 'node:fs';
import { GraphBuilder } from '../src/engine/builder';
import { dequantizeModel, isQuantized } from '../src/engine/dequantize';
import { injectLora, isLoraParam } from '../src/engine/lora-inject';
import { decodeModel, encodeModel, makeModel } from '../src/engine/onnx-proto';
import { prepareStatic } from '../src/engine/static-graph';
import { buildTrainingGraph } from '../src/engine/train-graph';
import { ForeignCtcTrainer } from '../src/foreign/foreign-trainer';
import { nodeBackend } from '../src/runtime/node';

const args = process.argv.slice(2);
const file = args[0];
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const dims = Object.fromEntries(opt('dims', 'input_values=1x16000').split(',').map((kv) => {
  const [k, v] = kv.split('=');
  return [k, v.split('x').map(Number)];
}));
const steps = Number(opt('steps', '0'));
const threads = Number(opt('threads', '1'));
const share = opt('share', '');

const mb = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;
const mem = () => {
  const m = process.memoryUsage();
  return `rss ${mb(m.rss)}, JS heap ${mb(m.heapUsed)}, typed arrays ${mb(m.arrayBuffers)}`;
};
const timed = <T>(what: string, f: () => T): T => {
  const t0 = performance.now();
  const r = f();
  console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(2)} s; ${mem()}`);
  return r;
};

async function main() {
  console.log(`start: ${mem()}`);
  let bytes: Uint8Array | undefined = new Uint8Array(readFileSync(file));
  console.log(`${file}: ${mb(bytes.length)}`);
  let model = timed('decode', () => decodeModel(bytes!));
  bytes = undefined;
  const params = model.graph.initializers.reduce((n, t) => n + t.data.length, 0);
  console.log(`${model.graph.nodes.length} nodes, ${(params / 1e6).toFixed(1)} M initializer elements`);
  if (isQuantized(model)) {
    const { model: dq, report } = timed('dequantize', () => dequantizeModel(model));
    console.log(`dequantised ${report.matmul} MatMul, ${report.conv} Conv: ${mb(report.intBytes)} int8 → ${mb(report.floatBytes)} float32`);
    model = dq;
  }
  const { graph, stats } = timed(`prepareStatic ${JSON.stringify(dims)}`, () => prepareStatic(model, { inputs: dims }));
  console.log(`  ${stats.nodesIn} → ${stats.nodesOut} nodes; folded ${stats.folded}; lowered ${JSON.stringify(stats.lowered)}; fused ${JSON.stringify(stats.fused)}; new constants ${mb(stats.newConstBytes)}`);
  const lora = { rank: 8, alpha: 16, targets: ['attention.q', 'attention.v'] as const };
  const { graph: adapted, adapters } = timed('injectLora q,v r=8', () => injectLora(graph, { ...lora, targets: [...lora.targets] }));
  const loraParams = adapters.reduce((n, a) => n + a.rank * (a.projection.inFeatures + a.projection.outFeatures), 0);
  console.log(`  ${adapters.length} adapters, ${(loraParams / 1e3).toFixed(0)} k parameters`);
  const tg = timed('training graph (fromGraph + autodiff + AdamW)', () => {
    const g = GraphBuilder.fromGraph(adapted, isLoraParam);
    g.outputs.splice(0);
    const out = g.value(graph.outputs[0].name);
    return buildTrainingGraph(g, { seeds: [{ value: out, grad: g.input('d', 'float32', out.dims) }], optimizer: { kind: 'adamw' }, clipNorm: 5, trainable: isLoraParam });
  });
  console.log(`  ${tg.graph.nodes.length} nodes`);
  const encoded = timed('encode training graph', () => encodeModel(makeModel(tg.graph)));
  console.log(`  ${mb(encoded.length)}`);

  if (steps > 0) {
    const backend = nodeBackend({ threads });
    const inputs = Object.fromEntries(Object.entries(dims).map(([k, d]) => [k, { dtype: 'float32' as const, dims: d, data: Float32Array.from({ length: d.reduce((a, b) => a * b, 1) }, (_, i) => 0.3 * Math.sin(i * 0.01)) }]));
    let t0 = performance.now();
    const t = await ForeignCtcTrainer.create(backend, { model, blank: 0, scores: 'logits', lora: { ...lora, targets: [...lora.targets] }, optimizer: { kind: 'adamw' }, clipNorm: 5, shareFrozenAbove: share ? Number(share) : undefined }, inputs);
    console.log(`trainer + sessions: ${((performance.now() - t0) / 1000).toFixed(1)} s; ${mem()}`);
    const frames = t.outputFrames(dims);
    const B = Object.values(dims)[0][0];
    for (let s = 0; s < steps; s++) {
      t0 = performance.now();
      const r = await t.step({ inputs, outputLengths: new Array(B).fill(frames), targets: Array.from({ length: B }, () => Int32Array.from({ length: Math.min(10, frames >> 1) }, (_, i) => 1 + (i % 20))) }, 1e-3);
      console.log(`step ${s + 1}: loss ${r.loss.toFixed(3)}, ${((performance.now() - t0) / 1000).toFixed(2)} s (${threads} thread(s)); ${mem()}`);
    }
    await t.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
