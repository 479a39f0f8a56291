// Checkpoints in the safetensors layout (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON header mapping each tensor name to its dtype,
// shape and byte range, then the raw little-endian tensor bytes. Free-form string metadata goes in
// the header's "__metadata__". Any safetensors reader (Python's included) can open our files.

export interface NamedTensor {
  dims: number[];
  data: Float32Array | Int32Array;
}

export interface Checkpoint {
  tensors: Map<string, NamedTensor>;
  metadata: Record<string, string>;
}

const DTYPES = { F32: Float32Array, I32: Int32Array } as const;

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: c.metadata };
  let offset = 0;
  const entries = [...c.tensors.entries()];
  for (const [name, t] of entries) {
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.data instanceof Float32Array ? 'F32' : 'I32', shape: t.dims, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // pad the header with spaces so tensor data starts 8-byte aligned (allowed by the format)
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (bytes.length < 8) throw new Error('checkpoint is truncated: no header length');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) throw new Error(`checkpoint is truncated: header says ${n} bytes, file has ${bytes.length - 8}`);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const metadata = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  const tensors = new Map<string, NamedTensor>();
  const base = 8 + n;
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const Ctor = DTYPES[e.dtype as keyof typeof DTYPES];
    if (!Ctor) throw new Error(`checkpoint tensor ${name}: unsupported dtype ${e.dtype}`);
    const [begin, end] = e.data_offsets;
    if (base + end > bytes.length) throw new Error(`checkpoint is truncated: tensor ${name} ends past the file`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    if ((end - begin) !== count * 4) throw new Error(`checkpoint tensor ${name}: ${end - begin} bytes for shape [${e.shape}]`);
    // copy so the tensor is aligned and independent of the file buffer
    const data = new Ctor(count);
    new Uint8Array(data.buffer).set(bytes.subarray(base + begin, base + end));
    tensors.set(name, { dims: e.shape, data });
  }
  return { tensors, metadata };
}
