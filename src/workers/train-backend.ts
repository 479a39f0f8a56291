// Works around onnxruntime-web's native WebGPU EP (1.30) rejecting a node whose omitted optional
// input is written as an empty name: the engine's ConvTranspose in the depthwise-convolution
// gradient ([dy, w, ''], no bias) fails there with "invalid bias" (WASM and Node CPU accept it).
// ONNX lets trailing optional inputs be left out altogether, which every EP reads the same way,
// so sessions get the model with trailing '' inputs trimmed. Remove once the engine emits no
// trailing empty inputs.
import { decodeModel, encodeModel } from '../engine/onnx-proto';
import type { Backend } from '../runtime/types';

export function trimTrailingEmptyInputs(model: Uint8Array): Uint8Array {
  const m = decodeModel(model);
  let changed = false;
  for (const n of m.graph.nodes) {
    while (n.inputs.length > 0 && n.inputs[n.inputs.length - 1] === '') {
      n.inputs.pop();
      changed = true;
    }
  }
  return changed ? encodeModel(m) : model;
}

export function withTrimmedInputs(backend: Backend): Backend {
  return {
    info: backend.info,
    toDevice: (t) => backend.toDevice(t),
    createSession: (model, deviceOutputs) => backend.createSession(trimTrailingEmptyInputs(model), deviceOutputs),
  };
}
