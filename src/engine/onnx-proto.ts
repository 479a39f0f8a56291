// ONNX ModelProto <-> IR Model, with a hand-written protobuf wire codec (no protobuf library, no
// Node or DOM imports), plus the checker rules the engine relies on.
// Field numbers: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3
// Wire format:   https://protobuf.dev/programming-guides/encoding/
//
// Encoding is deterministic (fields in field-number order, repeated scalars packed), so
// encode(decode(encode(m))) is byte-identical to encode(m). Decoding accepts what other tools write:
// unknown fields are skipped, repeated scalars may be packed or not, tensor data may sit in raw_data
// or in the typed *_data fields.

import type { Attr, DType, Dim, Graph, Model, Node, OpsetImport, TensorConst, TensorData, ValueInfo } from './ir';
import { DEFAULT_OPSET, IR_VERSION, numel } from './ir';
import { isWebGpuOp } from './op-types';

/** TensorProto.DataType codes for the dtypes the IR supports. */
export const DTYPE_CODES = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float64: 11 } as const satisfies Record<DType, number>;

export function dtypeFromCode(code: number): DType | undefined {
  return (Object.keys(DTYPE_CODES) as DType[]).find((d) => DTYPE_CODES[d] === code);
}

// AttributeProto.AttributeType codes.
const ATTR_CODES = { float: 1, int: 2, string: 3, tensor: 4, floats: 6, ints: 7, strings: 8 } as const satisfies Record<Attr['type'], number>;
const UNSUPPORTED_ATTR = { 5: 'GRAPH', 9: 'TENSORS', 10: 'GRAPHS', 11: 'SPARSE_TENSOR', 12: 'SPARSE_TENSORS', 13: 'TYPE_PROTO', 14: 'TYPE_PROTOS' } as Record<number, string>;

const ARRAYS = { float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, bool: Uint8Array, uint8: Uint8Array, int8: Int8Array } as const;

// Wire types: https://protobuf.dev/programming-guides/encoding/#structure
const Wire = { Varint: 0, I64: 1, Len: 2, I32: 5 } as const;

// raw_data is little-endian; typed arrays use the host's order. Every browser and Node target is
// little-endian, so we view bytes directly rather than swapping.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Writer: collects chunks so large raw_data buffers are copied once, into the final output.

