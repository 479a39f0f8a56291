// Times transcription in the page (decode → 16 kHz → log-mel → model → greedy CTC decoding) with
// the app's Recognizer on onnxruntime-web's WASM or WebGPU backend, for scripts/bench-asr.ts
// (window.asrBench). The model files and the audio arrive as base64 from the benchmark script.
import { readModelDir } from '../../src/asr/model-dir';
import { Recognizer } from '../../src/asr/recognizer';
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
  clips: AsrBenchClip[];
  /** Stop timing further clips once this much time was spent (at least one clip is timed). */
  budgetMs: number;
}

export interface AsrBenchResult {
  backend: string;
  device: string;
  softwareAdapter?: boolean;
  crossOriginIsolated: boolean;
  sessionCreateMs: number;
  /** The first clip once, untimed in the totals: compiles shaders / warms caches. */
  warmupMs: number;
  clipsTimed: number;
  audioSecondsTimed: number;
  totalMs: number;
  /** Text of the first timed clip (garbage for a random-weight model). */
  sampleText: string;
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
  if (clips.length === 0) throw new Error('no clips to transcribe');

  const backend = req.backend === 'webgpu' ? await webGpuBackend({ threads: req.threads }) : wasmBackend({ threads: req.threads }, 'requested by the benchmark');
  const softwareAdapter = req.backend === 'webgpu' ? await isSoftwareAdapter() : undefined;
  let t = performance.now();
  const rec = await Recognizer.create(backend, model);
  const sessionCreateMs = performance.now() - t;

  t = performance.now();
  await rec.transcribeFile(clips[0].bytes, clips[0].name);
  const warmupMs = performance.now() - t;

  let totalMs = 0;
  let audioSecondsTimed = 0;
  let clipsTimed = 0;
  let sampleText = '';
  for (const c of clips) {
    const s = performance.now();
    const text = await rec.transcribeFile(c.bytes, c.name);
    totalMs += performance.now() - s;
    if (clipsTimed === 0) sampleText = text;
    audioSecondsTimed += c.seconds;
    clipsTimed++;
    if (totalMs > req.budgetMs) break;
  }
  await rec.release();
  return {
    backend: backend.info.name,
    device: backend.info.device,
    softwareAdapter,
    crossOriginIsolated: typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated,
    sessionCreateMs,
    warmupMs,
    clipsTimed,
    audioSecondsTimed,
    totalMs,
    sampleText,
  };
}

(window as unknown as { asrBench: unknown }).asrBench = { run };
document.getElementById('status')!.textContent = 'ready';
