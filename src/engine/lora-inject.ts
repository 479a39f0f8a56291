// LoRA for graphs we did not write: find the projections (MatMul or Gemm with a constant weight),
// name them from the module path the exporter wrote into node names (torch ≥ 1.13:
// `/encoder/transformer/layers.0/attention/q_proj/MatMul`), group them into kinds a user picks
// from, inject y = x·W + (x·A)·B·(α/r) with A, B new trainable initializers (B zero, so training
// starts from the pretrained model), and fold a trained adapter back into W for export.
// Convolution-only models (NeMo QuartzNet / Citrinet) project with pointwise convolutions: a Conv
// with kernel 1, one group and a constant weight [out, in, 1, …] is a projection too, adapted with
// two pointwise convolutions y = conv(x, W) + conv(conv(x, A), B)·(α/r), A [r, in, 1…], B [out, r, 1…].
// LoRA: Hu et al. 2021, https://arxiv.org/abs/2106.09685

import type { Graph, Model, Node, TensorConst } from './ir';
import { attrFloat, attrInt } from './shape-inference';

export type ProjectionKind = 'attention.q' | 'attention.k' | 'attention.v' | 'attention.qkv' | 'attention.out' | 'ff.in' | 'ff.out' | 'conv.pointwise' | 'conv.residual' | 'decoder' | 'other';

export const PROJECTION_KINDS: readonly ProjectionKind[] = ['attention.q', 'attention.k', 'attention.v', 'attention.qkv', 'attention.out', 'ff.in', 'ff.out', 'conv.pointwise', 'conv.residual', 'decoder', 'other'];

export interface Projection {
  /** The node's name as exported (how adapters find it again in the original file). */
  node: string;
  /** Module path: `encoder.transformer.layers.0.attention.q_proj`. */
  module: string;
  kind: ProjectionKind;
  /** Layer index, when the module path has one (`layers.3` → 3). */
  layer?: number;
  /** The weight initializer (`onnx::MatMul_404`: torch names pre-transposed weights this way). */
  weight: string;
  inFeatures: number;
  outFeatures: number;
  /** Gemm with transB = 1, or a pointwise Conv: the weight is stored [out, in] (a Conv's with trailing 1s). */
  transposed: boolean;
  /** A pointwise Conv: its spatial rank (1 for Conv1d), else absent for MatMul / Gemm. */
  convSpatial?: number;
}

/** Module path from a node name (`/a/b.0/c/MatMul_1` → `a.b.0.c`), else from the weight name (`a.b.weight` → `a.b`). */
function modulePath(node: Node, weight: string): string {
  const parts = node.name.split('/').filter(Boolean);
  if (parts.length > 1) return parts.slice(0, -1).join('.');
  if (!weight.startsWith('onnx::')) return weight.replace(/\.(weight|kernel)$/, '');
  return node.name || weight;
}

// Module names of the common CTC encoders (HF wav2vec2 / HuBERT / WavLM / data2vec, NeMo Conformer,
// Squeezeformer, torchaudio, BERT-style and LLaMA-style names as a fallback).
const KIND_PATTERNS: [ProjectionKind, RegExp][] = [
  ['attention.qkv', /(^|\.)(qkv|qkv_proj|in_proj|linear_qkv|query_key_value|c_attn)$/],
  ['attention.q', /(^|\.)(q_proj|linear_q|query|to_q|wq|q)$/],
  ['attention.k', /(^|\.)(k_proj|linear_k|key|to_k|wk|k)$/],
  ['attention.v', /(^|\.)(v_proj|linear_v|value|to_v|wv|v)$/],
  ['attention.out', /(^|\.)(out_proj|linear_out|o_proj|to_out(\.0)?|wo)$|(attn|attention)\.(o|out|output|output\.dense|dense)$/],
  ['ff.in', /(^|\.)(intermediate_dense|linear1|fc1|w_1|w1|ff1|up_proj|gate_proj|dense_h_to_4h|intermediate\.dense|fc_in)$|(feed_forward|ffn|mlp)[^.]*\.(0|layer1|in|dense1)$/],
  ['ff.out', /(^|\.)(output_dense|linear2|fc2|w_2|w2|ff2|down_proj|dense_4h_to_h|fc_out)$|(feed_forward|ffn|mlp)[^.]*\.(2|3|layer2|out|dense2)$|(^|\.)output\.dense$/],
];

