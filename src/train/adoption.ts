// Held-out adoption: every fifth take is kept out of training, and a fine-tuned model replaces the
// one it started from only if it is better on those takes, so personalization does not make a user
// worse than before. One rule for the app's rounds (src/store/auto-train.ts) and
// `earshot personalize`; it sees only the held-out takes' metrics, never a test set.
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

/**
 * How much worse (relative) the held-out WER and CER may get when the held-out loss says the model
 * improved. Ten held-out takes hold about 200 words, so one word is 0.5% absolute, 1% relative at
 * 50% WER: a strict "no worse" rejected adaptations over one or two words of decoding noise.
 */
export const ADOPTION_TOLERANCE = 0.03;

export type AdoptionReason =
  /** nothing held out: adopted as trained */
  | 'no-held-out'
  /** held-out loss lower, WER and CER within the tolerance */
  | 'better'
  /** no loss measured (an older record): held-out WER no worse */
  | 'no-worse'
  /** held-out loss not lower */
  | 'loss-not-lower'
  /** held-out WER or CER worse (beyond the tolerance when the loss is measured) */
  | 'worse';

export interface AdoptionVerdict {
  adopt: boolean;
  reason: AdoptionReason;
}

const finite = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);

/**
 * Adopt the adapted model when, on the held-out takes, its mean per-token CTC loss is lower than the
 * model it started from (a measure over every frame of every take, far less coarse than ten takes'
 * WER) and neither its WER nor its CER (decoded as the model decodes, LM included) is worse by more
 * than ADOPTION_TOLERANCE relative. Without a measured loss (records from before it was kept), the
 * WER must be no worse. With no held-out takes there is nothing to decide on: adopted as trained.
 */
export function adoptionVerdict(before: Metrics | undefined, after: Metrics | undefined, tolerance = ADOPTION_TOLERANCE): AdoptionVerdict {
  if (!before || !after || before.utterances === 0 || after.utterances === 0) return { adopt: true, reason: 'no-held-out' };
  if (!finite(before.loss) || !finite(after.loss)) return after.wer <= before.wer ? { adopt: true, reason: 'no-worse' } : { adopt: false, reason: 'worse' };
  if (!(after.loss < before.loss)) return { adopt: false, reason: 'loss-not-lower' };
  const within = (b: number, a: number) => a <= b * (1 + tolerance) + 1e-12;
  return within(before.wer, after.wer) && within(before.cer, after.cer) ? { adopt: true, reason: 'better' } : { adopt: false, reason: 'worse' };
}
