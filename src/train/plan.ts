// How long a run will take, and default settings sized to finish in a few minutes, from one
// measured training step and one measured validation batch on the backend the run will use.
// The default 300 steps × 40 s batches take hours on a CPU (issue 13); sized defaults do not.

export interface StepMeasurement {
  /** Milliseconds of one training step on a batch of `batchAudioSeconds` seconds of audio (after a warm-up step). */
  stepMs: number;
  batchAudioSeconds: number;
  /** Milliseconds of one whole validation pass (forward and decoding of every validation batch). */
  validationMs: number;
  /** Seconds of audio in the training split. */
  trainSeconds: number;
}

export interface RunLength {
  steps: number;
  batchSeconds: number;
  /** 0 = only at the start and the end. */
  evalEvery: number;
}

/** Validation passes of a run: the base model at step 0, every `evalEvery` steps before the last, and the end (as train/loop.ts does). */
export function validationPasses(r: Pick<RunLength, 'steps' | 'evalEvery'>): number {
  return 2 + (r.evalEvery > 0 ? Math.floor((r.steps - 1) / r.evalEvery) : 0);
}

/** Step time scales with the audio in a batch (a batch holds at most `trainSeconds` of it). */
export function stepMsAt(m: StepMeasurement, batchSeconds: number): number {
  const seconds = Math.min(batchSeconds, Math.max(m.trainSeconds, m.batchAudioSeconds));
  return (m.stepMs * seconds) / Math.max(1e-3, m.batchAudioSeconds);
}

export function estimateRunMs(m: StepMeasurement, r: RunLength): { totalMs: number; stepMs: number; passes: number } {
  const stepMs = stepMsAt(m, r.batchSeconds);
  const passes = validationPasses(r);
  return { totalMs: r.steps * stepMs + passes * m.validationMs, stepMs, passes };
}

export const TARGET_MS = 3 * 60_000;

/**
 * Settings that fit `targetMs`: batches of about a quarter of the training audio (4–40 s, so an epoch
 * is a few steps), as many steps as fit (10–300) after three validation passes, validating at a
 * third and two thirds of the run.
 */
export function sizeRun(m: StepMeasurement, targetMs = TARGET_MS): RunLength & { checkpointEvery: number } {
  const batchSeconds = Math.round(Math.min(40, Math.max(4, m.trainSeconds / 4)));
  const perStep = stepMsAt(m, batchSeconds);
  const budget = targetMs - 4 * m.validationMs;
  const steps = Math.round(Math.min(300, Math.max(10, budget / Math.max(1, perStep))));
  const evalEvery = Math.max(1, Math.ceil(steps / 3));
  return { steps, batchSeconds, evalEvery, checkpointEvery: Math.max(1, Math.ceil(steps / 6)) };
}