export function projectionKind(module: string): ProjectionKind {
  for (const [kind, re] of KIND_PATTERNS) if (re.test(module)) return kind;
  return 'other';
}

// Pointwise convolutions: the CTC head (NeMo's ConvASRDecoder `decoder.decoder_layers.0`), a residual
// branch (NeMo JasperBlock `res.0.0`), else a separable convolution's pointwise half or a Conformer
// conv module's pointwise_conv1/2; a kind named by the attention / feed-forward patterns keeps it.
export function convProjectionKind(module: string): ProjectionKind {
  const named = projectionKind(module);
  if (named !== 'other') return named;
  if (/(^|\.)decoder(\.|$)/.test(module)) return 'decoder';
  if (/(^|\.)(res|residual|shortcut|downsample)(\.|$)/.test(module)) return 'conv.residual';
  return 'conv.pointwise';
}

/** Whether a Conv node with weight `w` is pointwise: kernel 1 in every spatial axis, one group, no dilation effect. */
function isPointwiseConv(n: Node, w: TensorConst): boolean {
  return w.dims.length >= 3 && w.dims.slice(2).every((d) => d === 1) && attrInt(n.attrs, 'group', 1) === 1;
}

/** Every MatMul / Gemm whose second operand is a 2-D float initializer, in graph order. */
export function findProjections(graph: Graph): Projection[] {
  const inits = new Map(graph.initializers.map((t) => [t.name, t]));
  const out: Projection[] = [];
  for (const n of graph.nodes) {
    if (n.domain === '' && n.opType === 'Conv') {
      const w = inits.get(n.inputs[1]);
      if (!w || w.dtype !== 'float32' || !isPointwiseConv(n, w)) continue;
      const module = modulePath(n, w.name);
      const layer = /(?:^|\.)(?:layers?|blocks?|h|encoder)\.(\d+)(?:\.|$)/.exec(module);
      out.push({ node: n.name, module, kind: convProjectionKind(module), layer: layer ? Number(layer[1]) : undefined, weight: w.name, inFeatures: w.dims[1], outFeatures: w.dims[0], transposed: true, convSpatial: w.dims.length - 2 });
      continue;
    }
    if (n.domain !== '' || (n.opType !== 'MatMul' && n.opType !== 'Gemm')) continue;
    const w = inits.get(n.inputs[1]);
    if (!w || w.dtype !== 'float32' || w.dims.length !== 2) continue;
    if (n.opType === 'Gemm' && attrInt(n.attrs, 'transA', 0) === 1) continue;
    const transposed = n.opType === 'Gemm' && attrInt(n.attrs, 'transB', 0) === 1;
    const module = modulePath(n, w.name);
    const layer = /(?:^|\.)(?:layers?|blocks?|h)\.(\d+)(?:\.|$)/.exec(module);
    out.push({
      node: n.name,
      module,
      kind: projectionKind(module),
      layer: layer ? Number(layer[1]) : undefined,
      weight: w.name,
      inFeatures: transposed ? w.dims[1] : w.dims[0],
      outFeatures: transposed ? w.dims[0] : w.dims[1],
      transposed,
    });
  }
  return out;
}

export interface LoraConfig {
  rank: number;
  alpha: number;
  /** Which projections get an adapter: by kind (default: attention q and v, as the LoRA paper), or a predicate. */
  targets?: readonly ProjectionKind[] | ((p: Projection) => boolean);
  /** Seed of A's initialisation. */
  seed?: number;
}

export interface LoraAdapter {
  projection: Projection;
  /** Initializer names of A [in, r] and B [r, out] (a pointwise Conv's: A [r, in, 1…], B [out, r, 1…]). */
  a: string;
  b: string;
  aDims: number[];
  bDims: number[];
  rank: number;
  /** α / r. */
  scale: number;
}

/** The adapter's parameter names: `lora.<module>.A` and `.B`. */
export const loraNames = (p: Projection) => ({ a: `lora.${p.module}.A`, b: `lora.${p.module}.B` });

/** Whether an initializer is a LoRA parameter. */
export const isLoraParam = (name: string) => name.startsWith('lora.') && (name.endsWith('.A') || name.endsWith('.B'));

function selected(cfg: LoraConfig, p: Projection): boolean {
  const t = cfg.targets ?? ['attention.q', 'attention.v'];
  return typeof t === 'function' ? t(p) : t.includes(p.kind);
}

