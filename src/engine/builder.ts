// The graph builder: model code calls op functions on typed symbolic values and gets values back;
// every call appends one ONNX node whose output shape is inferred on the spot, so shape errors
// surface at the line of model code that caused them, not inside onnxruntime.
// Inspired by spox/onnxscript: values in, values out, `build()` at the end.

import type { Attr, DType, Dim, Graph, Node, TensorConst, TensorData, ValueInfo } from './ir';
import { numel } from './ir';
import { inferShapes, type InferInput } from './shape-inference';

export class Value {
  constructor(
    readonly g: GraphBuilder,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly Dim[],
  ) {}

  get rank(): number {
    return this.shape.length;
  }

  /** The shape when every dimension is known at build time; throws otherwise. */
  get dims(): number[] {
    return this.shape.map((d, i) => {
      if (typeof d !== 'number') throw new Error(`${this.name}: dimension ${i} is symbolic ('${d}') where a static shape is needed`);
      return d;
    });
  }

  toString(): string {
    return `${this.name}: ${this.dtype}[${this.shape.join(', ')}]`;
  }
}

export type AttrInput = number | number[] | string | string[] | Attr;

export interface Parameter {
  value: Value;
  init: TensorConst;
}

/** Converts plain JS attribute values to typed ONNX attributes. Integers become 'int'; use `{ type: 'float' }` to force floats. */
export function toAttr(v: AttrInput): Attr {
  if (typeof v === 'object' && !Array.isArray(v)) return v;
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (v.length > 0 && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
  const nums = v as number[];
  return nums.every(Number.isInteger) ? { type: 'ints', value: nums } : { type: 'floats', value: nums };
}

export const float = (value: number): Attr => ({ type: 'float', value });

/**
 * Drops trailing omitted optional inputs. ONNX allows writing them as '', but onnxruntime-web's
 * WebGPU EP (1.30) rejects e.g. ConvTranspose [dy, w, ''] ("invalid bias"); leaving them out is
 * read the same way by every runtime.
 */
function trimOmitted<T>(inputs: (T | null)[]): (T | null)[] {
  let n = inputs.length;
  while (n > 0 && inputs[n - 1] === null) n--;
  return n === inputs.length ? inputs : inputs.slice(0, n);
}

export class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers = new Map<string, TensorConst>();
  /** Trainable parameters, in creation order. */
  readonly params = new Map<string, Parameter>();
  private readonly values = new Map<string, Value>();
  private readonly scopeStack: string[] = [];
  private readonly nodePrefixStack: string[] = [];
  private readonly constCache = new Map<string, Value>();
  /** Nodes by op, inputs and attributes, for emitting each distinct computation once. */
  private readonly emitted = new Map<string, Node>();
  /** The node that computes each value. */
  private readonly producer = new Map<string, Node>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** Runs `fn` with `name` appended to the module path (`encoder` → `encoder.2` → `encoder.2.attn`). */
  scope<T>(name: string | number, fn: () => T): T {
    this.scopeStack.push(String(name));
    try {
      return fn();
    } finally {
      this.scopeStack.pop();
    }
  }

  /** Prefix for node names only (used by autodiff: `<node>_Grad/...`). */
  nodeScope<T>(prefix: string, fn: () => T): T {
    this.nodePrefixStack.push(prefix);
    try {
      return fn();
    } finally {
      this.nodePrefixStack.pop();
    }
  }

  get modulePath(): string {
    return this.scopeStack.join('.');
  }

  private qualify(local: string): string {
    return this.scopeStack.length ? `${this.modulePath}.${local}` : local;
  }

  private fresh(base: string): string {
    const prefix = this.nodePrefixStack.length ? this.nodePrefixStack[this.nodePrefixStack.length - 1] + '/' : '';
    const scope = this.scopeStack.length ? this.modulePath + '/' : '';
    return `${prefix}${scope}${base}_${this.counter++}`;
  }

  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) throw new Error(`unknown value '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** The node that computes `v` (undefined for inputs, initializers and parameters). */
  producerOf(v: Value): Node | undefined {
    return this.producer.get(v.name);
  }

  private register(name: string, dtype: DType, shape: readonly Dim[]): Value {
    if (this.values.has(name)) throw new Error(`value '${name}' defined twice`);
    const v = new Value(this, name, dtype, [...shape]);
    this.values.set(name, v);
    return v;
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    this.inputs.push({ name, dtype, shape: [...shape] });
    return this.register(name, dtype, shape);
  }

  /** A trainable parameter named by the module path, e.g. `encoder.2.attn.q.weight`. */
  param(localName: string, dims: number[], data: Float32Array): Value {
    const name = this.qualify(localName);
    if (data.length !== numel(dims)) throw new Error(`${name}: ${data.length} values for shape [${dims}]`);
    const init: TensorConst = { name, dtype: 'float32', dims: [...dims], data };
    this.initializers.set(name, init);
    const value = this.register(name, 'float32', dims);
    this.params.set(name, { value, init });
    return value;
  }

  /** A non-trainable initializer (buffers such as positional tables, or constants). */
  initializer(name: string, dtype: DType, dims: number[], data: TensorData): Value {
    if (data.length !== numel(dims)) throw new Error(`${name}: ${data.length} values for shape [${dims}]`);
    this.initializers.set(name, { name, dtype, dims: [...dims], data });
    return this.register(name, dtype, dims);
  }

  /** A constant, deduplicated: the same small constant is one initializer however often it is used. */
  constant(dtype: DType, dims: number[], values: ArrayLike<number> | ArrayLike<bigint>): Value {
    const uniform = values.length > 64 && Array.prototype.every.call(values, (v: number | bigint) => v === values[0]);
    const key = `${dtype}|${dims.join(',')}|${values.length <= 64 ? Array.from(values as ArrayLike<number>).join(',') : uniform ? `all ${values[0]}` : `#${this.counter}`}`;
    const hit = this.constCache.get(key);
    if (hit) return hit;
    let data: TensorData;
    if (dtype === 'int64') data = BigInt64Array.from(Array.from(values as ArrayLike<number>, (x) => BigInt(x)));
    else if (dtype === 'float32') data = Float32Array.from(values as ArrayLike<number>);
    else if (dtype === 'float64') data = Float64Array.from(values as ArrayLike<number>);
    else if (dtype === 'int32') data = Int32Array.from(values as ArrayLike<number>);
    else data = Uint8Array.from(values as ArrayLike<number>);
    const v = this.initializer(`const_${this.counter++}`, dtype, dims, data);
    this.constCache.set(key, v);
    return v;
  }

  scalar(x: number, dtype: DType = 'float32'): Value {
    return this.constant(dtype, [], [x]);
  }

  int64s(xs: number[]): Value {
    return this.constant('int64', [xs.length], xs);
  }

  /**
   * What shape inference sees of an input: its values when it is a small constant (shapes, axes,
   * pads). Big initializers (weights of an imported model) are not copied into number arrays.
   */
  private inferInput(v: Value): InferInput {
    const init = this.initializers.get(v.name);
    return { dtype: v.dtype, shape: v.shape, value: init && init.data.length <= 64 ? this.constValue(v) : undefined };
  }

  /** Known values of an initializer (for shape inference of Reshape/Slice/... and for rules). */
  constValue(v: Value): number[] | undefined {
    const init = this.initializers.get(v.name);
    if (!init || this.params.has(v.name)) return undefined;
    return Array.from(init.data as ArrayLike<number | bigint>, Number);
  }

  /** Appends a node; output dtypes/shapes come from shape inference. `inputs` may hold null for omitted optionals. */
  emit(opType: string, inputs: (Value | null)[], attrs: Record<string, AttrInput> = {}, nOutputs = 1, name?: string): Value[] {
    inputs = trimOmitted(inputs);
    const typedAttrs: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(attrs)) typedAttrs[k] = toAttr(v);
    // a transpose of a transpose is one transpose of the first one's input, or that input itself
    // when the permutations cancel (the backward pass of attention asks for many such pairs)
    if (opType === 'Transpose' && name === undefined && inputs[0]) {
      const before = this.producer.get(inputs[0].name);
      const outer = typedAttrs.perm;
      const inner = before?.opType === 'Transpose' ? before.attrs.perm : undefined;
      if (before && outer?.type === 'ints' && inner?.type === 'ints') {
        const perm = outer.value.map((p) => inner.value[p]);
        const source = this.value(before.inputs[0]);
        if (perm.every((p, i) => p === i)) return [source];
        return this.emit('Transpose', [source], { perm });
      }
    }
    // Every op the engine emits is a pure function of its inputs: the same op on the same values is
    // emitted once (the backward pass asks for many: xᵀ for several weight gradients, one reshape
    // of a gradient for both operands of a MatMul, …).
    const key = name === undefined ? `${opType}|${inputs.map((v) => (v ? v.name : '')).join(',')}|${nOutputs}|${JSON.stringify(typedAttrs)}` : undefined;
    const seen = key === undefined ? undefined : this.emitted.get(key);
    if (seen) return seen.outputs.slice(0, nOutputs).map((o) => this.values.get(o)!);
    const nodeName = name ?? this.fresh(opType);
    const infer: (InferInput | null)[] = inputs.map((v) => (v ? this.inferInput(v) : null));
    let infos: { dtype: DType; shape: Dim[] }[];
    try {
      infos = inferShapes(opType, infer, typedAttrs, nOutputs);
    } catch (e) {
      const where = this.modulePath ? ` in ${this.modulePath}` : '';
      const ins = inputs.map((v) => (v ? v.toString() : '∅')).join('; ');
      throw new Error(`${opType} node ${nodeName}${where}: ${(e as Error).message} (inputs: ${ins})`);
    }
    // a reshape to the shape its input already has, or back to the shape before another reshape, is no-op
    if (opType === 'Reshape' && name === undefined && infos[0].shape.every((d) => typeof d === 'number')) {
      const same = (v: Value) => v.shape.length === infos[0].shape.length && v.shape.every((d, i) => d === infos[0].shape[i]);
      if (same(inputs[0]!)) return [inputs[0]!];
      const before = this.producer.get(inputs[0]!.name);
      if (before?.opType === 'Reshape' && same(this.value(before.inputs[0]))) return [this.value(before.inputs[0])];
    }
    const outNames = infos.map((_, i) => (infos.length === 1 ? nodeName : `${nodeName}:${i}`));
    const outs = infos.map((info, i) => this.register(outNames[i], info.dtype, info.shape));
    const node: Node = {
      opType,
      domain: '',
      name: nodeName,
      inputs: inputs.map((v) => (v ? v.name : '')),
      outputs: outNames,
      attrs: typedAttrs,
      origin: this.modulePath || undefined,
    };
    this.nodes.push(node);
    for (const o of outNames) this.producer.set(o, node);
    if (key !== undefined) this.emitted.set(key, node);
    return outs;
  }

  /**
   * The first `n` outputs of a node already emitted, switching on optional ones it did not produce
   * yet (LayerNormalization's Mean and InvStdDev, which its gradient reuses instead of recomputing).
   */
  outputsOf(node: Node, n: number): Value[] {
    if (node.outputs.length < n) {
      const infer = node.inputs.map((name) => (name === '' ? null : this.inferInput(this.value(name))));
      const infos = inferShapes(node.opType, infer, node.attrs, n);
      for (let i = node.outputs.length; i < n; i++) {
        const name = `${node.name}:${i}`;
        this.register(name, infos[i].dtype, infos[i].shape);
        node.outputs.push(name);
      }
    }
    return node.outputs.slice(0, n).map((o) => this.value(o));
  }

  /** Marks `v` as a graph output named `name` (adds an Identity when the name differs). */
  output(v: Value, name = v.name): Value {
    let out = v;
    if (name !== v.name) out = this.emit('Identity', [v], {}, 1, name)[0];
    this.outputs.push({ name: out.name, dtype: out.dtype, shape: [...out.shape] });
    return out;
  }

  build(): Graph {
    const valueInfo: ValueInfo[] = [];
    const io = new Set([...this.inputs.map((i) => i.name), ...this.outputs.map((o) => o.name)]);
    // nodes nobody reads (left behind when a reshape pair cancelled) are dropped
    const used = new Set(this.outputs.map((o) => o.name));
    const live: Node[] = [];
    for (let k = this.nodes.length - 1; k >= 0; k--) {
      const n = this.nodes[k];
      if (!n.outputs.some((o) => used.has(o))) continue;
      live.push(n);
      for (const i of n.inputs) used.add(i);
    }
    live.reverse();
    for (const n of live)
      for (const o of n.outputs) {
        if (io.has(o)) continue;
        const v = this.values.get(o)!;
        valueInfo.push({ name: o, dtype: v.dtype, shape: [...v.shape] });
      }
    return {
      name: this.name,
      nodes: live,
      inputs: [...this.inputs],
      outputs: [...this.outputs],
      initializers: [...this.initializers.values()],
      valueInfo,
    };
  }

  /**
   * Rebuilds a graph written elsewhere (a model we did not write) inside a builder, inferring every
   * shape again, so autodiff can work on it. `trainable` names initializers to treat as parameters.
   */
  static fromGraph(graph: Graph, trainable: (name: string) => boolean = () => false): GraphBuilder {
    const g = new GraphBuilder(graph.name);
    for (const i of graph.inputs) if (!graph.initializers.some((t) => t.name === i.name)) g.input(i.name, i.dtype, i.shape);
    for (const t of graph.initializers) {
      if (trainable(t.name) && t.dtype === 'float32') {
        const value = g.register(t.name, t.dtype, t.dims);
        g.initializers.set(t.name, t);
        g.params.set(t.name, { value, init: t });
      } else g.initializer(t.name, t.dtype, t.dims, t.data);
    }
    for (const n of graph.nodes) {
      if (n.domain !== '') throw new Error(`node ${n.name}: domain '${n.domain}' is not supported`);
      const ins = n.inputs.map((name) => (name === '' ? null : g.value(name)));
      const attrs: Record<string, Attr> = { ...n.attrs };
      const outs = g.emitRaw(n.opType, ins, attrs, n.outputs, n.name);
      void outs;
    }
    for (const o of graph.outputs) g.outputs.push({ ...o, shape: [...g.value(o.name).shape] });
    return g;
  }

  private emitRaw(opType: string, inputs: (Value | null)[], attrs: Record<string, Attr>, outputs: string[], name: string): Value[] {
    inputs = trimOmitted(inputs);
    const infer = inputs.map((v) => (v ? this.inferInput(v) : null));
    let infos: { dtype: DType; shape: Dim[] }[];
    try {
      infos = inferShapes(opType, infer, attrs, outputs.length);
    } catch (e) {
      throw new Error(`${opType} node ${name}: ${(e as Error).message}`);
    }
    const outs = outputs.map((o, i) => this.register(o, infos[i].dtype, infos[i].shape));
    this.nodes.push({ opType, domain: '', name, inputs: inputs.map((v) => (v ? v.name : '')), outputs: [...outputs], attrs });
    return outs;
  }
}
