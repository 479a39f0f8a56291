// Every training graph the project produces uses only ops that run on onnxruntime-web's WebGPU
// execution provider, and passes the checker-level validation. New training graphs join `graphs`.
import { describe, expect, it } from 'vitest';
import { makeModel, validateModel } from './onnx-proto';
import { isWebGpuOp } from './op-types';
import { buildReferenceProblem, REFERENCE_FULL } from './testing/reference-encoder';
import { buildToyProblem } from './testing/toy-transformer';
import type { TrainingGraph } from './train-graph';

const graphs: Record<string, () => TrainingGraph> = {
  'reference encoder (full size)': () => buildReferenceProblem(REFERENCE_FULL).training,
  'toy transformer': () => buildToyProblem().training,
};

describe('training graphs stay on the WebGPU allowlist', () => {
  it.each(Object.entries(graphs))('%s', (_name, build) => {
    const tg = build();
    const off = tg.graph.nodes.filter((n) => !isWebGpuOp(n.opType, n.domain)).map((n) => `${n.opType} (${n.name})`);
    expect(off).toEqual([]);
    expect(validateModel(makeModel(tg.graph))).toEqual([]);
  });
});
