import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from './app-store';
import { adoptRound, autoTrainDue, roundSettings, DEFAULT_AUTO_TRAIN } from './auto-train';

describe('training as takes arrive', () => {
  const on = { ...DEFAULT_AUTO_TRAIN, enabled: true, every: 3 };
  const idle = { trainTakes: 3, takesAtLastRound: 0, runActive: false, modelReady: true };

  it('a round is due after `every` new training takes, only when enabled, idle and with a model', () => {
    expect(autoTrainDue(on, idle)).toBe(true);
    expect(autoTrainDue(on, { ...idle, trainTakes: 2 })).toBe(false);
    expect(autoTrainDue(on, { ...idle, trainTakes: 5, takesAtLastRound: 3 })).toBe(false);
    expect(autoTrainDue(on, { ...idle, trainTakes: 6, takesAtLastRound: 3 })).toBe(true);
    expect(autoTrainDue({ ...on, enabled: false }, idle)).toBe(false);
    expect(autoTrainDue(on, { ...idle, runActive: true })).toBe(false);
    expect(autoTrainDue(on, { ...idle, modelReady: false })).toBe(false);
  });

  it('a round keeps the user settings but is short, evaluated and checkpointed', () => {
    const s = roundSettings({ ...DEFAULT_SETTINGS, warmupSteps: 50, peakLr: 2e-3 }, { ...on, steps: 40 });
    expect(s).toMatchObject({ length: { unit: 'steps', value: 40 }, warmupSteps: 10, evalEvery: 40, checkpointEvery: 20, peakLr: 2e-3, adapter: DEFAULT_SETTINGS.adapter });
  });

  it('the adapted model is adopted by the held-out rule (lower validation loss, WER and CER within the tolerance)', () => {
    expect(adoptRound({ wer: 0.5, cer: 0.3, utterances: 5, loss: 1.2 }, { wer: 0.4, cer: 0.2, utterances: 5, loss: 1.0 })).toMatchObject({ adopt: true, message: expect.stringMatching(/loss 1\.200 → 1\.000, WER 50\.0% → 40\.0%/) });
    expect(adoptRound({ wer: 0.5, cer: 0.3, utterances: 5, loss: 1.2 }, { wer: 0.4, cer: 0.2, utterances: 5, loss: 1.3 })).toMatchObject({ adopt: false, message: expect.stringMatching(/did not drop.*kept the current model/) });
    expect(adoptRound({ wer: 0.5, cer: 0.3, utterances: 5, loss: 1.2 }, { wer: 0.6, cer: 0.2, utterances: 5, loss: 1.0 })).toMatchObject({ adopt: false, message: expect.stringMatching(/worse, so kept the current model/) });
    // a record without the loss (before it was kept): WER no worse
    expect(adoptRound({ wer: 0.5, cer: 0.3, utterances: 5 }, { wer: 0.4, cer: 0.2, utterances: 5 })).toMatchObject({ adopt: true, message: expect.stringMatching(/50\.0% → 40\.0%/) });
    expect(adoptRound({ wer: 0.5, cer: 0.3, utterances: 5 }, { wer: 0.6, cer: 0.2, utterances: 5 })).toMatchObject({ adopt: false, message: expect.stringMatching(/kept the current model/) });
    expect(adoptRound(undefined, undefined).adopt).toBe(true);
    // too few held-out takes to tell: the current model stays, and the user is told why
    expect(adoptRound({ wer: 0.5, cer: 0.3, utterances: 2, loss: 1.2 }, { wer: 0.2, cer: 0.1, utterances: 2, loss: 0.6 })).toMatchObject({ adopt: false, message: expect.stringMatching(/on 2 held-out takes .*too little.*once 5 held-out takes.*current model stays/) });
    // a validation pass over no takes (the first rounds): the same, without scores to show
    expect(adoptRound({ wer: NaN, cer: NaN, utterances: 0 }, { wer: NaN, cer: NaN, utterances: 0 })).toMatchObject({ adopt: false, message: expect.stringMatching(/^No held-out takes yet to know .*current model stays/) });
  });
});
