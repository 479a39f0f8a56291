// Reverse-mode automatic differentiation over the ONNX graph held by a GraphBuilder.
// It walks the forward nodes backwards, asks the gradient table (grad-rules.ts) for each node's
// vector-Jacobian product, sums gradients that reach a value along several paths, and undoes
// broadcasting in one place (`unbroadcast`). Only gradients on a path from a requested input to the
// loss (or to a seeded output) are emitted; gradient nodes are named `<node>_Grad/...`.

import type { GraphBuilder, Value } from './builder';
import { gradRules, NON_DIFFERENTIABLE, type GradRule } from './grad-rules';
import { add, reduceSum, reshape, squeeze } from './ops';

export interface GradientRequest {
  /** A scalar loss; its gradient is seeded with 1. */
  loss?: Value;
  /**
   * Upstream gradients injected for outputs computed elsewhere (e.g. the CTC loss, computed on the
   * CPU, feeds dLoss/dLogits back in as a graph input).
   */
  seeds?: { value: Value; grad: Value }[];
  /** Values to differentiate with respect to (parameters, or inputs). */
  wrt: Value[];
}

/** Sums a gradient computed in a broadcast shape back down to the shape of the value it belongs to. */
export function unbroadcast(grad: Value, target: Value): Value {
  const gs = grad.shape;
  const ts = target.shape;
  if (gs.length === ts.length && gs.every((d, i) => d === ts[i])) return grad;
  const lead = gs.length - ts.length;
  if (lead < 0) throw new Error(`gradient ${grad} has lower rank than ${target}`);
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) if (i < lead || (ts[i - lead] === 1 && gs[i] !== 1)) axes.push(i);
  // when only leading axes go, one ReduceSum without keepdims lands on the target shape
  if (lead > 0 && axes.length === lead) return reduceSum(grad, axes, false);
  let out = axes.length ? reduceSum(grad, axes, true) : grad;
  if (lead > 0) out = squeeze(out, Array.from({ length: lead }, (_, i) => i));
  if (out.shape.some((d, i) => d !== ts[i])) out = reshape(out, target.dims);
  return out;
}

/**
 * Emits the backward pass into `g` and returns the gradient of every requested value that the loss
 * (or a seeded output) depends on. A value that does not reach the loss gets no entry.
 */
export function gradients(g: GraphBuilder, req: GradientRequest): Map<string, Value> {
  const forward = [...g.nodes];
  const wrtNames = new Set(req.wrt.map((v) => v.name));
  const seeds = req.seeds ?? [];
  if (!req.loss && seeds.length === 0) throw new Error('gradients() needs a loss or seeded outputs');
  if (req.loss && req.loss.rank !== 0 && !req.loss.shape.every((d) => d === 1)) throw new Error(`loss must be a scalar, got ${req.loss}`);

  // Values that depend on a requested input …
  const dependsOnWrt = new Set(wrtNames);
  for (const n of forward) if (n.inputs.some((i) => dependsOnWrt.has(i))) n.outputs.forEach((o) => dependsOnWrt.add(o));
  // … and values the loss depends on. A gradient is needed where both hold.
  const reachesLoss = new Set<string>(seeds.map((s) => s.value.name));
  if (req.loss) reachesLoss.add(req.loss.name);
  for (let k = forward.length - 1; k >= 0; k--) {
    const n = forward[k];
    if (n.outputs.some((o) => reachesLoss.has(o))) n.inputs.forEach((i) => i && reachesLoss.add(i));
  }
  const needed = (name: string) => name !== '' && dependsOnWrt.has(name) && reachesLoss.has(name);

  const pending = new Map<string, Value[]>();
  const push = (name: string, grad: Value) => {
    const list = pending.get(name);
    if (list) list.push(grad);
    else pending.set(name, [grad]);
  };
  // Fan-out: a value used by several nodes receives the sum of their gradients.
  const total = (name: string): Value | null => {
    const list = pending.get(name);
    if (!list) return null;
    const sum = list.reduce((acc, v) => add(acc, v));
    pending.set(name, [sum]);
    return sum;
  };

  if (req.loss) push(req.loss.name, g.scalar(1, req.loss.dtype));
  for (const s of seeds) push(s.value.name, s.grad);

  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k];
    const need = node.inputs.map(needed);
    if (!need.some(Boolean)) continue;
    const dy = node.outputs.map((o) => (pending.has(o) ? g.nodeScope(`${node.name}_Grad`, () => total(o)) : null));
    if (dy.every((d) => d === null)) continue;
    const rule = (gradRules as Record<string, GradRule | typeof NON_DIFFERENTIABLE>)[node.opType];
    if (rule === undefined) throw new Error(`no gradient rule for ${node.opType} (node ${node.name})`);
    if (rule === NON_DIFFERENTIABLE) continue;
    const x = node.inputs.map((i) => (i === '' ? null : g.value(i)));
    const y = node.outputs.map((o) => g.value(o));
    g.nodeScope(`${node.name}_Grad`, () => {
      const thunks = rule({ g, node, x, y, dy, attrs: node.attrs, wanted: need });
      need.forEach((isNeeded, i) => {
        const thunk = thunks[i];
        if (!isNeeded || !thunk) return;
        push(node.inputs[i], unbroadcast(thunk(), x[i]!));
      });
    });
  }

  const result = new Map<string, Value>();
  for (const v of req.wrt) {
    const grad = g.nodeScope('Grad', () => total(v.name));
    if (grad) result.set(v.name, grad);
  }
  return result;
}
