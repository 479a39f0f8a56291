// Times the end of a take: from the moment a recording stops to its transcript, as the app does it
// (src/workers/asr.worker.ts startTake/pushTake/finishTake): the take's audio went to a
// LogMelStream in 100 ms chunks while it was recorded; at the stop the last chunk arrives, the
// stream computes the rows left and normalises, the warm session runs the model, and the logits are
// decoded. Shared by the browser harness (asr-bench.ts) and scripts/bench-asr.ts (Node).
//
// The take is recorded in real time (a chunk every 100 ms, as the microphone delivers them), so
// the stop finds the session as the app's does: idle for the length of the take, its threads
// asleep, its caches cold (`realTime: false` pushes the chunks back to back, for quick checks).
// For comparison it also times the path the app took before (the whole clip's log-mel at the stop,
// then the same model run and decoding) right after each streamed take, i.e. warm, which flatters
// it; and it checks that both give the same features and text.
import type { Decoding } from '../../src/asr/decode';
import type { LoadedModel } from '../../src/asr/model-dir';
import { Recognizer } from '../../src/asr/recognizer';
import type { Backend } from '../../src/runtime/types';

/** One take's phases after the stop, in milliseconds. */
export interface TakePhases {
  /** Streaming: the last 100 ms chunk, the rows left and the normalisation. Whole clip: the log-mel of all of it. */
  featuresMs: number;
  modelMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface TakeLatency {
  decoding: string;
  /** Median over the repeats of each phase and of the total (the total's median, not the sum of medians). */
  streaming: TakePhases;
  wholeClip: TakePhases;
  /** Every repeat's streaming total, in order. */
  streamingTotalsMs: number[];
  text: string;
  /** The streamed take gave the same text as the whole clip, in every repeat. */
  sameText: boolean;
}

export interface TakeTiming {
  takeSeconds: number;
  chunks: number;
  sessionCreateMs: number;
  /** Recognizer.warmUp, which the app runs when a model loads (src/workers/asr.worker.ts). */
  warmUpMs: number;
  /** The first take after the warm-up (streaming, the model's own decoding): what the user's first take costs. */
  firstTake: TakePhases;
  /** While recording: milliseconds of feature work per 100 ms chunk (median), i.e. the share of one core it takes. */
  perChunkMs: number;
  /** Largest |Δ| between the streamed features and logMel of the whole clip. */
  featuresMaxAbsDiff: number;
  repeats: number;
  /** Whether the chunks came at the microphone's pace (100 ms apart) or back to back. */
  realTime: boolean;
  results: TakeLatency[];
}

const CHUNK = 1600; // the recorder's 100 ms at 16 kHz (src/ui/record/capture.worklet.ts)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function medianPhases(ps: TakePhases[]): TakePhases {
  return {
    featuresMs: median(ps.map((p) => p.featuresMs)),
    modelMs: median(ps.map((p) => p.modelMs)),
    decodeMs: median(ps.map((p) => p.decodeMs)),
    totalMs: median(ps.map((p) => p.totalMs)),
  };
}

/**
 * `samples`: the take, 16 kHz mono. `decodings`: named decodings to time (greedy, the model's
 * beam search with its LM). Each repeat times the streaming path and the whole-clip path once per decoding.
 */
export async function timeTakeLatency(
  backend: Backend,
  model: LoadedModel,
  samples: Float32Array,
  decodings: { name: string; decoding: Decoding }[],
  repeats: number,
  realTime = true,
): Promise<TakeTiming> {
  const chunks: Float32Array[] = [];
  for (let at = 0; at < samples.length; at += CHUNK) chunks.push(samples.slice(at, at + CHUNK));
  const now = () => performance.now();

  let t = now();
  const rec = await Recognizer.create(backend, model);
  const sessionCreateMs = now() - t;
  t = now();
  await rec.warmUp();
  const warmUpMs = now() - t;

  const chunkMs: number[] = [];
  /** One take, streamed: returns the phases after the stop and the text. */
  const streamed = async (decoding: Decoding) => {
    const stream = rec.featureStream(samples.length / model.config.frontEnd.sampleRate);
    const start = now();
    for (let i = 0; i < chunks.length - 1; i++) {
      // chunk i arrives when its last sample has been recorded
      if (realTime) await sleep(start + ((i + 1) * CHUNK * 1000) / model.config.frontEnd.sampleRate - now());
      const c = now();
      stream.push(chunks[i]);
      chunkMs.push(now() - c);
    }
    if (realTime) await sleep(start + (samples.length * 1000) / model.config.frontEnd.sampleRate - now());
    const t0 = now(); // the stop: the last chunk is still to come
    stream.push(chunks[chunks.length - 1]);
    return modelAndDecode(t0, stream.finish(), decoding);
  };
  const whole = async (decoding: Decoding) => {
    const t0 = now();
    return modelAndDecode(t0, rec.features(samples), decoding);
  };
  /** The rest of a take once its features `f` are ready (their phase began at `t0`). */
  const modelAndDecode = async (t0: number, f: ReturnType<typeof rec.features>, decoding: Decoding) => {
    const t1 = now();
    const logits = await rec.logitsOf(f);
    const t2 = now();
    const text = rec.decode(logits, { decoding });
    const t3 = now();
    return { phases: { featuresMs: t1 - t0, modelMs: t2 - t1, decodeMs: t3 - t2, totalMs: t3 - t0 }, text, features: f };
  };

  try {
    const first = await streamed(model.decoding);
    const reference = await whole(model.decoding);
    let featuresMaxAbsDiff = 0;
    for (let i = 0; i < reference.features.data.length; i++) featuresMaxAbsDiff = Math.max(featuresMaxAbsDiff, Math.abs(reference.features.data[i] - first.features.data[i]));
    if (first.features.frames !== reference.features.frames) featuresMaxAbsDiff = Infinity;

    const results: TakeLatency[] = [];
    for (const { name, decoding } of decodings) {
      const s: TakePhases[] = [];
      const w: TakePhases[] = [];
      let sameText = true;
      let text = '';
      for (let r = 0; r < repeats; r++) {
        const st = await streamed(decoding);
        const wh = await whole(decoding);
        s.push(st.phases);
        w.push(wh.phases);
        sameText &&= st.text === wh.text;
        text = st.text;
      }
      results.push({ decoding: name, streaming: medianPhases(s), wholeClip: medianPhases(w), streamingTotalsMs: s.map((p) => p.totalMs), text, sameText });
    }
    return {
      takeSeconds: samples.length / model.config.frontEnd.sampleRate,
      chunks: chunks.length,
      sessionCreateMs,
      warmUpMs,
      firstTake: first.phases,
      perChunkMs: median(chunkMs),
      featuresMaxAbsDiff,
      repeats,
      realTime,
      results,
    };
  } finally {
    await rec.release();
  }
}
