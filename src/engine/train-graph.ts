// Turns a forward graph into one training graph: forward → backward → global-norm clipping →
// optimizer update, with parameters and optimizer state as graph inputs and their next values as
// graph outputs, so a runtime can keep them on the GPU and feed each step's outputs to the next.
//
// Inputs:  the parameters, the optimizer slots, `optim.step` (float32 scalar, updates done so far),
//          `lr` (float32 scalar), and the forward graph's own inputs. With the flat layout (the
//          default) the parameters are one buffer `flat.float32` and each slot one `<slot>.flat.float32`
//          (flat-params.ts), read by the forward pass through views named after the parameters; with
//          the per-parameter layout they are every parameter `<name>` and every slot `<slot>.<name>`.
// Outputs: `loss` (when in-graph), `grad_norm` (before clipping), `update_skipped` (1 when the loss
//          or gradient norm is not finite and the update was skipped), `next.<state name>` for every
//          state input, and any extra outputs asked for.

import { gradients } from './autodiff';
import { GraphBuilder, type Value } from './builder';
import type { Graph, TensorConst, ValueInfo } from './ir';
import { flatGradient, flatViewNodes, layoutFromSegments, packFlat, planFlatLayout, runsOf, type FlatSegment } from './flat-params';
import { abs, add, and, div, less, min, mul, not, pad, reduceSum, reshape, sumAll, sumSquares } from './ops';
import { numel } from './ir';
import { emitUpdate, optimizerSlots, type OptimizerConfig } from './optim';

export interface TrainGraphOptions {
  optimizer: OptimizerConfig;
  /** A scalar loss computed in the graph… */
  loss?: Value;
  /** …or upstream gradients injected for outputs whose loss is computed elsewhere (CTC on the CPU). */
  seeds?: { value: Value; grad: Value }[];
  /** Parameters to train (default: every parameter of the builder). The rest stay frozen initializers. */
  trainable?: (name: string) => boolean;
  /** Clip the global gradient norm to this value (none when undefined). */
  clipNorm?: number;
  /** Whether weight decay applies to a parameter (default: all, as PyTorch's single param group). */
  decays?: (name: string) => boolean;
  /** Further values to return (e.g. logits). */
  extraOutputs?: Value[];
  /**
   * 'flat' (default): parameters and each optimizer slot in one buffer, updated by a handful of
   * nodes. 'per-parameter': a state tensor and an update chain per parameter — the earlier
   * formulation, kept as the reference the flat one is tested against.
   */
  layout?: 'flat' | 'per-parameter';
}

export interface StateSlot {
  /** Graph input name. */
  input: string;
  /** Graph output carrying the next value. */
  output: string;
  kind: 'param' | 'slot' | 'step';
  /** The parameter it belongs to (for slots). */
  param?: string;
  dims: number[];
  /** Initial value. */
  init: TensorConst;
  /**
   * For a flat buffer: the per-parameter tensors it holds, under the names they have outside
   * (checkpoints, `parameters()`): the parameter's own name, or `<slot>.<parameter>` for a slot.
   */
  segments?: FlatSegment[];
}

export interface TrainingGraph {
  graph: Graph;
  state: StateSlot[];
  /** The forward graph's own inputs (the batch), plus upstream-gradient inputs. */
  batchInputs: ValueInfo[];
  lrInput: string;
  lossOutput?: string;
  gradNormOutput: string;
  skippedOutput: string;
  extraOutputs: string[];
}

export const STEP_INPUT = 'optim.step';
/** The flat parameter buffer's input name (slots: `<slot prefix>.flat.float32`). */
export const FLAT_PARAMS = 'flat.float32';
export const LR_INPUT = 'lr';
/** Above this magnitude (just under float32's max) a loss or norm counts as not finite. */
const FINITE_LIMIT = 3e38;

/**
 * Emits backward + update into `g` (which must already hold the forward pass) and returns the
 * training graph. The builder should not be used for anything else afterwards.
 */
