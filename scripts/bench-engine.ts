// npm run bench:engine [-- --size full|reduced --steps N --warmup N --budget-s S
//     --backends node,wasm,webgpu[,wasm-asyncify][,torch] --speech BxF|none --no-overheads --threads N --profile]
// npm run bench:engine -- --graph-capture [--capture-size tiny|reduced|full --capture-modes trainer,bound,captured,trainer-captured
//     --capture-speech BxF|none --steps N --warmup N]
// Times one training step of the reference encoder (../shared/docs/REFERENCE-ENCODER.md: 6 blocks,
// d_model 256, 4 heads, batch 8 × 300 frames, MSE, AdamW) on onnxruntime-node CPU and in Chromium on
// WASM and WebGPU, and the speech model's LoRA step (as `earshot finetune` runs it, on a B × F-frame
// synthetic batch) on Node and Chromium WASM, and prints one JSON object. A step is forward +
// backward + update + reading the loss back, as the peer figures in REFERENCE-ENCODER.md measure it.
// Per backend it also says where a step's time goes: inside onnxruntime's run (kernels, and on WASM
// the copies of the state into and out of the WebAssembly heap) or outside it, the cost of one run
// of a one-node graph, and of feeding the state in and fetching it out alone (an Identity graph).
// 'wasm-asyncify' is the WASM EP of onnxruntime-web's WebGPU build, which the WASM backend used
// before; it is there to measure the difference.
// 'torch' adds the PyTorch peer (the reference encoder in PyTorch on the CPU, Debian's python3-torch
// with OpenBLAS) to the turns, as `torch_cpu`.
// Node and the Chromium WASM backends take turns, one step each per round, so that on a shared
// machine they see the same load: `ratios` are the medians of the per-round ratios to Node (the
// absolute figures move with the load; the ratios much less). WebGPU on a software adapter is far
// too slow to take turns with and is timed on its own afterwards.
// --profile turns on onnxruntime's per-kernel profiling for Node and Chromium WASM and adds, per
// workload and backend, the kernel time per op type (scripts/ort-profile.ts); profiling slows every
// node a little, so step times of such a run are not the ones to quote.
// --graph-capture measures only this (and prints its own JSON): the reference encoder's training
// step in Chromium on WebGPU, run the app's way ('trainer': Trainer, state fed back as gpu-buffer
// outputs, batch and scalars through the host), with every input and output in pre-allocated GPU
// buffers ('bound'), the same with onnxruntime's `enableGraphCapture` ('captured'), and the Trainer
// with its graphCapture option ('trainer-captured'), each on a page of its own, taking turns a step
// at a time; per mode the wall time per step, the time inside session.run (with every output on the
// GPU, that is the CPU cost of dispatching the graph; the trainer's run also waits for the GPU, as
// its scalars come back as cpu outputs), and the largest loss difference to the first mode
// (e2e/harness/graph-capture-bench.ts says how). --capture-size: 'tiny' (2 blocks, d_model 64,
// 2 × 32 frames; default, under a second per step on a software adapter), 'reduced', 'full' or 'none';
// --capture-modes: which, in order. --capture-speech BxF adds the speech model's LoRA step
// (CtcTrainer: forward, CTC on the host, training graph) on a B × F-frame batch in the two Trainer
// modes, as `speech_lora` (its run ms sum the forward and the training runs).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { opTable, sessionsFromConsole, type OpTable } from './ort-profile';
import { buildReferenceProblem, REFERENCE_FULL, REFERENCE_REDUCED, type ReferenceEncoderConfig } from '../src/engine/testing/reference-encoder';
import { isWebGpuOp } from '../src/engine/op-types';
import { speechStepOptions, speechTrainingNodes } from './speech-step';
import { nodeBackend } from '../src/runtime/node';
import { launchChromium } from '../e2e/browser';
import { startDevServer } from '../e2e/server';
import type { Page } from 'playwright-core';
import { referenceStepper, runOverheads, speechLoraStepper, type BenchResult, type Stepper } from '../e2e/harness/reference-bench';
import type { BrowserBenchBackend, ReferenceBenchPage, Workload } from '../e2e/harness/reference-bench-page';
import type { CaptureMode, CaptureStep, GraphCaptureBenchPage } from '../e2e/harness/graph-capture-bench';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: 'full' },
    steps: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    'budget-s': { type: 'string', default: '240' },
    backends: { type: 'string', default: 'node,wasm,webgpu' },
    'force-full': { type: 'boolean', default: false },
    speech: { type: 'string', default: '4x400' },
    'no-overheads': { type: 'boolean', default: false },
    // threads for both onnxruntime-node and Chromium's WASM (default: as each chooses, the cores there are)
    threads: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'graph-capture': { type: 'boolean', default: false },
    'capture-size': { type: 'string', default: 'tiny' },
    'capture-modes': { type: 'string', default: 'trainer,bound,captured,trainer-captured' },
    'capture-speech': { type: 'string', default: 'none' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  // the usage is this file's opening comment
  const head = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
  console.log(head.slice(0, head.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
  process.exit(0);
}
const size = args.size === 'reduced' ? 'reduced' : 'full';
const steps = Number(args.steps);
const warmup = Number(args.warmup);
const budgetMs = Number(args['budget-s']) * 1000;
const backends = args.backends!.split(',');
const overheads = !args['no-overheads'];
const threads = args.threads ? Number(args.threads) : undefined;
const profile = args.profile!;
const speech = args.speech === 'none' ? null : args.speech!.split('x').map(Number);
if (speech && (speech.length !== 2 || !speech.every((n) => n > 0))) throw new Error(`--speech must be BxF (e.g. 4x400) or none, not '${args.speech}'`);

/** The reference encoder shrunk until the per-node cost dominates a step (graph capture on a software adapter). */
const REFERENCE_TINY: ReferenceEncoderConfig = { batch: 2, time: 32, blocks: 2, dModel: 64, heads: 4, dFF: 256, dOut: 16 };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const round = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? undefined : Math.round(x * 10 ** d) / 10 ** d);
const log = (m: string) => process.stderr.write(`[bench:engine] ${m}\n`);

if (args['graph-capture']) {
  await graphCaptureBench();
  process.exit(0);
}

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
  // inside onnxruntime's run: the kernels, and on WASM the copies of feeds into and outputs out of its heap
  median_ms_in_run: Math.round(median(r.runMs)),
  median_ms_outside_run: round(median(r.stepMs.map((t, i) => t - r.runMs[i]))),
  step_ms: r.stepMs.map((t) => Math.round(t)),
  timed_steps: r.stepMs.length,
  warmup_steps: r.warmupMs.length,
  first_step_loss: r.firstLoss,
  session_create_ms: Math.round(r.createMs),
  ...(r.tinyRunMs !== undefined ? { one_node_run_ms: round(r.tinyRunMs, 3) } : {}),
  ...(r.stateIoMs !== undefined ? { state_io_ms: round(r.stateIoMs) } : {}),
  ...(r.stateFloats !== undefined ? { state_mb: round((r.stateFloats * 4) / 2 ** 20) } : {}),
});

