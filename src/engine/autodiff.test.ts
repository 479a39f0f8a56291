// Small exact examples for the plumbing of autodiff: fan-out, broadcasting, unused inputs, injected
// upstream gradients, and differentiating a graph that came from an ONNX file rather than our builder.
import { describe, expect, it } from 'vitest';
import { gradients } from './autodiff';
import { GraphBuilder } from './builder';
import { decodeModel, encodeModel, makeModel } from './onnx-proto';
import * as op from './ops';
import { evaluate } from './testing/eval64';

const f64 = (dims: number[], xs: number[]) => ({ dtype: 'float32' as const, dims, data: Float64Array.from(xs) });

describe('autodiff plumbing', () => {
  it('a value used several times receives the sum of its gradients', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [3]);
    const loss = op.sumAll(op.add(op.mul(x, x), x)); // Σ x² + x → 2x + 1
    g.output(gradients(g, { loss, wrt: [x] }).get('x')!, 'dx');
    const out = evaluate(g.build(), { x: f64([3], [1, -2, 0.5]) });
    expect(Array.from(out.dx.data as Float64Array)).toEqual([3, -3, 2]);
  });

  it('a broadcast input receives gradients summed over the broadcast axes', () => {
    const g = new GraphBuilder();
    const a = g.input('a', 'float32', [2, 3]);
    const b = g.input('b', 'float32', [3]);
    const c = g.input('c', 'float32', [2, 1]);
    const loss = op.sumAll(op.mul(op.add(a, b), c)); // ∂/∂b_j = Σ_i c_i, ∂/∂c_i = Σ_j (a_ij + b_j)
    const grads = gradients(g, { loss, wrt: [b, c] });
    g.output(grads.get('b')!, 'db');
    g.output(grads.get('c')!, 'dc');
    const out = evaluate(g.build(), { a: f64([2, 3], [1, 2, 3, 4, 5, 6]), b: f64([3], [10, 20, 30]), c: f64([2, 1], [2, 5]) });
    expect(out.db.dims).toEqual([3]);
    expect(Array.from(out.db.data as Float64Array)).toEqual([7, 7, 7]);
    expect(out.dc.dims).toEqual([2, 1]);
    expect(Array.from(out.dc.data as Float64Array)).toEqual([66, 75]);
  });

  it('an input that does not reach the loss gets no gradient, and nothing is emitted for it', () => {
    const g = new GraphBuilder();
    const a = g.input('a', 'float32', [2]);
    const b = g.input('b', 'float32', [2]);
    const unused = op.exp(b); // b feeds a node, but not the loss
    void unused;
    const loss = op.sumAll(op.mul(a, a));
    const before = g.nodes.length;
    const grads = gradients(g, { loss, wrt: [a, b] });
    expect(grads.has('a')).toBe(true);
    expect(grads.has('b')).toBe(false);
    expect(g.nodes.slice(before).some((n) => n.name.includes(`${g.nodes.find((m) => m.opType === 'Exp')!.name}_Grad`))).toBe(false);
  });

  it('gradients nobody asked for are not emitted (no gradient for a constant operand)', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [4, 4]);
    const w = g.constant('float32', [4, 4], new Array(16).fill(0.5));
    const loss = op.sumAll(op.matmul(x, w));
    const before = g.nodes.length;
    gradients(g, { loss, wrt: [x] });
    // dX = dY·Wᵀ needs one MatMul; dW = Xᵀ·dY must not appear
    expect(g.nodes.slice(before).filter((n) => n.opType === 'MatMul')).toHaveLength(1);
  });

  it('an injected upstream gradient seeds the backward pass of an output', () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2, 2]);
    const y = op.tanh(x);
    const dy = g.input('dy', 'float32', [2, 2]);
    g.output(gradients(g, { seeds: [{ value: y, grad: dy }], wrt: [x] }).get('x')!, 'dx');
    const xs = [0.1, -0.4, 0.7, 0];
    const out = evaluate(g.build(), { x: f64([2, 2], xs), dy: f64([2, 2], [1, 2, 3, 4]) });
    const want = xs.map((v, i) => (1 - Math.tanh(v) ** 2) * (i + 1));
    (out.dx.data as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(want[i], 12));
  });

  it('differentiates a model that was written to ONNX and read back (not built by our builder)', () => {
    const src = new GraphBuilder('external');
    const x = src.input('x', 'float32', [2, 3]);
    const w = src.initializer('w', 'float32', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]));
    src.output(op.relu(op.matmul(x, w)), 'y');
    const model = decodeModel(encodeModel(makeModel(src.build())));

    const g = GraphBuilder.fromGraph(model.graph, (name) => name === 'w');
    const loss = op.sumAll(g.value('y'));
    g.output(gradients(g, { loss, wrt: [g.value('w')] }).get('w')!, 'dw');
    const out = evaluate(g.build(), { x: f64([2, 3], [1, 0, 0, 0, 1, -1]) });
    // y = relu(xW): row 0 = [1, 2] (active), row 1 = [3-5, 4-6] = [-2, -2] (inactive) → dW = x₀ᵀ·[1, 1]
    expect(Array.from(out.dw.data as Float64Array)).toEqual([1, 1, 0, 0, 0, 0]);
  });
});
