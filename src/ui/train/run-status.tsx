import { etaMs, useApp } from '../../store/app-store';
import { duration } from '../format';

/** Status line, progress bar with ETA, skipped steps, the backend, and any message. */
export function RunStatus() {
  const run = useApp((s) => s.run);
  if (!run) return null;
  const fraction = run.totalSteps ? run.step / run.totalSteps : 0;
  return (
    <div className="run-status" data-testid="run-status" data-status={run.status} data-step={run.step} data-elapsed-ms={Math.round(run.elapsedMs)}>
      <p>
        <strong>{run.status}</strong> · step <span data-testid="run-step">{run.step}</span> / {run.totalSteps}
        {run.skipped > 0 && <> · {run.skipped} skipped (non-finite)</>}
        {run.checkpointStep !== undefined && <> · checkpoint at step <span data-testid="checkpoint-step">{run.checkpointStep}</span></>}
        {run.status === 'running' && <> · ETA {duration(etaMs(run))}</>}
      </p>
      <progress data-testid="train-progress" max={1} value={fraction} />
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
