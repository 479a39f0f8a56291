// npm run bench:engine [-- --size full|reduced --steps N --warmup N --budget-s S --backends node,wasm,webgpu]
// Times one training step of the reference encoder (../shared/docs/REFERENCE-ENCODER.md: 6 blocks,
// d_model 256, 4 heads, batch 8 × 300 frames, MSE, AdamW) on onnxruntime-node CPU and in Chromium on
// WASM and WebGPU, and prints one JSON object. A step is forward + backward + update + reading the
// loss back, as the peer figures in REFERENCE-ENCODER.md measure it.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { buildReferenceProblem, REFERENCE_FULL, REFERENCE_REDUCED } from '../src/engine/testing/reference-encoder';
import { isWebGpuOp } from '../src/engine/op-types';
import { speechStepOptions, speechTrainingNodes } from './speech-step';
import { nodeBackend } from '../src/runtime/node';
import { launchChromium } from '../e2e/browser';
import { startDevServer } from '../e2e/server';
import { benchReference, type BenchResult } from '../e2e/harness/reference-bench';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'budget-s': { type: 'string', default: '240' },
    backends: { type: 'string', default: 'node,wasm,webgpu' },
    'force-full': { type: 'boolean', default: false },
  },
});
const size = args.size === 'reduced' ? 'reduced' : 'full';
const steps = Number(args.steps);
const warmup = Number(args.warmup);
const budgetMs = Number(args['budget-s']) * 1000;
const backends = args.backends!.split(',');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const log = (m: string) => process.stderr.write(`[bench:engine] ${m}\n`);

const problem = buildReferenceProblem(size === 'full' ? REFERENCE_FULL : REFERENCE_REDUCED);
const nodes = problem.training.graph.nodes;
// The speech model's training graphs as CtcTrainer builds them (one 4 × 400-frame bucket): the
// per-node cost of running them is what issue 14's node budget is about.
const result: Record<string, unknown> = {
  workload: { model: 'reference encoder', size, ...problem.config, parameters: problem.paramCount },
  training_graph_nodes: nodes.length,
  speech_model_training_graph_nodes: {
    lora: speechTrainingNodes(speechStepOptions('lora'), 4, 400),
    full: speechTrainingNodes(speechStepOptions('full'), 4, 400),
  },
  webgpu_allowlist_share: nodes.filter((n) => isWebGpuOp(n.opType, n.domain)).length / nodes.length,
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model },
};

const summarize = (r: BenchResult) => ({
  device: r.device,
  median_ms_per_step: Math.round(median(r.stepMs)),
  timed_steps: r.stepMs.length,
  warmup_steps: r.warmupMs.length,
  first_step_loss: r.firstLoss,
});

if (backends.includes('node')) {
  log('onnxruntime-node CPU…');
  result.node_cpu = summarize(await benchReference(nodeBackend(), size, warmup, steps, budgetMs));
}
const web = backends.filter((b) => b === 'wasm' || b === 'webgpu') as ('wasm' | 'webgpu')[];
if (web.length) {
  const { server } = await startDevServer();
  const browser = await launchChromium();
  try {
    for (const b of web) {
      log(`Chromium ${b}…`);
      const page = await browser.newPage();
      await page.goto(`${server.resolvedUrls!.local[0]}e2e/harness/engine.html`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 });
      page.setDefaultTimeout(0);
      // A software WebGPU adapter (SwiftShader, as in headless Chromium without a GPU) needs ~1 min
      // per reduced-size step; the full size would take the better part of an hour, so there the
      // reduced size is measured and the JSON says so.
      const software = await page.evaluate(async () => {
        const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean; vendor?: string } } | null> } }).gpu;
        const a = await gpu?.requestAdapter();
        return !a || a.info?.isFallbackAdapter === true || a.info?.vendor === 'google';
      });
      const sz = b === 'webgpu' && software && size === 'full' && !args['force-full'] ? 'reduced' : size;
      const r = await page.evaluate(
        ([bk, z, w, n, budget]) => (window as unknown as { engineHarness: { bench(...a: unknown[]): Promise<BenchResult> } }).engineHarness.bench(bk, z, w, n, budget),
        [b, sz, b === 'webgpu' && software ? 1 : warmup, steps, budgetMs] as const,
      );
      result[`chromium_${b}`] = { size: sz, software_adapter: b === 'webgpu' ? software : undefined, ...summarize(r) };
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
console.log(JSON.stringify(result));
