import { createRoot } from 'react-dom/client';
import { App } from './ui/app';
import './ui/styles.css';

if (import.meta.env.DEV) {
  // browser tests only (the dev server): a real WebGPU device loss in the train worker
  (window as unknown as { earshotTest: unknown }).earshotTest = { loseGpu: () => import('./workers/train-client').then((m) => m.trainWorker().loseGpuForTesting()) };
}

createRoot(document.getElementById('root')!).render(<App />);
