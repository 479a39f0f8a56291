// The engine in a real Chromium: the same toy Transformer trains on WebGPU and on WASM, and agrees
// with onnxruntime-node on losses and parameters after 5 identical steps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium } from './browser';
import { startDevServer } from './server';
import type { HarnessResult } from './harness/engine-harness';
import { buildToyProblem } from '../src/engine/testing/toy-transformer';
import { referenceBatch } from '../src/engine/testing/reference-encoder';
import { nodeBackend } from '../src/runtime/node';
import { Trainer } from '../src/runtime/trainer';

let server: ViteDevServer;
let browser: Browser;
let page: Page;

async function trainInPage(backend: 'webgpu' | 'wasm', steps: number): Promise<HarnessResult> {
  return page.evaluate(
    ([b, n]) => (window as unknown as { engineHarness: { train(b: string, n: number): Promise<HarnessResult> } }).engineHarness.train(b, n),
    [backend, steps] as const,
  );
}

async function trainInNode(steps: number) {
  const p = buildToyProblem();
  const trainer = await Trainer.create(nodeBackend(), p.training);
  const batch = referenceBatch(p);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push((await trainer.step(batch, 1e-3)).loss!);
  const params = await trainer.parameters();
  await trainer.dispose();
  return { losses, params };
}

/** ‖a − b‖ / ‖b‖ */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
}

function expectMonotone(losses: number[]) {
  for (let i = 1; i < losses.length; i++) expect(losses[i], `step ${i + 1} vs ${i}`).toBeLessThan(losses[i - 1]);
}

beforeAll(async () => {
  ({ server } = await startDevServer());
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error('[page]', m.text()));
  await page.goto(`${server.resolvedUrls!.local[0]}e2e/harness/engine.html`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('toy Transformer training across backends', () => {
  it('loss falls monotonically over 50 steps on Node CPU, WASM and WebGPU', async () => {
    const node = await trainInNode(50);
    expectMonotone(node.losses);
    const wasm = await trainInPage('wasm', 50);
    expect(wasm.backend).toBe('wasm');
    expectMonotone(wasm.losses);
    const gpu = await trainInPage('webgpu', 50);
    expect(gpu.backend).toBe('webgpu');
    console.log(`WebGPU adapter: ${gpu.device}; ms/step wasm ${wasm.msPerStep.toFixed(1)}, webgpu ${gpu.msPerStep.toFixed(1)}`);
    expectMonotone(gpu.losses);
    // the whole training state stayed on the GPU between steps
    expect(Object.keys(gpu.stateLocations)).toEqual(['gpu-buffer']);
    expect(gpu.losses[49]).toBeLessThan(gpu.losses[0] * 0.5);
  });

  it('the same run twice on one backend gives the same bits (WASM and WebGPU)', async () => {
    const bits = (r: HarnessResult) => JSON.stringify([r.losses, Object.entries(r.params).sort()]);
    for (const backend of ['wasm', 'webgpu'] as const) {
      const first = await trainInPage(backend, 3);
      const second = await trainInPage(backend, 3);
      console.log(`${backend} (${first.device}): run-to-run ${bits(first) === bits(second) ? 'identical' : 'DIFFERENT'}; losses ${first.losses.join(', ')} / ${second.losses.join(', ')}`);
      expect(second.losses, backend).toEqual(first.losses);
      expect(bits(second), backend).toBe(bits(first));
    }
  });

  it('after 5 identical steps the three backends agree on loss and parameters to 1e-4 relative', async () => {
    const node = await trainInNode(5);
    for (const backend of ['wasm', 'webgpu'] as const) {
      const web = await trainInPage(backend, 5);
      web.losses.forEach((l, i) => expect(Math.abs(l - node.losses[i]) / node.losses[i], `${backend} loss ${i + 1}`).toBeLessThan(1e-4));
      expect(Object.keys(web.params).sort()).toEqual([...node.params.keys()].sort());
      for (const [name, ref] of node.params) expect(relErr(web.params[name], ref), `${backend} ${name}`).toBeLessThan(1e-4);
    }
  });
});
