// npm run bench:asr [-- --model DIR --seconds S --threads N --repeats N --budget-s S --backends node,wasm,webgpu]
//
// Prints one JSON object with two speeds, both as × real time (seconds of audio per second of
// compute) over about a minute of real speech from ../shared/speech/ljspeech_coqui:
//  - feature extraction: logMel (src/audio) over 16 kHz samples, single thread (the median of
//    --repeats passes after one warm-up pass; decoding and resampling are not timed here);
//  - transcription: Recognizer.transcribeFile (src/asr/recognizer.ts), i.e. decode the FLAC bytes →
//    resample to 16 kHz → log-mel → model → greedy CTC decoding, one clip at a time, on
//    onnxruntime-node CPU and in headless Chromium on onnxruntime-web WASM and WebGPU (harness page
//    e2e/harness/asr-bench.html, served by Vite's dev server). The first clip is transcribed once
//    untimed as a warm-up (session caches, shader compilation); session creation is reported apart.
// The model is the directory --model (default public/models/base). When it is absent, a model of
// the default architecture with random weights (buildAcousticModel's seeded initialisation, written
// and read back through writeModelDir/readModelDir) is used instead: the amount of computation is
// the same, only the text is garbage. The JSON says which one was used.
// Headless Chromium without a GPU gives WebGPU as SwiftShader, a software adapter
// (software_adapter: true): that figure says nothing about a real GPU.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeMono, logMel } from '../src/audio';
import { buildAcousticModel, countParameters, DEFAULT_ARCH, type Weights } from '../src/asr/model';
import { MODEL_FILES, readModelDir, writeModelDir, type LoadedModel } from '../src/asr/model-dir';
import { timeTranscription } from '../e2e/harness/asr-timing';
import { DEFAULT_VOCAB } from '../src/asr/vocab';
import { nodeBackend } from '../src/runtime/node';
import { launchChromium } from '../e2e/browser';
import { startDevServer } from '../e2e/server';
import type { AsrBenchRequest, AsrBenchResult } from '../e2e/harness/asr-bench';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/models/base' },
    speech: { type: 'string', default: resolve(root, '../shared/speech') },
    seconds: { type: 'string', default: '60' },
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '3' },
    'budget-s': { type: 'string', default: '240' },
    backends: { type: 'string', default: 'node,wasm,webgpu' },
  },
});
const log = (m: string) => process.stderr.write(`[bench:asr] ${m}\n`);
function fail(m: string): never {
  process.stderr.write(`bench:asr: ${m}\n`);
  process.exit(1);
}
const targetSeconds = Number(args.seconds);
const threads = Math.max(1, Math.floor(Number(args.threads)));
const repeats = Math.max(1, Math.floor(Number(args.repeats)));
const budgetMs = Number(args['budget-s']) * 1000;
const backends = args.backends!.split(',').map((s) => s.trim());
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

// --- about a minute of real speech -------------------------------------------------------------
const SET = 'ljspeech_coqui';
const manifest = join(args.speech!, SET, 'manifest.jsonl');
if (!existsSync(manifest)) fail(`${manifest} is missing: this benchmark reads real speech from the shared corpus (../shared/speech, see its README.md); pass --speech DIR if it lives elsewhere`);
interface Clip {
  name: string;
  bytes: Uint8Array;
  samples: Float32Array;
  seconds: number;
}
const clips: Clip[] = [];
let audioSeconds = 0;
for (const line of readFileSync(manifest, 'utf8').split('\n')) {
  if (!line.trim() || audioSeconds >= targetSeconds) continue;
  const path = resolve(dirname(manifest), (JSON.parse(line) as { audio_filepath: string }).audio_filepath);
  const bytes = new Uint8Array(readFileSync(path));
  const samples = await decodeMono(bytes, 16000, basename(path));
  clips.push({ name: basename(path), bytes, samples, seconds: samples.length / 16000 });
  audioSeconds += samples.length / 16000;
}
log(`${clips.length} clips, ${audioSeconds.toFixed(1)} s of audio from ${SET}`);

// --- the model -----------------------------------------------------------------------------------
const modelDir = resolve(root, args.model!);
let modelFiles: Record<string, Uint8Array>;
let modelInfo: Record<string, unknown>;
if (existsSync(join(modelDir, 'model.onnx'))) {
  modelFiles = {};
  for (const f of MODEL_FILES) if (existsSync(join(modelDir, f))) modelFiles[f] = new Uint8Array(readFileSync(join(modelDir, f)));
  modelInfo = { used: 'model directory', dir: args.model };
} else {
  log(`${args.model} has no model.onnx: using a random-weight model of the default architecture`);
  const weights: Weights = new Map();
  for (const [name, p] of buildAcousticModel({ arch: DEFAULT_ARCH, batch: 1, frames: 64, masked: false, seed: 1 }).g.params) weights.set(name, p.init.data as Float32Array);
  modelFiles = writeModelDir({ arch: DEFAULT_ARCH, weights, vocab: DEFAULT_VOCAB, card: '# random-weight benchmark model\n\nSeeded initial weights; not trained.\n' });
  modelInfo = {
    used: 'random weights (default architecture)',
    dir: args.model,
    note: `${args.model} is absent (no model.onnx): a random-weight model of DEFAULT_ARCH was written with writeModelDir and timed instead; the computation per second of audio is the same as for a trained model`,
  };
}
const model: LoadedModel = readModelDir(modelFiles);
modelInfo = { ...modelInfo, arch: model.config.arch, parameters: countParameters(model.config.arch), onnx_bytes: model.onnx.length };

