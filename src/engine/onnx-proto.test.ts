import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Graph, Model, Node, TensorConst } from './ir';
import { DEFAULT_OPSET, IR_VERSION } from './ir';
import { decodeModel, encodeModel, makeModel, validateModel } from './onnx-proto';

const node = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}, domain = ''): Node => ({
  opType, domain, name: `${opType}_${outputs[0]}`, inputs, outputs, attrs,
});

const f32 = (name: string, dims: number[], values: number[]): TensorConst => ({ name, dtype: 'float32', dims, data: Float32Array.from(values) });

/** A model exercising every attribute type, every dtype, dim_param, metadata and a second domain. */
function kitchenSink(): Model {
  const initializers: TensorConst[] = [
    f32('w', [2, 3], [1, -2, 3.5, 0.25, -0, 1e-20]),
    { name: 'd', dtype: 'float64', dims: [2], data: Float64Array.from([Math.PI, -1e300]) },
    { name: 'i32', dtype: 'int32', dims: [3], data: Int32Array.from([-7, 0, 2 ** 31 - 1]) },
    { name: 'i64', dtype: 'int64', dims: [3], data: BigInt64Array.from([-1n, 2n ** 62n, -(2n ** 63n)]) },
    { name: 'b', dtype: 'bool', dims: [2, 2], data: Uint8Array.from([1, 0, 0, 1]) },
    { name: 'empty', dtype: 'float32', dims: [0, 4], data: new Float32Array(0) },
    { name: 'scalar', dtype: 'int64', dims: [], data: BigInt64Array.from([42n]) },
  ];
  const graph: Graph = {
    name: 'sink',
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3, 'time'] }],
    outputs: [{ name: 'z', dtype: 'float32', shape: ['batch', '', 7] }],
    valueInfo: [{ name: 'y', dtype: 'int64', shape: [0, 'n'] }],
    initializers,
    nodes: [
      node('Custom', ['x', '', 'w'], ['y', ''], {
        i: { type: 'int', value: -3 },
        big: { type: 'int', value: 2 ** 40 },
        f: { type: 'float', value: 0.5 },
        s: { type: 'string', value: 'tanh ✓' },
        is: { type: 'ints', value: [0, -1, 300, -(2 ** 50)] },
        fs: { type: 'floats', value: [1.5, -2.25, 0] },
        ss: { type: 'strings', value: ['a', '', 'ü'] },
        t: { type: 'tensor', value: f32('const', [2], [3, 4]) },
        empty: { type: 'ints', value: [] },
      }, 'com.example'),
      node('Identity', ['y'], ['z']),
    ],
  };
  return makeModel(graph, { producerVersion: '0.1', metadata: { purpose: 'test', ünïcode: 'yes' } });
}

