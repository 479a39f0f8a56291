// Held-out adoption: every fifth take is kept out of training, and a fine-tuned model replaces the
// one it started from only if it is no worse on those takes, so personalization does not make a
// user worse than before. One rule for the app's rounds (src/store/auto-train.ts) and
// `earshot personalize`.
import type { Metrics } from './export';

/** Whether take `index` (0-based, in the order taken) is held out: every `every`-th one (0: none). */
export function isHeldOut(index: number, every: number): boolean {
  return every > 0 && index % every === every - 1;
}

/** Takes in order, split into those trained on and those held out (isHeldOut). */
export function splitHeldOut<T>(takes: readonly T[], every: number): { train: T[]; heldOut: T[] } {
  const train: T[] = [];
  const heldOut: T[] = [];
  takes.forEach((t, i) => (isHeldOut(i, every) ? heldOut : train).push(t));
  return { train, heldOut };
}

export type AdoptionReason = 'no-held-out' | 'no-worse' | 'worse';

/**
 * Adopt the adapted model when its held-out WER is no worse than the model it started from; with
 * no held-out takes there is nothing to decide on, so it is adopted as trained.
 */
export function adoptionVerdict(before: Metrics | undefined, after: Metrics | undefined): { adopt: boolean; reason: AdoptionReason } {
  if (!before || !after || before.utterances === 0) return { adopt: true, reason: 'no-held-out' };
  return after.wer <= before.wer ? { adopt: true, reason: 'no-worse' } : { adopt: false, reason: 'worse' };
}
