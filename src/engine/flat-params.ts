// Trainable parameters (and each optimizer slot) kept in one flat float32 buffer, so the optimizer,
// gradient clipping and the finite guard are a handful of nodes over one tensor instead of a chain
// per parameter (at ~20 µs of CPU per node per run in the browser, FIELD.md).
//
// The buffer is laid out in regions of parameters that share their trailing dimensions (every
// [k, 144] weight in one region, every 1-D bias and gain in another), so a region reshaped to
// [Σk, 144] splits along axis 0 straight into the parameters' own shapes, and their gradients
// concatenate back the same way: no reshape per parameter, in either direction.
//
// Split and Concat nodes take at most MAX_FAN outputs/inputs (a tree of them beyond that): with one
// more binding for the other side, that stays within WebGPU's guaranteed 8 storage buffers per
// shader stage, whatever the adapter offers.

import type { GraphBuilder, Value } from './builder';
import type { Node, TensorConst } from './ir';
import { numel } from './ir';
import { concat, reduceSum, reshape } from './ops';

export const MAX_FAN = 7;

/** One parameter inside a flat buffer, under its outside name. */
export interface FlatSegment {
  name: string;
  /** Element offset into the flat buffer. */
  offset: number;
  dims: number[];
}

/** Parameters sharing trailing dims, stored contiguously. */
interface Region {
  rowDims: number[];
  offset: number;
  size: number;
  members: FlatSegment[];
}

export interface FlatLayout {
  size: number;
  /** In buffer order. */
  segments: FlatSegment[];
  regions: Region[];
}

/**
 * Plans the buffer: regions in order of first appearance, and inside a region the parameters for
 * which `first` holds before the others (the optimizer's weight-decay mask is then a few runs).
 */
export function planFlatLayout(params: { name: string; dims: number[] }[], first: (name: string) => boolean = () => true): FlatLayout {
  const byKey = new Map<string, { name: string; dims: number[] }[]>();
  for (const p of params) {
    const key = p.dims.length === 0 ? 'scalar' : p.dims.slice(1).join(',');
    const list = byKey.get(key);
    if (list) list.push(p);
    else byKey.set(key, [p]);
  }
  const regions: Region[] = [];
  const segments: FlatSegment[] = [];
  let offset = 0;
  for (const list of byKey.values()) {
    const ordered = [...list.filter((p) => first(p.name)), ...list.filter((p) => !first(p.name))];
    const region: Region = { rowDims: list[0].dims.slice(1), offset, size: 0, members: [] };
    for (const p of ordered) {
      const seg = { name: p.name, offset, dims: [...p.dims] };
      offset += numel(p.dims);
      region.members.push(seg);
      segments.push(seg);
    }
    region.size = offset - region.offset;
    regions.push(region);
  }
  return { size: offset, segments, regions };
}

/** The layout a list of segments (as a StateSlot carries them) was planned as. */
export function layoutFromSegments(segments: FlatSegment[]): FlatLayout {
  const sorted = [...segments].sort((a, b) => a.offset - b.offset);
  const regions: Region[] = [];
  let offset = 0;
  for (const s of sorted) {
    if (s.offset !== offset) throw new Error(`flat layout: ${s.name} at ${s.offset}, expected ${offset}`);
    const rowDims = s.dims.slice(1);
    const last = regions[regions.length - 1];
    const key = (d: number[]) => (d.length === 0 ? 'scalar' : d.slice(1).join(','));
    if (last && key(last.members[0].dims) === key(s.dims)) last.members.push(s);
    else regions.push({ rowDims, offset, size: 0, members: [s] });
    offset += numel(s.dims);
    regions[regions.length - 1].size = offset - regions[regions.length - 1].offset;
  }
  return { size: offset, segments: sorted, regions };
}

/** Runs of consecutive segments for which `pred` has the same value, as element counts. */
export function runsOf(layout: FlatLayout, pred: (name: string) => boolean): { length: number; on: boolean }[] {
  const runs: { length: number; on: boolean }[] = [];
  for (const s of layout.segments) {
    const on = pred(s.name);
    const n = numel(s.dims);
    const last = runs[runs.length - 1];
    if (last && last.on === on) last.length += n;
    else runs.push({ length: n, on });
  }
  return runs;
}

