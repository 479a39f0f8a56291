import { describe, expect, it } from 'vitest';
import { estimateRunMs, sizeRun, validationPasses, type StepMeasurement } from './plan';

// headless Chromium on 2 CPU cores, WASM, the shipped base model (issue 13's figures: ~0.4 s per step of ~10 s of audio)
const cpu: StepMeasurement = { stepMs: 400, batchAudioSeconds: 10, validationMs: 4000, trainSeconds: 37 };

describe('run plan', () => {
  it('counts validation passes as the loop runs them: step 0, every N steps before the end, and the end', () => {
    expect(validationPasses({ steps: 30, evalEvery: 10 })).toBe(4);
    expect(validationPasses({ steps: 31, evalEvery: 10 })).toBe(5);
    expect(validationPasses({ steps: 300, evalEvery: 0 })).toBe(2);
  });

  it('the old defaults (300 steps × 40 s batches, validating every 50) take far longer than a few minutes on a CPU', () => {
    const big = { ...cpu, trainSeconds: 2000 };
    expect(estimateRunMs(big, { steps: 300, batchSeconds: 40, evalEvery: 50 }).totalMs).toBeGreaterThan(8 * 60_000);
  });

  it('sized defaults end within about three minutes, with the measured step time', () => {
    for (const m of [cpu, { ...cpu, trainSeconds: 2000 }, { ...cpu, stepMs: 40 }, { ...cpu, stepMs: 3000, validationMs: 20_000 }]) {
      const r = sizeRun(m);
      const { totalMs } = estimateRunMs(m, r);
      expect(r.steps).toBeGreaterThanOrEqual(10);
      expect(r.steps).toBeLessThanOrEqual(300);
      expect(Number.isInteger(r.steps) && Number.isInteger(r.batchSeconds)).toBe(true);
      if (r.steps > 10) expect(totalMs).toBeLessThanOrEqual(3.2 * 60_000);
      expect(totalMs).toBeLessThanOrEqual(6 * 60_000);
    }
    // a small dataset gets small batches (a few steps per epoch), a large one at most 40 s
    expect(sizeRun(cpu).batchSeconds).toBe(9);
    expect(sizeRun({ ...cpu, trainSeconds: 2000 }).batchSeconds).toBe(40);
  });
});
