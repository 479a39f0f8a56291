import { formatBytes, formatDuration } from '../../data/limits';
import { computeFeatures, deleteDataset, exportDataset } from './data-actions';
import { plural } from '../format';
import { ImportReportView } from './import-report';
import { SplitControls } from './split-controls';
import { selectBusy, selectDatasets, selectFeatures, selectStorage, useDataStore } from './data-store';

/** Stored datasets with their size, and the origin's storage use. */
export function DatasetList() {
  const datasets = useDataStore(selectDatasets);
  const storage = useDataStore(selectStorage);
  const features = useDataStore(selectFeatures);
  const busy = useDataStore(selectBusy);
  return (
    <section>
      <h3>Stored datasets</h3>
      {datasets.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <ul data-testid="dataset-list">
          {datasets.map((d) => (
            <li key={d.id} data-testid="dataset" data-name={d.name} data-utterances={d.utterances}>
              <strong>{d.name}</strong> · {plural(d.utterances, 'utterance')} · {formatDuration(d.audioSeconds)} · {formatBytes(d.audioBytes)}
              {d.report ? ` · ${d.report.formatName}` : ''}{' '}
              <button type="button" disabled={busy} onClick={() => void computeFeatures(d.id)} title="Log-mel features for every utterance, cached in IndexedDB so training does not recompute them">
                Compute features
              </button>{' '}
              <button type="button" onClick={() => void exportDataset(d.id)}>
                Export zip
              </button>{' '}
              <button type="button" onClick={() => void deleteDataset(d.id)}>
                Delete
              </button>
              <div>
                <SplitControls dataset={d} />
              </div>
              {d.report && (
                <details>
                  <summary>Import report</summary>
                  <ImportReportView report={d.report} testId="dataset-report" />
                </details>
              )}
              {features[d.id] && (
                <div data-testid="features-result" data-rtf={features[d.id].realTimeFactor} data-hits={features[d.id].cacheHits} data-wall-ms={Math.round(features[d.id].wallMs)}>
                  Features ready: {plural(features[d.id].utterances, 'utterance')}
                  {features[d.id].cacheHits < features[d.id].utterances ? `, computed at ${features[d.id].realTimeFactor.toFixed(0)}× real time` : ''}
                  {features[d.id].cacheHits > 0 ? `, ${features[d.id].cacheHits} from the cache` : ''}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {storage && (
        <p data-testid="storage-usage">
          {storage.usage !== undefined && storage.quota !== undefined
            ? `Storage: ${formatBytes(storage.usage)} of ${formatBytes(storage.quota)} used`
            : 'Storage use unknown'}
          {storage.featureCacheBytes > 0 ? ` (feature cache ${formatBytes(storage.featureCacheBytes)})` : ''}
          {storage.persisted === true ? ' · persistent' : storage.persisted === false ? ' · may be evicted under storage pressure' : ''}
        </p>
      )}
    </section>
  );
}