/**
 * Adds LoRA to the chosen projections of `graph` (static or not: only the weight's shape is read).
 * A is drawn as PEFT draws it (Kaiming-uniform with a = √5: U(±1/√in)), B is zero; `values` replaces
 * either (e.g. a trained adapter loaded back). The original initializers are shared.
 */
export function injectLora(graph: Graph, cfg: LoraConfig, values?: Map<string, Float32Array>): { graph: Graph; adapters: LoraAdapter[] } {
  const projections = findProjections(graph).filter((p) => selected(cfg, p));
  const byNode = new Map(projections.map((p) => [p.node, p]));
  const modules = new Set<string>();
  for (const p of projections) {
    if (modules.has(p.module)) throw new Error(`two projections share the module path '${p.module}' (nodes need distinct names for LoRA)`);
    modules.add(p.module);
  }
  const adapters: LoraAdapter[] = [];
  const initializers: TensorConst[] = [...graph.initializers];
  const nodes: Node[] = [];
  const r = cfg.rank;
  for (const n of graph.nodes) {
    const p = byNode.get(n.name);
    if (!p) {
      nodes.push(n);
      continue;
    }
    const { a, b } = loraNames(p);
    const rand = uniform((cfg.seed ?? 0) * 7919 + hash(p.module));
    const bound = 1 / Math.sqrt(p.inFeatures);
    const aInit = values?.get(a) ?? Float32Array.from({ length: p.inFeatures * r }, () => (2 * rand() - 1) * bound);
    const bInit = values?.get(b) ?? new Float32Array(r * p.outFeatures);
    if (aInit.length !== p.inFeatures * r || bInit.length !== r * p.outFeatures) throw new Error(`adapter for ${p.module} has the wrong size for rank ${r}`);
    const scale = cfg.alpha / r;
    // Gemm's α scales x·Wᵀ; the branch is scaled by α too, so W + ΔW reproduces it when merged
    const gemmAlpha = n.opType === 'Gemm' ? attrFloat(n.attrs, 'alpha', 1) : 1;
    const scaleName = `lora.${p.module}.scale`;
    const ones = new Array(p.convSpatial ?? 0).fill(1);
    const aDims = p.convSpatial ? [r, p.inFeatures, ...ones] : [p.inFeatures, r];
    const bDims = p.convSpatial ? [p.outFeatures, r, ...ones] : [r, p.outFeatures];
    initializers.push(
      { name: a, dtype: 'float32', dims: aDims, data: aInit },
      { name: b, dtype: 'float32', dims: bDims, data: bInit },
      { name: scaleName, dtype: 'float32', dims: [], data: Float32Array.of(scale * gemmAlpha) },
    );
    const y = n.outputs[0];
    const base = `${y}/lora_base`;
    const x = n.inputs[0];
    const at = (what: string) => `/lora/${p.module}/${what}`;
    if (p.convSpatial) {
      // A takes the projection's strides and pads (a pointwise conv's pads only add frames that are
      // bias alone, which A maps to zero); B is a plain pointwise conv; neither has a bias
      const keep = Object.fromEntries(Object.entries(n.attrs).filter(([k]) => k === 'strides' || k === 'pads' || k === 'auto_pad' || k === 'dilations'));
      const kernel = { kernel_shape: { type: 'ints' as const, value: ones } };
      nodes.push(
        { ...n, outputs: [base] },
        { opType: 'Conv', domain: '', name: at('Conv_A'), inputs: [x, a], outputs: [at('xA')], attrs: { ...keep, ...kernel } },
        { opType: 'Conv', domain: '', name: at('Conv_B'), inputs: [at('xA'), b], outputs: [at('xAB')], attrs: { ...kernel } },
      );
    } else {
      nodes.push(
        { ...n, outputs: [base] },
        { opType: 'MatMul', domain: '', name: at('MatMul_A'), inputs: [x, a], outputs: [at('xA')], attrs: {} },
        { opType: 'MatMul', domain: '', name: at('MatMul_B'), inputs: [at('xA'), b], outputs: [at('xAB')], attrs: {} },
      );
    }
    nodes.push(
      { opType: 'Mul', domain: '', name: at('Mul_scale'), inputs: [at('xAB'), scaleName], outputs: [at('delta')], attrs: {} },
      { opType: 'Add', domain: '', name: at('Add'), inputs: [base, at('delta')], outputs: [y], attrs: {} },
    );
    adapters.push({ projection: p, a, b, aDims, bDims, rank: r, scale });
  }
  return { graph: { ...graph, nodes, initializers }, adapters };
}

