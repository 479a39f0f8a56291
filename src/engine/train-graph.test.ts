import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder';
import { makeModel, validateModel } from './onnx-proto';
import * as op from './ops';
import { evaluate } from './testing/eval64';
import { paramsAsInitializers, paramsAsInputs } from './train-graph';

describe('parameters as initializers or as inputs', () => {
  it('switches both ways and the graph computes the same thing', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [1, 2]);
    const w = g.param('layer.weight', [2, 2], Float32Array.of(1, 2, 3, 4));
    g.output(op.matmul(x, w), 'y');
    const graph = g.build();
    const asInputs = paramsAsInputs(graph, ['layer.weight']);
    expect(asInputs.initializers.some((t) => t.name === 'layer.weight')).toBe(false);
    expect(asInputs.inputs.map((i) => i.name)).toEqual(['layer.weight', 'x']);
    expect(validateModel(makeModel(asInputs))).toEqual([]);
    const feeds = { x: { dtype: 'float32' as const, dims: [1, 2], data: Float64Array.of(1, 1) } };
    const w2 = { dtype: 'float32' as const, dims: [2, 2], data: Float64Array.of(1, 0, 0, 1) };
    expect(Array.from(evaluate(asInputs, { ...feeds, 'layer.weight': w2 }).y.data as Float64Array)).toEqual([1, 1]);
    const back = paramsAsInitializers(asInputs, new Map([['layer.weight', { name: 'layer.weight', dtype: 'float32' as const, dims: [2, 2], data: Float32Array.of(1, 2, 3, 4) }]]));
    expect(back.inputs.map((i) => i.name)).toEqual(['x']);
    expect(Array.from(evaluate(back, feeds).y.data as Float64Array)).toEqual([4, 6]);
  });
});