describe('encodeModel / decodeModel', () => {
  it('round-trips byte-identically and structurally', () => {
    const model = kitchenSink();
    const bytes = encodeModel(model);
    const back = decodeModel(bytes);
    expect(encodeModel(back)).toEqual(bytes);
    expect(back).toEqual(model);
  });

  it('keeps dim_param and unknown dims', () => {
    const back = decodeModel(encodeModel(kitchenSink()));
    expect(back.graph.inputs[0].shape).toEqual(['batch', 3, 'time']);
    expect(back.graph.outputs[0].shape).toEqual(['batch', '', 7]);
  });

  it('makeModel fills opsets, IR version and producer', () => {
    const m = kitchenSink();
    expect(m.opsets).toEqual([{ domain: '', version: DEFAULT_OPSET }, { domain: 'com.example', version: 1 }]);
    expect(m.irVersion).toBe(IR_VERSION);
    expect(m.producerName).toBe('earshot');
  });

  it('decodes typed *_data fields, packed and unpacked, and skips unknown fields', () => {
    // Hand-assembled protobuf, the way other exporters may write it.
    const varint = (v: bigint): number[] => {
      const out: number[] = [];
      let u = BigInt.asUintN(64, v);
      while (u > 0x7fn) { out.push(Number(u & 0x7fn) | 0x80); u >>= 7n; }
      return [...out, Number(u)];
    };
    const tag = (f: number, wire: number): number[] => varint(BigInt((f << 3) | wire));
    const len = (f: number, body: number[]): number[] => [...tag(f, 2), ...varint(BigInt(body.length)), ...body];
    const vi = (f: number, v: number | bigint): number[] => [...tag(f, 0), ...varint(BigInt(v))];
    const str = (f: number, s: string): number[] => len(f, [...new TextEncoder().encode(s)]);
    const fixed = (bytes: number, set: (v: DataView) => void): number[] => {
      const b = new Uint8Array(bytes);
      set(new DataView(b.buffer));
      return [...b];
    };
    const f32b = (v: number) => fixed(4, (d) => d.setFloat32(0, v, true));
    const f64b = (v: number) => fixed(8, (d) => d.setFloat64(0, v, true));
    const unknown = [...vi(99, 5), ...len(98, [1, 2, 3]), ...tag(97, 5), 0, 0, 0, 0, ...tag(96, 1), ...f64b(1)];

    const tensors = [
      // float_data unpacked (one fixed32 per tag) and dims unpacked
      [...vi(1, 2), ...vi(2, 1), ...str(8, 'fu'), ...tag(4, 5), ...f32b(1.5), ...tag(4, 5), ...f32b(-2), ...unknown],
      // float_data packed
      [...len(1, varint(2n)), ...vi(2, 1), ...str(8, 'fp'), ...len(4, [...f32b(0.25), ...f32b(8)])],
      // int32_data unpacked with a negative value (sign-extended to 10 bytes)
      [...vi(1, 2), ...vi(2, 6), ...str(8, 'iu'), ...vi(5, -5), ...vi(5, 7)],
      // int64_data packed
      [...vi(1, 2), ...vi(2, 7), ...str(8, 'lp'), ...len(7, [...varint(-1n), ...varint(2n ** 40n)])],
      // double_data unpacked and packed mixed
      [...vi(1, 2), ...vi(2, 11), ...str(8, 'dd'), ...tag(10, 1), ...f64b(Math.E), ...len(10, f64b(-0.5))],
      // bool in int32_data
      [...vi(1, 3), ...vi(2, 9), ...str(8, 'bb'), ...len(5, [1, 0, 1])],
    ];
    // An attribute without the type field (IR v1 style) and ints unpacked.
    const attr = [...str(1, 'perm'), ...vi(8, 1), ...vi(8, 0)];
    const nodeBytes = [...str(1, 'fu'), ...str(2, 'out'), ...str(4, 'Transpose'), ...len(5, attr), ...str(7, 'ai.onnx'), ...unknown];
    const graph = [...len(1, nodeBytes), ...tensors.flatMap((t) => len(5, t)), ...unknown];
    const model = [...vi(1, 8), ...len(8, [...str(1, 'ai.onnx'), ...vi(2, 17)]), ...str(6, 'doc'), ...len(7, graph), ...unknown];

    const m = decodeModel(Uint8Array.from(model));
    const data = Object.fromEntries(m.graph.initializers.map((t) => [t.name, t]));
    expect(data.fu).toEqual(f32('fu', [2], [1.5, -2]));
    expect(data.fp.data).toEqual(Float32Array.from([0.25, 8]));
    expect(data.iu.data).toEqual(Int32Array.from([-5, 7]));
    expect(data.lp.data).toEqual(BigInt64Array.from([-1n, 2n ** 40n]));
    expect(data.dd.data).toEqual(Float64Array.from([Math.E, -0.5]));
    expect(data.bb).toEqual({ name: 'bb', dtype: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) });
    expect(m.graph.nodes[0]).toMatchObject({ opType: 'Transpose', domain: '', attrs: { perm: { type: 'ints', value: [1, 0] } } });
    expect(m.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(m.irVersion).toBe(8);
  });

  it('refuses what the IR cannot hold, with a clear message', () => {
    const model = kitchenSink();
    const bytes = encodeModel(model);
    // data_type FLOAT16 (10): patch the 'w' initializer's data_type varint (field 2, value 1).
    const withHalf = encodeModel(makeModel({ ...model.graph, nodes: [], initializers: [model.graph.initializers[0]] }));
    const at = withHalf.findIndex((b, i) => b === 0x10 && withHalf[i + 1] === 1 && withHalf[i + 2] === 0x42);
    expect(at).toBeGreaterThan(0);
    const patched = withHalf.slice();
    patched[at + 1] = 10;
    expect(() => decodeModel(patched)).toThrow(/tensor 'w' has data type 10/);
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
  });
});