class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(64); // small writes land here; large byte runs become chunks
  private pos = 0;
  length = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = new Uint8Array(Math.max(2 * this.buf.length, this.pos + n));
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
  }

  private byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
    this.length++;
  }

  private flush(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.buf = new Uint8Array(64);
    this.pos = 0;
  }

  private chunk(bytes: Uint8Array): void {
    this.length += bytes.length;
    if (bytes.length < 1024) {
      this.room(bytes.length);
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
      return;
    }
    this.flush();
    this.chunks.push(bytes);
  }

  /** A varint of the 64-bit two's complement (int32 and int64 fields both use this). */
  varint(v: number): void {
    if (v >= 0 && v <= 0x7fffffff && Number.isInteger(v)) {
      for (; v > 0x7f; v >>>= 7) this.byte((v & 0x7f) | 0x80);
      return this.byte(v);
    }
    // INT64_MAX/MIN read back as the doubles ±2^63; map them home instead of wrapping the sign.
    const big = v >= 2 ** 63 ? 2n ** 63n - 1n : BigInt(v); // BigInt() throws for non-integers
    let u = BigInt.asUintN(64, big < -(2n ** 63n) ? -(2n ** 63n) : big);
    for (; u > 0x7fn; u >>= 7n) this.byte(Number(u & 0x7fn) | 0x80);
    this.byte(Number(u));
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  int(field: number, v: number): void {
    this.tag(field, Wire.Varint);
    this.varint(v);
  }

  float(field: number, v: number): void {
    this.tag(field, Wire.I32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.chunk(b);
  }

  bytes(field: number, b: Uint8Array): void {
    this.tag(field, Wire.Len);
    this.varint(b.length);
    this.chunk(b);
  }

  string(field: number, s: string): void {
    this.bytes(field, utf8.encode(s));
  }

  /** A length-delimited sub-message (or packed run) written by `body`. */
  message(field: number, body: (w: Writer) => void): void {
    const sub = new Writer();
    body(sub);
    this.tag(field, Wire.Len);
    this.varint(sub.length);
    sub.flush();
    if (sub.chunks.length === 1) return this.chunk(sub.chunks[0]);
    this.flush();
    for (const c of sub.chunks) this.chunks.push(c); // no spread: a big graph has many chunks
    this.length += sub.length;
  }

  packedInts(field: number, vs: readonly number[]): void {
    this.message(field, (w) => vs.forEach((v) => w.varint(v)));
  }

  packedFloats(field: number, vs: readonly number[]): void {
    const b = new Uint8Array(vs.length * 4);
    const view = new DataView(b.buffer);
    vs.forEach((v, i) => view.setFloat32(i * 4, v, true));
    this.bytes(field, b);
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeModel(model: Model): Uint8Array {
  const w = new Writer();
  w.int(1, model.irVersion);
  if (model.producerName) w.string(2, model.producerName);
  if (model.producerVersion) w.string(3, model.producerVersion);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const o of model.opsets) {
    w.message(8, (m) => {
      if (o.domain) m.string(1, o.domain);
      m.int(2, o.version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata)) {
    w.message(14, (m) => {
      m.string(1, key);
      m.string(2, value);
    });
  }
  return w.finish();
}

function writeGraph(w: Writer, g: Graph): void {
  for (const n of g.nodes) w.message(1, (m) => writeNode(m, n));
  if (g.name) w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (m) => writeTensor(m, t));
  for (const v of g.inputs) w.message(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.message(12, (m) => writeValueInfo(m, v));
  for (const v of g.valueInfo) w.message(13, (m) => writeValueInfo(m, v));
}

function writeNode(w: Writer, n: Node): void {
  for (const i of n.inputs) w.string(1, i); // '' is kept: input positions matter
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of Object.entries(n.attrs)) w.message(5, (m) => writeAttr(m, name, a));
  if (n.domain) w.string(7, n.domain);
}

function writeAttr(w: Writer, name: string, a: Attr): void {
  w.string(1, name);
  switch (a.type) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'tensor': w.message(5, (m) => writeTensor(m, a.value)); break;
    case 'floats': w.packedFloats(7, a.value); break;
    case 'ints': w.packedInts(8, a.value); break;
    case 'strings': a.value.forEach((s) => w.string(9, s)); break;
  }
  w.int(20, ATTR_CODES[a.type]); // required since IR v2: proto3 readers cannot tell which field is set
}

function writeTensor(w: Writer, t: TensorConst): void {
  if (!LITTLE_ENDIAN) throw new Error('onnx-proto: big-endian hosts are not supported');
  w.packedInts(1, t.dims);
  w.int(2, DTYPE_CODES[t.dtype]);
  if (t.name) w.string(8, t.name);
  // No copy here: encodeModel is synchronous, so the caller's buffer cannot change before finish().
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, DTYPE_CODES[v.dtype]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => {
            // A dim written with neither field means "unknown"; the IR spells that ''.
            if (typeof d === 'number') dim.int(1, d);
            else if (d !== '') dim.string(2, d);
          });
        }
      });
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Reader

