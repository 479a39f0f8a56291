// The outline of an ONNX file — metadata_props, opsets, graph inputs and outputs, every node's op
// type and wiring, and each initializer's name, type and shape — read without materialising a
// single weight. Layout detection needs only this, and a base-size model is hundreds of MB.
//
// Why not src/engine/onnx-proto.ts's decodeModel: it builds the whole IR (every weight copied),
// and it rightly throws on what the IR cannot hold — the subgraphs of If/Loop/Scan, float16 or
// external weights — which detection has to see in order to name them in a refusal.
// So this is a second, deliberately small reader of the same wire format, tolerant of everything
// and reading only headers.
// Field numbers: https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3
// Wire format:   https://protobuf.dev/programming-guides/encoding/

/** Random access to a file's bytes; a Uint8Array, a Blob or a file on disk can all provide it. */
export interface ByteSource {
  readonly size: number;
  /** Bytes [offset, offset + length), fewer only at the end of the file. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

/** TensorProto.DataType names, https://github.com/onnx/onnx/blob/main/onnx/onnx.proto3 (enum DataType). */
const ELEM_TYPES = ['undefined', 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool', 'float16', 'float64', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16'];

export function elemTypeName(code: number): string {
  return ELEM_TYPES[code] ?? `type ${code}`;
}

export interface OutlineValue {
  name: string;
  /** 'float32', 'int64', …; 'non-tensor' for sequences, maps and optionals. */
  elemType: string;
  /** Per dimension a size or a symbolic name ('' when neither is given); undefined when the rank is unknown. */
  shape: (number | string)[] | undefined;
}

export interface OutlineNode {
  opType: string;
  /** '' for the default ONNX domain. */
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Attributes holding graphs (the bodies of If, Loop, Scan). */
  subgraphs: number;
}

export interface OutlineInitializer {
  name: string;
  elemType: string;
  dims: number[];
  /** The tensor's data lives in another file (ONNX external data). */
  external: boolean;
}

export interface OnnxOutline {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  metadata: Record<string, string>;
  /** Graph inputs that are not initializers (exporters before IR 4 list weights as inputs too). */
  inputs: OutlineValue[];
  outputs: OutlineValue[];
  nodes: OutlineNode[];
  initializers: OutlineInitializer[];
}

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;
/**
 * How much of the file one read fetches while walking the two outer message levels. Small, since
 * after each skipped weight the next read lands in the following weight's bytes: a base-size model
 * (~400 weights) costs a few hundred reads of this size, not its 380 MB.
 */
const CHUNK = 1 << 16;
/** An initializer's header (dims, type, name) precedes its raw_data; this much of it is read first. */
const TENSOR_HEAD = 4096;
const utf8 = new TextDecoder();

/** Reads the outline of an ONNX ModelProto. Throws on bytes that are not a well-formed protobuf. */
export async function readOnnxOutline(source: ByteSource | Uint8Array): Promise<OnnxOutline> {
  const src = source instanceof Uint8Array ? bytesSource(source) : source;
  const cur = new Cursor(src);
  const out: OnnxOutline = { irVersion: 0, producerName: '', producerVersion: '', opsets: [], metadata: {}, inputs: [], outputs: [], nodes: [], initializers: [] };
  let sawGraph = false;
  const rawInputs: OutlineValue[] = [];
  await cur.walk(0, src.size, async (field, wire, at, len) => {
    if (field === 1 && wire === WIRE_VARINT) out.irVersion = len;
    else if (field === 2 && wire === WIRE_LEN) out.producerName = utf8.decode(await cur.bytes(at, len));
    else if (field === 3 && wire === WIRE_LEN) out.producerVersion = utf8.decode(await cur.bytes(at, len));
    else if (field === 8 && wire === WIRE_LEN) out.opsets.push(readOpset(new Sync(await cur.bytes(at, len))));
    else if (field === 14 && wire === WIRE_LEN) {
      const [k, v] = readEntry(new Sync(await cur.bytes(at, len)));
      out.metadata[k] = v;
    } else if (field === 7 && wire === WIRE_LEN) {
      sawGraph = true;
      await cur.walk(at, at + len, async (f, w, a, l) => {
        if (w !== WIRE_LEN) return;
        if (f === 1) out.nodes.push(readNode(new Sync(await cur.bytes(a, l))));
        else if (f === 5) out.initializers.push(await readInitializerHead(cur, a, l));
        else if (f === 11) rawInputs.push(readValueInfo(new Sync(await cur.bytes(a, l))));
        else if (f === 12) out.outputs.push(readValueInfo(new Sync(await cur.bytes(a, l))));
      });
    }
  });
  if (!sawGraph) throw new Error('it holds no ONNX graph (not an ONNX model file)');
  const weights = new Set(out.initializers.map((i) => i.name));
  out.inputs = rawInputs.filter((i) => !weights.has(i.name));
  return out;
}

/** Nodes that carry subgraphs or are control-flow ops: what a static training graph cannot hold. */
export function controlFlowNodes(outline: OnnxOutline): OutlineNode[] {
  return outline.nodes.filter((n) => n.subgraphs > 0 || ((n.domain === '' || n.domain === 'ai.onnx') && CONTROL_FLOW_OPS.has(n.opType)));
}

export const CONTROL_FLOW_OPS: ReadonlySet<string> = new Set(['If', 'Loop', 'Scan']);

/** Each op type ("Conv", "com.microsoft.Attention") with how many nodes use it, most used first. */
export function opCounts(outline: OnnxOutline): [string, number][] {
  const counts = new Map<string, number>();
  for (const n of outline.nodes) {
    const key = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// The two outer levels (ModelProto, GraphProto) are walked through a window over the source, so
// that a weight's bytes are skipped by arithmetic, never read.

class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  constructor(private readonly src: ByteSource) {}

  private async ensure(pos: number, n: number): Promise<void> {
    n = Math.min(n, this.src.size - pos);
    if (pos >= this.start && pos + n <= this.start + this.buf.length) return;
    this.buf = await this.src.read(pos, Math.max(n, Math.min(CHUNK, this.src.size - pos)));
    this.start = pos;
    if (this.buf.length < n) throw new Error(`the file ends at byte ${pos + this.buf.length}, inside a field that needs ${n} bytes`);
  }

  async bytes(pos: number, n: number): Promise<Uint8Array> {
    if (n > CHUNK) {
      const b = await this.src.read(pos, n);
      if (b.length < n) throw new Error(`the file ends at byte ${pos + b.length}, inside a field that needs ${n} bytes`);
      return b;
    }
    await this.ensure(pos, n);
    return this.buf.subarray(pos - this.start, pos - this.start + n);
  }

  private async varint(pos: number): Promise<[value: number, next: number]> {
    await this.ensure(pos, 10);
    const s = new Sync(this.buf, pos - this.start);
    const v = s.varint();
    return [v, pos + (s.pos - (pos - this.start))];
  }

  /**
   * Calls `on` per field of the message in [from, to): for a length-delimited field with its
   * payload's offset and length, for a varint with the value in `len`. Fixed-width fields are skipped.
   */
  async walk(from: number, to: number, on: (field: number, wire: number, at: number, len: number) => Promise<void>): Promise<void> {
    let pos = from;
    while (pos < to) {
      const [tag, p1] = await this.varint(pos);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === WIRE_VARINT) {
        const [v, p2] = await this.varint(p1);
        await on(field, wire, p1, v);
        pos = p2;
      } else if (wire === WIRE_LEN) {
        const [len, p2] = await this.varint(p1);
        if (p2 + len > to) throw new Error(`field ${field} at byte ${pos} runs past the end of its message`);
        await on(field, wire, p2, len);
        pos = p2 + len;
      } else if (wire === WIRE_I64) pos = p1 + 8;
      else if (wire === WIRE_I32) pos = p1 + 4;
      else throw new Error(`unsupported protobuf wire type ${wire} at byte ${pos}`);
    }
    if (pos !== to) throw new Error(`a message ends at byte ${pos}, past its length`);
  }
}

async function readInitializerHead(cur: Cursor, at: number, len: number): Promise<OutlineInitializer> {
  // Serializers write fields in number order, so dims (1), data_type (2) and name (8) come before
  // raw_data (9). A tensor whose name is not in its head (typed *_data fields first) is read whole.
  const head = readTensorHead(new Sync(await cur.bytes(at, Math.min(len, TENSOR_HEAD)), 0, true));
  if (head.name !== undefined || len <= TENSOR_HEAD) return { ...head, name: head.name ?? '' };
  const whole = readTensorHead(new Sync(await cur.bytes(at, len)));
  return { ...whole, name: whole.name ?? '' };
}

// ---------------------------------------------------------------------------------------------
// Small messages (nodes, value infos, entries, tensor heads) are parsed from bytes in memory.

class Sync {
  /** `partial`: the bytes are a message's head; a field cut off at the end stops reading instead of throwing. */
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly partial = false,
  ) {}

