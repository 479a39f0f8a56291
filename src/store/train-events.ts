// How the train worker's events fold into the store's run view and chart history: a pure function,
// so the charts' bookkeeping (skipped steps, downsampling, a new run replacing an old one) is tested
// without a worker.
import type { RunHistory } from '../workers/train-db';
import type { TrainEvent } from '../workers/train-protocol';
import type { RunView } from './app-store';

/** Charts stay responsive: past this many points a series keeps every other one of its older half. */
export const MAX_POINTS = 4000;

export function appendPoints(series: [number, number][], points: [number, number][], max = MAX_POINTS): [number, number][] {
  let out = series.concat(points);
  if (out.length > max) {
    const half = out.length >> 1;
    out = out.slice(0, half).filter((_, i) => i % 2 === 0).concat(out.slice(half));
  }
  return out;
}

export interface RunState {
  run?: RunView;
  history: RunHistory;
}

/** The store's next run view and history after one event (only the parts that change). */
export function foldTrainEvent(s: RunState, e: TrainEvent): Partial<RunState> {
  const run: RunView = s.run?.id === e.runId ? s.run : { id: e.runId, status: 'preparing', step: 0, totalSteps: 0, skipped: 0, elapsedMs: 0 };
  switch (e.type) {
    case 'status':
      return { run: { ...run, status: e.status, message: e.message, backend: e.backend ?? run.backend, totalSteps: e.totalSteps ?? run.totalSteps } };
    case 'steps': {
      const h = s.history;
      // a skipped (non-finite) step has no loss to plot, but its learning rate and throughput count
      const ok = e.points.filter((p) => !p.skipped);
      return {
        run: { ...run, step: e.step, totalSteps: e.totalSteps, skipped: e.skipped, elapsedMs: e.elapsedMs },
        history: {
          ...h,
          loss: appendPoints(h.loss, ok.map((p) => [p.step, p.loss])),
          lr: appendPoints(h.lr, e.points.map((p) => [p.step, p.lr])),
          throughput: appendPoints(h.throughput, e.points.map((p) => [p.step, p.throughput])),
        },
      };
    }
    case 'validating':
      return { run: { ...run, validation: { step: e.step, done: e.done, total: e.total } } };
    case 'eval': {
      const h = s.history;
      return { run: { ...run, validation: undefined }, history: { ...h, valLoss: [...h.valLoss, [e.step, e.valLoss]], wer: [...h.wer, [e.step, e.wer]], cer: [...h.cer, [e.step, e.cer]] } };
    }
    case 'checkpoint':
      return { run: { ...run, checkpointStep: e.step } };
  }
}
