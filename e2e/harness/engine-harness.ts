// Runs the engine's toy training problem in the page on a chosen backend and hands the numbers to
// the Playwright test (window.engineHarness).
import { buildReferenceProblem, REFERENCE_FULL, REFERENCE_REDUCED } from '../../src/engine/testing/reference-encoder';
import { buildToyProblem } from '../../src/engine/testing/toy-transformer';
import { Trainer } from '../../src/runtime/trainer';
import { wasmBackend, webGpuBackend } from '../../src/runtime/web';

export interface HarnessResult {
  backend: string;
  device: string;
  losses: number[];
  params: Record<string, number[]>;
  msPerStep: number;
  /** Where the training state lived after the last step. */
  stateLocations: Record<string, number>;
}

async function train(backendName: 'webgpu' | 'wasm', steps: number): Promise<HarnessResult> {
  const backend = backendName === 'webgpu' ? await webGpuBackend() : wasmBackend({}, 'requested by the test');
  const p = buildToyProblem();
  const c = p.config;
  const trainer = await Trainer.create(backend, p.training);
  const batch = {
    x: { dtype: 'float32' as const, dims: [c.batch, c.time, c.dModel], data: p.x },
    target: { dtype: 'float32' as const, dims: [c.batch, c.time, c.dOut], data: p.target },
  };
  const losses: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) losses.push((await trainer.step(batch, 1e-3)).loss!);
  const msPerStep = (performance.now() - t0) / steps;
  const stateLocations = trainer.stateLocations();
  const params: Record<string, number[]> = {};
  for (const [k, v] of await trainer.parameters()) params[k] = Array.from(v);
  await trainer.dispose();
  return { backend: backend.info.name, device: backend.info.device, losses, params, msPerStep, stateLocations };
}

export interface BenchResult {
  backend: string;
  device: string;
  stepMs: number[];
  warmupMs: number[];
  firstLoss: number;
}

/** Times the reference encoder's training step (forward + backward + AdamW + reading the loss). */
async function bench(backendName: 'webgpu' | 'wasm', size: 'full' | 'reduced', warmup: number, steps: number, budgetMs: number): Promise<BenchResult> {
  const backend = backendName === 'webgpu' ? await webGpuBackend() : wasmBackend({}, 'requested by the benchmark');
  const p = buildReferenceProblem(size === 'full' ? REFERENCE_FULL : REFERENCE_REDUCED);
  const c = p.config;
  const trainer = await Trainer.create(backend, p.training);
  const batch = {
    x: { dtype: 'float32' as const, dims: [c.batch, c.time, c.dModel], data: p.x },
    target: { dtype: 'float32' as const, dims: [c.batch, c.time, c.dOut], data: p.target },
  };
  const warmupMs: number[] = [];
  const stepMs: number[] = [];
  let firstLoss = NaN;
  const t0 = performance.now();
  for (let i = 0; i < warmup + steps; i++) {
    const s = performance.now();
    const r = await trainer.step(batch, 1e-3);
    if (i === 0) firstLoss = r.loss!;
    (i < warmup ? warmupMs : stepMs).push(performance.now() - s);
    if (performance.now() - t0 > budgetMs && stepMs.length > 0) break;
  }
  await trainer.dispose();
  return { backend: backend.info.name, device: backend.info.device, stepMs, warmupMs, firstLoss };
}

(window as unknown as { engineHarness: unknown }).engineHarness = { train, bench };
document.getElementById('status')!.textContent = 'ready';
