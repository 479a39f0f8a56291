// Times transcription (decode → 16 kHz → log-mel → model → greedy CTC decoding) with the app's
// Recognizer on any backend: shared by the browser harness (asr-bench.ts) and scripts/bench-asr.ts.
import type { LoadedModel } from '../../src/asr/model-dir';
import { Recognizer } from '../../src/asr/recognizer';
import type { Backend } from '../../src/runtime/types';

export interface TimedClip {
  name: string;
  seconds: number;
  bytes: Uint8Array;
}

export interface TranscriptionTiming {
  sessionCreateMs: number;
  /** The first clip once, untimed in the totals: compiles shaders / warms caches. */
  warmupMs: number;
  clipsTimed: number;
  audioSecondsTimed: number;
  totalMs: number;
  /** Text of the first timed clip (garbage for a random-weight model). */
  sampleText: string;
}

/** Stops timing further clips once `budgetMs` was spent (at least one clip is timed). */
export async function timeTranscription(backend: Backend, model: LoadedModel, clips: TimedClip[], budgetMs: number): Promise<TranscriptionTiming> {
  if (clips.length === 0) throw new Error('no clips to transcribe');
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
    if (totalMs > budgetMs) break;
  }
  await rec.release();
  return { sessionCreateMs, warmupMs, clipsTimed, audioSecondsTimed, totalMs, sampleText };
}