/** Gathers per-parameter tensors into one flat buffer laid out as `layout` says. */
export function packFlat(layout: FlatLayout, get: (name: string) => ArrayLike<number>): Float32Array {
  const out = new Float32Array(layout.size);
  for (const s of layout.segments) {
    const src = get(s.name);
    if (src.length !== numel(s.dims)) throw new Error(`${s.name}: ${src.length} values for shape [${s.dims}]`);
    out.set(src, s.offset);
  }
  return out;
}

/**
 * A tree over `n` leaves with at most MAX_FAN children per inner node and as few inner nodes as
 * possible (⌈(n−1)/(MAX_FAN−1)⌉): leaves are grouped bottom-up in full runs of MAX_FAN, and the
 * remainder of a level goes up as it is (a partly filled node below the root would cost a node).
 * Returns nested arrays of leaf indices, in order.
 */
type Tree = number | Tree[];
function fanTree(n: number): Tree[] {
  let level: Tree[] = Array.from({ length: n }, (_, i) => i);
  while (level.length > MAX_FAN) {
    const full = Math.floor(level.length / MAX_FAN);
    const next: Tree[] = [];
    for (let k = 0; k < full; k++) next.push(level.slice(k * MAX_FAN, (k + 1) * MAX_FAN));
    level = [...next, ...level.slice(full * MAX_FAN)];
  }
  return level;
}

/** Concatenates along axis 0 with at most MAX_FAN inputs per Concat node. */
export function concatTree(xs: Value[]): Value {
  const build = (t: Tree): Value => (typeof t === 'number' ? xs[t] : t.length === 1 ? build(t[0]) : concat(t.map(build), 0));
  return xs.length === 1 ? xs[0] : build(fanTree(xs.length));
}

/**
 * The flat gradient: each region's parameter gradients concatenated along axis 0, flattened, and
 * the regions concatenated. `grad(name)` has the parameter's shape.
 */
export function flatGradient(layout: FlatLayout, grad: (name: string) => Value): Value {
  const parts = layout.regions.map((r) => {
    const grads = r.members.map((s) => grad(s.name));
    const joined = concatTree(r.rowDims.length === 0 && r.members[0].dims.length === 1 ? fuseRowSums(grads) : grads);
    return joined.rank === 1 ? joined : reshape(joined, [r.size]);
  });
  return concatTree(parts);
}

/** `x` when `v` is ReduceSum(x, axes [0], keepdims 0) of a 2-D x: a column sum over x's rows. */
function rowSumOf(v: Value): Value | undefined {
  const node = v.g.producerOf(v);
  if (node?.opType !== 'ReduceSum' || node.inputs.length !== 2 || node.attrs.keepdims?.value !== 0) return undefined;
  const x = v.g.value(node.inputs[0]);
  const axes = v.g.constValue(v.g.value(node.inputs[1]));
  return x.rank === 2 && axes?.length === 1 && (axes[0] === 0 || axes[0] === -2) ? x : undefined;
}

/**
 * Most 1-D gradients are column sums of a 2-D [rows, n] tensor (a Gemm's bias, a LayerNorm's scale
 * and bias: ReduceSum over axis 0). Neighbours in the layout that sum the same rows are summed by one
 * ReduceSum over their concatenation along axis 1, up to MAX_FAN of them, instead of one ReduceSum
 * each: two nodes for up to seven (the speech model's full-training graph loses ~100 nodes). The
 * values are the same to the bit on onnxruntime's CPU, whose ReduceSum over the leading axis adds the
 * rows in order for each column, whatever the width; the separate ReduceSums are left unread and
 * `build()` drops them. Concatenating costs one copy of the summed tensors.
 */
