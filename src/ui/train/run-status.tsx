import { etaMs, useApp } from '../../store/app-store';
import { duration } from '../format';

/** Status line, progress bar with ETA, the validation pass in progress, skipped steps, the backend, and any message. */
export function RunStatus() {
  const run = useApp((s) => s.run);
  if (!run) return null;
  const fraction = run.totalSteps ? run.step / run.totalSteps : 0;
  const v = run.validation;
  // shown until the pass's scores arrive (the 'eval' event clears it)
  const validating = v && (run.status === 'running' || run.status === 'preparing');
  return (
    <div className="run-status" data-testid="run-status" data-status={run.status} data-step={run.step} data-elapsed-ms={Math.round(run.elapsedMs)}>
      <p>
        <strong className={`status status-${run.status}`}>{run.status}</strong> · step <span data-testid="run-step">{run.step}</span> / {run.totalSteps}
        {run.skipped > 0 && <> · {run.skipped} skipped (non-finite)</>}
        {run.checkpointStep !== undefined && <> · checkpoint at step <span data-testid="checkpoint-step">{run.checkpointStep}</span></>}
        {run.status === 'running' && (run.step > 0 ? <> · ETA {duration(etaMs(run))}</> : !validating && <> · ETA after the first steps</>)}
      </p>
      <progress data-testid="train-progress" aria-label="Training steps" max={1} value={fraction} />
      {validating && (
        <div className="validation-progress" data-testid="validation-progress">
          <p>
            {v.step === 0 ? 'Scoring the base model on the validation split before training' : `Validating at step ${v.step}`}: {v.done} of {v.total} batches
          </p>
          <progress aria-label="Validation pass" max={Math.max(1, v.total)} value={v.done} />
        </div>
      )}
      {run.backend && (
        <p data-testid="train-backend" className="muted">
          Training on {run.backend}
        </p>
      )}
      {run.message && (
        <p role="alert" className="problems" data-testid="train-message">
          {run.message}
        </p>
      )}
      {run.resultModelId && <p data-testid="train-result">The fine-tuned model is stored: evaluate or export it.</p>}
    </div>
  );
}
