import { describe, expect, it } from 'vitest';
import { emptyHistory } from '../workers/train-db';
import type { StepPoint, TrainEvent } from '../workers/train-protocol';
import { appendPoints, foldTrainEvent, type RunState } from './train-events';

const point = (step: number, skipped = false): StepPoint => ({ step, loss: 10 - step / 10, lr: step * 1e-4, throughput: 5, skipped });
const apply = (s: RunState, ...events: TrainEvent[]) => events.reduce<RunState>((acc, e) => ({ ...acc, ...foldTrainEvent(acc, e) }), s);

describe('train events → run view and chart history', () => {
  it('plots steps, leaves skipped steps off the loss chart but counts them, and records evaluations and checkpoints', () => {
    const s = apply(
      { history: emptyHistory() },
      { type: 'status', runId: 'r1', status: 'running', backend: 'webgpu: SwiftShader', totalSteps: 100 },
      { type: 'steps', runId: 'r1', points: [point(1), point(2, true), point(3)], step: 3, totalSteps: 100, skipped: 1, elapsedMs: 3000, epoch: 1 },
      { type: 'eval', runId: 'r1', step: 3, valLoss: 2.5, wer: 0.8, cer: 0.4 },
      { type: 'checkpoint', runId: 'r1', step: 3 },
    );
    expect(s.run).toMatchObject({ id: 'r1', status: 'running', backend: 'webgpu: SwiftShader', step: 3, totalSteps: 100, skipped: 1, checkpointStep: 3 });
    expect(s.history.loss.map((p) => p[0])).toEqual([1, 3]);
    expect(s.history.lr.map((p) => p[0])).toEqual([1, 2, 3]);
    expect(s.history.wer).toEqual([[3, 0.8]]);
    expect(s.history.cer).toEqual([[3, 0.4]]);
    expect(s.history.valLoss).toEqual([[3, 2.5]]);
  });

  it('a status without a backend keeps the one shown; an event of another run starts a fresh view', () => {
    let s = apply({ history: emptyHistory() }, { type: 'status', runId: 'r1', status: 'running', backend: 'wasm', totalSteps: 10 }, { type: 'status', runId: 'r1', status: 'paused' });
    expect(s.run).toMatchObject({ status: 'paused', backend: 'wasm', totalSteps: 10 });
    s = apply(s, { type: 'status', runId: 'r2', status: 'running' });
    expect(s.run).toEqual({ id: 'r2', status: 'running', message: undefined, backend: undefined, step: 0, totalSteps: 0, skipped: 0, elapsedMs: 0 });
  });

  it('long runs are thinned in their older half only, in order, with the newest points intact', () => {
    let series: [number, number][] = [];
    for (let i = 0; i < 100; i++) series = appendPoints(series, [[i, i]], 40);
    expect(series.length).toBeLessThanOrEqual(40);
    const steps = series.map((p) => p[0]);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps.at(-1)).toBe(99);
    expect(steps.slice(-10)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect(steps[0]).toBe(0);
  });

  it('shows the first validation pass as its own progress until its scores arrive (issue 13)', () => {
    const started = apply({ history: emptyHistory() }, { type: 'status', runId: 'r1', status: 'running', totalSteps: 30 });
    const mid = apply(started, { type: 'validating', runId: 'r1', step: 0, done: 0, total: 5 }, { type: 'validating', runId: 'r1', step: 0, done: 2, total: 5 });
    expect(mid.run?.validation).toEqual({ step: 0, done: 2, total: 5 });
    const scored = apply(mid, { type: 'eval', runId: 'r1', step: 0, valLoss: 3, wer: 1, cer: 0.9 });
    expect(scored.run?.validation).toBeUndefined();
    expect(scored.history.wer).toEqual([[0, 1]]);
  });
});