/** One backend that can take a step when its turn comes: Node here, or a Chromium page. */
interface Runner {
  name: string;
  start(w: Workload): Promise<{ device: string; nodes: number; createMs: number }>;
  step(): Promise<{ ms: number; runMs: number; loss: number }>;
  finish(overheads: boolean): Promise<{ tinyRunMs?: number; stateIoMs?: number; stateFloats: number }>;
  /** With --profile, after finish: kernel time per op type of the sessions it ran. */
  profile?(): Promise<OpTable>;
}

function nodeRunner(): Runner {
  let st: Stepper | undefined;
  const dir = profile ? mkdtempSync(join(tmpdir(), 'bench-engine-profile-')) : undefined;
  return {
    name: 'node_cpu',
    async start(w) {
      const b = nodeBackend({ threads, profilePrefix: dir && join(dir, 'ort') });
      st = w.kind === 'reference' ? await referenceStepper(b, w.size) : await speechLoraStepper(b, w.batch, w.frames);
      return { device: b.info.device, nodes: st.nodes, createMs: st.createMs };
    },
    step: () => st!.step(),
    async finish(oh) {
      const s = st!;
      await s.dispose();
      const stateFloats = s.state.reduce((n, x) => n + x.dims.reduce((a, d) => a * d, 1), 0);
      return { ...(overheads && oh ? await runOverheads(s.backend, s.state) : {}), stateFloats };
    },
    ...(dir && {
      // each released session has written its own file
      async profile() {
        const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
        const table = opTable(files.map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8'))));
        rmSync(dir, { recursive: true });
        return table;
      },
    }),
  };
}

/**
 * The PyTorch peer (python/earshot_torch/reference_encoder.py --serve, the reference encoder on the
 * CPU with the same thread count), stepping when its turn comes: only the reference workload.
 */
function torchRunner(): Runner {
  let child: ChildProcessWithoutNullStreams | undefined;
  let lines: AsyncIterator<string> | undefined;
  const next = async () => {
    const r = await lines!.next();
    if (r.done) throw new Error('the PyTorch peer exited');
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  return {
    name: 'torch_cpu',
    async start(w) {
      if (w.kind !== 'reference') throw new Error('the PyTorch peer runs the reference encoder only');
      const python = process.env.EARSHOT_PYTHON || '/usr/bin/python3';
      const t0 = performance.now();
      child = spawn(python, ['python/earshot_torch/reference_encoder.py', '--device', 'cpu', '--size', w.size, '--serve', ...(threads ? ['--threads', String(threads)] : [])], { cwd: root });
      child.stderr.on('data', (d) => process.stderr.write(`[torch] ${d}`));
      lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const ready = await next();
      const dev = ready.device as { threads: number };
      return { device: `PyTorch CPU, ${dev.threads} thread(s)`, nodes: 0, createMs: performance.now() - t0 };
    },
    async step() {
      child!.stdin.write('step\n');
      const r = await next();
      return { ms: r.ms as number, runMs: r.ms as number, loss: r.loss as number };
    },
    async finish() {
      child!.stdin.end();
      return { stateFloats: 0 };
    },
  };
}

function pageRunner(page: Page, b: BrowserBenchBackend): Runner {
  type W = { referenceBench: ReferenceBenchPage };
  const lines: string[] = [];
  if (profile && b !== 'webgpu') page.on('console', (m) => lines.push(m.text()));
  return {
    name: `chromium_${b.replace('-', '_')}`,
    start: (w) => page.evaluate(([bk, wl, t, p]) => (window as unknown as W).referenceBench.start(bk, wl, t ?? undefined, p), [b, w, threads ?? null, profile] as const),
    step: () => page.evaluate(() => (window as unknown as W).referenceBench.step()),
    finish: (oh) => page.evaluate((o) => (window as unknown as W).referenceBench.finish(o), overheads && oh),
    ...(profile && b !== 'webgpu' && {
      async profile() {
        await page.waitForTimeout(500); // the last console messages of the released sessions
        return opTable(sessionsFromConsole(lines.splice(0)));
      },
    }),
  };
}

/** Rounds of one step per runner (the first `warmup` untimed), then the overhead probes. */
async function takeTurns(runners: Runner[], w: Workload, warmup: number, withOverheads = true): Promise<Record<string, unknown>> {
  const results = new Map<Runner, BenchResult>();
  for (const r of runners) {
    log(`${w.kind} ${w.kind === 'reference' ? w.size : `${w.batch}×${w.frames}`}: ${r.name} compiling…`);
    const s = await r.start(w);
    results.set(r, { backend: r.name, device: s.device, nodes: s.nodes, createMs: s.createMs, stepMs: [], warmupMs: [], runMs: [], firstLoss: NaN });
  }
  const t0 = performance.now();
  for (let i = 0; i < warmup + steps; i++) {
    for (const r of runners) {
      const x = await r.step();
      const res = results.get(r)!;
      if (i === 0) res.firstLoss = x.loss;
      (i < warmup ? res.warmupMs : res.stepMs).push(x.ms);
      if (i >= warmup) res.runMs.push(x.runMs);
    }
    log(`round ${i + 1}: ${runners.map((r) => `${r.name} ${Math.round([...results.get(r)!.warmupMs, ...results.get(r)!.stepMs].at(-1)!)} ms`).join(', ')}`);
    if (i >= warmup && performance.now() - t0 > budgetMs) break;
  }
  const out: Record<string, unknown> = {};
  for (const r of runners) {
    const res = results.get(r)!;
    Object.assign(res, await r.finish(withOverheads && w.kind === 'reference'));
    out[r.name] = summarize(res);
  }
  const tables = await Promise.all(runners.map(async (r) => [r.name, await r.profile?.()] as const));
  if (tables.some(([, t]) => t)) out.profile = Object.fromEntries(tables.filter(([, t]) => t));
  // per round, each Chromium backend's step over Node's in the same round
  const node = runners.find((r) => r.name === 'node_cpu');
  if (node) {
    const ratios: Record<string, number | undefined> = {};
    for (const r of runners.filter((x) => x !== node)) {
      const a = results.get(r)!.stepMs;
      const n = results.get(node)!.stepMs;
      ratios[`${r.name}/node_cpu`] = round(median(a.map((t, i) => t / n[i])), 2);
    }
    out.ratios = ratios;
  }
  return out;
}

const web = backends.filter((b) => b === 'wasm' || b === 'webgpu' || b === 'wasm-asyncify') as BrowserBenchBackend[];
const paired = web.filter((b) => b !== 'webgpu');
const workloads: Workload[] = [{ kind: 'reference', size }, ...(speech ? [{ kind: 'speech-lora' as const, batch: speech[0], frames: speech[1] }] : [])];
const server = web.length ? (await startDevServer()).server : undefined;
const browser = web.length ? await launchChromium() : undefined;
try {
  const open = async () => {
    const page = await browser!.newPage();
    await page.goto(`${server!.resolvedUrls!.local[0]}e2e/harness/reference-bench.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 });
    page.setDefaultTimeout(0);
    return page;
  };
  if (browser) {
    const first = await open();
    const env = await first.evaluate(() => (window as unknown as { referenceBench: ReferenceBenchPage }).referenceBench.environment());
    await first.close();
    // Multi-threaded WASM needs cross-origin isolation (vite.config.ts sets COOP/COEP)
    result.chromium = { cross_origin_isolated: env.crossOriginIsolated, hardware_concurrency: env.hardwareConcurrency };
  }
  for (const w of workloads) {
    // a fresh page per backend and workload: each onnxruntime-web build reads its thread count once
    const pages = await Promise.all(paired.map(() => open()));
    const runners = [
      ...(backends.includes('node') ? [nodeRunner()] : []),
      ...paired.map((b, i) => pageRunner(pages[i], b)),
      ...(backends.includes('torch') && w.kind === 'reference' ? [torchRunner()] : []),
    ];
    if (runners.length) {
      const r = await takeTurns(runners, w, warmup);
      if (w.kind === 'reference') Object.assign(result, r);
      else result.speech_lora = { batch: w.batch, frames: w.frames, audio_seconds_per_step: (w.batch * w.frames) / 100, ...r };
    }
    await Promise.all(pages.map((p) => p.close()));
  }
  if (web.includes('webgpu')) {
    log('Chromium webgpu…');
    const page = await open();
    // A software WebGPU adapter (SwiftShader, as in headless Chromium without a GPU) needs ~1 min
    // per reduced-size step; the full size would take the better part of an hour, so there the
    // reduced size is measured and the JSON says so.
    const software = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean; vendor?: string } } | null> } }).gpu;
      const a = await gpu?.requestAdapter();
      return !a || a.info?.isFallbackAdapter === true || a.info?.vendor === 'google';
    });
    const sz = software && size === 'full' && !args['force-full'] ? 'reduced' : size;
    const r = await takeTurns([pageRunner(page, 'webgpu')], { kind: 'reference', size: sz }, software ? 1 : warmup, false);
    result.chromium_webgpu = { size: sz, software_adapter: software, ...(r.chromium_webgpu as object) };
    await page.close();
  }
} finally {
  await browser?.close();
  await server?.close();
}
console.log(JSON.stringify(result));

/**
 * --graph-capture: the reference step on WebGPU in Chromium in each mode, one page per mode; the
 * modes take turns, one step each per round, so that on a shared machine they see the same load.
 */
async function graphCaptureBench(): Promise<void> {
  const cs = args['capture-size']!;
  const config = cs === 'full' ? REFERENCE_FULL : cs === 'reduced' ? REFERENCE_REDUCED : cs === 'tiny' ? REFERENCE_TINY : undefined;
  if (!config && cs !== 'none') throw new Error(`--capture-size must be tiny, reduced, full or none, not '${cs}'`);
  const modes = args['capture-modes']!.split(',') as CaptureMode[];
  if (!modes.every((m) => ['trainer', 'bound', 'captured', 'trainer-captured'].includes(m))) throw new Error(`--capture-modes: trainer, bound, captured, trainer-captured (comma-separated), not '${args['capture-modes']}'`);
  const { server } = await startDevServer();
  const browser = await launchChromium();
  type W = { graphCaptureBench: GraphCaptureBenchPage };
  const sp = args['capture-speech'] === 'none' ? null : args['capture-speech']!.split('x').map(Number);
  if (sp && (sp.length !== 2 || !sp.every((n) => n > 0))) throw new Error(`--capture-speech must be BxF or none, not '${args['capture-speech']}'`);
  const out: Record<string, unknown> = { ...(config ? { workload: { model: 'reference encoder', size: cs, ...config } } : {}), modes };
  const open = async () => {
    const page = await browser.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') consoleLines.push(m.text().slice(0, 400));
    });
    await page.goto(`${server.resolvedUrls!.local[0]}e2e/harness/graph-capture-bench.html`);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 });
    page.setDefaultTimeout(0);
    return { page, consoleLines };
  };
  /** One page per mode, started by `start`, then rounds of one step each; the summary per mode. */
  const turns = async (ms: CaptureMode[], start: (page: Page, m: CaptureMode) => Promise<{ nodes: number; createMs: number }>) => {
    const res: Record<string, unknown> = {};
    const pages = [];
    for (const mode of ms) {
      const { page, consoleLines } = await open();
      if (!out.adapter) out.adapter = await page.evaluate(() => (window as unknown as W).graphCaptureBench.adapter());
      log(`graph capture: ${mode} compiling…`);
      pages.push({ mode, page, consoleLines, started: await start(page, mode), steps: [] as CaptureStep[] });
    }
    for (let i = 0; i < warmup + steps; i++) {
      for (const p of pages) p.steps.push(await p.page.evaluate(() => (window as unknown as W).graphCaptureBench.step()));
      log(`round ${i + 1}: ${pages.map((p) => `${p.mode} ${Math.round(p.steps.at(-1)!.ms)} ms (run ${round(p.steps.at(-1)!.runMs)})`).join(', ')}`);
    }
    for (const p of pages) {
      const fin = await p.page.evaluate(() => (window as unknown as W).graphCaptureBench.finish());
      const timed = p.steps.slice(warmup);
      res[p.mode] = {
        nodes: p.started.nodes,
        session_create_ms: Math.round(p.started.createMs),
        first_step_ms: round(p.steps[0].ms),
        median_ms_per_step: round(median(timed.map((x) => x.ms))),
        median_ms_in_run: round(median(timed.map((x) => x.runMs))),
        median_ms_outside_run: round(median(timed.map((x) => x.ms - x.runMs))),
        step_ms: p.steps.map((x) => round(x.ms)),
        run_ms: p.steps.map((x) => round(x.runMs)),
        losses: p.steps.map((x) => x.loss),
        ...(fin.stepCount !== undefined ? { step_count: fin.stepCount, param_abs_sum: fin.paramAbsSum } : {}),
        ...(p.consoleLines.length ? { console: p.consoleLines.slice(0, 20) } : {}),
      };
      await p.page.close();
    }
    // the first mode's losses are the reference (the app's path when 'trainer' comes first)
    const ref = pages[0].steps.map((x) => x.loss);
    res[`max_abs_loss_diff_vs_${pages[0].mode}`] = Object.fromEntries(pages.slice(1).map((p) => [p.mode, Math.max(...p.steps.map((x, i) => Math.abs(x.loss - ref[i])))]));
    return res;
  };
  try {
    if (config) Object.assign(out, await turns(modes, (page, m) => page.evaluate(([mm, c]) => (window as unknown as W).graphCaptureBench.start(mm, c), [m, config] as const)));
    const speechModes = modes.filter((m) => m === 'trainer' || m === 'trainer-captured');
    if (sp && speechModes.length)
      out.speech_lora = { batch: sp[0], frames: sp[1], ...(await turns(speechModes, (page, m) => page.evaluate(([mm, b, f]) => (window as unknown as W).graphCaptureBench.startSpeech(mm, b, f), [m, sp[0], sp[1]] as const))) };
    out.warmup_steps = warmup;
    out.timed_steps = steps;
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(JSON.stringify(out));
}
