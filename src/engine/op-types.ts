// The ONNX operators the engine emits, all in the default domain at opset DEFAULT_OPSET (20).
// Every one of them runs on onnxruntime-web's native WebGPU execution provider (see FIELD.md:
// LogSoftmax, OneHot, Sum, Sign, Mod, IsNaN/IsInf, Loop/Scan, int64 arithmetic and Cast int64→float
// fall back to CPU, so the engine builds their equivalents from the ops below instead).
// A test builds every training graph the project produces and asserts each node is in this list.

export const WEBGPU_OPS = [
  // element-wise arithmetic
  'Add', 'Sub', 'Mul', 'Div', 'Neg', 'Pow', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Abs',
  'Max', 'Min', 'Clip',
  // activations
  'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Gelu',
  // comparisons and selection (float32/int32/bool only)
  'Equal', 'Greater', 'Less', 'Not', 'And', 'Where',
  // conversion
  'Cast', 'Identity',
  // reductions (opset 18+: axes as an input)
  'ReduceSum', 'ReduceMean', 'ReduceMax',
  // linear algebra and convolution
  'MatMul', 'Gemm', 'Conv', 'ConvTranspose',
  // fused normalizations
  'Softmax', 'LayerNormalization',
  // layout
  'Transpose', 'Reshape', 'Unsqueeze', 'Squeeze', 'Concat', 'Split', 'Slice', 'Pad', 'Expand',
  'Gather', 'Tile',
] as const;

export type OpType = (typeof WEBGPU_OPS)[number];

/**
 * Ops a graph imported from elsewhere may still hold after static-graph.ts has folded and lowered it,
 * beyond WEBGPU_OPS. They sit on paths no gradient flows through (NeMo's output-length arithmetic:
 * Floor of a float length; Range over a runtime length). None was probed on the native WebGPU EP,
 * and the int64 data they usually see runs on the CPU there anyway (FIELD.md), so a foreign graph
 * holding them runs those nodes on the CPU: a small cost, on a few scalars per utterance.
 */
export const FOREIGN_OPS = ['Floor', 'Ceil', 'Range'] as const;

export type ForeignOpType = (typeof FOREIGN_OPS)[number];

/** Every op the engine's tables (shapes, gradients, the test evaluator) cover. */
export type GraphOpType = OpType | ForeignOpType;

const allowed: ReadonlySet<string> = new Set(WEBGPU_OPS);

export function isWebGpuOp(opType: string, domain = ''): boolean {
  return domain === '' && allowed.has(opType);
}