export function buildTrainingGraph(g: GraphBuilder, opts: TrainGraphOptions): TrainingGraph {
  const trainable = opts.trainable ?? (() => true);
  const params = [...g.params.values()].filter((p) => trainable(p.value.name));
  if (params.length === 0) throw new Error('no trainable parameters');
  const batchInputs = [...g.inputs];

  const grads = gradients(g, { loss: opts.loss, seeds: opts.seeds, wrt: params.map((p) => p.value) });
  const live = params.filter((p) => grads.has(p.value.name));
  const dead = params.filter((p) => !grads.has(p.value.name)).map((p) => p.value.name);
  if (dead.length) throw new Error(`parameters that do not affect the loss: ${dead.join(', ')}`);

  if (opts.layout !== 'per-parameter') return emitFlat(g, opts, live, grads, batchInputs);
  return g.scope('optim', () => {
    const lr = g.input(LR_INPUT, 'float32', []);
    const prevStep = g.input(STEP_INPUT, 'float32', []);
    const step = add(prevStep, 1);
    const slotSpecs = optimizerSlots(opts.optimizer);
    const slots = slotSpecs.map((s) => live.map((p) => g.input(`${s.prefix}.${p.value.name}`, 'float32', p.value.shape)));

    // Global gradient norm ‖g‖ = √Σ‖gᵢ‖², and clipping by scale = min(1, c/(‖g‖ + 1e-6)) as
    // torch.nn.utils.clip_grad_norm_ does.
    // (summed exactly as the flat layout sums it, so the two layouts differ in nothing but layout)
    let gs = live.map((p) => grads.get(p.value.name)!);
    const decayOrder = planFlatLayout(live.map((p) => ({ name: p.value.name, dims: p.value.dims })), opts.decays ?? (() => true));
    const sq = sumSquaresTwoLevel(flatGradient(decayOrder, (name) => grads.get(name)!));
    const gradNorm = namedNode(g, 'Sqrt', [sq], GRAD_NORM);
    if (opts.clipNorm !== undefined) {
      const scale = min(div(opts.clipNorm, add(gradNorm, 1e-6)), 1);
      gs = gs.map((gr) => mul(gr, scale));
    }

    // The guard: a non-finite loss or gradient norm leaves every state value as it was.
    let ok = less(gradNorm, FINITE_LIMIT);
    if (opts.loss) ok = and(ok, less(abs(opts.loss), FINITE_LIMIT));

    const decays = opts.decays ?? (() => true);
    const upd = emitUpdate(opts.optimizer, {
      g,
      params: live.map((p) => p.value),
      grads: gs,
      slots,
      step,
      lr,
      decays,
      // L2-SP: the starting values of decaying parameters ride along as constants, so decay pulls toward them
      anchors: opts.optimizer.decayTo === 'start' && (opts.optimizer.weightDecay ?? 1) > 0 ? live.map((p) => (decays(p.value.name) ? g.initializer(`anchor.${p.value.name}`, 'float32', p.value.dims, p.init.data) : undefined)) : undefined,
    });

    const state: StateSlot[] = [];
    const outputState = (input: Value, next: Value, kind: StateSlot['kind'], init: TensorConst, param?: string) => {
      const out = g.output(namedNode(g, 'Where', [ok, next, input], `next.${input.name}`));
      state.push({ input: input.name, output: out.name, kind, param, dims: input.dims, init });
    };
    live.forEach((p, i) => outputState(p.value, upd.params[i], 'param', p.init));
    slotSpecs.forEach((_, s) =>
      live.forEach((p, i) => {
        const zeros: TensorConst = { name: slots[s][i].name, dtype: 'float32', dims: p.value.dims, data: new Float32Array(p.init.data.length) };
        outputState(slots[s][i], upd.slots[s][i], 'slot', zeros, p.value.name);
      }),
    );
    outputState(prevStep, step, 'step', { name: STEP_INPUT, dtype: 'float32', dims: [], data: new Float32Array(1) });

    const { lossOutput, extraOutputs } = reportOutputs(g, opts, gradNorm, ok);

    // Trainable parameters become graph inputs; frozen ones stay initializers.
    const graph = g.build();
    const liveNames = new Set(live.map((p) => p.value.name));
    const used = read(graph);
    graph.initializers = graph.initializers.filter((t) => !liveNames.has(t.name) && used.has(t.name));
    graph.inputs = [
      ...live.map((p) => ({ name: p.value.name, dtype: 'float32' as const, shape: [...p.value.shape] })),
      ...graph.inputs,
    ];
    return {
      graph,
      state,
      batchInputs,
      lrInput: LR_INPUT,
      lossOutput,
      gradNormOutput: GRAD_NORM,
      skippedOutput: SKIPPED,
      extraOutputs,
    };
  });
}