const result: Record<string, unknown> = {
  audio: { set: SET, clips: clips.length, seconds: round(audioSeconds, 1) },
  model: modelInfo,
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model },
};

// --- feature extraction --------------------------------------------------------------------------
{
  const cfg = model.config.frontEnd;
  const pass = () => {
    const t = performance.now();
    let frames = 0;
    for (const c of clips) frames += logMel(c.samples, cfg).frames;
    return { ms: performance.now() - t, frames };
  };
  pass(); // warm-up: filter bank, FFT tables, JIT
  const runs = Array.from({ length: repeats }, pass);
  const ms = median(runs.map((r) => r.ms));
  result.features = {
    what: 'logMel (src/audio/log-mel.ts) on 16 kHz samples, the model config front end; JavaScript, one thread',
    n_mels: cfg.nMels,
    frames: runs[0].frames,
    median_seconds: round(ms / 1000, 3),
    x_real_time: round(audioSeconds / (ms / 1000), 1),
    repeats,
  };
  log(`features: ${(audioSeconds / (ms / 1000)).toFixed(1)}× real time`);
}

// --- transcription -------------------------------------------------------------------------------
const summarize = (r: AsrBenchResult) => ({
  device: r.device,
  software_adapter: r.softwareAdapter,
  session_create_seconds: round(r.sessionCreateMs / 1000, 2),
  warmup_seconds: round(r.warmupMs / 1000, 2),
  clips_timed: r.clipsTimed,
  audio_seconds_timed: round(r.audioSecondsTimed, 1),
  seconds: round(r.totalMs / 1000, 2),
  x_real_time: round(r.audioSecondsTimed / (r.totalMs / 1000), 2),
  sample_text: r.sampleText.slice(0, 60),
});

if (backends.includes('node')) {
  log('transcription on onnxruntime-node CPU…');
  const backend = nodeBackend({ threads });
  const timing = await timeTranscription(backend, model, clips, budgetMs);
  result.transcription_node_cpu = summarize({ backend: 'node-cpu', device: backend.info.device, crossOriginIsolated: false, ...timing });
}

const web = backends.filter((b): b is 'wasm' | 'webgpu' => b === 'wasm' || b === 'webgpu');
if (web.length) {
  const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
  const modelB64: Record<string, string> = {};
  for (const [k, v] of Object.entries(modelFiles)) modelB64[k] = b64(v);
  const clipsB64 = clips.map((c) => ({ name: c.name, seconds: c.seconds, base64: b64(c.bytes) }));
  const { server, url } = await startDevServer();
  const browser = await launchChromium();
  try {
    for (const b of web) {
      log(`transcription in Chromium on ${b}…`);
      // Vite's dependency optimizer may discover a dependency while a page runs and then reload every
      // open page (on a cold node_modules/.vite cache); a reloaded page is run once more.
      for (let attempt = 1; ; attempt++) {
        const page = await browser.newPage();
        page.on('pageerror', (e) => log(`page error: ${e.message}`));
        page.on('crash', () => log('page crashed'));
        if (process.env.BENCH_DEBUG) {
          page.on('console', (m) => log(`console ${m.type()}: ${m.text().slice(0, 300)}`));
          page.on('framenavigated', (f) => log(`navigated ${f.url()}`));
        }
        try {
          await page.goto(`${url}/e2e/harness/asr-bench.html`);
          await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready', null, { timeout: 120_000 });
          page.setDefaultTimeout(0);
          const req: AsrBenchRequest = { backend: b, threads, modelFiles: modelB64, clips: clipsB64, budgetMs };
          const r = await page.evaluate((q) => (window as unknown as { asrBench: { run(q: AsrBenchRequest): Promise<AsrBenchResult> } }).asrBench.run(q), req);
          result[`transcription_chromium_${b}`] = { ...summarize(r), cross_origin_isolated: r.crossOriginIsolated };
          break;
        } catch (e) {
          const message = (e as Error).message.split('\n')[0];
          if (attempt < 2 && /context was destroyed|navigation/i.test(message)) {
            log(`the page was reloaded (${message}); running it again`);
            continue;
          }
          result[`transcription_chromium_${b}`] = { error: message };
          break;
        } finally {
          await page.close();
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
result.threads = { onnxruntime: threads, note: 'onnxruntime intra-op threads for Node CPU and WASM (--threads); feature extraction is single-threaded JavaScript' };
console.log(JSON.stringify(result, null, 2));
