import { useEffect, useState, type DragEvent } from 'react';
import { groupsFromDrop, groupsFromInput } from './collect-files';
import { importGroups, refreshDatasets } from './data-actions';
import { selectBusy, selectError, selectReports, useDataStore } from './data-store';
import { takeFiles } from '../file-input';
import { DatasetList } from './dataset-list';
import { ImportProgress } from './import-progress';
import { ImportReportView } from './import-report';

const FORMATS = 'NeMo JSONL, Hugging Face audiofolder, LJSpeech, Common Voice, LibriSpeech, Kaldi, or audio + .txt/.lab pairs';

/** Import datasets by drag-and-drop or file picker; see what was kept and why the rest was not. */
export function DataPanel() {
  const busy = useDataStore(selectBusy);
  const reports = useDataStore(selectReports);
  const error = useDataStore(selectError);
  const [over, setOver] = useState(false);

  useEffect(() => {
    void refreshDatasets();
  }, []);

  const onDrop = (e: DragEvent<HTMLDivElement>) => {
    e.preventDefault();
    setOver(false);
    // groupsFromDrop reads the entries before returning: the DataTransfer empties after this handler.
    void groupsFromDrop(e.dataTransfer).then(importGroups);
  };

  return (
    <section className="data-panel" aria-labelledby="data-heading">
      <h2 id="data-heading">Data</h2>
      <div
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        style={{ border: `2px dashed ${over ? '#36c' : '#999'}`, padding: 24, borderRadius: 8, textAlign: 'center' }}
      >
        <p>Drop dataset folders or .zip files here ({FORMATS}).</p>
        <label>
          Choose files or zips{' '}
          <input type="file" multiple disabled={busy} onChange={(e) => void importGroups(groupsFromInput(takeFiles(e.target)))} />
        </label>{' '}
        <label>
          Choose a folder{' '}
          <input
            type="file"
            disabled={busy}
            ref={(el) => el?.setAttribute('webkitdirectory', '')}
            onChange={(e) => void importGroups(groupsFromInput(takeFiles(e.target)))}
          />
        </label>
      </div>
      <ImportProgress />
      {error && (
        <p role="alert" data-testid="data-error">
          {error}
        </p>
      )}
      {reports.map((r, i) => (
        <ImportReportView key={i} report={r} />
      ))}
      <DatasetList />
    </section>
  );
}
