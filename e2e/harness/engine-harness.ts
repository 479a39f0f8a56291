// Runs the engine's toy training problem in the page on a chosen backend and hands the numbers to
// the Playwright test (window.engineHarness).
import { buildToyProblem } from '../../src/engine/testing/toy-transformer';
import { Trainer } from '../../src/runtime/trainer';
import { wasmBackend, webGpuBackend } from '../../src/runtime/web';

export interface HarnessResult {
  backend: string;
  device: string;
  losses: number[];
  params: Record<string, number[]>;
  msPerStep: number;
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
  const params: Record<string, number[]> = {};
  for (const [k, v] of await trainer.parameters()) params[k] = Array.from(v);
  await trainer.dispose();
  return { backend: backend.info.name, device: backend.info.device, losses, params, msPerStep };
}

(window as unknown as { engineHarness: unknown }).engineHarness = { train };
document.getElementById('status')!.textContent = 'ready';
