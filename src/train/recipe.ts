// The one fine-tuning recipe. The app's Train panel starts from it, `earshot finetune` runs it when
// no flag says otherwise, and `earshot personalize` runs it for every adaptation size. Its values
// are the best measured so far: chosen on speechocean762/dev at 10 takes (README, "Personalization"),
// and kept at 50 takes (40 trained), where none of nine variants (lr 5e-4 / 2e-3, 40 or 160 steps,
// L2-SP 10, rank 16 on all six projections, q,v only, speed + noise, personal LM share 0.4) beat it
// beyond the noise on personal_librispeech2 4088 and personal_vctk_p239
// (scripts/results/personalize-leg5/). Changing them here changes all three, and
// src/train/recipe.test.ts holds them to that.
import type { OptimizerConfig } from '../engine/optim';
import type { AdapterChoice } from './adapters';
import { PERSONAL_LM_SHARE } from './personal-lm';

export interface Augment {
  specAugment: boolean;
  speed: boolean;
  noise: boolean;
}

export interface Recipe {
  adapter: AdapterChoice;
  peakLr: number;
  /** Steps for REFERENCE_TAKES training utterances; stepsFor() scales them with the data. */
  steps: number;
  batchSeconds: number;
  augment: Augment;
  /**
   * L2-SP: decoupled weight decay toward the weights training started from (the base model, and a
   * LoRA or bottleneck adapter's identity start), so a few takes cannot pull the model far away.
   */
  l2sp: number;
  /** Share of the training transcripts' LM mixed into the model's word LM (0: none). */
  personalLmShare: number;
  /** Every this-many-th take is held out; the result is adopted only if no worse on them (0: none held out). */
  holdoutEvery: number;
}

/** The number of takes `Recipe.steps` is set for (speechocean762/dev's 10 per speaker). */
export const REFERENCE_TAKES = 10;
const MIN_STEPS = 20;
const MAX_STEPS = 200;

export const DEFAULT_RECIPE: Recipe = {
  adapter: { kind: 'lora', rank: 8, alpha: 16, targets: ['q', 'v', 'ff1', 'ff2'] },
  peakLr: 1e-3,
  steps: 40,
  batchSeconds: 40,
  augment: { specAugment: true, speed: false, noise: false },
  l2sp: 0.01,
  personalLmShare: PERSONAL_LM_SHARE,
  holdoutEvery: 5,
};

/**
 * Steps for `n` training takes: the recipe's steps at REFERENCE_TAKES, growing as √(n / 10) (more
 * takes see more distinct audio per step, so epochs may shrink), within [20, 200].
 */
export function stepsFor(n: number, r: Recipe = DEFAULT_RECIPE): number {
  const scaled = Math.round(r.steps * Math.sqrt(Math.max(1, n) / REFERENCE_TAKES));
  return Math.min(MAX_STEPS, Math.max(MIN_STEPS, scaled));
}

/** Warmup steps for a run of `steps`: a tenth, at most 10. */
export function warmupFor(steps: number): number {
  return Math.min(10, Math.floor(steps / 10));
}

/** The optimizer every fine-tune uses: AdamW with L2-SP decay at the recipe's weight. */
export function recipeOptimizer(l2sp: number = DEFAULT_RECIPE.l2sp): OptimizerConfig {
  return { kind: 'adamw', weightDecay: l2sp, decayTo: 'start' };
}

/** Global gradient-norm clip of every fine-tune. */
export const CLIP_NORM = 5;