/** Uniform [0, 1) numbers from a 32-bit seed (xorshift32; A's draw only needs to be reproducible). */
function uniform(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** ΔW = (α/r)·A·B as [in, out] (or [out, in] for a transposed weight; a pointwise Conv's (α/r)·B·A as [out, in, 1…]). */
export function loraDelta(ad: LoraAdapter, A: Float32Array, B: Float32Array): Float32Array {
  const { inFeatures: I, outFeatures: O, transposed, convSpatial } = ad.projection;
  const r = ad.rank;
  const d = new Float32Array(I * O);
  // A[i, k] and B[k, o] wherever they are stored: [in, r] and [r, out], or a Conv's [r, in] and [out, r]
  const a = convSpatial ? (i: number, k: number) => A[k * I + i] : (i: number, k: number) => A[i * r + k];
  const b = convSpatial ? (k: number, o: number) => B[o * r + k] : (k: number, o: number) => B[k * O + o];
  for (let i = 0; i < I; i++)
    for (let k = 0; k < r; k++) {
      const aik = a(i, k) * ad.scale;
      if (aik === 0) continue;
      for (let o = 0; o < O; o++) d[transposed ? o * I + i : i * O + o] += aik * b(k, o);
    }
  return d;
}

/**
 * Folds trained adapters into the weights of `model` — the file the user imported (dynamic shapes,
 * its own opset), or its dequantised form — so the tool it came from loads the adapted model. The
 * projection is found by node name; its weight initializer is replaced by W + ΔW (a new tensor; the
 * input model is not changed). Where the node's weight is computed rather than stored, an Add of ΔW
 * goes in front of it. `values` holds each adapter's A and B.
 */
export function mergeLora(model: Model, adapters: LoraAdapter[], values: Map<string, Float32Array>): Model {
  const g = model.graph;
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const inits = new Map(g.initializers.map((t) => [t.name, t]));
  const replaced = new Map<string, TensorConst>();
  const extraInits: TensorConst[] = [];
  const rewired = new Map<Node, Node>();
  const before = new Map<Node, Node[]>();
  for (const ad of adapters) {
    const node = byName.get(ad.projection.node);
    if (!node) {
      const quantized = byName.get(`${ad.projection.node}_quant`);
      throw new Error(quantized ? `projection '${ad.projection.node}' is quantised in this model: merge into the dequantised model (requantising is not supported)` : `the model has no node '${ad.projection.node}' to merge the adapter for ${ad.projection.module} into`);
    }
    const A = values.get(ad.a);
    const B = values.get(ad.b);
    if (!A || !B) throw new Error(`no trained values for ${ad.a} / ${ad.b}`);
    const delta = loraDelta(ad, A, B);
    const wName = node.inputs[1];
    const w = replaced.get(wName) ?? inits.get(wName);
    if (w) {
      if (w.dtype !== 'float32' || w.data.length !== delta.length) throw new Error(`weight '${wName}' of ${ad.projection.node} does not match the adapter ([${w.dims}])`);
      const data = Float32Array.from(w.data as Float32Array, (v, i) => v + delta[i]);
      replaced.set(wName, { ...w, data });
    } else {
      const dName = `lora.${ad.projection.module}.delta`;
      const { inFeatures: I, outFeatures: O, transposed, convSpatial } = ad.projection;
      extraInits.push({ name: dName, dtype: 'float32', dims: convSpatial ? [O, I, ...new Array(convSpatial).fill(1)] : transposed ? [O, I] : [I, O], data: delta });
      const merged = `${wName}/lora_merged`;
      before.set(node, [{ opType: 'Add', domain: '', name: `${node.name}/lora_merge`, inputs: [wName, dName], outputs: [merged], attrs: {} }]);
      rewired.set(node, { ...node, inputs: [node.inputs[0], merged, ...node.inputs.slice(2)] });
    }
  }
  const nodes = g.nodes.flatMap((n) => [...(before.get(n) ?? []), rewired.get(n) ?? n]);
  const initializers = [...g.initializers.map((t) => replaced.get(t.name) ?? t), ...extraInits];
  return { ...model, graph: { ...g, nodes, initializers } };
}
