// Starting, pausing, resuming and stopping training runs in the train worker, and folding its
// (already throttled) events into the store's run view and chart history.
import { proxy } from 'comlink';
import { useDataStore } from '../ui/data/data-store';
import { replaceTrainWorker, trainWorker } from '../workers/train-client';
import { appDb, emptyHistory, latestRun, type RunHistory, type RunRecord, type TrainSettings } from '../workers/train-db';
import type { RunOutcome, TrainEvent } from '../workers/train-protocol';
import { useApp, type RunView } from './app-store';
import { refreshModels } from './model-actions';
import { foldTrainEvent } from './train-events';

// Events are folded into the store in batches, at most every UI_BATCH_MS (status changes at once):
// a fast run (a small model on WASM) sends several a second, and re-rendering four charts for each
// would starve a busy machine's main thread.
const UI_BATCH_MS = 500;
let queued: TrainEvent[] = [];
let batchTimer: ReturnType<typeof setTimeout> | undefined;

function applyQueued(): void {
  if (batchTimer) clearTimeout(batchTimer);
  batchTimer = undefined;
  const events = queued;
  queued = [];
  if (events.length) useApp.setState((s) => events.reduce((acc, e) => ({ ...acc, ...foldTrainEvent(acc, e) }), { run: s.run, history: s.history }));
}

function onEvent(e: TrainEvent): void {
  queued.push(e);
  // a status change, or a validation pass's progress (which otherwise could fold in with its own end), shows at once
  if (e.type === 'status' || e.type === 'validating') applyQueued();
  else batchTimer ??= setTimeout(applyQueued, UI_BATCH_MS);
}

const eventProxy = () => proxy(onEvent);

function finish(o: RunOutcome): void {
  applyQueued();
  // a lost GPU leaves the worker's WebGPU unusable: the next run (or resume) gets a fresh worker and device
  if (o.deviceLost) replaceTrainWorker();
  useApp.setState((s) => ({ run: s.run && { ...s.run, status: o.status, message: o.message, resultModelId: o.resultModelId } }));
  if (o.status === 'failed' || o.status === 'diverged') void checkResumable();
  if (o.resultModelId) void refreshModels();
}

export function setSettings(patch: Partial<TrainSettings>): void {
  useApp.setState((s) => ({ settings: { ...s.settings, ...patch } }));
}

export function setDatasetIds(ids: string[]): void {
  useApp.setState({ datasetIds: ids });
}

/** Starts a run on the chosen datasets with the Train panel's settings (or the given ones); resolves when it ends. */
export async function startTraining(o: { datasetIds?: string[]; settings?: TrainSettings } = {}): Promise<RunOutcome | undefined> {
  const s = useApp.getState();
  if (!s.model || runActive(s.run)) return undefined;
  const ids = o.datasetIds ?? s.datasetIds;
  const datasets = useDataStore.getState().datasets.filter((d) => ids.includes(d.id));
  useApp.setState({ run: undefined, resumable: undefined, history: emptyHistory() });
  const outcome = await trainWorker().start(
    { modelId: s.modelId, modelName: s.model.name, datasetIds: datasets.map((d) => d.id), datasetNames: datasets.map((d) => d.name), settings: o.settings ?? s.settings },
    eventProxy(),
  );
  finish(outcome);
  return outcome;
}

/** A run is preparing, running or paused (so no other may start). */
export const runActive = (run: RunView | undefined) => run?.status === 'running' || run?.status === 'preparing' || run?.status === 'paused';

/** Continues a stored run from its last checkpoint (on WASM when asked, e.g. after the GPU was lost). */
export async function resumeRun(runId: string, backend?: TrainSettings['backend']): Promise<void> {
  const record = await (await appDb()).get('runs', runId);
  if (!record) return;
  useApp.setState({ resumable: undefined, run: viewOf(record), history: record.history, settings: record.settings, datasetIds: record.datasetIds });
  finish(await trainWorker().resume(runId, eventProxy(), backend));
}

export const pauseTraining = () => trainWorker().pause();
export const unpauseTraining = () => trainWorker().unpause();
export const stopTraining = () => trainWorker().stop();

function viewOf(r: RunRecord): RunView {
  return {
    id: r.id,
    status: r.status,
    message: r.message,
    step: r.position?.step ?? 0,
    totalSteps: r.totalSteps,
    skipped: r.position?.skipped ?? 0,
    elapsedMs: r.position?.elapsedMs ?? 0,
    backend: r.backend,
    checkpointStep: r.checkpointStep,
    resultModelId: r.resultModelId,
  };
}

/**
 * After a reload: the latest run is shown with its chart history, and if it did not finish (the
 * tab closed mid-training, it was paused, or it failed) it is offered for resuming.
 */
export async function checkResumable(): Promise<void> {
  const r = await latestRun();
  if (!r) return;
  const ckpt = await (await appDb()).get('checkpoints', r.id);
  const current = useApp.getState().run;
  const live = current?.id === r.id && runActive(current);
  if (live) return;
  const unfinished = r.status === 'running' || r.status === 'paused' || r.status === 'failed';
  const history: RunHistory = r.history ?? emptyHistory();
  useApp.setState({
    run: unfinished ? undefined : viewOf(r),
    history,
    settings: r.settings,
    datasetIds: r.datasetIds,
    resumable: unfinished && ckpt ? { ...viewOf(r), checkpointStep: ckpt.step } : undefined,
  });
}
