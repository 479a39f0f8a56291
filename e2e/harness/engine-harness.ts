// Runs the engine's toy training problem in the page on a chosen backend and hands the numbers to
// the Playwright test (window.engineHarness).
import { referenceBatch } from '../../src/engine/testing/reference-encoder';
import { benchReference, type BenchResult } from './reference-bench';
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
  const trainer = await Trainer.create(backend, p.training);
  const batch = referenceBatch(p);
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

/** Times the reference encoder's training step on a browser backend. */
async function bench(backendName: 'webgpu' | 'wasm', size: 'full' | 'reduced', warmup: number, steps: number, budgetMs: number): Promise<BenchResult> {
  const backend = backendName === 'webgpu' ? await webGpuBackend() : wasmBackend({}, 'requested by the benchmark');
  return benchReference(backend, size, warmup, steps, budgetMs);
}

(window as unknown as { engineHarness: unknown }).engineHarness = { train, bench };
document.getElementById('status')!.textContent = 'ready';
