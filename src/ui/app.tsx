import { DataPanel } from './data/data-panel';

export function App() {
  return (
    <main>
      <h1>Earshot</h1>
      <p>Fine-tune a speech recognizer on your own voice, privately, on your own GPU.</p>
      <DataPanel />
    </main>
  );
}