describe('validateModel', () => {
  const valid = (): Model => makeModel({
    name: 'g',
    inputs: [{ name: 'x', dtype: 'float32', shape: [2] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [2] }],
    initializers: [f32('w', [2], [1, 2])],
    valueInfo: [],
    nodes: [node('Mul', ['x', 'w'], ['t']), node('Softmax', ['t'], ['y'], { axis: { type: 'int', value: -1 } })],
  });
  const edit = (f: (m: Model) => void): string[] => {
    const m = valid();
    f(m);
    return validateModel(m);
  };

  it('accepts a valid model', () => expect(validateModel(valid())).toEqual([]));

  it('catches inputs that are not yet defined (topological order)', () => {
    expect(edit((m) => m.graph.nodes.reverse())).toEqual(expect.arrayContaining([expect.stringMatching(/reads 't'/)]));
    expect(edit((m) => (m.graph.nodes[0].inputs[1] = 'nope'))).toEqual([expect.stringMatching(/reads 'nope'/)]);
  });

  it('catches names defined twice', () => {
    expect(edit((m) => (m.graph.nodes[1].outputs = ['t']))).toEqual(expect.arrayContaining([expect.stringMatching(/'t' is defined twice/)]));
    expect(edit((m) => (m.graph.nodes[0].outputs = ['x']))).toEqual(expect.arrayContaining([expect.stringMatching(/'x' is defined twice/)]));
    expect(edit((m) => m.graph.initializers.push(f32('w', [2], [0, 0])))).toEqual(expect.arrayContaining([expect.stringMatching(/initializer 'w' is defined twice/)]));
  });

  it('allows an input to share its name with an initializer (IR v4 default values)', () => {
    expect(edit((m) => m.graph.inputs.push({ name: 'w', dtype: 'float32', shape: [2] }))).toEqual([]);
  });

  it('catches graph outputs nobody produces', () => {
    expect(edit((m) => m.graph.outputs.push({ name: 'ghost', dtype: 'float32', shape: [] }))).toEqual([expect.stringMatching(/'ghost' is never produced/)]);
  });

  it('catches domains without an opset import', () => {
    expect(edit((m) => (m.opsets = []))).toHaveLength(2);
    expect(edit((m) => (m.graph.nodes[0].domain = 'com.microsoft'))).toEqual([expect.stringMatching(/domain 'com.microsoft'/)]);
  });

  it('catches initializers whose dims do not match their data', () => {
    expect(edit((m) => (m.graph.initializers[0].dims = [3]))).toEqual([expect.stringMatching(/hold 3 elements but data has 2/)]);
    expect(edit((m) => (m.graph.initializers[0].data = new Float64Array(2)))).toEqual([expect.stringMatching(/float32 data stored in a Float64Array/)]);
  });

  it('catches attributes of the wrong type or with values that do not fit', () => {
    expect(edit((m) => (m.graph.nodes[1].attrs.axis = { type: 'float', value: -1 }))).toEqual([expect.stringMatching(/is float, the spec says int/)]);
    expect(edit((m) => (m.graph.nodes[1].attrs.axis = { type: 'int', value: 0.5 }))).toEqual([expect.stringMatching(/does not fit type int/)]);
    expect(edit((m) => (m.graph.nodes[1].attrs.x = { type: 'ints', value: [1, NaN] }))).toEqual([expect.stringMatching(/does not fit type ints/)]);
    expect(edit((m) => (m.graph.nodes[1].attrs.t = { type: 'tensor', value: f32('c', [2, 2], [1]) }))).toEqual([expect.stringMatching(/hold 4 elements/)]);
  });
});

