import { useEffect, type ReactNode } from 'react';
import { selectPanel, useApp, type PanelId } from '../store/app-store';
import { loadAutoTrain } from '../store/auto-train-actions';
import { initModel } from '../store/model-actions';
import { loadProgress } from '../store/progress-actions';
import { loadTakes } from '../store/record-actions';
import { checkResumable } from '../store/train-actions';
import { refreshDatasets } from './data/data-actions';
import { DataPanel } from './data/data-panel';
import { EvaluatePanel } from './evaluate/evaluate-panel';
import { ExportPanel } from './export/export-panel';
import { ModelPanel } from './model/model-panel';
import { RecordPanel } from './record/record-panel';
import { ResumeBanner } from './train/resume-banner';
import { TrainPanel } from './train/train-panel';
import { UtteranceBrowser } from './utterances/utterance-browser';

const PANELS: { id: PanelId; label: string; render: () => ReactNode }[] = [
  { id: 'model', label: 'Model', render: () => <ModelPanel /> },
  {
    id: 'data',
    label: 'Data',
    render: () => (
      <>
        <DataPanel />
        <UtteranceBrowser />
      </>
    ),
  },
  { id: 'record', label: 'Record & correct', render: () => <RecordPanel /> },
  { id: 'train', label: 'Train', render: () => <TrainPanel /> },
  { id: 'evaluate', label: 'Evaluate', render: () => <EvaluatePanel /> },
  { id: 'export', label: 'Export', render: () => <ExportPanel /> },
];

export function App() {
  const panel = useApp(selectPanel);
  useEffect(() => {
    void initModel();
    void refreshDatasets();
    void loadTakes();
    void loadProgress();
    loadAutoTrain();
    void checkResumable();
  }, []);
  return (
    <main className="app">
      <header>
        <h1>Earshot</h1>
        <p className="tagline">Fine-tune a speech recognizer on your own voice, privately, on your own GPU. Nothing leaves this browser.</p>
        <nav className="tabs" aria-label="Panels">
          {PANELS.map((p) => (
            <button key={p.id} type="button" data-testid={`tab-${p.id}`} aria-current={panel === p.id ? 'page' : undefined} onClick={() => useApp.setState({ panel: p.id })}>
              {p.label}
            </button>
          ))}
        </nav>
      </header>
      <ResumeBanner />
      {PANELS.find((p) => p.id === panel)!.render()}
    </main>
  );
}
