// Times transcription in the page (decode → 16 kHz → log-mel → model → greedy CTC decoding) and
// the end of a take (take-timing.ts) with the app's Recognizer on onnxruntime-web's WASM or WebGPU
// backend, for scripts/bench-asr.ts (window.asrBench). The model files and the audio arrive as
// base64 from the benchmark script.
import { describeDecoding, GREEDY } from '../../src/asr/decode';
import { readModelDir } from '../../src/asr/model-dir';
import { timeTranscription, type TranscriptionTiming } from './asr-timing';
import { timeTakeLatency, type TakeTiming } from './take-timing';
import { wasmBackend, webGpuBackend } from '../../src/runtime/web';

export interface AsrBenchClip {
  name: string;
  seconds: number;
  /** The audio file's bytes, base64. */
  base64: string;
}

export interface AsrBenchRequest {
  backend: 'wasm' | 'webgpu';
  threads: number;
  /** model.onnx, config.json, tokens.txt, README.md as base64. */
  modelFiles: Record<string, string>;
  /** Clips to transcribe; none: transcription is not timed. */
  clips: AsrBenchClip[];
  /** Stop timing further clips once this much time was spent (at least one clip is timed). */
  budgetMs: number;
  /** The take whose end is timed: 16 kHz mono float32 samples as base64; greedy, then the model's own decoding unless greedyOnly. */
  take?: { samplesBase64: string; repeats: number; greedyOnly: boolean; realTime: boolean };
}

export interface AsrBenchResult {
  backend: string;
  device: string;
  softwareAdapter?: boolean;
  crossOriginIsolated: boolean;
  transcription?: TranscriptionTiming;
  take?: TakeTiming;
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function isSoftwareAdapter(): Promise<boolean> {
  type Adapter = { isFallbackAdapter?: boolean; info?: { isFallbackAdapter?: boolean; vendor?: string } };
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<Adapter | null> } }).gpu;
  const a = await gpu?.requestAdapter();
  // SwiftShader (headless Chromium without a GPU) reports itself as a fallback adapter, vendor "google".
  return !a || a.isFallbackAdapter === true || a.info?.isFallbackAdapter === true || a.info?.vendor === 'google';
}

async function run(req: AsrBenchRequest): Promise<AsrBenchResult> {
  const files: Record<string, Uint8Array> = {};
  for (const [name, b64] of Object.entries(req.modelFiles)) files[name] = fromBase64(b64);
  const model = readModelDir(files);
  const clips = req.clips.map((c) => ({ name: c.name, seconds: c.seconds, bytes: fromBase64(c.base64) }));
  const backend = req.backend === 'webgpu' ? await webGpuBackend({ threads: req.threads }) : wasmBackend({ threads: req.threads }, 'requested by the benchmark');
  const softwareAdapter = req.backend === 'webgpu' ? await isSoftwareAdapter() : undefined;
  const transcription = clips.length ? await timeTranscription(backend, model, clips, req.budgetMs) : undefined;
  let take: TakeTiming | undefined;
  if (req.take) {
    const bytes = fromBase64(req.take.samplesBase64);
    const samples = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const decodings = [{ name: 'greedy', decoding: GREEDY }];
    if (!req.take.greedyOnly) decodings.push({ name: describeDecoding(model.decoding), decoding: model.decoding });
    take = await timeTakeLatency(backend, model, samples, decodings, req.take.repeats, req.take.realTime);
  }
  return {
    backend: backend.info.name,
    device: backend.info.device,
    softwareAdapter,
    crossOriginIsolated: typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated,
    transcription,
    take,
  };
}

(window as unknown as { asrBench: unknown }).asrBench = { run };
document.getElementById('status')!.textContent = 'ready';
