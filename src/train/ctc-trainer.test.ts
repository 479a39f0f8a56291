import { describe, expect, it } from 'vitest';
import type { ModelArch } from '../asr/model';
import { nodeBackend } from '../runtime/node';
import { CtcTrainer, type CtcBatch } from './ctc-trainer';

const TINY: ModelArch = { nMels: 16, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 5, vocabSize: 6 };

/** Two "utterances" whose frames encode their labels, so the model has something to learn. */
function batch(frames: number): CtcBatch {
  const B = 2;
  const targets = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5)];
  const lengths = [frames, frames - 12];
  const features = new Float32Array(B * frames * 16);
  targets.forEach((t, b) => {
    for (let f = 0; f < lengths[b]; f++) {
      const label = t[Math.min(t.length - 1, Math.floor((f / lengths[b]) * t.length))];
      features[(b * frames + f) * 16 + label * 2] = 2;
    }
  });
  return { features, batch: B, frames, lengths, targets };
}

describe('CtcTrainer (onnxruntime-node)', () => {
  it('CTC loss falls on a fixed batch, across two length buckets sharing one state', async () => {
    const t = await CtcTrainer.create(nodeBackend(), { arch: TINY, seed: 3, optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5 }, { batch: 2, frames: 48 });
    const first = await t.step(batch(48), 3e-3);
    let last = first;
    for (let i = 0; i < 40; i++) last = await t.step(batch(i % 2 ? 48 : 64), 3e-3);
    expect(await t.stepCount).toBe(41);
    expect(last.skipped).toBe(false);
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    await t.dispose();
  });

  it('LoRA-only training leaves every base weight untouched', async () => {
    const base = await CtcTrainer.create(nodeBackend(), { arch: TINY, seed: 3, optimizer: { kind: 'sgd' } }, { batch: 2, frames: 48 });
    const weights = await base.weights();
    await base.dispose();
    const t = await CtcTrainer.create(
      nodeBackend(),
      { arch: TINY, weights, adapters: { lora: { rank: 2, alpha: 4, targets: ['q', 'v', 'ff1'] } }, trainable: (n) => n.includes('.lora_'), optimizer: { kind: 'adamw' } },
      { batch: 2, frames: 48 },
    );
    for (let i = 0; i < 5; i++) await t.step(batch(48), 1e-2);
    const after = await t.weights();
    for (const [name, w] of weights) expect(Array.from(after.get(name)!), name).toEqual(Array.from(w));
    expect([...after.keys()].filter((n) => n.endsWith('lora_b')).some((n) => after.get(n)!.some((v) => v !== 0))).toBe(true);
    await t.dispose();
  });

  it('an utterance whose transcript cannot fit its frames is flagged, and the rest still trains', async () => {
    const t = await CtcTrainer.create(nodeBackend(), { arch: TINY, seed: 3, optimizer: { kind: 'adamw' } }, { batch: 2, frames: 48 });
    const b = batch(48);
    b.targets[1] = Int32Array.from({ length: 40 }, (_, i) => 1 + (i % 5)); // 40 labels in 12 frames
    const r = await t.step(b, 1e-3);
    expect(r.infeasible).toBe(1);
    expect(r.skipped).toBe(false);
    expect(Number.isFinite(r.loss)).toBe(true);
    await t.dispose();
  });
});
