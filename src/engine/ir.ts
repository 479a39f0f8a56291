// The engine's in-memory form of an ONNX graph. It mirrors ONNX's GraphProto closely enough that
// writing and reading protobuf is a mechanical mapping (see onnx-proto.ts), and it is what the
// builder produces, what autodiff transforms, and what the reference evaluator runs.
// Spec: https://onnx.ai/onnx/repo-docs/IR.html

/**
 * `int8`/`uint8` exist for quantised models read from files (weights and zero points of
 * MatMulInteger, DequantizeLinear, …); dequantize.ts turns them into float32 before training.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'bool' | 'int8' | 'uint8';

/** A dimension: a number when known at build time, a name (e.g. 'batch') when symbolic. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** A constant tensor: an initializer, or the value of a tensor attribute. `bool` data is Uint8Array. */
export interface TensorConst {
  name: string;
  dtype: DType;
  dims: number[];
  data: TensorData;
}

export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: TensorConst };

export interface Node {
  opType: string;
  /** '' is the default ONNX domain; 'com.microsoft' for contrib ops such as Gelu before opset 20. */
  domain: string;
  name: string;
  inputs: string[]; // '' marks an omitted optional input
  outputs: string[];
  attrs: Record<string, Attr>;
  /** Where in model code the node was created (module path), for error messages. Not serialized. */
  origin?: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: TensorConst[];
  /** Shapes of intermediate values, when known. */
  valueInfo: ValueInfo[];
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  graph: Graph;
  opsets: OpsetImport[];
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Free-form key/value metadata (ONNX metadata_props). */
  metadata: Record<string, string>;
}

export const DEFAULT_OPSET = 20; // Gelu joined the default domain in opset 20
export const IR_VERSION = 9; // the IR version that goes with opset 20

export function dtypeArray(dtype: DType, size: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    case 'int64':
      return new BigInt64Array(size);
    case 'bool':
    case 'uint8':
      return new Uint8Array(size);
    case 'int8':
      return new Int8Array(size);
  }
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Row-major strides of `dims`, in elements: the last axis 1. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  for (let k = dims.length - 1, acc = 1; k >= 0; k--) {
    s[k] = acc;
    acc *= dims[k];
  }
  return s;
}
