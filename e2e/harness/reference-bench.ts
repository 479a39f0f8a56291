// Times the reference encoder's training step (forward + backward + AdamW + reading the loss back)
// on any backend: shared by the browser harness page and `npm run bench:engine` (Node CPU).
import { buildReferenceProblem, REFERENCE_FULL, REFERENCE_REDUCED, referenceBatch } from '../../src/engine/testing/reference-encoder';
import { Trainer } from '../../src/runtime/trainer';
import type { Backend } from '../../src/runtime/types';

export interface BenchResult {
  backend: string;
  device: string;
  stepMs: number[];
  warmupMs: number[];
  firstLoss: number;
  /** Nodes of the training graph. */
  nodes: number;
  /** Session creation (graph to the runtime, shaders not yet compiled: that is the first step). */
  createMs: number;
}

/** `onStep` sees the figures so far after every step (a caller that may be cut off keeps what it had). */
export async function benchReference(backend: Backend, size: 'full' | 'reduced', warmup: number, steps: number, budgetMs: number, onStep?: (r: BenchResult) => void): Promise<BenchResult> {
  const p = buildReferenceProblem(size === 'full' ? REFERENCE_FULL : REFERENCE_REDUCED);
  const c0 = performance.now();
  const trainer = await Trainer.create(backend, p.training);
  const createMs = performance.now() - c0;
  const batch = referenceBatch(p);
  const warmupMs: number[] = [];
  const stepMs: number[] = [];
  let firstLoss = NaN;
  const t0 = performance.now();
  const soFar = (): BenchResult => ({ backend: backend.info.name, device: backend.info.device, stepMs, warmupMs, firstLoss, nodes: p.training.graph.nodes.length, createMs });
  for (let i = 0; i < warmup + steps; i++) {
    const s = performance.now();
    // GPU sync point: step() returns once the loss has been read back
    const r = await trainer.step(batch, 1e-3);
    if (i === 0) firstLoss = r.loss!;
    (i < warmup ? warmupMs : stepMs).push(performance.now() - s);
    onStep?.(soFar());
    if (performance.now() - t0 > budgetMs && stepMs.length > 0) break;
  }
  await trainer.dispose();
  return soFar();
}
