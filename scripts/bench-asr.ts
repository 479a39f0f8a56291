// npm run bench:asr [-- --model DIR --seconds S --threads N --repeats N --budget-s S --backends node,wasm,webgpu
//                       --parts features,transcription,take --take-clip SET/FILE --take-seconds S --take-repeats N]
//
// Prints one JSON object with two speeds, both as × real time (seconds of audio per second of
// compute) over about a minute of real speech from ../shared/speech/ljspeech_coqui, and the take
// latency:
//  - feature extraction: logMel (src/audio) over 16 kHz samples, single thread (the median of
//    --repeats passes after one warm-up pass; decoding and resampling are not timed here);
//  - transcription: Recognizer.transcribeFile (src/asr/recognizer.ts), i.e. decode the FLAC bytes →
//    resample to 16 kHz → log-mel → model → greedy CTC decoding, one clip at a time, on
//    onnxruntime-node CPU and in headless Chromium on onnxruntime-web WASM and WebGPU (harness page
//    e2e/harness/asr-bench.html, served by Vite's dev server). The first clip is transcribed once
//    untimed as a warm-up (session caches, shader compilation); session creation is reported apart.
//  - take latency: from the end of a --take-seconds take (one real clip, padded with silence or
//    cut to that length) to its transcript, as the app's Record panel does it (e2e/harness/
//    take-timing.ts): features computed in 100 ms chunks while the take is recorded, the session
//    created and warmed up beforehand; at the stop the last chunk, the rows left, the model and the
//    decoding. The chunks come 100 ms apart as from a microphone (--take-pace none: back to back).
//    Greedy and the model's own decoding (beam search + word LM) are timed apart, each as a median
//    over --take-repeats takes with its breakdown, beside the whole-clip path the app used before.
//    On onnxruntime-node CPU and in headless Chromium on WASM (and WebGPU when asked for).
// The model is the directory --model (default public/models/base). When it is absent, a model of
// the default architecture with random weights (buildAcousticModel's seeded initialisation, written
// and read back through writeModelDir/readModelDir) is used instead: the amount of computation is
// the same, only the text is garbage. The JSON says which one was used.
// Headless Chromium without a GPU gives WebGPU as SwiftShader, a software adapter
// (software_adapter: true): that figure says nothing about a real GPU.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeMono, logMel } from '../src/audio';
import { buildAcousticModel, countParameters, DEFAULT_ARCH, type Weights } from '../src/asr/model';
import { MODEL_FILES, readModelDir, writeModelDir, type LoadedModel } from '../src/asr/model-dir';
import { timeTranscription, type TranscriptionTiming } from '../e2e/harness/asr-timing';
import { timeTakeLatency, type TakePhases, type TakeTiming } from '../e2e/harness/take-timing';
import { describeDecoding, GREEDY, type Decoding } from '../src/asr/decode';
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
    parts: { type: 'string', default: 'features,transcription,take' },
    'take-clip': { type: 'string', default: 'ljspeech_coqui/audio/wavs_LJ001-0011.flac' },
    'take-seconds': { type: 'string', default: '5' },
    'take-repeats': { type: 'string', default: '7' },
    'take-pace': { type: 'string', default: 'real' },
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
const parts = new Set(args.parts!.split(',').map((s) => s.trim()));
const takeRepeats = Math.max(1, Math.floor(Number(args['take-repeats'])));
if (args['take-pace'] !== 'real' && args['take-pace'] !== 'none') fail(`--take-pace is real or none, got ${args['take-pace']}`);
const takeRealTime = args['take-pace'] === 'real';
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
  if (!line.trim() || audioSeconds >= targetSeconds || !(parts.has('features') || parts.has('transcription'))) continue;
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
  ...(clips.length ? { audio: { set: SET, clips: clips.length, seconds: round(audioSeconds, 1) } } : {}),
  model: modelInfo,
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, load_average_1min_at_start: round(loadavg()[0], 2) },
};