describe('onnxruntime-node loads what we encode', () => {
  it('runs Gemm + Relu with a known output', async () => {
    const graph: Graph = {
      name: 'gemm_relu',
      inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', 3] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 2] }],
      initializers: [f32('w', [2, 3], [1, 0, -1, 2, 1, 0]), f32('b', [2], [0.5, -10])],
      valueInfo: [{ name: 'h', dtype: 'float32', shape: ['batch', 2] }],
      nodes: [
        node('Gemm', ['x', 'w', 'b'], ['h'], { transB: { type: 'int', value: 1 }, alpha: { type: 'float', value: 2 } }),
        node('Relu', ['h'], ['y']),
      ],
    };
    const model = makeModel(graph);
    expect(validateModel(model)).toEqual([]);
    const session = await ort.InferenceSession.create(encodeModel(model));
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]);
    const { y } = await session.run({ x });
    // row 0: 2*[1-3, 2+2] + [0.5, -10] = [-3.5, -2] -> relu [0, 0]; row 1: 2*[4-6, 8+5] + b = [-3.5, 16]
    expect(y.dims).toEqual([2, 2]);
    expect(Array.from(y.data as Float32Array)).toEqual([0, 0, 0, 16]);
    await session.release();
  });

  it('reads int64, int32, bool and float64 initializers as we wrote them', async () => {
    const graph: Graph = {
      name: 'consts',
      inputs: [],
      outputs: [
        { name: 'l', dtype: 'int64', shape: [3] },
        { name: 'i', dtype: 'int32', shape: [2] },
        { name: 'b', dtype: 'bool', shape: [3] },
        { name: 'd', dtype: 'float64', shape: [] },
      ],
      initializers: [
        { name: 'l0', dtype: 'int64', dims: [3], data: BigInt64Array.from([-1n, 2n ** 40n, 3n]) },
        { name: 'i0', dtype: 'int32', dims: [2], data: Int32Array.from([-5, 6]) },
        { name: 'b0', dtype: 'bool', dims: [3], data: Uint8Array.from([1, 0, 1]) },
        { name: 'd0', dtype: 'float64', dims: [], data: Float64Array.from([Math.PI]) },
      ],
      valueInfo: [],
      nodes: ['l', 'i', 'b', 'd'].map((n) => node('Identity', [`${n}0`], [n])),
    };
    const session = await ort.InferenceSession.create(encodeModel(makeModel(graph)));
    const out = await session.run({});
    expect(out.l.data).toEqual(BigInt64Array.from([-1n, 2n ** 40n, 3n]));
    expect(out.i.data).toEqual(Int32Array.from([-5, 6]));
    expect(Array.from(out.b.data as Uint8Array)).toEqual([1, 0, 1]);
    expect(out.d.data).toEqual(Float64Array.from([Math.PI]));
    await session.release();
  });
});

// An independent protobuf implementation to check field numbers and wire types against: the
// protobufjs code generated from onnx.proto that onnxruntime-web ships for its legacy backend.
const pbjsSchema = fileURLToPath(new URL('../../node_modules/onnxruntime-web/lib/onnxjs/ort-schema/protobuf/onnx.js', import.meta.url));
const { onnx: pb } = createRequire(import.meta.url)(pbjsSchema) as { onnx: any };

