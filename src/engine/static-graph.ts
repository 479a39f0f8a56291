// A graph someone else exported, made static for one bucket shape: every symbolic dimension gets
// its value, every node whose inputs are then all known is evaluated (the Shape → Gather → Concat →
// Reshape chains exporters emit, masks from static lengths, weight norm on frozen weights), older
// opsets are rewritten to opset-20 form, composite ops are lowered to the primitives the gradient
// table knows, Identity/Dropout disappear, and nodes nobody reads are dropped.
//
// What survives is a graph GraphBuilder.fromGraph and autodiff can take: static shapes, ops with a
// shape rule, constant shape inputs. Original initializers pass through untouched (same object, same
// name, same buffer): a 95 M-parameter model is not copied; only folded results are new tensors.

import { evalConst, FOLDABLE_OPS, numbers, type Const } from './const-eval';
import type { Attr, DType, Dim, Graph, Model, Node, TensorConst, ValueInfo } from './ir';
import { numel } from './ir';
import { attrFloat, attrInt, attrInts, attrString, inferShapes, normAxis, type InferInput } from './shape-inference';

export interface StaticShapeOptions {
  /** Concrete dims for every graph input (e.g. input_values: [B, S]; audio_signal: [B, 80, T], length: [B]). */
  inputs: Record<string, number[]>;
  /** Initializers that stay graph values because they are trained: nothing folds through them. */
  keep?: (name: string) => boolean;
  /**
   * Fold only results up to this many elements (default: no limit). A small limit gives a cheap
   * shapes-only pass (output lengths per input length) that leaves weight arithmetic alone.
   */
  maxFoldElements?: number;
}

export interface StaticGraphStats {
  nodesIn: number;
  nodesOut: number;
  /** Nodes evaluated at preparation time. */
  folded: number;
  /** Composite ops rewritten into primitives, by op type. */
  lowered: Record<string, number>;
  /** Identity / Dropout nodes bypassed. */
  bypassed: number;
  /** Decomposed LayerNorm and GELU subgraphs fused into one node each, by the op they became. */
  fused: Record<string, number>;
  /** Bytes of new constants (folded results) the graph holds; original initializers are shared. */
  newConstBytes: number;
}

export interface StaticGraph {
  graph: Graph;
  stats: StaticGraphStats;
}

interface Info {
  dtype: DType;
  shape: Dim[];
  /** Known value (a constant, or a folded result). */
  value?: Const;
  /** The original initializer, when the value is one (kept by reference in the output graph). */
  init?: TensorConst;
}

/** Ops whose value depends only on their input's shape. */
const SHAPE_ONLY = new Set(['Shape', 'Size']);
/** Values up to this many elements are handed to shape inference (axes, shapes, pads). */
const SMALL = 64;

