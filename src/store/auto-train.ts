// Keep fine-tuning as takes arrive: after every few accepted takes, a short round of training on
// "My recordings" starts from the current model; when the round is better than the model it started
// from on the validation takes (src/train/adoption.ts: lower loss, WER and CER not worse beyond a
// small tolerance), the result becomes the current model, so the next takes are
// transcribed (and the next round starts) with the adapted model. The decisions are pure functions.
import { ADOPTION_MIN_HELD_OUT, adoptionVerdict } from '../train/adoption';
import type { Metrics } from '../train/export';
import type { TrainSettings } from '../workers/train-db';

export interface AutoTrainConfig {
  enabled: boolean;
  /** A round starts once this many new training takes have been accepted since the last one. */
  every: number;
  /** Steps per round. */
  steps: number;
}

export const DEFAULT_AUTO_TRAIN: AutoTrainConfig = { enabled: false, every: 5, steps: 60 };

export interface AutoTrainState {
  /** Training takes in the recordings dataset now. */
  trainTakes: number;
  /** Training takes there were when the last round started. */
  takesAtLastRound: number;
  /** A run (any run) is preparing, running or paused. */
  runActive: boolean;
  modelReady: boolean;
}

export function autoTrainDue(c: AutoTrainConfig, s: AutoTrainState): boolean {
  return c.enabled && s.modelReady && !s.runActive && s.trainTakes - s.takesAtLastRound >= Math.max(1, c.every);
}

/** The round's settings: the user's, shortened to the round's steps, evaluated and checkpointed at its end. */
export function roundSettings(user: TrainSettings, c: AutoTrainConfig): TrainSettings {
  const steps = Math.max(1, Math.round(c.steps));
  return {
    ...user,
    length: { unit: 'steps', value: steps },
    warmupSteps: Math.min(user.warmupSteps, Math.floor(steps / 4)),
    evalEvery: steps,
    checkpointEvery: Math.max(1, Math.floor(steps / 2)),
  };
}

/** Whether a finished round's model replaces the current one (adoptionVerdict's rule), and what to tell the user. */
export function adoptRound(before: Metrics | undefined, after: Metrics | undefined): { adopt: boolean; message: string } {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const v = adoptionVerdict(before, after);
  if (v.reason === 'no-held-out') return { adopt: true, message: 'No validation takes yet (every fifth accepted take is held out), so the adapted model is used as trained.' };
  const b = before!;
  const a = after!;
  const scores = `WER ${pct(b.wer)} → ${pct(a.wer)}, CER ${pct(b.cer)} → ${pct(a.cer)}`;
  if (v.reason === 'too-few-held-out') {
    const n = Math.min(b.utterances, a.utterances);
    const seen = n === 0 ? 'No held-out takes yet' : `Validation on ${n} held-out take${n === 1 ? '' : 's'} (${scores}) is too little`;
    return {
      adopt: false,
      message: `${seen} to know the adapted model helps: a round's model is adopted once ${ADOPTION_MIN_HELD_OUT} held-out takes (every fifth accepted take) show it, so the current model stays. You can still pick the round's model under Model.`,
    };
  }
  const loss = b.loss !== undefined && a.loss !== undefined ? `loss ${b.loss.toFixed(3)} → ${a.loss.toFixed(3)}` : '';
  if (v.adopt) return { adopt: true, message: `Validation ${loss ? `${loss}, ` : ''}${scores}: now transcribing with the adapted model.` };
  if (v.reason === 'loss-not-lower') return { adopt: false, message: `Validation ${loss} did not drop (${scores}): kept the current model.` };
  return { adopt: false, message: `Validation ${scores}${loss ? ` (${loss})` : ''}: worse, so kept the current model.` };
}
