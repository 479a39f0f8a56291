import { BACKEND_LABEL } from '../../runtime/backend-choice';
import { useApp } from '../../store/app-store';
import { setBackendPreference } from '../../store/backend-actions';
import type { BackendPreference } from '../../workers/backend-select';
import { BackendOptions } from '../choices';

/** The backend running the current model, why it was chosen (measured, or the user's choice), and the override. */
export function BackendLine() {
  const backend = useApp((s) => s.backend);
  const pref = useApp((s) => s.backendPreference);
  const choice = backend?.choice;
  return (
    <div className="backend-line">
      <p data-testid="model-backend" data-backend={backend?.name} data-how={choice?.how}>
        {backend ? (
          <>
            <strong>{BACKEND_LABEL[backend.name as keyof typeof BACKEND_LABEL] ?? backend.name}</strong> — {backend.device}
          </>
        ) : (
          'choosing a backend (a short timed run on each)…'
        )}
      </p>
      {choice && backend?.name === 'webgpu' && (
        <p className="hint" data-testid="model-backend-why">
          Why: {choice.reason}
        </p>
      )}
      <label>
        Run on{' '}
        <select data-testid="backend-preference" value={pref} onChange={(e) => void setBackendPreference(e.target.value as BackendPreference)}>
          <BackendOptions />
        </select>
      </label>
    </div>
  );
}
