import { useEffect } from 'react';
import { useApp } from '../../store/app-store';
import { measureTraining, sizeSettings } from '../../store/plan-actions';
import { estimateRunMs, TARGET_MS } from '../../train/plan';
import { duration } from '../format';

const ms = (x: number) => (x < 1000 ? `${Math.round(x)} ms` : duration(x).replace(/^0 s$/, '1 s'));

/** Before a run: how long one step and one validation pass take here, and how long these settings will take. */
export function TrainEstimate() {
  const ready = useApp((s) => s.modelStatus === 'ready');
  const modelId = useApp((s) => s.modelId);
  const datasetKey = useApp((s) => s.datasetIds.join());
  const settings = useApp((s) => s.settings);
  const t = useApp((s) => s.trainEstimate);
  const running = useApp((s) => s.run?.status === 'running' || s.run?.status === 'preparing');
  useEffect(() => {
    if (ready && datasetKey && !running) void measureTraining();
  }, [ready, modelId, datasetKey, settings.backend, settings.adapter, running]);
  if (!datasetKey || !t) return null;
  if (t.status === 'measuring') return <p className="estimate muted" data-testid="train-estimate" role="status">Measuring one training step on this device, to say how long training will take…</p>;
  if (t.status === 'error' || !t.measured) return <p className="estimate muted" data-testid="train-estimate">The step time could not be measured ({t.message}).</p>;
  const m = t.measured;
  const epochSteps = Math.max(1, Math.ceil(m.trainSeconds / Math.max(1, settings.batchSeconds)));
  const steps = settings.length.unit === 'steps' ? settings.length.value : Math.max(1, Math.round(settings.length.value * epochSteps));
  const e = estimateRunMs(m, { steps, batchSeconds: settings.batchSeconds, evalEvery: settings.evalEvery });
  const sized = t.sized && t.sized.steps === steps && t.sized.batchSeconds === settings.batchSeconds && t.sized.evalEvery === settings.evalEvery;
  return (
    <div className="estimate" data-testid="train-estimate" role="status">
      <p>
        Measured here on {m.backend.toUpperCase()}: one step of {m.batchAudioSeconds.toFixed(1)} s of audio takes {ms(m.stepMs)}, a validation pass {ms(m.validationMs)}.
      </p>
      <p>
        <strong data-testid="train-estimate-total">These settings will take about {duration(e.totalMs)}</strong>: {steps} steps × ~{ms(e.stepMs)} + {e.passes} validation passes.
        {sized && ' Steps and batch size were sized from the measurement to finish in a few minutes.'}
      </p>
      {!sized && (
        <button type="button" className="secondary" onClick={sizeSettings}>
          Size for about {Math.round(TARGET_MS / 60_000)} minutes
        </button>
      )}
    </div>
  );
}