describe('agrees with protobufjs (onnx.proto as generated code)', () => {
  it('protobufjs reads what we write', () => {
    const m = pb.ModelProto.toObject(pb.ModelProto.decode(encodeModel(kitchenSink())), { longs: String, bytes: Array, defaults: false });
    expect(m.irVersion).toBe(String(IR_VERSION));
    expect(m.opsetImport).toEqual([{ version: String(DEFAULT_OPSET) }, { domain: 'com.example', version: '1' }]);
    expect(m.metadataProps).toEqual([{ key: 'purpose', value: 'test' }, { key: 'ünïcode', value: 'yes' }]);
    const g = m.graph;
    expect(g.input[0].type.tensorType).toEqual({ elemType: 1, shape: { dim: [{ dimParam: 'batch' }, { dimValue: '3' }, { dimParam: 'time' }] } });
    expect(g.output[0].type.tensorType.shape.dim[1]).toEqual({});
    const attrs = Object.fromEntries(g.node[0].attribute.map((a: { name: string }) => [a.name, a]));
    expect(attrs.i).toMatchObject({ type: 2, i: '-3' });
    expect(attrs.big).toMatchObject({ type: 2, i: String(2 ** 40) });
    expect(attrs.f).toMatchObject({ type: 1, f: 0.5 });
    expect(attrs.s).toMatchObject({ type: 3, s: [...new TextEncoder().encode('tanh ✓')] });
    expect(attrs.is).toMatchObject({ type: 7, ints: ['0', '-1', '300', String(-(2 ** 50))] });
    expect(attrs.fs).toMatchObject({ type: 6, floats: [1.5, -2.25, 0] });
    expect(attrs.ss.type).toBe(8);
    expect(attrs.t).toMatchObject({ type: 4, t: { dims: ['2'], dataType: 1, name: 'const' } });
    expect(g.node[0].input).toEqual(['x', '', 'w']);
    expect(g.node[0].domain).toBe('com.example');
    const i64 = g.initializer.find((t: { name: string }) => t.name === 'i64');
    expect(i64).toMatchObject({ dims: ['3'], dataType: 7 });
    expect(new BigInt64Array(Uint8Array.from(i64.rawData).buffer)).toEqual(BigInt64Array.from([-1n, 2n ** 62n, -(2n ** 63n)]));
  });

  it('keeps INT64_MAX and INT64_MIN attributes (read as ±2^63 doubles) intact', () => {
    const model = kitchenSink();
    model.graph.nodes[1].attrs.ends = { type: 'ints', value: [2 ** 63, -(2 ** 63), 2 ** 63 - 1] };
    const bytes = encodeModel(model);
    const node = pb.ModelProto.toObject(pb.ModelProto.decode(bytes), { longs: String }).graph.node[1];
    expect(node.attribute[0].ints).toEqual(['9223372036854775807', '-9223372036854775808', '9223372036854775807']);
    expect(encodeModel(decodeModel(bytes))).toEqual(bytes);
  });

  it('we read what protobufjs writes (typed *_data fields, unpacked proto2 repeats)', () => {
    const bytes = pb.ModelProto.encode({
      irVersion: 7,
      opsetImport: [{ domain: '', version: 13 }],
      producerName: 'pbjs',
      docString: 'skipped',
      graph: {
        name: 'g',
        node: [{ input: ['x', 'w'], output: ['y'], opType: 'Gemm', name: 'fc', docString: 'skipped', attribute: [
          { name: 'alpha', type: 1, f: 0.25 },
          { name: 'transB', type: 2, i: 1 },
          { name: 'pads', type: 7, ints: [1, -2] },
          { name: 'mode', type: 3, s: new TextEncoder().encode('reflect') },
        ] }],
        initializer: [
          { name: 'w', dims: [2, 2], dataType: 1, floatData: [1, 2, 3, 4] },
          { name: 'l', dims: [2], dataType: 7, int64Data: [-5, 6] },
          { name: 'd', dims: [1], dataType: 11, doubleData: [Math.PI] },
          { name: 'b', dims: [2], dataType: 9, int32Data: [1, 0] },
        ],
        input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }, { dimValue: 2 }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'n' }, { dimValue: 2 }] } } } }],
        valueInfo: [{ name: 'seq', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } }],
      },
    }).finish();
    const m = decodeModel(bytes);
    expect(m).toMatchObject({ irVersion: 7, opsets: [{ domain: '', version: 13 }], producerName: 'pbjs' });
    expect(m.graph.nodes[0]).toEqual({
      opType: 'Gemm', domain: '', name: 'fc', inputs: ['x', 'w'], outputs: ['y'],
      attrs: {
        alpha: { type: 'float', value: 0.25 }, transB: { type: 'int', value: 1 },
        pads: { type: 'ints', value: [1, -2] }, mode: { type: 'string', value: 'reflect' },
      },
    });
    expect(m.graph.initializers).toEqual([
      f32('w', [2, 2], [1, 2, 3, 4]),
      { name: 'l', dtype: 'int64', dims: [2], data: BigInt64Array.from([-5n, 6n]) },
      { name: 'd', dtype: 'float64', dims: [1], data: Float64Array.from([Math.PI]) },
      { name: 'b', dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0]) },
    ]);
    expect(m.graph.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['n', 2] }]);
    expect(m.graph.valueInfo).toEqual([]); // a sequence type is a shape hint the IR cannot hold
  });
});
