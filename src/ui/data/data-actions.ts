// What the Data panel does: each action talks to the data worker (heavy work) or reads IndexedDB
// (small listings) and writes the outcome to the store.
import { DataStore } from '../../data/storage';
import { dataClient, DataWorkerError } from '../../workers/data-client';
import type { ImportGroup } from './collect-files';
import { useDataStore } from './data-store';

let running: { cancel(): void } | undefined;
let storePromise: Promise<DataStore> | undefined;
const store = () => (storePromise ??= DataStore.open());

export async function refreshDatasets(): Promise<void> {
  const db = await store();
  const [datasets, storage] = await Promise.all([db.listDatasets(), db.report()]);
  useDataStore.setState({ datasets, storage });
}

/** Imports each group as its own dataset, one after another. */
export async function importGroups(groups: ImportGroup[]): Promise<void> {
  if (groups.length === 0 || useDataStore.getState().busy) return;
  useDataStore.setState({ busy: true, reports: [], error: undefined });
  // Ask once, from the page (workers cannot): persistent storage is not evicted under pressure.
  void DataStore.requestPersistence();
  try {
    for (const group of groups) {
      const call = dataClient().call(
        'import',
        { files: group.files, directories: group.directories, name: group.name },
        { onProgress: (p) => useDataStore.setState({ progress: { label: group.name, ...p } }) },
      );
      running = call;
      try {
        const { report } = await call.result;
        useDataStore.setState((s) => ({ reports: [...s.reports, report] }));
        if (report.cancelled) break;
      } catch (e) {
        useDataStore.setState({ error: describe(e) });
        break;
      }
    }
  } finally {
    running = undefined;
    useDataStore.setState({ busy: false, progress: undefined });
    await refreshDatasets();
  }
}

export function cancelImport(): void {
  running?.cancel();
}

export async function deleteDataset(id: string): Promise<void> {
  try {
    await dataClient().call('delete', { datasetId: id }).result;
  } catch (e) {
    useDataStore.setState({ error: describe(e) });
  }
  await refreshDatasets();
}

export async function exportDataset(id: string): Promise<void> {
  try {
    const { zip, fileName } = await dataClient().call('export', { datasetId: id }).result;
    const url = URL.createObjectURL(new Blob([zip], { type: 'application/zip' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    useDataStore.setState({ error: describe(e) });
  }
}

function describe(e: unknown): string {
  if (e instanceof DataWorkerError && e.cancelled) return 'Cancelled.';
  return e instanceof Error ? e.message : String(e);
}

/** Computes (or finds cached) features for every utterance, in the worker, with progress. */
export async function computeFeatures(id: string): Promise<void> {
  if (useDataStore.getState().busy) return;
  useDataStore.setState({ busy: true, error: undefined });
  const t0 = performance.now();
  const call = dataClient().call('features', { datasetId: id }, { onProgress: (p) => useDataStore.setState({ progress: { label: 'features', ...p } }) });
  running = call;
  try {
    const r = await call.result;
    const summary = { utterances: r.utterances, audioSeconds: r.audioSeconds, cacheHits: r.cacheHits, realTimeFactor: r.realTimeFactor, wallMs: performance.now() - t0 };
    useDataStore.setState((s) => ({ features: { ...s.features, [id]: summary } }));
  } catch (e) {
    useDataStore.setState({ error: describe(e) });
  } finally {
    running = undefined;
    useDataStore.setState({ busy: false, progress: undefined });
    await refreshDatasets();
  }
}

/** Re-draws the train/validation split; returns the counts, or undefined after an error. */
export async function resplitDataset(id: string, seed: number, validationFraction: number) {
  try {
    const r = await dataClient().call('resplit', { datasetId: id, seed, validationFraction }).result;
    await refreshDatasets();
    return r;
  } catch (e) {
    useDataStore.setState({ error: describe(e) });
    return undefined;
  }
}
