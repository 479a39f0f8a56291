// What onnxruntime-web's WebGPU graph capture (`enableGraphCapture`) needs from a training graph.
// Measured with `npm run bench:engine -- --graph-capture` on onnxruntime-web 1.30's native WebGPU EP:
// - The first run records every dispatch and later runs replay the recording. onnxruntime-web binds
//   a captured session's inputs and outputs once, on its first run, and replay always reads and
//   writes those buffers. So the state cannot be fed back as last step's outputs: it lives in input
//   buffers of its own and each step's outputs are copied into them (Trainer, `graphCapture`).
// - Pre-allocated outputs (`fetches`) fail on the second run ("Cannot set properties of undefined
//   (setting 'Symbol(gpuBufferMetadata)')"): onnxruntime-web looks the first run's output buffers up
//   after it has unregistered them. Outputs it allocates itself work: the same buffers every replay.
// - An Identity into a graph output (the builder's `output(v, name)` when the names differ) is run as
//   a buffer copy, not a dispatch, and is not recorded: that output stays 0 on every run.
//   `withoutOutputIdentities` lets the node computing the value write the output itself.

import type { Graph } from '../engine/ir';

/**
 * `g` with each Identity that only renames a computed value into a graph output removed: the node
 * computing the value writes the output itself, and the value's other readers read the output.
 * Computes the same function.
 */
export function withoutOutputIdentities(g: Graph): Graph {
  const outputs = new Set(g.outputs.map((o) => o.name));
  const external = new Set([...g.inputs.map((i) => i.name), ...g.initializers.map((i) => i.name), ...outputs]);
  const rename = new Map<string, string>();
  const nodes = g.nodes.filter((n) => {
    const drop = n.opType === 'Identity' && outputs.has(n.outputs[0]) && !external.has(n.inputs[0]) && !rename.has(n.inputs[0]);
    if (drop) rename.set(n.inputs[0], n.outputs[0]);
    return !drop;
  });
  const r = (x: string) => rename.get(x) ?? x;
  return { ...g, nodes: nodes.map((n) => ({ ...n, inputs: n.inputs.map(r), outputs: n.outputs.map(r) })), valueInfo: g.valueInfo.filter((v) => !rename.has(v.name)) };
}
