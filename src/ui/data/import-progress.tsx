import { cancelImport } from './data-actions';
import { selectProgress, useDataStore } from './data-store';

/** Progress bar, throughput and a cancel button for the running import. */
export function ImportProgress() {
  const p = useDataStore(selectProgress);
  if (!p) return null;
  const seconds = p.elapsedMs / 1000;
  const filesPerSec = seconds > 0 ? p.done / seconds : 0;
  const realTime = seconds > 0 ? p.audioSeconds / seconds : 0;
  return (
    <div className="import-progress" data-testid="import-progress">
      <div>
        Importing <strong>{p.label}</strong>: {p.phase} {p.done} / {p.total}
      </div>
      <progress max={Math.max(1, p.total)} value={p.done} style={{ width: '100%' }} />
      <div>
        {filesPerSec.toFixed(0)} files/s · {realTime.toFixed(0)} s of audio per second
        <button type="button" onClick={cancelImport} style={{ marginLeft: 12 }}>
          Cancel
        </button>
      </div>
    </div>
  );
}
