// Dequantisation on import: a dynamically quantised model (onnxruntime.quantization.quantize_dynamic,
// what Transformers.js ships as `model_quantized.onnx`, and sherpa-onnx's `model.int8.onnx`) becomes
// a float32 model the engine can differentiate.
//
// quantize_dynamic writes, per MatMul (or Conv) with a constant weight:
//
//   a ─ DynamicQuantizeLinear → (a_q uint8, a_scale, a_zero_point)      (shared by q/k/v …)
//   MatMulInteger(a_q, W_q, a_zero_point, W_zero_point) → int32          (ConvInteger for Conv)
//   Cast(to float) ; Mul(a_scale, W_scale) ; Mul(cast, scales) → the original output
//
// and the rewrite is: MatMul(a, W) with W = (W_q − W_zero_point)·W_scale, under the original node's
// name (`…/q_proj/MatMul`) and output, the weight named as in the float export (`onnx::MatMul_404`
// for `onnx::MatMul_404_quantized`), so adapters trained on either file fit the other.
// DequantizeLinear of a constant weight (QDQ models) becomes that float constant. Static activation
// quantisation (QuantizeLinear with a fixed scale) is refused: its rounding is part of the model.
//
// Why dequantise on import rather than keep int8 weights and dequantise in the graph: the training
// graph needs float weights anyway (MatMul's gradient w.r.t. its input reads W), onnxruntime-web's
// WebGPU EP has no MatMulInteger, and an in-graph DequantizeLinear per weight per step would cost
// more time than the memory it saves. The cost: float weights take 4× the int8 weight bytes (a
// 95 M-parameter model's ~95 MB of int8 weights become ~380 MB of float32), the same as the float
// model the int8 one was made from. The results differ from the int8 model by its activation
// quantisation (the float model is what the int8 one approximates).

import type { Graph, Model, Node, TensorConst } from './ir';
import { numel } from './ir';

export interface DequantizeReport {
  matmul: number;
  conv: number;
  /** DequantizeLinear nodes on constants turned into float constants. */
  constants: number;
  /** Bytes of integer weights replaced, and of the float weights that replaced them. */
  intBytes: number;
  floatBytes: number;
}

