// The same LoRA steps on an imported model through onnxruntime-node's WebGPU execution provider
// (Dawn on Vulkan; here Mesa's lavapipe software driver, FIELD.md) as on its CPU provider: training
// state and the shared frozen weights stay in GPU buffers, and the losses agree.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel } from '../engine/onnx-proto';
import { nodeBackend } from '../runtime/node';
import { ForeignCtcTrainer } from './foreign-trainer';

const vulkan = ['/usr/share/vulkan/icd.d/lvp_icd.json', '/usr/share/vulkan/icd.d/nvidia_icd.json', '/etc/vulkan/icd.d/nvidia_icd.json'].some(existsSync);

describe.skipIf(!vulkan)('ForeignCtcTrainer on the WebGPU execution provider', () => {
  it('wav2vec2-tiny: 4 LoRA steps give the CPU losses, state and frozen weights on the GPU', async () => {
    const model = decodeModel(new Uint8Array(readFileSync(new URL('./fixtures/wav2vec2-tiny/onnx/model.onnx', import.meta.url))));
    const S = 1600;
    const inputs = { input_values: { dtype: 'float32' as const, dims: [1, S], data: Float32Array.from({ length: S }, (_, i) => 0.3 * Math.sin(i * 0.05)) } };
    const losses: Record<string, number[]> = {};
    for (const ep of ['cpu', 'webgpu'] as const) {
      const t = await ForeignCtcTrainer.create(nodeBackend({ threads: 1, executionProvider: ep }), { model, blank: 0, scores: 'logits', lora: { rank: 2, alpha: 4 }, optimizer: { kind: 'adamw', weightDecay: 0 } }, inputs);
      const batch = { inputs, outputLengths: [t.outputFrames({ input_values: [1, S] })], targets: [Int32Array.of(3, 5)] };
      losses[ep] = [];
      for (let s = 0; s < 4; s++) losses[ep].push((await t.step(batch, 1e-2)).loss);
      if (ep === 'webgpu') {
        expect(Object.keys(t.trainer.stateLocations())).toEqual(['gpu-buffer']);
        expect(Object.keys(t.sharedLocations())).toEqual(['gpu-buffer']);
      }
      await t.dispose();
    }
    expect(losses.webgpu[3]).toBeLessThan(losses.webgpu[0]);
    losses.cpu.forEach((l, i) => expect(Math.abs(l - losses.webgpu[i])).toBeLessThan(1e-4 * l));
  }, 300_000);
});
