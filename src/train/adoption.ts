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

/**
 * Fewest held-out takes a verdict is made on; with fewer, the model it started from stays. On
 * speechocean762/dev at n = 10 (two held-out takes per speaker) the rule adopted 13 of 25 speakers'
 * models and 5 of those were worse on the speaker's test takes by more than 3% (up to 17.5%): two
 * takes do not tell. At 10 held-out takes (n = 50) no personal_* speaker ended worse.
 */
export const ADOPTION_MIN_HELD_OUT = 5;

export type AdoptionReason =
  /** holding out is off (no held-out metrics at all): adopted as trained */
  | 'no-held-out'
  /** fewer than ADOPTION_MIN_HELD_OUT held-out takes: not enough to know, so not adopted */
  | 'too-few-held-out'
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
 * WER must be no worse. Fewer than `minHeldOut` held-out takes decide nothing: not adopted. With
 * holding out off (no metrics given) there is nothing to decide on: adopted as trained.
 */
export function adoptionVerdict(before: Metrics | undefined, after: Metrics | undefined, tolerance = ADOPTION_TOLERANCE, minHeldOut = ADOPTION_MIN_HELD_OUT): AdoptionVerdict {
  if (!before || !after) return { adopt: true, reason: 'no-held-out' };
  if (Math.min(before.utterances, after.utterances) < minHeldOut) return { adopt: false, reason: 'too-few-held-out' };
  if (!finite(before.loss) || !finite(after.loss)) return after.wer <= before.wer ? { adopt: true, reason: 'no-worse' } : { adopt: false, reason: 'worse' };
  if (!(after.loss < before.loss)) return { adopt: false, reason: 'loss-not-lower' };
  const within = (b: number, a: number) => a <= b * (1 + tolerance) + 1e-12;
  return within(before.wer, after.wer) && within(before.cer, after.cer) ? { adopt: true, reason: 'better' } : { adopt: false, reason: 'worse' };
}
