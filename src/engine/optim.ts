// Optimizers as graph emitters: given parameters, their gradients and the optimizer state as graph
// values, they emit the update and return the next values. The learning rate is a graph input, so a
// schedule changes it per step without rebuilding anything.

import type { GraphBuilder, Value } from './builder';
import { runsVector } from './flat-params';
import { add, div, mul, pow, reciprocal, sqrt, sub } from './ops';

export type OptimizerConfig =
  | { kind: 'adamw'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number; decayTo?: DecayTarget }
  | { kind: 'sgd'; momentum?: number; weightDecay?: number; decayTo?: DecayTarget };

/**
 * What weight decay pulls a parameter toward: zero (the usual), or the value it started training
 * from — L2-SP (Li et al. 2018, "Explicit Inductive Bias for Transfer Learning with Convolutional
 * Networks", https://arxiv.org/abs/1802.01483), which keeps a fine-tuned model near its base.
 */
export type DecayTarget = 'zero' | 'start';

/** One optimizer state slot per parameter (e.g. Adam's first and second moments). */
export interface SlotSpec {
  /** Graph-input name prefix, e.g. `adam.m` → `adam.m.encoder.0.q.weight`. */
  prefix: string;
}

export interface UpdateInputs {
  g: GraphBuilder;
  params: Value[];
  grads: Value[];
  /** State per slot, parallel to params: slots[s][i] is slot s of param i. */
  slots: Value[][];
  /** The step number of this update (1 for the first), float32 scalar. */
  step: Value;
  lr: Value;
  /** Whether weight decay applies to a parameter (by name). */
  decays: (name: string) => boolean;
  /** With decayTo 'start': each decaying parameter's starting value, parallel to params. */
  anchors?: (Value | undefined)[];
  /**
   * For a flat buffer holding many parameters (flat-params.ts): which runs of its elements decay,
   * parallel to params; where given it replaces `decays` for that tensor.
   */
  decayRuns?: ({ length: number; on: boolean }[] | undefined)[];
}

export interface UpdateOutputs {
  params: Value[];
  slots: Value[][];
}

/** Where weight decay applies to parameter i: everywhere, nowhere, or on some runs of its elements. */
function decayWhere(u: UpdateInputs, i: number, wd: number): 'all' | 'none' | { length: number; on: boolean }[] {
  if (!(wd > 0)) return 'none';
  const runs = u.decayRuns?.[i];
  if (!runs) return u.decays(u.params[i].name) ? 'all' : 'none';
  if (runs.every((r) => r.on)) return 'all';
  if (runs.every((r) => !r.on)) return 'none';
  return runs;
}

export function optimizerSlots(cfg: OptimizerConfig): SlotSpec[] {
  return cfg.kind === 'adamw' ? [{ prefix: 'adam.m' }, { prefix: 'adam.v' }] : (cfg.momentum ?? 0) > 0 ? [{ prefix: 'sgd.momentum' }] : [];
}

/**
 * AdamW as PyTorch defines it (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html;
 * Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019):
 *   p ← p·(1 − lr·λ)                              (decoupled weight decay; toward p₀ instead of 0
 *                                                   with decayTo 'start': p ← p − lr·λ·(p − p₀))
 *   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
 *   m̂ = m / (1 − β1ᵗ),       v̂ = v / (1 − β2ᵗ)         (bias correction)
 *   p ← p − lr·m̂ / (√v̂ + ε)
 */
function adamw(cfg: Extract<OptimizerConfig, { kind: 'adamw' }>, u: UpdateInputs): UpdateOutputs {
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const eps = cfg.eps ?? 1e-8;
  const wd = cfg.weightDecay ?? 0.01;
  const { g } = u;
  // Scalars shared by every parameter: lr/(1 − β1ᵗ) and 1/√(1 − β2ᵗ).
  const stepSize = div(u.lr, sub(1, pow(g.scalar(b1), u.step)));
  // Reciprocal, not Div(1, ·): onnxruntime rewrites Mul(x, Div(1, y)) into Div(x, y) (DivMulFusion)
  // when the Div has one consumer, which rounds differently from the per-parameter graph where it has many
  const invSqrtBc2 = reciprocal(sqrt(sub(1, pow(g.scalar(b2), u.step))));
  const decayFactor = sub(1, mul(u.lr, wd));
  const params: Value[] = [];
  const ms: Value[] = [];
  const vs: Value[] = [];
  u.params.forEach((p, i) => {
    g.scope(p.name, () => {
      const grad = u.grads[i];
      const m = add(mul(u.slots[0][i], b1), mul(grad, 1 - b1));
      const v = add(mul(u.slots[1][i], b2), mul(mul(grad, grad), 1 - b2));
      const anchor = u.anchors?.[i];
      // where decay is off for some elements of a flat buffer, its factor there is exactly 1 (its rate exactly 0)
      const at = decayWhere(u, i, wd);
      const decayed =
        at === 'none' ? p
        : anchor ? sub(p, mul(sub(p, anchor), at === 'all' ? mul(u.lr, wd) : runsVector(g, at, mul(u.lr, wd), 0)))
        : mul(p, at === 'all' ? decayFactor : runsVector(g, at, decayFactor, 1));
      // m̂/(√v̂ + ε) = (m/(1−β1ᵗ)) / (√v·(1/√(1−β2ᵗ)) + ε)
      const denom = add(mul(sqrt(v), invSqrtBc2), eps);
      params.push(sub(decayed, mul(stepSize, div(m, denom))));
      ms.push(m);
      vs.push(v);
    });
  });
  return { params, slots: [ms, vs] };
}

/**
 * SGD with momentum as PyTorch defines it (dampening 0): g ← g + λ·p; b ← μ·b + g; p ← p − lr·b
 * (g ← g + λ·(p − p₀) with decayTo 'start').
 * (PyTorch initializes b to g on the first step, which equals μ·0 + g.)
 */
function sgd(cfg: Extract<OptimizerConfig, { kind: 'sgd' }>, u: UpdateInputs): UpdateOutputs {
  const mu = cfg.momentum ?? 0;
  const wd = cfg.weightDecay ?? 0;
  const params: Value[] = [];
  const bufs: Value[] = [];
  u.params.forEach((p, i) => {
    u.g.scope(p.name, () => {
      const anchor = u.anchors?.[i];
      const at = decayWhere(u, i, wd);
      const rate = at === 'none' ? undefined : at === 'all' ? wd : runsVector(u.g, at, u.g.scalar(wd), 0);
      const grad = rate === undefined ? u.grads[i] : add(u.grads[i], mul(anchor ? sub(p, anchor) : p, rate));
      const dir = mu > 0 ? add(mul(u.slots[0][i], mu), grad) : grad;
      if (mu > 0) bufs.push(dir);
      params.push(sub(p, mul(dir, u.lr)));
    });
  });
  return { params, slots: mu > 0 ? [bufs] : [] };
}

export function emitUpdate(cfg: OptimizerConfig, u: UpdateInputs): UpdateOutputs {
  return cfg.kind === 'adamw' ? adamw(cfg, u) : sgd(cfg, u);
}
