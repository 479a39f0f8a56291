import { useApp } from '../../store/app-store';
import { pauseTraining, runActive, startTraining, stopTraining, unpauseTraining } from '../../store/train-actions';
import { RunStatus } from './run-status';
import { TrainCharts } from './train-charts';
import { TrainEstimate } from './train-estimate';
import { TrainSettingsForm } from './train-settings';

/** Settings, start/pause/resume/stop, the run's progress and its live charts. */
export function TrainPanel() {
  const run = useApp((s) => s.run);
  const ready = useApp((s) => s.modelStatus === 'ready');
  const chosen = useApp((s) => s.datasetIds.length);
  const active = runActive(run);
  return (
    <section aria-labelledby="train-heading">
      <h2 id="train-heading">Train</h2>
      <TrainSettingsForm disabled={!!active} />
      {!active && <TrainEstimate />}
      <div className="controls">
        <button type="button" data-testid="train-start" disabled={!!active || !ready || chosen === 0} onClick={() => void startTraining()}>
          Start training
        </button>
        {run?.status === 'running' && (
          <button type="button" data-testid="train-pause" onClick={() => void pauseTraining()}>
            Pause
          </button>
        )}
        {run?.status === 'paused' && (
          <button type="button" data-testid="train-resume" onClick={() => void unpauseTraining()}>
            Resume
          </button>
        )}
        {active && (
          <button type="button" data-testid="train-stop" onClick={() => void stopTraining()}>
            Stop
          </button>
        )}
        {!ready && <span> Load a model first (Model panel).</span>}
        {ready && chosen === 0 && <span> Choose at least one dataset.</span>}
      </div>
      <RunStatus />
      <TrainCharts />
    </section>
  );
}
