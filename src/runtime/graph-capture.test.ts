// The graph rewrite graph capture needs (src/runtime/graph-capture.ts) computes the same function:
// a training step with and without the output Identities, on onnxruntime-node, equal to the bit.
// (The captured run itself needs WebGPU in a browser: `npm run bench:engine -- --graph-capture`.)
import { describe, expect, it } from 'vitest';
import { encodeModel, makeModel } from '../engine/onnx-proto';
import { buildReferenceProblem, referenceBatch } from '../engine/testing/reference-encoder';
import { withoutOutputIdentities } from './graph-capture';
import { nodeBackend } from './node';
import type { HostTensor } from './types';

describe('withoutOutputIdentities', () => {
  it('drops the Identity into each computed graph output and computes the same training step', async () => {
    const p = buildReferenceProblem({ batch: 2, time: 8, blocks: 1, dModel: 16, heads: 2, dFF: 32, dOut: 4 });
    const g = p.training.graph;
    const g2 = withoutOutputIdentities(g);
    const identities = (x: typeof g) => x.nodes.filter((n) => n.opType === 'Identity' && x.outputs.some((o) => o.name === n.outputs[0])).length;
    expect(identities(g)).toBeGreaterThan(0);
    expect(identities(g2)).toBe(0);
    expect(g2.nodes.length).toBe(g.nodes.length - identities(g));
    expect(g2.outputs).toEqual(g.outputs);
    const feeds: Record<string, HostTensor> = { ...referenceBatch(p), [p.training.lrInput]: { dtype: 'float32', dims: [], data: Float32Array.of(1e-3) } };
    for (const s of p.training.state) feeds[s.input] = { dtype: 'float32', dims: s.dims, data: s.init.data as Float32Array };
    const b = nodeBackend({ threads: 1 });
    const run = async (graph: typeof g) => {
      const s = await b.createSession(encodeModel(makeModel(graph)));
      const r = await s.run(feeds);
      await s.release();
      return r.host;
    };
    const [a, c] = [await run(g), await run(g2)];
    for (const o of g.outputs) expect(c[o.name].data, o.name).toEqual(a[o.name].data);
    expect((a[p.training.lossOutput!].data as Float32Array)[0]).toBeGreaterThan(0);
  });
});