// --- feature extraction --------------------------------------------------------------------------
if (parts.has('features')) {
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

// --- the take: one real clip padded with silence (or cut) to --take-seconds -----------------------
const takeSeconds = Number(args['take-seconds']);
let take: { clip: string; speech_seconds: number; samples: Float32Array } | undefined;
if (parts.has('take')) {
  const path = resolve(args.speech!, args['take-clip']!);
  if (!existsSync(path)) fail(`${path} is missing: pass --take-clip SET/FILE (relative to --speech)`);
  const speech = await decodeMono(new Uint8Array(readFileSync(path)), 16000, basename(path));
  const samples = new Float32Array(Math.round(takeSeconds * 16000));
  samples.set(speech.subarray(0, samples.length));
  take = { clip: args['take-clip']!, speech_seconds: round(Math.min(speech.length, samples.length) / 16000, 2), samples };
}
/** The decodings the take is timed with: greedy, and the model's own when it is not greedy. */
const takeDecodings: { name: string; decoding: Decoding }[] = [{ name: 'greedy', decoding: GREEDY }];
if (model.decoding.beamWidth > 1 || model.decoding.lm) takeDecodings.push({ name: describeDecoding(model.decoding), decoding: model.decoding });

const ms = (x: number) => round(x, 1);
const phases = (p: TakePhases) => ({ features_ms: ms(p.featuresMs), model_ms: ms(p.modelMs), decode_ms: ms(p.decodeMs), total_ms: ms(p.totalMs) });
const summarizeTake = (t: TakeTiming, device: string) => ({
  device,
  what: 'ms from the end of the take to its transcript; streaming = the app path (features computed in 100 ms chunks while recording, session created and warmed up at load); whole_clip = the path before (log-mel of the whole take at the stop), run right after each streamed take (warm, which flatters it); medians over the repeats, total is the median of the totals',
  chunks_in_real_time: t.realTime,
  take_seconds: t.takeSeconds,
  clip: take!.clip,
  speech_seconds: take!.speech_seconds,
  repeats: t.repeats,
  session_create_ms: ms(t.sessionCreateMs),
  warm_up_ms: ms(t.warmUpMs),
  first_take_after_warm_up: phases(t.firstTake),
  while_recording_ms_per_100ms_chunk: round(t.perChunkMs, 2),
  features_max_abs_diff_vs_whole_clip: t.featuresMaxAbsDiff,
  decodings: t.results.map((r) => ({
    decoding: r.decoding,
    streaming: phases(r.streaming),
    whole_clip: phases(r.wholeClip),
    streaming_totals_ms: r.streamingTotalsMs.map(ms),
    same_text_as_whole_clip: r.sameText,
    text: r.text,
  })),
});

// --- transcription and take latency on onnxruntime-node ------------------------------------------
const summarize = (r: TranscriptionTiming & { device: string; softwareAdapter?: boolean }) => ({
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
  const backend = nodeBackend({ threads });
  if (parts.has('transcription')) {
    log('transcription on onnxruntime-node CPU…');
    const timing = await timeTranscription(backend, model, clips, budgetMs);
    result.transcription_node_cpu = summarize({ device: backend.info.device, ...timing });
  }
  if (take) {
    log('take latency on onnxruntime-node CPU…');
    result.take_latency_node_cpu = summarizeTake(await timeTakeLatency(backend, model, take.samples, takeDecodings, takeRepeats, takeRealTime), backend.info.device);
  }
}

// --- the same in headless Chromium ---------------------------------------------------------------
const web = backends.filter((b): b is 'wasm' | 'webgpu' => b === 'wasm' || b === 'webgpu');
if (web.length && (parts.has('transcription') || take)) {
  const b64 = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
  const modelB64: Record<string, string> = {};
  for (const [k, v] of Object.entries(modelFiles)) modelB64[k] = b64(v);
  const clipsB64 = parts.has('transcription') ? clips.map((c) => ({ name: c.name, seconds: c.seconds, base64: b64(c.bytes) })) : [];
  const takeReq = take && { samplesBase64: b64(new Uint8Array(take.samples.buffer)), repeats: takeRepeats, greedyOnly: takeDecodings.length === 1, realTime: takeRealTime };
  const { server, url } = await startDevServer();
  const browser = await launchChromium();
  try {
    for (const b of web) {
      log(`${[...parts].filter((p) => p !== 'features').join(' and ')} in Chromium on ${b}…`);
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
          const req: AsrBenchRequest = { backend: b, threads, modelFiles: modelB64, clips: clipsB64, budgetMs, take: takeReq };
          const r = await page.evaluate((q) => (window as unknown as { asrBench: { run(q: AsrBenchRequest): Promise<AsrBenchResult> } }).asrBench.run(q), req);
          if (r.transcription) result[`transcription_chromium_${b}`] = { ...summarize({ ...r.transcription, device: r.device, softwareAdapter: r.softwareAdapter }), cross_origin_isolated: r.crossOriginIsolated };
          if (r.take) result[`take_latency_chromium_${b}`] = { ...summarizeTake(r.take, r.device), software_adapter: r.softwareAdapter, cross_origin_isolated: r.crossOriginIsolated };
          break;
        } catch (e) {
          const message = (e as Error).message.split('\n')[0];
          if (attempt < 2 && /context was destroyed|navigation/i.test(message)) {
            log(`the page was reloaded (${message}); running it again`);
            continue;
          }
          result[`chromium_${b}`] = { error: message };
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
(result.machine as Record<string, unknown>).load_average_1min_at_end = round(loadavg()[0], 2);
result.threads = { onnxruntime: threads, note: 'onnxruntime intra-op threads for Node CPU and WASM (--threads); feature extraction and decoding are single-threaded JavaScript' };
console.log(JSON.stringify(result, null, 2));
