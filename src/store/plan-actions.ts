// The Train panel's estimate: one training step and one validation pass measured on the chosen
// model, datasets and backend (in the train worker), how long the current settings will take, and
// default settings sized from it to finish in a few minutes (src/train/plan.ts).
import { sizeRun } from '../train/plan';
import { useDataStore } from '../ui/data/data-store';
import { trainWorker } from '../workers/train-client';
import type { TrainSettings } from '../workers/train-db';
import { DEFAULT_SETTINGS, useApp } from './app-store';
import { runActive } from './train-actions';

const lengthOf = (s: TrainSettings) => ({ steps: s.length.unit === 'steps' ? s.length.value : NaN, batchSeconds: s.batchSeconds, evalEvery: s.evalEvery });
const sameLength = (a: ReturnType<typeof lengthOf>, b: ReturnType<typeof lengthOf> | undefined) => !!b && a.steps === b.steps && a.batchSeconds === b.batchSeconds && a.evalEvery === b.evalEvery;

/** Measures once per model, datasets, backend and adapter; sizes the settings when they are still the defaults (or the last sizing). */
export async function measureTraining(): Promise<void> {
  const s = useApp.getState();
  if (!s.model || s.modelStatus !== 'ready' || !s.datasetIds.length || runActive(s.run)) return;
  const key = JSON.stringify([s.modelId, [...s.datasetIds].sort(), s.settings.backend, s.settings.adapter]);
  if (s.trainEstimate?.key === key && s.trainEstimate.status !== 'error') return;
  const previous = s.trainEstimate?.sized;
  useApp.setState({ trainEstimate: { key, status: 'measuring', sized: previous } });
  const datasets = useDataStore.getState().datasets.filter((d) => s.datasetIds.includes(d.id));
  try {
    const measured = await trainWorker().measure({ modelId: s.modelId, modelName: s.model.name, datasetIds: datasets.map((d) => d.id), datasetNames: datasets.map((d) => d.name), settings: s.settings });
    if (useApp.getState().trainEstimate?.key !== key) return;
    const now = useApp.getState().settings;
    const untouched = sameLength(lengthOf(now), lengthOf(DEFAULT_SETTINGS)) || sameLength(lengthOf(now), previous);
    if (!untouched) return useApp.setState({ trainEstimate: { key, status: 'ready', measured } });
    const r = sizeRun(measured);
    useApp.setState({
      settings: { ...now, length: { unit: 'steps', value: r.steps }, batchSeconds: r.batchSeconds, evalEvery: r.evalEvery, checkpointEvery: r.checkpointEvery },
      trainEstimate: { key, status: 'ready', measured, sized: { steps: r.steps, batchSeconds: r.batchSeconds, evalEvery: r.evalEvery } },
    });
  } catch (e) {
    if (useApp.getState().trainEstimate?.key === key) useApp.setState({ trainEstimate: { key, status: 'error', message: (e as Error).message } });
  }
}

/** Applies the sizing for about three minutes to the current settings (the "Size for about 3 minutes" button). */
export function sizeSettings(): void {
  const { trainEstimate: t, settings } = useApp.getState();
  if (!t?.measured) return;
  const r = sizeRun(t.measured);
  useApp.setState({
    settings: { ...settings, length: { unit: 'steps', value: r.steps }, batchSeconds: r.batchSeconds, evalEvery: r.evalEvery, checkpointEvery: r.checkpointEvery },
    trainEstimate: { ...t, sized: { steps: r.steps, batchSeconds: r.batchSeconds, evalEvery: r.evalEvery } },
  });
}