class Reader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  more(): boolean {
    return this.pos < this.buf.length;
  }

  /** Advances past n bytes and returns where they start. */
  private take(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.buf.length) throw new Error('onnx-proto: truncated message');
    this.pos += n;
    return at;
  }

  /** A varint as a signed 64-bit integer. */
  bigint(): bigint {
    let v = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.buf[this.take(1)];
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, v);
    }
    throw new Error('onnx-proto: malformed varint');
  }

  /** A varint as a number (exact up to 2^53); tags, lengths and dims take the fast path. */
  int(): number {
    let v = 0;
    for (let shift = 0, at = this.pos; shift < 28 && at < this.buf.length; shift += 7) {
      const b = this.buf[at++];
      v |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = at;
        return v;
      }
    }
    return Number(this.bigint());
  }

  tag(): [field: number, wire: number] {
    const t = this.int();
    return [Math.floor(t / 8), t & 7];
  }

  float(): number {
    return this.view.getFloat32(this.take(4), true);
  }

  double(): number {
    return this.view.getFloat64(this.take(8), true);
  }

  bytes(): Uint8Array {
    const n = this.int();
    const at = this.take(n);
    return this.buf.subarray(at, at + n);
  }

  string(): string {
    return utf8Decoder.decode(this.bytes());
  }

  sub(): Reader {
    return new Reader(this.bytes());
  }

  /** Reads one element of a repeated scalar field, or a whole packed run of them. */
  repeated(wire: number, one: (r: Reader) => void): void {
    if (wire !== Wire.Len) return one(this);
    const run = this.sub();
    while (run.more()) one(run);
  }

  skip(wire: number): void {
    if (wire === Wire.Varint) this.bigint();
    else if (wire === Wire.I64) this.take(8);
    else if (wire === Wire.Len) this.bytes();
    else if (wire === Wire.I32) this.take(4);
    else throw new Error(`onnx-proto: unsupported wire type ${wire}`); // groups are long deprecated
  }
}