function fuseRowSums(grads: Value[]): Value[] {
  const out: Value[] = [];
  let run: { grad: Value; rows: Value }[] = [];
  const close = () => {
    if (run.length) out.push(run.length === 1 ? run[0].grad : reduceSum(concat(run.map((r) => r.rows), 1), [0], false));
    run = [];
  };
  for (const grad of grads) {
    const rows = rowSumOf(grad);
    const joins = rows && run.length < MAX_FAN && (run.length === 0 || (rows.dims[0] === run[0].rows.dims[0] && rows.dtype === run[0].rows.dtype));
    if (!joins) close();
    if (rows) run.push({ grad, rows });
    else out.push(grad);
  }
  close();
  return out;
}

/**
 * Raw ONNX nodes that read every parameter out of the flat buffer `flat` as a value named after the
 * parameter (`want(name)` false: a private name, for views nobody reads). Returned as plain nodes and
 * initializers so they can be put in front of any graph, the training graph or a forward graph.
 */
export function flatViewNodes(layout: FlatLayout, flat: string, want: (name: string) => boolean = () => true): { nodes: Node[]; initializers: TensorConst[] } {
  const nodes: Node[] = [];
  const initializers: TensorConst[] = [];
  let counter = 0;
  const tmp = (what: string) => `${flat}/${what}_${counter++}`;
  const ints = (xs: number[]) => {
    const name = tmp('shape');
    initializers.push({ name, dtype: 'int64', dims: [xs.length], data: BigInt64Array.from(xs.map(BigInt)) });
    return name;
  };
  const node = (opType: string, inputs: string[], outputs: string[]) =>
    nodes.push({ opType, domain: '', name: tmp(opType), inputs, outputs, attrs: opType === 'Split' || opType === 'Concat' ? { axis: { type: 'int', value: 0 } } : {}, origin: flat });
  // splits `input` along axis 0 into pieces of the given extents, named `names`, as a tree
  const splitTree = (input: string, extents: number[], names: string[]) => {
    if (extents.length === 1) {
      node('Identity', [input], [names[0]]);
      return;
    }
    const leaves = (t: Tree): number[] => (typeof t === 'number' ? [t] : t.flatMap(leaves));
    const emit = (from: string, children: Tree[]) => {
      const outs = children.map((c) => (typeof c === 'number' ? names[c] : tmp('part')));
      node('Split', [from, ints(children.map((c) => leaves(c).reduce((n, i) => n + extents[i], 0)))], outs);
      children.forEach((c, k) => {
        if (typeof c !== 'number') emit(outs[k], c);
      });
    };
    emit(input, fanTree(extents.length));
  };
  const regionNames = layout.regions.map(() => tmp('region'));
  splitTree(flat, layout.regions.map((r) => r.size), regionNames);
  layout.regions.forEach((r, k) => {
    let input = regionNames[k];
    const rows = r.members.map((s) => (s.dims.length === 0 ? 1 : s.dims[0]));
    if (r.rowDims.length > 0 && r.members.length === 1 && want(r.members[0].name)) {
      node('Reshape', [input, ints(r.members[0].dims)], [r.members[0].name]);
      return;
    }
    if (r.rowDims.length > 0) {
      const shaped = tmp('rows');
      node('Reshape', [input, ints([rows.reduce((a, b) => a + b, 0), ...r.rowDims])], [shaped]);
      input = shaped;
    }
    // scalars come out of the split as [1] and are reshaped to []
    const names = r.members.map((s) => (s.dims.length === 0 ? tmp('scalar') : want(s.name) ? s.name : tmp('unused')));
    splitTree(input, rows, names);
    r.members.forEach((s, i) => {
      if (s.dims.length === 0 && want(s.name)) node('Reshape', [names[i], ints([])], [s.name]);
    });
  });
  return { nodes, initializers };
}

/** Emits into `g` a tensor whose segment runs hold `on` where `runs` say so and `off` elsewhere. */
export function runsVector(g: GraphBuilder, runs: { length: number; on: boolean }[], on: Value, off: number): Value {
  const offV = g.scalar(off, on.dtype);
  const parts = runs.map((r) => g.emit('Expand', [r.on ? on : offV, g.int64s([r.length])])[0]);
  return concatTree(parts);
}
