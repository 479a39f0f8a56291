// A short timed run of a model on one backend: one warm-up run (the first run compiles shaders and
// allocates), then the median of a few timed ones, on a fixed input of synthetic features.
import type { Backend } from './types';

/** Seconds of audio one measurement run covers (100 feature frames at 10 ms). */
export const MEASURE_AUDIO_SECONDS = 1;

/** Deterministic stand-in features, roughly the scale of normalized log-mels. */
export function measureFeatures(frames: number, nMels: number): Float32Array {
  const x = new Float32Array(frames * nMels);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    x[i] = ((s >>> 8) / 0x1000000) * 4 - 2;
  }
  return x;
}

/** Median milliseconds of a forward pass of `model` (input `features` [1, frames, nMels]) on `backend`. */
export async function timeForward(backend: Backend, model: Uint8Array, nMels: number, o: { frames?: number; runs?: number; now?: () => number } = {}): Promise<number> {
  const frames = o.frames ?? MEASURE_AUDIO_SECONDS * 100;
  const now = o.now ?? (() => performance.now());
  const session = await backend.createSession(model);
  try {
    const feeds = { features: { dtype: 'float32' as const, dims: [1, frames, nMels], data: measureFeatures(frames, nMels) } };
    await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < (o.runs ?? 2); i++) {
      const t0 = now();
      await session.run(feeds);
      times.push(now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[(times.length - 1) >> 1];
  } finally {
    await session.release();
  }
}