  more(): boolean {
    return this.pos < this.buf.length;
  }

  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Error('the file ends inside a number');
      const b = this.buf[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
    throw new Error('malformed protobuf varint');
  }

  /** Fields of this message: `on` gets each field's number, wire type and (for LEN) its bytes. */
  fields(on: (field: number, wire: number, payload: Sync | undefined, value: number) => void): void {
    while (this.more()) {
      const start = this.pos;
      let tag: number;
      try {
        tag = this.varint();
      } catch (e) {
        if (this.partial) return;
        throw e;
      }
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      try {
        if (wire === WIRE_VARINT) on(field, wire, undefined, this.varint());
        else if (wire === WIRE_LEN) {
          const n = this.varint();
          if (this.pos + n > this.buf.length) {
            if (this.partial) {
              this.pos = start;
              return;
            }
            throw new Error(`field ${field} runs past the end of its message`);
          }
          const sub = new Sync(this.buf.subarray(this.pos, this.pos + n));
          this.pos += n;
          on(field, wire, sub, n);
        } else if (wire === WIRE_I64) this.skip(8);
        else if (wire === WIRE_I32) this.skip(4);
        else throw new Error(`unsupported protobuf wire type ${wire}`);
      } catch (e) {
        if (this.partial && /ends inside|past the end/.test((e as Error).message)) return;
        throw e;
      }
    }
  }

