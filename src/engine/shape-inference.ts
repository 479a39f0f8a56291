// Output dtype and shape of every op the engine knows, computed when the node is built.
// Semantics follow the ONNX operator spec at opset 20: https://onnx.ai/onnx/operators/
// Symbolic dimensions (strings) pass through where the op does not need their value.

import type { Attr, DType, Dim } from './ir';
import type { GraphOpType } from './op-types';

export interface InferInput {
  dtype: DType;
  shape: readonly Dim[];
  /** The input's values when it is a constant initializer (shape tensors, axes, pads...). */
  value?: number[];
}

export interface InferOutput {
  dtype: DType;
  shape: Dim[];
}

type Attrs = Record<string, Attr>;
type Rule = (ins: (InferInput | null)[], attrs: Attrs, nOut: number) => InferOutput[];

const ONNX_DTYPES: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'bool', 11: 'float64' };

export function attrInt(attrs: Attrs, name: string, dflt: number): number {
  const a = attrs[name];
  if (!a) return dflt;
  if (a.type !== 'int') throw new Error(`attribute ${name} must be an int`);
  return a.value;
}
export function attrFloat(attrs: Attrs, name: string, dflt: number): number {
  const a = attrs[name];
  if (!a) return dflt;
  if (a.type !== 'float' && a.type !== 'int') throw new Error(`attribute ${name} must be a float`);
  return a.value;
}
export function attrInts(attrs: Attrs, name: string): number[] | undefined {
  const a = attrs[name];
  if (!a) return undefined;
  if (a.type !== 'ints') throw new Error(`attribute ${name} must be ints`);
  return a.value;
}
export function attrString(attrs: Attrs, name: string, dflt: string): string {
  const a = attrs[name];
  if (!a) return dflt;
  if (a.type !== 'string') throw new Error(`attribute ${name} must be a string`);
  return a.value;
}