const int64 = (values: number[]): Const => ({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
const scalarOf = (dtype: DType, v: number): Const =>
  dtype === 'float64' ? { dtype, dims: [], data: Float64Array.of(v) } : dtype === 'int64' ? { dtype, dims: [], data: BigInt64Array.of(BigInt(v)) } : { dtype: 'float32', dims: [], data: Float32Array.of(v) };

/** Makes `model`'s graph static for one bucket shape (see the file comment). */
export function prepareStatic(model: Model, o: StaticShapeOptions): StaticGraph {
  return new Preparer(model, o).run();
}

/** Output dims for given input dims, without folding any weight arithmetic (a shapes-only pass). */
export function staticOutputDims(model: Model, inputs: Record<string, number[]>): Record<string, number[]> {
  const { graph } = prepareStatic(model, { inputs, maxFoldElements: 4096 });
  return Object.fromEntries(graph.outputs.map((v) => [v.name, v.shape as number[]]));
}

/** The default-domain opset a model imports (ONNX's default when absent: the newest, taken as 20). */
export function defaultOpset(model: Model): number {
  return model.opsets.find((s) => s.domain === '')?.version ?? 20;
}

type Lowering = (p: Preparer, n: Node, x: (string | null)[]) => void;

class Preparer {
  private readonly env = new Map<string, Info>();
  private readonly alias = new Map<string, string>();
  private readonly out: Node[] = [];
  private readonly opset: number;
  private counter = 0;
  readonly stats: StaticGraphStats;
  private readonly maxFold: number;

  constructor(
    private readonly model: Model,
    private readonly o: StaticShapeOptions,
  ) {
    this.opset = defaultOpset(model);
    this.maxFold = o.maxFoldElements ?? Infinity;
    this.stats = { nodesIn: model.graph.nodes.length, nodesOut: 0, folded: 0, lowered: {}, bypassed: 0, fused: {}, newConstBytes: 0 };
  }

  run(): StaticGraph {
    const g = this.model.graph;
    const keep = this.o.keep ?? (() => false);
    for (const t of g.initializers) this.env.set(t.name, keep(t.name) ? { dtype: t.dtype, shape: [...t.dims], init: t } : { dtype: t.dtype, shape: [...t.dims], value: t, init: t });
    const inputs: ValueInfo[] = [];
    for (const i of g.inputs) {
      if (this.env.has(i.name)) continue; // an initializer listed as an input (IR < 4)
      const dims = this.o.inputs[i.name];
      if (!dims) throw new Error(`graph input '${i.name}' needs concrete dims (it is [${i.shape.join(', ')}])`);
      if (dims.length !== i.shape.length) throw new Error(`graph input '${i.name}' has rank ${i.shape.length}, got dims [${dims}]`);
      i.shape.forEach((d, k) => {
        if (typeof d === 'number' && d > 0 && d !== dims[k]) throw new Error(`graph input '${i.name}' has dimension ${k} fixed at ${d}, got ${dims[k]}`);
      });
      this.env.set(i.name, { dtype: i.dtype, shape: [...dims] });
      inputs.push({ name: i.name, dtype: i.dtype, shape: [...dims] });
    }
    for (const n of g.nodes) this.process(n);

    // Graph outputs keep their names: one that became an alias or a constant is re-exposed by Identity.
    const outputs: ValueInfo[] = g.outputs.map((v) => {
      const src = this.resolve(v.name);
      if (src !== v.name || this.env.get(src)?.value) this.out.push({ opType: 'Identity', domain: '', name: `${v.name}/Identity`, inputs: [src], outputs: [v.name], attrs: {} });
      const info = this.env.get(src)!;
      return { name: v.name, dtype: info.dtype, shape: [...info.shape] };
    });
    return { graph: this.finish(inputs, outputs), stats: this.stats };
  }

  /** Keeps the live nodes, the initializers they read, and shapes of intermediate values. */
  private finish(inputs: ValueInfo[], outputs: ValueInfo[]): Graph {
    const liveOf = (nodes: Node[]) => {
      const needed = new Set(outputs.map((v) => v.name));
      const live: Node[] = [];
      for (let k = nodes.length - 1; k >= 0; k--) {
        const n = nodes[k];
        if (!n.outputs.some((x) => needed.has(x))) continue;
        live.push(n);
        for (const i of n.inputs) if (i) needed.add(i);
      }
      return { live: live.reverse(), needed };
    };
    const fused = fuse(liveOf(this.out).live, (name) => this.env.get(name), new Set(outputs.map((v) => v.name)));
    this.stats.fused = fused.counts;
    const { live, needed } = liveOf(fused.nodes);
    const initializers: TensorConst[] = [];
    const io = new Set([...inputs.map((v) => v.name), ...outputs.map((v) => v.name)]);
    for (const name of needed) {
      const info = this.env.get(name);
      if (!info || io.has(name)) continue;
      if (info.init) initializers.push(info.init);
      else if (info.value) {
        initializers.push({ dtype: info.value.dtype, dims: info.value.dims, data: info.value.data, name });
        this.stats.newConstBytes += info.value.data.byteLength;
      }
    }
    const valueInfo: ValueInfo[] = [];
    for (const n of live)
      for (const x of n.outputs) {
        const info = this.env.get(x);
        if (x && info && !io.has(x)) valueInfo.push({ name: x, dtype: info.dtype, shape: [...info.shape] });
      }
    this.stats.nodesOut = live.length;
    return { name: this.model.graph.name, nodes: live, inputs, outputs, initializers, valueInfo };
  }

  resolve(name: string): string {
    let n = name;
    while (this.alias.has(n)) n = this.alias.get(n)!;
    return n;
  }

  info(name: string): Info {
    const i = this.env.get(name);
    if (!i) throw new Error(`value '${name}' is read before it is defined`);
    return i;
  }

  dims(name: string): number[] {
    const s = this.info(name).shape;
    if (!s.every((d) => typeof d === 'number')) throw new Error(`value '${name}' has a symbolic shape [${s}] after substitution`);
    return s as number[];
  }

  /** A new constant value (named after the node it helps lower). */
  constant(c: Const, hint: string): string {
    const name = `${hint}/const_${this.counter++}`;
    this.env.set(name, { dtype: c.dtype, shape: [...c.dims], value: c });
    return name;
  }

  /** Emits a primitive node (folded at once when its inputs are known); returns its output names. */
  emit(opType: string, inputs: (string | null)[], attrs: Record<string, Attr>, hint: string, outputs?: string[], nOut = 1): string[] {
    const outs = outputs ?? Array.from({ length: nOut }, () => `${hint}/${opType}_${this.counter++}`);
    this.process({ opType, domain: '', name: `${hint}/${opType}_${this.counter++}`, inputs: inputs.map((x) => x ?? ''), outputs: outs, attrs });
    return outs;
  }

  process(raw: Node): void {
    let node: Node = { ...raw, inputs: raw.inputs.map((x) => (x === '' ? '' : this.resolve(x))) };
    if (node.domain === 'com.microsoft' && node.opType === 'Gelu') node = { ...node, domain: '' };
    if (node.domain !== '') throw new Error(`node '${node.name}': operator ${node.domain}.${node.opType} is not supported (only the default ONNX domain)`);
    node = this.upgrade(node);

    if (node.opType === 'Constant') return this.setConst(node.outputs[0], constantValue(node));
    if (node.opType === 'Identity' || node.opType === 'Dropout') {
      // (Dropout's mask output is left undefined: a model that reads it is refused when it does)
      this.alias.set(node.outputs[0], node.inputs[0]);
      this.stats.bypassed++;
      return;
    }
    if (this.tryFold(node)) return;
    const lower = LOWERINGS[node.opType];
    if (lower) {
      this.stats.lowered[node.opType] = (this.stats.lowered[node.opType] ?? 0) + 1;
      return lower(this, node, node.inputs.map((x) => (x === '' ? null : x)));
    }
    this.keepNode(node);
  }

  private setConst(name: string, c: Const): void {
    this.env.set(name, { dtype: c.dtype, shape: [...c.dims], value: c });
  }

  private inferInputs(node: Node): (InferInput | null)[] {
    return node.inputs.map((x) => {
      if (x === '') return null;
      const i = this.info(x);
      return { dtype: i.dtype, shape: i.shape, value: i.value && i.value.data.length <= SMALL ? numbers(i.value) : undefined };
    });
  }

  private tryFold(node: Node): boolean {
    if (!FOLDABLE_OPS.has(node.opType)) return false;
    const ins = node.inputs.map((x) => (x === '' ? null : this.info(x)));
    const known = SHAPE_ONLY.has(node.opType) ? ins[0]!.shape.every((d) => typeof d === 'number') : ins.every((i) => i === null || i.value !== undefined);
    if (!known) return false;
    if (this.maxFold < Infinity && !SHAPE_ONLY.has(node.opType)) {
      // estimate the result's size from its inferred shape (or its largest input) before computing it
      let size = Math.max(0, ...ins.map((i) => (i?.value ? numel(i.value.dims) : 0)));
      try {
        const shapes = inferShapes(node.opType, this.inferInputs(node), node.attrs, node.outputs.length);
        size = Math.max(...shapes.map((s) => (s.shape.every((d) => typeof d === 'number') ? numel(s.shape as number[]) : Infinity)));
      } catch {
        // no shape rule for it: the input size estimate stands
      }
      if (size > this.maxFold) return false;
    }
    const values = ins.map((i) => (i === null ? null : (i.value ?? { dtype: i.dtype, dims: i.shape as number[], data: new Float32Array(0) })));
    let results: Const[];
    try {
      results = evalConst(node.opType, values, node.attrs, node.outputs.length);
    } catch (e) {
      throw new Error(`folding ${node.opType} node '${node.name}': ${(e as Error).message}`);
    }
    node.outputs.forEach((name, k) => name && this.setConst(name, results[k]));
    this.stats.folded++;
    return true;
  }

  private keepNode(node: Node): void {
    let shapes;
    try {
      shapes = inferShapes(node.opType, this.inferInputs(node), node.attrs, node.outputs.length);
    } catch (e) {
      const msg = (e as Error).message;
      const why = /not known to the engine/.test(msg) ? `operator ${node.opType} is not supported` : msg;
      throw new Error(`node '${node.name}' (${node.opType}): ${why}`);
    }
    node.outputs.forEach((name, k) => {
      if (!name) return;
      const s = shapes[k];
      if (!s.shape.every((d) => typeof d === 'number')) throw new Error(`node '${node.name}' (${node.opType}): output ${k} has symbolic shape [${s.shape}] after substitution`);
      this.env.set(name, { dtype: s.dtype, shape: s.shape });
    });
    this.out.push({ ...node, inputs: trimTrailing(node.inputs) });
  }

  /** Older-opset attributes become the inputs opset 20 expects; conv padding becomes explicit. */
  private upgrade(n: Node): Node {
    const v = this.opset;
    const moveAttr = (attr: string, slot: number, make: (a: Attr) => Const): Node => {
      const a = n.attrs[attr];
      if (!a) return n;
      const attrs = { ...n.attrs };
      delete attrs[attr];
      const inputs = [...n.inputs];
      while (inputs.length < slot) inputs.push('');
      inputs[slot] = this.constant(make(a), n.name);
      return { ...n, inputs, attrs };
    };
    const ints = (a: Attr) => int64((a as { value: number[] }).value);
    switch (n.opType) {
      case 'ReduceSum':
      case 'ReduceMean':
      case 'ReduceMax':
      case 'ReduceMin':
      case 'ReduceProd':
      case 'ReduceL2':
      case 'ReduceL1':
      case 'ReduceSumSquare':
      case 'ReduceLogSumExp':
        return moveAttr('axes', 1, ints);
      case 'Squeeze':
      case 'Unsqueeze':
        return moveAttr('axes', 1, ints);
      case 'Split': {
        const m = moveAttr('split', 1, ints);
        // opset 18 wants num_outputs when no sizes are given (before, an even split was implied)
        if (!m.inputs[1] && !m.attrs.num_outputs) return { ...m, attrs: { ...m.attrs, num_outputs: { type: 'int', value: m.outputs.length } } };
        return m;
      }
      case 'Slice':
        if (v >= 10) return n;
        n = moveAttr('starts', 1, ints);
        n = moveAttr('ends', 2, ints);
        return moveAttr('axes', 3, ints);
      case 'Pad': {
        if (v >= 11) return n;
        const value = attrFloat(n.attrs, 'value', 0);
        const m = moveAttr('pads', 1, ints);
        const attrs = { ...m.attrs };
        delete attrs.value;
        return { ...m, inputs: [m.inputs[0], m.inputs[1], this.constant(scalarOf(this.info(n.inputs[0]).dtype, value), n.name)], attrs };
      }
      case 'Clip': {
        if (v >= 11) return n;
        const dt = this.info(n.inputs[0]).dtype;
        const lo = n.attrs.min ? this.constant(scalarOf(dt, attrFloat(n.attrs, 'min', 0)), n.name) : '';
        const hi = n.attrs.max ? this.constant(scalarOf(dt, attrFloat(n.attrs, 'max', 0)), n.name) : '';
        return { ...n, inputs: [n.inputs[0], lo, hi], attrs: {} };
      }
      case 'Softmax':
      case 'LogSoftmax': {
        if (v >= 13) return n;
        // before opset 13 the input was coerced to 2-D at `axis` (default 1): the same as opset 13
        // when that axis is the last one
        const rank = this.dims(n.inputs[0]).length;
        const axis = normAxis(attrInt(n.attrs, 'axis', 1), rank);
        const attrs = { ...n.attrs, axis: { type: 'int' as const, value: axis } };
        if (axis === rank - 1) return { ...n, attrs };
        if (n.opType === 'LogSoftmax') throw new Error(`node '${n.name}': LogSoftmax over the coerced 2-D axes of opset < 13 is not supported`);
        return { ...n, opType: 'CoercedSoftmax', attrs };
      }
      case 'Conv':
      case 'ConvTranspose':
        return this.explicitPads(n);
      case 'BatchNormalization':
      case 'Dropout':
        return { ...n, attrs: Object.fromEntries(Object.entries(n.attrs).filter(([k]) => k !== 'spatial' && k !== 'is_test' && k !== 'consumed_inputs')) };
      default:
        return n;
    }
  }

  /** Conv with auto_pad or no kernel_shape: explicit kernel_shape and pads, now that shapes are known. */
  private explicitPads(n: Node): Node {
    const w = this.dims(n.inputs[1]);
    const spatial = w.length - 2;
    const attrs = { ...n.attrs };
    if (!attrs.kernel_shape) attrs.kernel_shape = { type: 'ints', value: w.slice(2) };
    const mode = attrString(n.attrs, 'auto_pad', 'NOTSET');
    delete attrs.auto_pad;
    if (mode === 'NOTSET' || mode === 'VALID') {
      if (mode === 'VALID') attrs.pads = { type: 'ints', value: new Array(2 * spatial).fill(0) };
      return { ...n, attrs };
    }
    if (n.opType !== 'Conv') throw new Error(`node '${n.name}': ConvTranspose with auto_pad ${mode} is not supported`);
    const x = this.dims(n.inputs[0]);
    const k = attrInts(attrs, 'kernel_shape')!;
    const s = attrInts(attrs, 'strides') ?? k.map(() => 1);
    const d = attrInts(attrs, 'dilations') ?? k.map(() => 1);
    const begin: number[] = [];
    const end: number[] = [];
    k.forEach((kk, i) => {
      const L = x[2 + i];
      const total = Math.max((Math.ceil(L / s[i]) - 1) * s[i] + (kk - 1) * d[i] + 1 - L, 0);
      const small = Math.floor(total / 2);
      begin.push(mode === 'SAME_LOWER' ? total - small : small);
      end.push(mode === 'SAME_LOWER' ? small : total - small);
    });
    attrs.pads = { type: 'ints', value: [...begin, ...end] };
    return { ...n, attrs };
  }

  isConst(name: string | null): boolean {
    return !!name && this.info(name).value !== undefined;
  }

  constValue(name: string): Const | undefined {
    return this.info(name).value;
  }
}

function trimTrailing(inputs: string[]): string[] {
  let n = inputs.length;
  while (n > 0 && inputs[n - 1] === '') n--;
  return inputs.slice(0, n);
}

/** The value of a Constant node, from whichever attribute holds it. */
function constantValue(n: Node): Const {
  const a = n.attrs;
  if (a.value?.type === 'tensor') return a.value.value;
  if (a.value_float) return { dtype: 'float32', dims: [], data: Float32Array.of(attrFloat(a, 'value_float', 0)) };
  if (a.value_floats?.type === 'floats') return { dtype: 'float32', dims: [a.value_floats.value.length], data: Float32Array.from(a.value_floats.value) };
  if (a.value_int) return { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(attrInt(a, 'value_int', 0))) };
  if (a.value_ints?.type === 'ints') return int64(a.value_ints.value);
  throw new Error(`Constant node '${n.name}' holds no value the engine can read`);
}

const I = (value: number): Attr => ({ type: 'int', value });
const F = (value: number): Attr => ({ type: 'float', value });

/** Normalizes over the trailing axes from 2 with LayerNormalization (unit scale, no bias). */
function normalizeTrailing(p: Preparer, x: string, eps: number, hint: string): string {
  const dims = p.dims(x);
  const ones = p.constant({ dtype: 'float32', dims: dims.slice(2), data: new Float32Array(numel(dims.slice(2))).fill(1) }, hint);
  return p.emit('LayerNormalization', [x, ones], { axis: I(2), epsilon: F(eps) }, hint)[0];
}

/** Broadcasts a per-channel vector [C] over [N, C, ...] by reshaping it to [C, 1, ...]. */
function perChannel(p: Preparer, v: string, rank: number, hint: string): string {
  const c = p.dims(v)[0];
  return p.emit('Reshape', [v, p.constant(int64([c, ...new Array(rank - 2).fill(1)]), hint)], {}, hint)[0];
}

const isAll = (c: Const | undefined, v: number) => !!c && Array.from(c.data as ArrayLike<number>).every((x) => Number(x) === v);

/**
 * Composite ops rewritten into primitives that have gradient rules and run on WebGPU (STYLE.md: few
 * primitives). Each keeps the original output name, so nothing downstream changes.
 */
const LOWERINGS: Record<string, Lowering> = {
  // x − m − log Σ exp(x − m): onnxruntime's LogSoftmax falls back to the CPU under WebGPU (FIELD.md)
  LogSoftmax: (p, n, [x]) => {
    const axis = normAxis(attrInt(n.attrs, 'axis', -1), p.dims(x!).length);
    const ax = p.constant(int64([axis]), n.name);
    const m = p.emit('ReduceMax', [x, ax], { keepdims: I(1) }, n.name)[0];
    const s = p.emit('Sub', [x, m], {}, n.name)[0];
    const lse = p.emit('Log', [p.emit('ReduceSum', [p.emit('Exp', [s], {}, n.name)[0], ax], { keepdims: I(1) }, n.name)[0]], {}, n.name)[0];
    p.emit('Sub', [s, lse], {}, n.name, [n.outputs[0]]);
  },
  // InstanceNormalization(x, γ, β) = LayerNormalization over axes ≥ 2, then a per-channel affine
  // (skipped when γ = 1 and β = 0, as in the Reshape → InstanceNorm → Reshape that torch emits for GroupNorm)
  InstanceNormalization: (p, n, [x, scale, bias]) => {
    const rank = p.dims(x!).length;
    const eps = attrFloat(n.attrs, 'epsilon', 1e-5);
    let y = normalizeTrailing(p, x!, eps, n.name);
    const unitScale = isAll(p.constValue(scale!), 1);
    const zeroBias = isAll(p.constValue(bias!), 0);
    if (!unitScale) y = p.emit('Mul', [y, perChannel(p, scale!, rank, n.name)], {}, n.name, zeroBias ? [n.outputs[0]] : undefined)[0];
    if (!zeroBias) y = p.emit('Add', [y, perChannel(p, bias!, rank, n.name)], {}, n.name, [n.outputs[0]])[0];
    if (unitScale && zeroBias) p.emit('Identity', [y], {}, n.name, [n.outputs[0]]);
  },
  // GroupNormalization (opset 18/21): [N, C, …] → [N, G, C/G·…], normalized per group, then γ, β per
  // channel (opset 21) or per group (opset 18's shape)
  GroupNormalization: (p, n, [x, scale, bias]) => {
    const dims = p.dims(x!);
    const G = attrInt(n.attrs, 'num_groups', 1);
    const eps = attrFloat(n.attrs, 'epsilon', 1e-5);
    const grouped = p.emit('Reshape', [x, p.constant(int64([dims[0], G, numel(dims.slice(1)) / G]), n.name)], {}, n.name)[0];
    let y = normalizeTrailing(p, grouped, eps, n.name);
    const perGroup = p.dims(scale!)[0] === G && G !== dims[1];
    if (perGroup) {
      y = p.emit('Mul', [y, perChannel(p, scale!, 3, n.name)], {}, n.name)[0];
      y = p.emit('Add', [y, perChannel(p, bias!, 3, n.name)], {}, n.name)[0];
      p.emit('Reshape', [y, p.constant(int64(dims), n.name)], {}, n.name, [n.outputs[0]]);
    } else {
      y = p.emit('Reshape', [y, p.constant(int64(dims), n.name)], {}, n.name)[0];
      y = p.emit('Mul', [y, perChannel(p, scale!, dims.length, n.name)], {}, n.name)[0];
      p.emit('Add', [y, perChannel(p, bias!, dims.length, n.name)], {}, n.name, [n.outputs[0]]);
    }
  },
  // inference-mode BatchNormalization: y = x·s + t with s = γ/√(var + ε), t = β − mean·s
  // (s and t fold to constants when the statistics and affine are frozen)
  BatchNormalization: (p, n, [x, scale, bias, mean, variance]) => {
    if (attrInt(n.attrs, 'training_mode', 0) === 1 || n.outputs.slice(1).some((o) => o)) throw new Error(`node '${n.name}': BatchNormalization in training mode is not supported (export the model in eval mode)`);
    const rank = p.dims(x!).length;
    const eps = p.constant(scalarOf('float32', attrFloat(n.attrs, 'epsilon', 1e-5)), n.name);
    const s = p.emit('Div', [scale, p.emit('Sqrt', [p.emit('Add', [variance, eps], {}, n.name)[0]], {}, n.name)[0]], {}, n.name)[0];
    const t = p.emit('Sub', [bias, p.emit('Mul', [mean, s], {}, n.name)[0]], {}, n.name)[0];
    const y = p.emit('Mul', [x, perChannel(p, s, rank, n.name)], {}, n.name)[0];
    p.emit('Add', [y, perChannel(p, t, rank, n.name)], {}, n.name, [n.outputs[0]]);
  },
  // opset < 13 Softmax normalizes over all axes from `axis` on (the input coerced to 2-D)
  CoercedSoftmax: (p, n, [x]) => {
    const dims = p.dims(x!);
    const axis = normAxis(attrInt(n.attrs, 'axis', -1), dims.length);
    const flat = p.emit('Reshape', [x, p.constant(int64([numel(dims.slice(0, axis)), numel(dims.slice(axis))]), n.name)], {}, n.name)[0];
    const y = p.emit('Softmax', [flat], { axis: I(-1) }, n.name)[0];
    p.emit('Reshape', [y, p.constant(int64(dims), n.name)], {}, n.name, [n.outputs[0]]);
  },
  ReduceL2: (p, n, [x, axes]) => {
    const sq = p.emit('ReduceSum', [p.emit('Mul', [x, x], {}, n.name)[0], axes], n.attrs, n.name)[0];
    p.emit('Sqrt', [sq], {}, n.name, [n.outputs[0]]);
  },
  ReduceSumSquare: (p, n, [x, axes]) => void p.emit('ReduceSum', [p.emit('Mul', [x, x], {}, n.name)[0], axes], n.attrs, n.name, [n.outputs[0]]),
  ReduceMin: (p, n, [x, axes]) => void p.emit('Neg', [p.emit('ReduceMax', [p.emit('Neg', [x], {}, n.name)[0], axes], n.attrs, n.name)[0]], {}, n.name, [n.outputs[0]]),
  // variadic Sum / Mean fall back to the CPU on WebGPU (FIELD.md): a chain of Add
  Sum: (p, n, xs) => void p.emit('Identity', [xs.reduce((a, b) => p.emit('Add', [a, b], {}, n.name)[0])], {}, n.name, [n.outputs[0]]),
  Mean: (p, n, xs) => {
    const sum = xs.reduce((a, b) => p.emit('Add', [a, b], {}, n.name)[0]);
    p.emit('Div', [sum, p.constant(scalarOf(p.info(xs[0]!).dtype, xs.length), n.name)], {}, n.name, [n.outputs[0]]);
  },
  GreaterOrEqual: (p, n, [a, b]) => void p.emit('Not', [p.emit('Less', [a, b], {}, n.name)[0]], {}, n.name, [n.outputs[0]]),
  LessOrEqual: (p, n, [a, b]) => void p.emit('Not', [p.emit('Greater', [a, b], {}, n.name)[0]], {}, n.name, [n.outputs[0]]),
  // Or falls back to the CPU on WebGPU (FIELD.md): ¬(¬a ∧ ¬b)
  Or: (p, n, [a, b]) => {
    const both = p.emit('And', [p.emit('Not', [a], {}, n.name)[0], p.emit('Not', [b], {}, n.name)[0]], {}, n.name)[0];
    p.emit('Not', [both], {}, n.name, [n.outputs[0]]);
  },
  LeakyRelu: (p, n, [x]) => {
    const dt = p.info(x!).dtype;
    const pos = p.emit('Greater', [x, p.constant(scalarOf(dt, 0), n.name)], {}, n.name)[0];
    const neg = p.emit('Mul', [x, p.constant(scalarOf(dt, attrFloat(n.attrs, 'alpha', 0.01)), n.name)], {}, n.name)[0];
    p.emit('Where', [pos, x, neg], {}, n.name, [n.outputs[0]]);
  },
  // Xor on booleans is inequality (Xor has no WebGPU kernel and no gradient to carry); torch emits it
  // for the sign test of an integer floor division (NeMo's MaskedConv1d length arithmetic)
  Xor: (p, n, [a, b]) => void p.emit('Not', [p.emit('Equal', [a, b], {}, n.name)[0]], {}, n.name, [n.outputs[0]]),
  // Mod (falls back to the CPU on WebGPU, FIELD.md): fmod = 1 is a − b·trunc(a / b) (integers: Div
  // truncates); fmod = 0 (integers only) takes the divisor's sign: r + b where r ≠ 0 and sign(r) ≠ sign(b)
  Mod: (p, n, [a, b]) => {
    const dt = p.info(a!).dtype;
    const fmod = attrInt(n.attrs, 'fmod', 0) === 1;
    if (dt === 'float32' || dt === 'float64') throw new Error(`node '${n.name}': Mod on floating-point values is not supported`);
    const r = p.emit('Sub', [a, p.emit('Mul', [p.emit('Div', [a, b], {}, n.name)[0], b], {}, n.name)[0]], {}, n.name)[0];
    if (fmod) return void p.emit('Identity', [r], {}, n.name, [n.outputs[0]]);
    const zero = p.constant(scalarOf(dt, 0), n.name);
    const nonzero = p.emit('Not', [p.emit('Equal', [r, zero], {}, n.name)[0]], {}, n.name)[0];
    const signsDiffer = p.emit('Not', [p.emit('Equal', [p.emit('Less', [r, zero], {}, n.name)[0], p.emit('Less', [b, zero], {}, n.name)[0]], {}, n.name)[0]], {}, n.name)[0];
    const fix = p.emit('And', [nonzero, signsDiffer], {}, n.name)[0];
    p.emit('Where', [fix, p.emit('Add', [r, b], {}, n.name)[0], r], {}, n.name, [n.outputs[0]]);
  },
  // GlobalAveragePool / GlobalMaxPool: a keepdims reduction over every axis from 2 (the unmasked
  // squeeze of a squeeze-excitation block, as AdaptiveAvgPool1d(1) exports)
  GlobalAveragePool: (p, n, [x]) => {
    const rank = p.dims(x!).length;
    const axes = p.constant(int64(Array.from({ length: rank - 2 }, (_, i) => i + 2)), n.name);
    p.emit('ReduceMean', [x, axes], { keepdims: I(1) }, n.name, [n.outputs[0]]);
  },
  GlobalMaxPool: (p, n, [x]) => {
    const rank = p.dims(x!).length;
    const axes = p.constant(int64(Array.from({ length: rank - 2 }, (_, i) => i + 2)), n.name);
    p.emit('ReduceMax', [x, axes], { keepdims: I(1) }, n.name, [n.outputs[0]]);
  },
  Flatten: (p, n, [x]) => {
    const dims = p.dims(x!);
    const axis = attrInt(n.attrs, 'axis', 1);
    const k = axis < 0 ? axis + dims.length : axis;
    p.emit('Reshape', [x, p.constant(int64([numel(dims.slice(0, k)), numel(dims.slice(k))]), n.name)], {}, n.name, [n.outputs[0]]);
  },
};

/** A scalar constant's value (a one-element constant), else undefined. */
function scalarValue(info: Info | undefined): number | undefined {
  const v = info?.value;
  return v && v.data.length === 1 && (v.dtype === 'float32' || v.dtype === 'float64') ? Number(v.data[0]) : undefined;
}

const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

/**
 * Fuses what exporters at opset < 17 decompose: LayerNorm (ReduceMean, Sub, Pow 2, ReduceMean, Add ε,
 * Sqrt, Div, Mul γ, Add β) into LayerNormalization, and erf-GELU (Div √2, Erf, Add 1, Mul x, Mul ½)
 * into Gelu. Each is one GPU kernel and one gradient rule instead of 5–9 nodes forward and about
 * twice that backward (≈ 20 µs of CPU per node per step in the browser, FIELD.md), and the fused
 * LayerNormalization's gradient reuses its saved statistics.
 */
function fuse(nodes: Node[], info: (name: string) => Info | undefined, graphOutputs: Set<string>): { nodes: Node[]; counts: Record<string, number> } {
  const producer = new Map<string, Node>();
  const users = new Map<string, Node[]>();
  for (const n of nodes) {
    for (const o of n.outputs) producer.set(o, n);
    for (const i of n.inputs) if (i) users.set(i, [...(users.get(i) ?? []), n]);
  }
  /** The single node reading `v` (of type `op`), when nothing else (nor the graph's outputs) reads it. */
  const onlyUser = (v: string, op: string): Node | undefined => {
    const u = users.get(v);
    return u && u.length === 1 && u[0].opType === op && !graphOutputs.has(v) ? u[0] : undefined;
  };
  const other = (n: Node, v: string) => (n.inputs[0] === v ? n.inputs[1] : n.inputs[0]);
  const lastAxisOnly = (n: Node, rank: number) => {
    const axes = n.inputs[1] ? info(n.inputs[1])?.value : undefined;
    if (!axes || axes.data.length !== 1 || attrInt(n.attrs, 'keepdims', 1) !== 1) return false;
    const a = Number(axes.data[0]);
    return a === -1 || a === rank - 1;
  };
  const removed = new Set<Node>();
  const replacement = new Map<Node, Node>();
  const counts: Record<string, number> = {};

  for (const m of nodes) {
    if (removed.has(m)) continue;
    // LayerNorm: m = mean(x); d = x − m; v = mean(d²); y = d / √(v + ε) · γ + β
    if (m.opType === 'ReduceMean') {
      const x = m.inputs[0];
      const rank = info(x)?.shape.length ?? 0;
      if (!lastAxisOnly(m, rank)) continue;
      const sub = onlyUser(m.outputs[0], 'Sub');
      if (!sub || sub.inputs[0] !== x || sub.inputs[1] !== m.outputs[0]) continue;
      const d = sub.outputs[0];
      const du = users.get(d) ?? [];
      const pow = du.find((n) => n.opType === 'Pow');
      const div = du.find((n) => n.opType === 'Div');
      if (du.length !== 2 || !pow || !div || pow.inputs[0] !== d || div.inputs[0] !== d || !near(scalarValue(info(pow.inputs[1])), 2)) continue;
      const mean2 = onlyUser(pow.outputs[0], 'ReduceMean');
      if (!mean2 || !lastAxisOnly(mean2, rank)) continue;
      const addEps = onlyUser(mean2.outputs[0], 'Add');
      const eps = addEps && scalarValue(info(other(addEps, mean2.outputs[0])));
      const sqrt = addEps && onlyUser(addEps.outputs[0], 'Sqrt');
      if (eps === undefined || !sqrt || onlyUser(sqrt.outputs[0], 'Div') !== div || div.inputs[1] !== sqrt.outputs[0]) continue;
      const D = info(x)!.shape[rank - 1];
      const isVec = (v: string) => { const s = info(v)?.shape; return !!s && s.length === 1 && s[0] === D && !producer.has(v); };
      const mul = onlyUser(div.outputs[0], 'Mul');
      const gamma = mul && other(mul, div.outputs[0]);
      if (!mul || !gamma || !isVec(gamma)) continue;
      const add = onlyUser(mul.outputs[0], 'Add');
      const beta = add && other(add, mul.outputs[0]);
      const withBias = !!add && !!beta && isVec(beta);
      const last = withBias ? add! : mul;
      for (const n of [m, sub, pow, mean2, addEps!, sqrt, div, mul, ...(withBias ? [add!] : [])]) removed.add(n);
      replacement.set(last, { opType: 'LayerNormalization', domain: '', name: `${m.name}/LayerNormalization`, inputs: withBias ? [x, gamma, beta!] : [x, gamma], outputs: [last.outputs[0]], attrs: { axis: { type: 'int', value: -1 }, epsilon: { type: 'float', value: eps } } });
      counts.LayerNormalization = (counts.LayerNormalization ?? 0) + 1;
    }
    // GELU: y = x · ½(1 + erf(x/√2)), the ½ applied to x or to the product
    if (m.opType === 'Erf') {
      const pre = producer.get(m.inputs[0]);
      if (!pre || (users.get(pre.outputs[0]) ?? []).length !== 1) continue;
      const k = scalarValue(info(pre.inputs[1]));
      if (!((pre.opType === 'Div' && near(k, Math.SQRT2)) || (pre.opType === 'Mul' && near(k, Math.SQRT1_2)))) continue;
      const x = pre.inputs[0];
      const plus1 = onlyUser(m.outputs[0], 'Add');
      if (!plus1 || !near(scalarValue(info(other(plus1, m.outputs[0]))), 1)) continue;
      const times = onlyUser(plus1.outputs[0], 'Mul');
      if (!times) continue;
      const left = other(times, plus1.outputs[0]);
      let chain: Node[];
      let out: Node;
      if (left === x) {
        const half = onlyUser(times.outputs[0], 'Mul');
        if (!half || !near(scalarValue(info(other(half, times.outputs[0]))), 0.5)) continue;
        chain = [pre, m, plus1, times, half];
        out = half;
      } else {
        const half = producer.get(left);
        if (!half || half.opType !== 'Mul' || (users.get(left) ?? []).length !== 1 || !half.inputs.includes(x) || !near(scalarValue(info(other(half, x))), 0.5)) continue;
        chain = [half, pre, m, plus1, times];
        out = times;
      }
      for (const n of chain) removed.add(n);
      replacement.set(out, { opType: 'Gelu', domain: '', name: `${m.name}/Gelu`, inputs: [x], outputs: [out.outputs[0]], attrs: { approximate: { type: 'string', value: 'none' } } });
      counts.Gelu = (counts.Gelu ?? 0) + 1;
    }
  }
  if (removed.size === 0) return { nodes, counts };
  return { nodes: nodes.flatMap((n) => (replacement.has(n) ? [replacement.get(n)!] : removed.has(n) ? [] : [n])), counts };
}