const QUANT_OPS = new Set(['MatMulInteger', 'ConvInteger', 'DynamicQuantizeLinear', 'QuantizeLinear', 'DequantizeLinear', 'QLinearMatMul', 'QLinearConv', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat']);

/** Whether a model holds quantised ops this module rewrites (or refuses). */
export function isQuantized(model: Model): boolean {
  return model.graph.nodes.some((n) => QUANT_OPS.has(n.opType));
}

const stripSuffix = (name: string, suffix: string) => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : name);

/**
 * Rewrites the quantised parts of `model` to float32 (see the file comment). Returns a new Model;
 * the input's float initializers are shared, not copied.
 */
export function dequantizeModel(model: Model): { model: Model; report: DequantizeReport } {
  const g = model.graph;
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const producer = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const report: DequantizeReport = { matmul: 0, conv: 0, constants: 0, intBytes: 0, floatBytes: 0 };
  const removed = new Set<Node>();
  const replaced = new Map<Node, Node>();
  const added: TensorConst[] = [];
  const names = new Set([...inits.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
  const fresh = (base: string) => {
    let name = base;
    for (let k = 1; names.has(name); k++) name = `${base}_dequantized${k > 1 ? k : ''}`;
    names.add(name);
    return name;
  };
  const only = (value: string, opType: string, why: string): Node => {
    const cs = consumers.get(value) ?? [];
    if (cs.length !== 1 || cs[0].opType !== opType) throw new Error(`${why}: expected '${value}' to feed one ${opType}`);
    return cs[0];
  };

  for (const n of g.nodes) {
    if (n.opType === 'MatMulInteger' || n.opType === 'ConvInteger') {
      const where = `${n.opType} node '${n.name}'`;
      const [aq, wq, , wzp] = n.inputs;
      const dql = producer.get(aq);
      if (dql?.opType !== 'DynamicQuantizeLinear') throw new Error(`${where}: its input is not dynamically quantised (static activation quantisation is not supported)`);
      const wInit = inits.get(wq);
      if (!wInit) throw new Error(`${where}: the weight '${wq}' is not a constant`);
      const cast = only(n.outputs[0], 'Cast', where);
      const scaleMul = only(cast.outputs[0], 'Mul', where);
      const scales = producer.get(scaleMul.inputs.find((i) => i !== cast.outputs[0])!);
      const wScaleName = scales?.opType === 'Mul' ? scales.inputs.find((i) => i !== dql.outputs[1]) : undefined;
      const wScale = wScaleName ? inits.get(wScaleName) : undefined;
      if (!scales || !wScale || !scales.inputs.includes(dql.outputs[1])) throw new Error(`${where}: the output scale is not activation scale × weight scale`);
      const isConv = n.opType === 'ConvInteger';
      // MatMulInteger's weight scale and zero point run along the output columns (last axis); ConvInteger's along output channels (axis 0)
      const w = dequantizeWeight(wInit, wScale, wzp ? inits.get(wzp) : undefined, isConv ? 0 : wInit.dims.length - 1);
      const weightName = fresh(stripSuffix(wq, '_quantized'));
      added.push({ ...w, name: weightName });
      report.intBytes += wInit.data.byteLength;
      report.floatBytes += w.data.byteLength;
      const name = stripSuffix(n.name, '_quant');
      replaced.set(n, isConv ? { opType: 'Conv', domain: '', name, inputs: [dql.inputs[0], weightName], outputs: [scaleMul.outputs[0]], attrs: n.attrs } : { opType: 'MatMul', domain: '', name, inputs: [dql.inputs[0], weightName], outputs: [scaleMul.outputs[0]], attrs: {} });
      removed.add(cast);
      removed.add(scaleMul);
      if (isConv) report.conv++;
      else report.matmul++;
    } else if (n.opType === 'DequantizeLinear') {
      const [x, s, z] = n.inputs;
      const xi = inits.get(x);
      const si = inits.get(s);
      if (!xi || !si) throw new Error(`DequantizeLinear node '${n.name}': only constant weights can be dequantised (quantised activations are not supported)`);
      const axis = n.attrs.axis?.type === 'int' ? n.attrs.axis.value : 1;
      const w = dequantizeWeight(xi, si, z ? inits.get(z) : undefined, numel(si.dims) > 1 ? (axis < 0 ? axis + xi.dims.length : axis) : 0);
      added.push({ ...w, name: n.outputs[0] });
      report.intBytes += xi.data.byteLength;
      report.floatBytes += w.data.byteLength;
      removed.add(n);
      report.constants++;
    } else if (n.opType === 'QuantizeLinear' || n.opType.startsWith('QLinear') || n.opType === 'DynamicQuantizeMatMul' || n.opType === 'MatMulIntegerToFloat') {
      throw new Error(`node '${n.name}': ${n.domain ? `${n.domain}.` : ''}${n.opType} is not supported (static or fused quantisation); import the float model instead`);
    }
  }

  let nodes = g.nodes.filter((n) => !removed.has(n)).map((n) => replaced.get(n) ?? n);
  // drop what no longer feeds anything: the scale products, the activation quantisers, int weights
  const outputs = new Set(g.outputs.map((o) => o.name));
  for (let before = -1; before !== nodes.length; ) {
    before = nodes.length;
    const read = new Set([...outputs, ...nodes.flatMap((n) => n.inputs)]);
    nodes = nodes.filter((n) => n.outputs.some((o) => read.has(o)));
  }
  const read = new Set([...outputs, ...nodes.flatMap((n) => n.inputs)]);
  const initializers = [...g.initializers, ...added].filter((t) => read.has(t.name));
  const graph: Graph = { ...g, nodes, initializers, valueInfo: g.valueInfo.filter((v) => read.has(v.name)) };
  const domains = new Set(nodes.map((n) => n.domain));
  const opsets = model.opsets.filter((o) => o.domain === '' || domains.has(o.domain));
  return { model: { ...model, graph, opsets }, report };
}

/** (q − zero_point)·scale as float32, with scale and zero point per tensor or per index of `axis`. */
function dequantizeWeight(q: TensorConst, scale: TensorConst, zp: TensorConst | undefined, axis: number): Omit<TensorConst, 'name'> {
  const n = numel(q.dims);
  const out = new Float32Array(n);
  const src = q.data as Int8Array | Uint8Array;
  const s = scale.data as Float32Array;
  const z = zp ? Array.from(zp.data as Int8Array | Uint8Array) : [0];
  if (numel(scale.dims) <= 1) {
    // per tensor (quantize_dynamic's default): one subtraction and one product per element
    const [s0, z0] = [s[0], z[0]];
    for (let i = 0; i < n; i++) out[i] = (src[i] - z0) * s0;
    return { dtype: 'float32', dims: [...q.dims], data: out };
  }
  const len = q.dims[axis];
  if (s.length !== len) throw new Error(`weight scale of shape [${scale.dims}] does not fit axis ${axis} of [${q.dims}]`);
  const inner = numel(q.dims.slice(axis + 1));
  const zAt = (c: number) => (z.length > 1 ? z[c] : z[0]);
  for (let i = 0, o = 0; o < n / (len * inner); o++)
    for (let c = 0; c < len; c++) {
      const [sc, zc] = [s[c], zAt(c)];
      for (let k = 0; k < inner; k++, i++) out[i] = (src[i] - zc) * sc;
    }
  return { dtype: 'float32', dims: [...q.dims], data: out };
}