/** Calls `on(field, wire)` per field; `on` returns false for fields it does not read, which are skipped. */
function fields(r: Reader, on: (field: number, wire: number) => boolean | void): void {
  while (r.more()) {
    const [field, wire] = r.tag();
    if (on(field, wire) === false) r.skip(wire);
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding


/** ONNX treats 'ai.onnx' as another spelling of the default domain; the IR uses '' only. */
const normalizeDomain = (d: string): string => (d === 'ai.onnx' ? '' : d);

export function decodeModel(bytes: Uint8Array): Model {
  const model: Model = { graph: emptyGraph(), opsets: [], irVersion: 0, producerName: '', producerVersion: '', metadata: {} };
  const r = new Reader(bytes);
  fields(r, (f) => {
    if (f === 1) model.irVersion = r.int();
    else if (f === 2) model.producerName = r.string();
    else if (f === 3) model.producerVersion = r.string();
    else if (f === 7) model.graph = readGraph(r.sub());
    else if (f === 8) model.opsets.push(readOpset(r.sub()));
    else if (f === 14) {
      const [key, value] = readEntry(r.sub());
      model.metadata[key] = value;
    } else return false;
  });
  return model;
}

function emptyGraph(): Graph {
  return { name: '', nodes: [], inputs: [], outputs: [], initializers: [], valueInfo: [] };
}

function readOpset(r: Reader): OpsetImport {
  const o: OpsetImport = { domain: '', version: 0 };
  fields(r, (f) => {
    if (f === 1) o.domain = normalizeDomain(r.string());
    else if (f === 2) o.version = r.int();
    else return false;
  });
  return o;
}

function readEntry(r: Reader): [string, string] {
  let key = '';
  let value = '';
  fields(r, (f) => {
    if (f === 1) key = r.string();
    else if (f === 2) value = r.string();
    else return false;
  });
  return [key, value];
}

function readGraph(r: Reader): Graph {
  const g = emptyGraph();
  const tensorInfo = (what: string): ValueInfo => {
    const v = readValueInfo(r.sub());
    if ('problem' in v) throw new Error(`onnx-proto: graph ${what} '${v.name}' ${v.problem}`);
    return v;
  };
  fields(r, (f) => {
    if (f === 1) g.nodes.push(readNode(r.sub()));
    else if (f === 2) g.name = r.string();
    else if (f === 5) g.initializers.push(readTensor(r.sub()));
    else if (f === 11) g.inputs.push(tensorInfo('input'));
    else if (f === 12) g.outputs.push(tensorInfo('output'));
    else if (f === 13) {
      const v = readValueInfo(r.sub());
      if (!('problem' in v)) g.valueInfo.push(v); // shape hints the IR cannot hold are dropped
    } else if (f === 15) throw new Error('onnx-proto: sparse initializers are not supported');
    else return false;
  });
  return g;
}

function readNode(r: Reader): Node {
  const n: Node = { opType: '', domain: '', name: '', inputs: [], outputs: [], attrs: {} };
  fields(r, (f) => {
    if (f === 1) n.inputs.push(r.string());
    else if (f === 2) n.outputs.push(r.string());
    else if (f === 3) n.name = r.string();
    else if (f === 4) n.opType = r.string();
    else if (f === 5) {
      const [name, attr] = readAttr(r.sub(), () => n.name || n.opType);
      n.attrs[name] = attr;
    } else if (f === 7) n.domain = normalizeDomain(r.string());
    else return false;
  });
  return n;
}

function readAttr(r: Reader, nodeName: () => string): [string, Attr] {
  let name = '';
  let code = 0;
  let f: number | undefined;
  let i: number | undefined;
  let s: Uint8Array | undefined;
  let t: TensorConst | undefined;
  const floats: number[] = [];
  const ints: number[] = [];
  const strings: string[] = [];
  fields(r, (fld, wire) => {
    if (fld === 1) name = r.string();
    else if (fld === 2) f = r.float();
    else if (fld === 3) i = r.int();
    else if (fld === 4) s = r.bytes();
    else if (fld === 5) t = readTensor(r.sub());
    else if (fld === 7) r.repeated(wire, (x) => floats.push(x.float()));
    else if (fld === 8) r.repeated(wire, (x) => ints.push(x.int()));
    else if (fld === 9) strings.push(r.string());
    else if (fld === 20) code = r.int();
    else return false; // graphs, sparse tensors, type protos: nothing the IR can hold
  });
  if (code === 0) {
    // IR v1 had no type field; infer it from whichever value field is present.
    code = t ? 4 : s ? 3 : f !== undefined ? 1 : i !== undefined ? 2 : floats.length ? 6 : ints.length ? 7 : strings.length ? 8 : 0;
  }
  const where = `onnx-proto: attribute '${name}' of node '${nodeName()}'`;
  if (UNSUPPORTED_ATTR[code]) throw new Error(`${where} has type ${UNSUPPORTED_ATTR[code]}, which the IR cannot hold`);
  switch (code) {
    case 1: return [name, { type: 'float', value: f ?? 0 }];
    case 2: return [name, { type: 'int', value: i ?? 0 }];
    case 3: return [name, { type: 'string', value: s ? utf8Decoder.decode(s) : '' }];
    case 4:
      if (!t) throw new Error(`${where} says TENSOR but holds none`);
      return [name, { type: 'tensor', value: t }];
    case 6: return [name, { type: 'floats', value: floats }];
    case 7: return [name, { type: 'ints', value: ints }];
    case 8: return [name, { type: 'strings', value: strings }];
  }
  throw new Error(`${where} has no value the IR can hold (type ${code})`);
}

function readTensor(r: Reader): TensorConst {
  const dims: number[] = [];
  let code = 0;
  let name = '';
  let raw: Uint8Array | undefined;
  let external = false;
  // Without raw_data each dtype has its own field; bool lives in int32_data, one element per value.
  const typed: (number | bigint)[] = [];
  fields(r, (f, wire) => {
    if (f === 1) r.repeated(wire, (x) => dims.push(x.int()));
    else if (f === 2) code = r.int();
    else if (f === 4) r.repeated(wire, (x) => typed.push(x.float())); // float_data
    else if (f === 5) r.repeated(wire, (x) => typed.push(x.int())); // int32_data
    else if (f === 7) r.repeated(wire, (x) => typed.push(x.bigint())); // int64_data
    else if (f === 10) r.repeated(wire, (x) => typed.push(x.double())); // double_data
    else if (f === 8) name = r.string();
    else if (f === 9) raw = r.bytes();
    else if (f === 14) external = r.int() === 1; // DataLocation.EXTERNAL
    else return false;
  });
  const dtype = dtypeFromCode(code);
  if (!dtype) throw new Error(`onnx-proto: tensor '${name}' has data type ${code}, which the IR does not support`);
  if (external) throw new Error(`onnx-proto: tensor '${name}' keeps its data in an external file; embed the weights in the model`);
  const Array_ = ARRAYS[dtype];
  let data: TensorData;
  if (raw) {
    if (!LITTLE_ENDIAN) throw new Error('onnx-proto: big-endian hosts are not supported');
    if (raw.length % Array_.BYTES_PER_ELEMENT !== 0) throw new Error(`onnx-proto: tensor '${name}' raw_data does not hold whole ${dtype} elements`);
    data = new Array_(raw.slice().buffer); // copy: aligned, and independent of the input bytes
  } else if (dtype === 'int64') data = BigInt64Array.from(typed, BigInt);
  else data = new (Array_ as new (values: number[]) => TensorData)(typed.map((v) => (dtype === 'bool' ? (v ? 1 : 0) : Number(v))));
  return { name, dtype, dims, data };
}

function readValueInfo(r: Reader): ValueInfo | { name: string; problem: string } {
  let name = '';
  let code = -1;
  const shape: Dim[] = [];
  let problem = 'has no type';
  fields(r, (f) => {
    if (f === 1) name = r.string();
    else if (f === 2) {
      const type = r.sub();
      fields(type, (tf) => {
        if (tf !== 1) {
          if ([4, 5, 8, 9].includes(tf)) problem = 'is not a dense tensor (sequence, map, optional or sparse)';
          return false;
        }
        const tensor = type.sub();
        fields(tensor, (ff) => {
          if (ff === 1) code = tensor.int();
          else if (ff === 2) readShape(tensor.sub(), shape);
          else return false;
        });
      });
    } else return false;
  });
  if (code === -1) return { name, problem };
  const dtype = dtypeFromCode(code);
  if (!dtype) return { name, problem: `has element type ${code}, which the IR does not support` };
  // A tensor type without a shape (unknown rank) reads as rank 0 here: the IR has no "unknown rank".
  return { name, dtype, shape };
}

function readShape(r: Reader, out: Dim[]): void {
  fields(r, (f) => {
    if (f !== 1) return false;
    const dim = r.sub();
    let d: Dim = '';
    fields(dim, (df) => {
      if (df === 1) d = dim.int();
      else if (df === 2) d = dim.string();
      else return false;
    });
    out.push(d);
  });
}

// ---------------------------------------------------------------------------------------------
// Building and checking

export interface MakeModelOptions {
  opsets?: OpsetImport[];
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  metadata?: Record<string, string>;
}

/** Wraps a graph in a model: the default domain at DEFAULT_OPSET, plus version 1 of any other domain its nodes use. */
export function makeModel(graph: Graph, opts: MakeModelOptions = {}): Model {
  const domains = new Set(graph.nodes.map((n) => normalizeDomain(n.domain)).filter((d) => d !== ''));
  const opsets = opts.opsets ?? [{ domain: '', version: DEFAULT_OPSET }, ...[...domains].map((domain) => ({ domain, version: 1 }))];
  return {
    graph,
    opsets,
    irVersion: opts.irVersion ?? IR_VERSION,
    producerName: opts.producerName ?? 'earshot',
    producerVersion: opts.producerVersion ?? '',
    metadata: opts.metadata ?? {},
  };
}

// The attribute types the spec gives the attributes of the ops we emit (default domain only).
const ATTR_TYPES: Record<string, Attr['type']> = {
  alpha: 'float', beta: 'float', epsilon: 'float',
  axis: 'int', keepdims: 'int', noop_with_empty_axes: 'int', transA: 'int', transB: 'int', group: 'int',
  to: 'int', allowzero: 'int', num_outputs: 'int', stash_type: 'int',
  perm: 'ints', pads: 'ints', strides: 'ints', dilations: 'ints', kernel_shape: 'ints',
  output_padding: 'ints', output_shape: 'ints',
  auto_pad: 'string', approximate: 'string', mode: 'string',
};

function tensorProblems(t: TensorConst, what: string): string[] {
  const out: string[] = [];
  if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) out.push(`${what}: dims [${t.dims}] are not non-negative integers`);
  else if (numel(t.dims) !== t.data.length) out.push(`${what}: dims [${t.dims}] hold ${numel(t.dims)} elements but data has ${t.data.length}`);
  if (!(t.data instanceof ARRAYS[t.dtype])) out.push(`${what}: ${t.dtype} data stored in a ${t.data.constructor.name}`);
  return out;
}

function attrProblems(node: Node, name: string, a: Attr): string[] {
  const what = `node '${node.name || node.opType}' attribute '${name}'`;
  const expected = node.domain === '' && isWebGpuOp(node.opType) ? ATTR_TYPES[name] : undefined;
  const out: string[] = [];
  if (expected && expected !== a.type) out.push(`${what} is ${a.type}, the spec says ${expected}`);
  const ok = {
    int: () => Number.isSafeInteger(a.value),
    float: () => typeof a.value === 'number',
    string: () => typeof a.value === 'string',
    ints: () => Array.isArray(a.value) && a.value.every((v) => Number.isSafeInteger(v)),
    floats: () => Array.isArray(a.value) && a.value.every((v) => typeof v === 'number'),
    strings: () => Array.isArray(a.value) && a.value.every((v) => typeof v === 'string'),
    tensor: () => true,
  }[a.type];
  if (!ok) out.push(`${what} has unknown type '${a.type}'`);
  else if (!ok()) out.push(`${what} value does not fit type ${a.type}`);
  if (a.type === 'tensor') out.push(...tensorProblems(a.value, what));
  return out;
}

/**
 * The checker rules the engine relies on (a subset of onnx.checker, plus attribute type checks for
 * our ops): https://onnx.ai/onnx/repo-docs/IR.html#graphs. Returns problems; empty means valid.
 */
export function validateModel(model: Model): string[] {
  const g = model.graph;
  const problems: string[] = [];
  const defined = new Set<string>();
  const define = (name: string, by: string): void => {
    if (defined.has(name)) problems.push(`'${name}' is defined twice (again by ${by})`);
    defined.add(name);
  };

  const initNames = new Set<string>();
  for (const t of g.initializers) {
    if (initNames.has(t.name)) problems.push(`initializer '${t.name}' is defined twice`);
    initNames.add(t.name);
    problems.push(...tensorProblems(t, `initializer '${t.name}'`));
  }
  // Since IR v4 a graph input may share its name with an initializer (the initializer is its default).
  for (const v of g.inputs) if (!initNames.has(v.name)) define(v.name, 'a graph input');
  for (const name of initNames) define(name, 'an initializer');

  const opsets = new Map<string, number>();
  for (const o of model.opsets) {
    const d = normalizeDomain(o.domain);
    if (opsets.has(d)) problems.push(`opset for domain '${d}' is imported twice`);
    opsets.set(d, o.version);
  }

  g.nodes.forEach((n, i) => {
    const label = `node ${i} '${n.name || n.opType}' (${n.opType})`;
    const domain = normalizeDomain(n.domain);
    if (!opsets.has(domain)) problems.push(`${label} uses domain '${domain}' but the model imports no opset for it`);
    for (const input of n.inputs) {
      if (input !== '' && !defined.has(input)) problems.push(`${label} reads '${input}', which is not a graph input, initializer or earlier node output`);
    }
    for (const output of n.outputs) if (output !== '') define(output, label);
    for (const [name, a] of Object.entries(n.attrs)) problems.push(...attrProblems(n, name, a));
  });

  for (const v of g.outputs) if (!defined.has(v.name)) problems.push(`graph output '${v.name}' is never produced`);
  return problems;
}
