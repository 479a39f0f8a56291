// Every training graph the project produces uses only ops that run on onnxruntime-web's WebGPU
// execution provider, and passes the checker-level validation. New training graphs join `graphs`.
import { describe, expect, it } from 'vitest';
import { makeModel, validateModel } from './onnx-proto';
import { isWebGpuOp } from './op-types';
import { buildReferenceProblem, REFERENCE_FULL } from './testing/reference-encoder';
import { buildToyProblem } from './testing/toy-transformer';
import { buildTrainingGraph, type TrainingGraph } from './train-graph';
import { buildAcousticModel, DEFAULT_ARCH } from '../asr/model';

/** The speech model's training graph for one length bucket, trained in full or with LoRA. */
function asrTraining(lora: boolean): TrainingGraph {
  const m = buildAcousticModel({ arch: DEFAULT_ARCH, adapters: lora ? { lora: { rank: 8, alpha: 16, targets: ['q', 'k', 'v', 'o', 'ff1', 'ff2'] }, bottleneck: { dim: 32 } } : {}, batch: 4, frames: 256, masked: true });
  const dlogits = m.g.input('dlogits', 'float32', m.logits.dims);
  return buildTrainingGraph(m.g, {
    seeds: [{ value: m.logits, grad: dlogits }],
    optimizer: { kind: 'adamw' },
    clipNorm: 5,
    trainable: lora ? (n) => n.includes('.lora_') || n.includes('.adapter.') : undefined,
  });
}

const graphs: Record<string, () => TrainingGraph> = {
  'reference encoder (full size)': () => buildReferenceProblem(REFERENCE_FULL).training,
  'toy transformer': () => buildToyProblem().training,
  'speech model, full fine-tuning': () => asrTraining(false),
  'speech model, LoRA + bottleneck adapters': () => asrTraining(true),
};

describe('training graphs stay on the WebGPU allowlist', () => {
  it.each(Object.entries(graphs))('%s', (_name, build) => {
    const tg = build();
    const off = tg.graph.nodes.filter((n) => !isWebGpuOp(n.opType, n.domain)).map((n) => `${n.opType} (${n.name})`);
    expect(off).toEqual([]);
    // no trailing '' inputs: the WebGPU EP rejects some of them (ConvTranspose's bias)
    expect(tg.graph.nodes.filter((n) => n.inputs.length > 0 && n.inputs[n.inputs.length - 1] === '').map((n) => n.name)).toEqual([]);
    expect(validateModel(makeModel(tg.graph))).toEqual([]);
  });
});