const GRAD_NORM = 'grad_norm';
const SKIPPED = 'update_skipped';

/** The outputs every training graph reports besides its state: loss, gradient norm, whether the update was skipped, extras. */
function reportOutputs(g: GraphBuilder, opts: TrainGraphOptions, gradNorm: Value, ok: Value): { lossOutput?: string; extraOutputs: string[] } {
  const lossOutput = opts.loss ? g.output(opts.loss, 'loss').name : undefined;
  g.output(gradNorm, GRAD_NORM);
  g.output(namedNode(g, 'Cast', [not(ok)], SKIPPED, { to: 1 /* float32 */ }), SKIPPED);
  return { lossOutput, extraOutputs: (opts.extraOutputs ?? []).map((v) => g.output(v).name) };
}

/**
 * A node whose output carries a graph output's name from the start, so that no Identity is needed
 * to rename it (`g.output` adds one otherwise): one node fewer per output, and for the state
 * buffers no copy of a whole buffer per step.
 */
function namedNode(g: GraphBuilder, op: string, inputs: Value[], name: string, attrs: Record<string, number> = {}): Value {
  return g.emit(op, inputs, attrs, 1, name)[0];
}

/**
 * Σx², summed in two levels: rows of ~√n elements, then the row sums. One float32 ReduceSum over
 * millions of squares of widely different size drops the small ones (measured on the speech model's
 * gradient: 3e-4 relative off; ~5e-6 on 83k uniform values), which moved the clipping scale; this
 * stays within a few 1e-7.
 */
function sumSquaresTwoLevel(x: Value): Value {
  const n = numel(x.dims);
  // rows of a width that divides n where one is near √n (no padded copy), else ⌈√n⌉ and padding
  const root = Math.ceil(Math.sqrt(n));
  let cols = root;
  for (let c = root; c >= root / 8; c--) if (n % c === 0) { cols = c; break; }
  const rows = Math.ceil(n / cols);
  if (rows < 2) return sumSquares(x);
  const flat = x.rank === 1 ? x : reshape(x, [n]);
  const m = reshape(rows * cols === n ? flat : pad(flat, [0, rows * cols - n]), [rows, cols]);
  return sumAll(reduceSum(mul(m, m), [1], false));
}

