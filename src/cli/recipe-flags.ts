// The recipe as command-line flags, shared by `finetune` and `personalize`: every flag left out
// keeps the default recipe's value (src/train/recipe.ts), so the CLI, the app and the measurement
// run the same recipe unless told otherwise.
import { adapterChoice } from '../train/adapters';
import { DEFAULT_RECIPE, type Recipe } from '../train/recipe';

/** parseArgs options of the recipe; none has a default, so a missing flag means "the recipe's". */
export const RECIPE_OPTIONS = {
  adapter: { type: 'string' },
  rank: { type: 'string' },
  alpha: { type: 'string' },
  targets: { type: 'string' },
  dim: { type: 'string' },
  layers: { type: 'string' },
  steps: { type: 'string' },
  lr: { type: 'string' },
  'batch-seconds': { type: 'string' },
  l2sp: { type: 'string' },
  'no-augment': { type: 'boolean' },
  speed: { type: 'boolean' },
  noise: { type: 'boolean' },
  'no-personal-lm': { type: 'boolean' },
  'personal-lm-share': { type: 'string' },
  'holdout-every': { type: 'string' },
} as const;

export const RECIPE_USAGE = `[--adapter lora|bottleneck|last-layers --rank N --alpha X --targets q,v --dim N --layers N]
           [--steps N (default: the recipe's, scaled with the takes) --lr X --l2sp X --batch-seconds S]
           [--no-augment --speed --noise --no-personal-lm --personal-lm-share X]`;

export type RecipeFlagValues = { [K in keyof typeof RECIPE_OPTIONS]?: (typeof RECIPE_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function num(name: string, v: string | undefined, fallback: number, ok: (x: number) => boolean = (x) => x >= 0): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x) || !ok(x)) throw new Error(`--${name} cannot be '${v}'`);
  return x;
}

/** The default recipe with the given flags applied; `steps` is set only when --steps fixes them. */
export function recipeFromFlags(v: RecipeFlagValues, base: Recipe = DEFAULT_RECIPE): { recipe: Recipe; steps?: number } {
  const adapterGiven = ['adapter', 'rank', 'alpha', 'targets', 'dim', 'layers'].some((k) => v[k as keyof RecipeFlagValues] !== undefined);
  const a = base.adapter;
  const adapter = adapterGiven
    ? adapterChoice({
        adapter: v.adapter ?? a.kind,
        rank: num('rank', v.rank, a.kind === 'lora' ? a.rank : 8, (x) => Number.isInteger(x) && x > 0),
        alpha: v.alpha !== undefined ? num('alpha', v.alpha, 0) : v.rank === undefined && a.kind === 'lora' ? a.alpha : undefined,
        targets: v.targets ?? (a.kind === 'lora' ? a.targets.join(',') : 'q,v'),
        dim: num('dim', v.dim, a.kind === 'bottleneck' ? a.dim : 32, (x) => Number.isInteger(x) && x > 0),
        layers: num('layers', v.layers, a.kind === 'last-layers' ? a.layers : 2, (x) => Number.isInteger(x) && x > 0),
      })
    : a;
  const personalLmShare = v['no-personal-lm'] ? 0 : num('personal-lm-share', v['personal-lm-share'], base.personalLmShare);
  const recipe: Recipe = {
    adapter,
    peakLr: num('lr', v.lr, base.peakLr, (x) => x > 0),
    steps: base.steps,
    batchSeconds: num('batch-seconds', v['batch-seconds'], base.batchSeconds, (x) => x > 0),
    augment: { specAugment: v['no-augment'] ? false : base.augment.specAugment, speed: v.speed ?? base.augment.speed, noise: v.noise ?? base.augment.noise },
    l2sp: num('l2sp', v.l2sp, base.l2sp),
    personalLmShare,
    holdoutEvery: num('holdout-every', v['holdout-every'], base.holdoutEvery, (x) => Number.isInteger(x) && x >= 0 && x !== 1),
  };
  const steps = v.steps !== undefined ? num('steps', v.steps, 0, (x) => Number.isInteger(x) && x > 0) : undefined;
  return { recipe, steps };
}
