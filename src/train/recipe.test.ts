import { describe, expect, it } from 'vitest';
import type { ModelArch, Weights } from '../asr/model';
import { recipeFromFlags } from '../cli/recipe-flags';
import { nodeBackend } from '../runtime/node';
import { DEFAULT_SETTINGS } from '../store/app-store';
import { trainableFor } from './adapters';
import { CtcTrainer, type CtcBatch } from './ctc-trainer';
import { DEFAULT_RECIPE, recipeOptimizer, stepsFor, warmupFor } from './recipe';

describe('one recipe for the app, earshot finetune and earshot personalize', () => {
  it('the app’s Train defaults are the recipe’s', () => {
    expect(DEFAULT_SETTINGS.adapter).toEqual(DEFAULT_RECIPE.adapter);
    expect(DEFAULT_SETTINGS.peakLr).toBe(DEFAULT_RECIPE.peakLr);
    expect(DEFAULT_SETTINGS.batchSeconds).toBe(DEFAULT_RECIPE.batchSeconds);
    expect(DEFAULT_SETTINGS.augment).toEqual(DEFAULT_RECIPE.augment);
    expect(DEFAULT_SETTINGS.personalLm).toBe(DEFAULT_RECIPE.personalLmShare > 0);
  });

  it('the CLI without recipe flags runs the recipe (finetune and personalize read the same flags), and flags override single fields', () => {
    expect(recipeFromFlags({})).toEqual({ recipe: DEFAULT_RECIPE, steps: undefined });
    const r = recipeFromFlags({ lr: '3e-3', targets: 'q,v', steps: '60', l2sp: '2', 'no-personal-lm': true });
    expect(r.steps).toBe(60);
    expect(r.recipe).toEqual({ ...DEFAULT_RECIPE, peakLr: 3e-3, l2sp: 2, personalLmShare: 0, adapter: { kind: 'lora', rank: 8, alpha: 16, targets: ['q', 'v'] } });
    expect(recipeFromFlags({ adapter: 'last-layers', layers: '3' }).recipe.adapter).toEqual({ kind: 'last-layers', layers: 3 });
    expect(() => recipeFromFlags({ lr: 'fast' })).toThrow(/--lr/);
  });

  it('steps grow with the takes as √(n/10), within [20, 200]; warmup is a tenth, at most 10', () => {
    expect([1, 8, 10, 40, 50, 100, 160, 1000].map((n) => stepsFor(n))).toEqual([20, 36, 40, 80, 89, 126, 160, 200]);
    // what `personalize --sizes 50,100,200` trains (four fifths of n; the rest held out for adoption)
    expect([50, 100, 200].map((n) => stepsFor(n - n / DEFAULT_RECIPE.holdoutEvery))).toEqual([80, 113, 160]);
    expect([20, 40, 89, 200].map(warmupFor)).toEqual([2, 4, 8, 10]);
  });
});

const TINY: ModelArch = { nMels: 16, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 5, vocabSize: 6 };

function batch(frames: number, shift: number): CtcBatch {
  const targets = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5)];
  const lengths = [frames, frames - 12];
  const features = new Float32Array(2 * frames * 16);
  targets.forEach((t, b) => {
    for (let f = 0; f < lengths[b]; f++) features[(b * frames + f) * 16 + ((t[Math.floor((f / lengths[b]) * t.length)] * 2 + shift) % 16)] = 2;
  });
  return { features, batch: 2, frames, lengths, targets };
}

/** Squared distance of the trained parameters from where they started, after `steps` steps. */
async function drift(l2sp: number, base: Weights, steps = 30): Promise<number> {
  const trainable = trainableFor({ kind: 'last-layers', layers: 1 }, TINY);
  const t = await CtcTrainer.create(nodeBackend(), { arch: TINY, weights: base, seed: 3, trainable, optimizer: recipeOptimizer(l2sp), clipNorm: 5 }, { batch: 2, frames: 48 });
  for (let i = 0; i < steps; i++) await t.step(batch(48, 1), 1e-2);
  const after = await t.weights();
  await t.dispose();
  let d = 0;
  for (const [name, w] of base) if (trainable(name)) w.forEach((v, k) => (d += (after.get(name)![k] - v) ** 2));
  return d;
}

describe('L2-SP toward the base model', () => {
  it('pulls the trained weights toward the base: the stronger the weight, the closer they stay', async () => {
    // a "base model": trained a little on one feature layout, so its weights are far from zero
    const pre = await CtcTrainer.create(nodeBackend(), { arch: TINY, seed: 3, optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5 }, { batch: 2, frames: 48 });
    for (let i = 0; i < 10; i++) await pre.step(batch(48, 0), 1e-2);
    const base = await pre.weights();
    await pre.dispose();
    const free = await drift(0, base);
    const pulled = await drift(20, base);
    expect(free).toBeGreaterThan(0);
    expect(pulled).toBeLessThan(0.5 * free);
  });
});