/** The flat layout: the same update, over one buffer per state (see flat-params.ts). */
function emitFlat(g: GraphBuilder, opts: TrainGraphOptions, live: { value: Value; init: TensorConst }[], grads: Map<string, Value>, batchInputs: ValueInfo[]): TrainingGraph {
  return g.scope('optim', () => {
    const decays = opts.decays ?? (() => true);
    const layout = planFlatLayout(live.map((p) => ({ name: p.value.name, dims: p.value.dims })), decays);
    const initOf = new Map(live.map((p) => [p.value.name, p.init.data as Float32Array]));
    const lr = g.input(LR_INPUT, 'float32', []);
    const prevStep = g.input(STEP_INPUT, 'float32', []);
    const step = add(prevStep, 1);
    const params = g.input(FLAT_PARAMS, 'float32', [layout.size]);
    const slotSpecs = optimizerSlots(opts.optimizer);
    const slots = slotSpecs.map((s) => g.input(`${s.prefix}.${FLAT_PARAMS}`, 'float32', [layout.size]));

    // ‖g‖ over the whole buffer, clipping as torch.nn.utils.clip_grad_norm_ does (see above)
    let grad = flatGradient(layout, (name) => grads.get(name)!);
    const gradNorm = namedNode(g, 'Sqrt', [sumSquaresTwoLevel(grad)], GRAD_NORM);
    if (opts.clipNorm !== undefined) grad = mul(grad, min(div(opts.clipNorm, add(gradNorm, 1e-6)), 1));
    let ok = less(gradNorm, FINITE_LIMIT);
    if (opts.loss) ok = and(ok, less(abs(opts.loss), FINITE_LIMIT));

    const upd = emitUpdate(opts.optimizer, {
      g,
      params: [params],
      grads: [grad],
      slots: slots.map((s) => [s]),
      step,
      lr,
      decays: () => true,
      decayRuns: [runsOf(layout, decays)],
      anchors: opts.optimizer.decayTo === 'start' && (opts.optimizer.weightDecay ?? 1) > 0 ? [g.initializer(`anchor.${FLAT_PARAMS}`, 'float32', [layout.size], packFlat(layout, (n) => initOf.get(n)!))] : undefined,
    });

    const state: StateSlot[] = [];
    const outputState = (input: Value, next: Value, kind: StateSlot['kind'], init: TensorConst, segments?: FlatSegment[]) => {
      const out = g.output(namedNode(g, 'Where', [ok, next, input], `next.${input.name}`));
      state.push({ input: input.name, output: out.name, kind, dims: input.dims, init, segments });
    };
    outputState(params, upd.params[0], 'param', { name: FLAT_PARAMS, dtype: 'float32', dims: [layout.size], data: packFlat(layout, (n) => initOf.get(n)!) }, layout.segments);
    slotSpecs.forEach((spec, s) => {
      const zeros: TensorConst = { name: slots[s].name, dtype: 'float32', dims: [layout.size], data: new Float32Array(layout.size) };
      outputState(slots[s], upd.slots[s][0], 'slot', zeros, layout.segments.map((seg) => ({ ...seg, name: `${spec.prefix}.${seg.name}` })));
    });
    outputState(prevStep, step, 'step', { name: STEP_INPUT, dtype: 'float32', dims: [], data: new Float32Array(1) });

    const { lossOutput, extraOutputs } = reportOutputs(g, opts, gradNorm, ok);

    // The trained parameters stop being initializers: views into the buffer, put in front of the
    // forward pass, define them under their own names.
    const graph = g.build();
    const views = flatViewNodes(layout, FLAT_PARAMS);
    const used = read(graph);
    graph.initializers = [...graph.initializers.filter((t) => !initOf.has(t.name) && used.has(t.name)), ...views.initializers];
    graph.nodes = [...views.nodes, ...graph.nodes];
    return { graph, state, batchInputs, lrInput: LR_INPUT, lossOutput, gradNormOutput: GRAD_NORM, skippedOutput: SKIPPED, extraOutputs };
  });
}

/**
 * A forward graph that reads trained parameters as inputs (`paramsAsInputs`), rewritten to read them
 * from a flat buffer instead: the inputs named by `segments` give way to one input `flat` and views.
 */
export function readFromFlat(graph: Graph, flat: string, segments: FlatSegment[]): Graph {
  const names = new Set(segments.map((s) => s.name));
  const read = new Set(graph.inputs.map((i) => i.name).filter((n) => names.has(n)));
  if (read.size === 0) return graph;
  const layout = layoutFromSegments(segments);
  const views = flatViewNodes(layout, flat, (n) => read.has(n));
  const size = layout.size;
  return {
    ...graph,
    inputs: [{ name: flat, dtype: 'float32', shape: [size] }, ...graph.inputs.filter((i) => !read.has(i.name))],
    nodes: [...views.nodes, ...graph.nodes],
    initializers: [...graph.initializers, ...views.initializers],
  };
}

/** Values some node reads: initializers outside it (the unused logits head's weights, say) are left out. */
function read(graph: Graph): Set<string> {
  return new Set(graph.nodes.flatMap((n) => n.inputs));
}

/** Moves the named initializers to graph inputs (parameters fed at run time), or back. */
export function paramsAsInputs(graph: Graph, names: Iterable<string>): Graph {
  const set = new Set(names);
  const moved = graph.initializers.filter((t) => set.has(t.name));
  return {
    ...graph,
    initializers: graph.initializers.filter((t) => !set.has(t.name)),
    inputs: [...moved.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.dims] })), ...graph.inputs],
  };
}

export function paramsAsInitializers(graph: Graph, values: Map<string, TensorConst>): Graph {
  return {
    ...graph,
    inputs: graph.inputs.filter((i) => !values.has(i.name)),
    initializers: [...graph.initializers.filter((t) => !values.has(t.name)), ...values.values()],
  };
}