  private skip(n: number): void {
    if (this.pos + n > this.buf.length) throw new Error('a fixed-width field runs past the end of its message');
    this.pos += n;
  }

  text(): string {
    return utf8.decode(this.buf);
  }
}

function readOpset(s: Sync): { domain: string; version: number } {
  const o = { domain: '', version: 0 };
  s.fields((f, _w, p, v) => {
    if (f === 1 && p) o.domain = p.text();
    else if (f === 2) o.version = v;
  });
  return o;
}

function readEntry(s: Sync): [string, string] {
  let key = '';
  let value = '';
  s.fields((f, _w, p) => {
    if (f === 1 && p) key = p.text();
    else if (f === 2 && p) value = p.text();
  });
  return [key, value];
}

function readNode(s: Sync): OutlineNode {
  const n: OutlineNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], subgraphs: 0 };
  s.fields((f, _w, p) => {
    if (!p) return;
    if (f === 1) n.inputs.push(p.text());
    else if (f === 2) n.outputs.push(p.text());
    else if (f === 3) n.name = p.text();
    else if (f === 4) n.opType = p.text();
    else if (f === 7) n.domain = p.text() === 'ai.onnx' ? '' : p.text();
    else if (f === 5) {
      // AttributeProto: g = 6, graphs = 11
      p.fields((af, _aw, ap) => {
        if (ap && (af === 6 || af === 11)) n.subgraphs++;
      });
    }
  });
  return n;
}

function readValueInfo(s: Sync): OutlineValue {
  const v: OutlineValue = { name: '', elemType: 'non-tensor', shape: undefined };
  s.fields((f, _w, p) => {
    if (f === 1 && p) v.name = p.text();
    else if (f === 2 && p) {
      p.fields((tf, _tw, tp) => {
        if (tf !== 1 || !tp) return; // TypeProto.tensor_type
        tp.fields((ff, _fw, fp, val) => {
          if (ff === 1) v.elemType = elemTypeName(val);
          else if (ff === 2 && fp) {
            const shape: (number | string)[] = [];
            fp.fields((df, _dw, dp) => {
              if (df !== 1 || !dp) return;
              let d: number | string = '';
              dp.fields((xf, _xw, xp, xv) => {
                if (xf === 1) d = xv;
                else if (xf === 2 && xp) d = xp.text();
              });
              shape.push(d);
            });
            v.shape = shape;
          }
        });
      });
    }
  });
  return v;
}

function readTensorHead(s: Sync): Omit<OutlineInitializer, 'name'> & { name: string | undefined } {
  const t = { name: undefined as string | undefined, elemType: 'undefined', dims: [] as number[], external: false };
  s.fields((f, w, p, v) => {
    if (f === 1) {
      if (w === WIRE_LEN && p) while (p.more()) t.dims.push(p.varint());
      else t.dims.push(v);
    } else if (f === 2) t.elemType = elemTypeName(v);
    else if (f === 8 && p) t.name = p.text();
    else if (f === 14) t.external = v === 1;
  });
  return t;
}
