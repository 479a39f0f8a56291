import { useApp } from '../../store/app-store';
import { resumeRun } from '../../store/train-actions';

/** Offers to continue a run that a reload, a pause or a failure interrupted. */
export function ResumeBanner() {
  const r = useApp((s) => s.resumable);
  if (!r) return null;
  const why = r.status === 'failed' ? 'stopped with an error' : r.status === 'paused' ? 'was paused' : 'was interrupted (the tab was closed or reloaded)';
  return (
    <aside className="banner" role="status" data-testid="resume-banner">
      <p>
        A training run {why} at step {r.step} of {r.totalSteps}. Its last checkpoint is step {r.checkpointStep}.
      </p>
      {r.message && <p className="problems">{r.message}</p>}
      <button type="button" data-testid="resume-run" onClick={() => void resumeRun(r.id)}>
        Resume from step {r.checkpointStep}
      </button>{' '}
      <button type="button" data-testid="resume-run-wasm" onClick={() => void resumeRun(r.id, 'wasm')}>
        Resume on WASM (CPU)
      </button>{' '}
      <button type="button" onClick={() => useApp.setState({ resumable: undefined })}>
        Dismiss
      </button>
    </aside>
  );
}