export function onnxDType(code: number): DType {
  const d = ONNX_DTYPES[code];
  if (!d) throw new Error(`unsupported ONNX data type ${code}`);
  return d;
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** numpy-style broadcasting of any number of shapes. */
export function broadcastShapes(...shapes: (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = s.length - rank + i;
      if (k < 0) continue;
      const e = s[k];
      if (e === 1) continue;
      if (d === 1) d = e;
      else if (d !== e) {
        if (typeof d === 'number' && typeof e === 'number') throw new Error(`shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
        if (typeof d === 'string' && typeof e === 'number') d = e; // a known size pins a symbolic one
      }
    }
    out.push(d);
  }
  return out;
}

const need = (ins: (InferInput | null)[], i: number): InferInput => {
  const x = ins[i];
  if (!x) throw new Error(`input ${i} is required`);
  return x;
};

const constOf = (ins: (InferInput | null)[], i: number, what: string): number[] => {
  const v = ins[i]?.value;
  if (!v) throw new Error(`${what} (input ${i}) must be a constant initializer`);
  return v;
};

const same: Rule = (ins) => [{ dtype: need(ins, 0).dtype, shape: [...need(ins, 0).shape] }];

const broadcast =
  (dtype?: DType): Rule =>
  (ins) => {
    const present = ins.filter((x): x is InferInput => x !== null);
    return [{ dtype: dtype ?? present[0].dtype, shape: broadcastShapes(...present.map((x) => x.shape)) }];
  };

const reduce: Rule = (ins, attrs) => {
  const x = need(ins, 0);
  const keep = attrInt(attrs, 'keepdims', 1) === 1;
  const axesIn = ins[1]?.value;
  if (ins[1] && !axesIn) throw new Error('axes must be a constant initializer');
  const noop = attrInt(attrs, 'noop_with_empty_axes', 0) === 1;
  if ((!axesIn || axesIn.length === 0) && noop) return [{ dtype: x.dtype, shape: [...x.shape] }];
  const axes = new Set((axesIn && axesIn.length ? axesIn : x.shape.map((_, i) => i)).map((a) => normAxis(a, x.shape.length)));
  const shape: Dim[] = [];
  x.shape.forEach((d, i) => {
    if (!axes.has(i)) shape.push(d);
    else if (keep) shape.push(1);
  });
  return [{ dtype: x.dtype, shape }];
};

/** Kernel, strides, pads ([begin…, end…]), dilations and group of a 1-D or 2-D convolution. */
export function convGeometry(x: readonly Dim[], w: readonly Dim[], attrs: Attrs, op: string) {
  const n = w.length - 2;
  if (x.length !== w.length || (n !== 1 && n !== 2)) throw new Error(`only 1-D (N, C, L) and 2-D (N, C, H, W) ${op} is supported`);
  if (attrString(attrs, 'auto_pad', 'NOTSET') !== 'NOTSET') throw new Error(`${op} needs explicit pads (auto_pad NOTSET)`);
  const k = w.slice(2) as number[];
  return {
    k,
    strides: attrInts(attrs, 'strides') ?? k.map(() => 1),
    pads: attrInts(attrs, 'pads') ?? new Array<number>(2 * n).fill(0),
    dilations: attrInts(attrs, 'dilations') ?? k.map(() => 1),
    group: attrInt(attrs, 'group', 1),
  };
}

function convOutLen(len: Dim, k: number, stride: number, padBegin: number, padEnd: number, dilation: number): Dim {
  if (typeof len !== 'number') return `${len}_conv`;
  return Math.floor((len + padBegin + padEnd - dilation * (k - 1) - 1) / stride) + 1;
}

export const shapeRules = {
  Add: broadcast(),
  Sub: broadcast(),
  Mul: broadcast(),
  Div: broadcast(),
  Pow: (ins) => [{ dtype: need(ins, 0).dtype, shape: broadcastShapes(need(ins, 0).shape, need(ins, 1).shape) }],
  Max: broadcast(),
  Min: broadcast(),
  Neg: same,
  Sqrt: same,
  Reciprocal: same,
  Exp: same,
  Log: same,
  Abs: same,
  Clip: same,
  Erf: same,
  Tanh: same,
  Sigmoid: same,
  Relu: same,
  Gelu: same,
  Identity: same,
  Not: same,
  Equal: broadcast('bool'),
  Greater: broadcast('bool'),
  Less: broadcast('bool'),
  And: broadcast('bool'),
  Where: (ins) => [{ dtype: need(ins, 1).dtype, shape: broadcastShapes(need(ins, 0).shape, need(ins, 1).shape, need(ins, 2).shape) }],
  Cast: (ins, attrs) => [{ dtype: onnxDType(attrInt(attrs, 'to', 1)), shape: [...need(ins, 0).shape] }],
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  MatMul: (ins) => {
    const a = need(ins, 0).shape;
    const b = need(ins, 1).shape;
    if (a.length < 2 || b.length < 2) throw new Error('MatMul operands must have rank ≥ 2 in this engine');
    const [m, ka] = a.slice(-2);
    const [kb, n] = b.slice(-2);
    if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) throw new Error(`inner dimensions ${ka} and ${kb} differ`);
    const batch = broadcastShapes(a.slice(0, -2), b.slice(0, -2));
    return [{ dtype: need(ins, 0).dtype, shape: [...batch, m, n] }];
  },
  Gemm: (ins, attrs) => {
    const a = need(ins, 0).shape;
    const b = need(ins, 1).shape;
    if (a.length !== 2 || b.length !== 2) throw new Error('Gemm operands must be 2-D');
    const [m, ka] = attrInt(attrs, 'transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
    const [kb, n] = attrInt(attrs, 'transB', 0) ? [b[1], b[0]] : [b[0], b[1]];
    if (typeof ka === 'number' && typeof kb === 'number' && ka !== kb) throw new Error(`inner dimensions ${ka} and ${kb} differ`);
    if (ins[2]) broadcastShapes([m, n], ins[2].shape);
    return [{ dtype: need(ins, 0).dtype, shape: [m, n] }];
  },
  Conv: (ins, attrs) => {
    const x = need(ins, 0).shape;
    const w = need(ins, 1).shape;
    const a = convGeometry(x, w, attrs, 'Conv');
    if (typeof x[1] === 'number' && x[1] !== (w[1] as number) * a.group) throw new Error(`input has ${x[1]} channels, weight expects ${(w[1] as number) * a.group}`);
    const spatial = a.k.map((k, i) => convOutLen(x[2 + i], k, a.strides[i], a.pads[i], a.pads[i + a.k.length], a.dilations[i]));
    return [{ dtype: need(ins, 0).dtype, shape: [x[0], w[0], ...spatial] }];
  },
  ConvTranspose: (ins, attrs) => {
    const x = need(ins, 0).shape;
    const w = need(ins, 1).shape;
    const a = convGeometry(x, w, attrs, 'ConvTranspose');
    const outPad = attrInts(attrs, 'output_padding') ?? a.k.map(() => 0);
    const spatial = a.k.map((k, i) => {
      const L = x[2 + i];
      return typeof L === 'number' ? a.strides[i] * (L - 1) + outPad[i] + a.dilations[i] * (k - 1) + 1 - a.pads[i] - a.pads[i + a.k.length] : `${L}_convT`;
    });
    return [{ dtype: need(ins, 0).dtype, shape: [x[0], (w[1] as number) * a.group, ...spatial] }];
  },
  Softmax: same,
  LayerNormalization: (ins, attrs, nOut) => {
    const x = need(ins, 0);
    const axis = normAxis(attrInt(attrs, 'axis', -1), x.shape.length);
    const stat = x.shape.map((d, i) => (i < axis ? d : 1));
    return [{ dtype: x.dtype, shape: [...x.shape] }, { dtype: 'float32' as DType, shape: stat }, { dtype: 'float32' as DType, shape: stat }].slice(0, nOut);
  },
  Transpose: (ins, attrs) => {
    const x = need(ins, 0);
    const perm = attrInts(attrs, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape[p]) }];
  },
  Reshape: (ins) => {
    const x = need(ins, 0);
    const target = constOf(ins, 1, 'shape');
    const shape: Dim[] = target.map((d, i) => (d === 0 ? x.shape[i] : d));
    const minus = shape.indexOf(-1);
    if (minus >= 0) {
      if (!x.shape.every((d) => typeof d === 'number') || !shape.every((d) => typeof d === 'number'))
        shape[minus] = 'reshaped';
      else {
        const total = (x.shape as number[]).reduce((a, b) => a * b, 1);
        const known = (shape as number[]).reduce((a, b, i) => (i === minus ? a : a * b), 1);
        if (total % known !== 0) throw new Error(`cannot reshape [${x.shape}] to [${target}]`);
        shape[minus] = total / known;
      }
    } else if (x.shape.every((d) => typeof d === 'number') && shape.every((d) => typeof d === 'number')) {
      const a = (x.shape as number[]).reduce((p, q) => p * q, 1);
      const b = (shape as number[]).reduce((p, q) => p * q, 1);
      if (a !== b) throw new Error(`cannot reshape [${x.shape}] (${a} elements) to [${target}] (${b})`);
    }
    return [{ dtype: x.dtype, shape }];
  },
  Unsqueeze: (ins) => {
    const x = need(ins, 0);
    const rank = x.shape.length + constOf(ins, 1, 'axes').length;
    const axes = new Set(constOf(ins, 1, 'axes').map((a) => normAxis(a, rank)));
    const shape: Dim[] = [];
    let j = 0;
    for (let i = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : x.shape[j++]);
    return [{ dtype: x.dtype, shape }];
  },
  Squeeze: (ins) => {
    const x = need(ins, 0);
    const axes = ins[1] ? new Set(constOf(ins, 1, 'axes').map((a) => normAxis(a, x.shape.length))) : undefined;
    const shape = x.shape.filter((d, i) => {
      if (axes ? axes.has(i) : d === 1) {
        if (d !== 1 && typeof d === 'number') throw new Error(`cannot squeeze axis ${i} of size ${d}`);
        return false;
      }
      return true;
    });
    return [{ dtype: x.dtype, shape }];
  },
  Concat: (ins, attrs) => {
    const xs = ins.filter((x): x is InferInput => x !== null);
    const axis = normAxis(attrInt(attrs, 'axis', 0), xs[0].shape.length);
    const shape = [...xs[0].shape];
    let total: Dim = 0;
    for (const x of xs) {
      const d = x.shape[axis];
      total = typeof total === 'number' && typeof d === 'number' ? total + d : `concat`;
    }
    shape[axis] = total;
    return [{ dtype: xs[0].dtype, shape }];
  },
  Split: (ins, attrs, nOut) => {
    const x = need(ins, 0);
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.shape.length);
    const d = x.shape[axis];
    let sizes: number[];
    if (ins[1]) sizes = constOf(ins, 1, 'split');
    else {
      if (typeof d !== 'number') throw new Error('Split of a symbolic axis needs explicit sizes');
      const n = attrInt(attrs, 'num_outputs', nOut);
      const chunk = Math.ceil(d / n);
      sizes = Array.from({ length: n }, (_, i) => Math.min(chunk, d - chunk * i));
    }
    if (sizes.length !== nOut) throw new Error(`split into ${sizes.length} parts but ${nOut} outputs`);
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      return { dtype: x.dtype, shape };
    });
  },
  Slice: (ins) => {
    const x = need(ins, 0);
    const starts = constOf(ins, 1, 'starts');
    const ends = constOf(ins, 2, 'ends');
    const axes = ins[3] ? constOf(ins, 3, 'axes') : starts.map((_, i) => i);
    const steps = ins[4] ? constOf(ins, 4, 'steps') : starts.map(() => 1);
    const shape = [...x.shape];
    axes.forEach((a0, i) => {
      const a = normAxis(a0, x.shape.length);
      const d = x.shape[a];
      if (typeof d !== 'number') {
        shape[a] = `${d}_slice`;
        return;
      }
      const [s, e] = sliceRange(starts[i], ends[i], steps[i], d);
      shape[a] = Math.max(0, Math.ceil((e - s) / steps[i]));
    });
    return [{ dtype: x.dtype, shape }];
  },
  Pad: (ins, attrs) => {
    const x = need(ins, 0);
    if (attrString(attrs, 'mode', 'constant') !== 'constant') throw new Error('only constant padding is supported');
    const pads = constOf(ins, 1, 'pads');
    const r = x.shape.length;
    const axes = ins[3] ? constOf(ins, 3, 'axes').map((a) => normAxis(a, r)) : x.shape.map((_, i) => i);
    const shape = [...x.shape];
    axes.forEach((a, i) => {
      const d = shape[a];
      shape[a] = typeof d === 'number' ? d + pads[i] + pads[i + axes.length] : `${d}_pad`;
    });
    return [{ dtype: x.dtype, shape }];
  },
  Expand: (ins) => {
    const x = need(ins, 0);
    return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, constOf(ins, 1, 'shape')) }];
  },
  Tile: (ins) => {
    const x = need(ins, 0);
    const r = constOf(ins, 1, 'repeats');
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => (typeof d === 'number' ? d * r[i] : `${d}_tile`)) }];
  },
  Floor: same,
  Ceil: same,
  // the length is known only when start, limit and delta are (static-graph.ts folds those)
  Range: (ins) => {
    const [s, l, d] = [ins[0]?.value, ins[1]?.value, ins[2]?.value];
    const n = s && l && d ? Math.max(Math.ceil((l[0] - s[0]) / d[0]), 0) : 'range';
    return [{ dtype: need(ins, 0).dtype, shape: [n] }];
  },
  Gather: (ins, attrs) => {
    const x = need(ins, 0);
    const idx = need(ins, 1);
    const axis = normAxis(attrInt(attrs, 'axis', 0), x.shape.length);
    return [{ dtype: x.dtype, shape: [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)] }];
  },
} satisfies Record<GraphOpType, Rule>;

/** Clamped [start, end) of a Slice along an axis of length `d`, per the ONNX spec (positive steps only). */
export function sliceRange(start: number, end: number, step: number, d: number): [number, number] {
  if (step <= 0) throw new Error('only positive Slice steps are supported');
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  s = Math.min(Math.max(s, 0), d);
  e = Math.min(Math.max(e, 0), d);
  return [s, e];
}

export function inferShapes(opType: string, ins: (InferInput | null)[], attrs: Attrs, nOut: number): InferOutput[] {
  const rule = (shapeRules as Record<string, Rule>)[opType];
  if (!rule) throw new Error(`op ${opType} is not known to the engine`);
  return rule(ins, attrs, nOut);
}
