// Wiring for training as takes arrive: the toggle and its numbers persist in localStorage; after an
// accepted take, a round starts when one is due (src/store/auto-train.ts decides), and a round whose
// model is no worse on the held-out takes becomes the current model; every finished round is
// scored and kept for the progress picture (progress-actions.ts).
import { DataStore } from '../data/storage';
import { appDb } from '../workers/train-db';
import { useApp } from './app-store';
import { adoptRound, autoTrainDue, roundSettings, DEFAULT_AUTO_TRAIN, type AutoTrainConfig } from './auto-train';
import { selectModelId } from './model-actions';
import { recordRound } from './progress-actions';
import { runActive, startTraining } from './train-actions';

const KEY = 'earshot.autoTrain';

export function loadAutoTrain(): void {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as (AutoTrainConfig & { baseline?: number }) | null;
    if (saved) useApp.setState({ autoTrain: { ...DEFAULT_AUTO_TRAIN, enabled: !!saved.enabled, every: Number(saved.every) || DEFAULT_AUTO_TRAIN.every, steps: Number(saved.steps) || DEFAULT_AUTO_TRAIN.steps }, autoTrainBaseline: Number(saved.baseline) || 0 });
  } catch {
    // a damaged entry: the defaults stand
  }
}

function persist(): void {
  const { autoTrain, autoTrainBaseline } = useApp.getState();
  localStorage.setItem(KEY, JSON.stringify({ ...autoTrain, baseline: autoTrainBaseline }));
}

export function setAutoTrain(patch: Partial<AutoTrainConfig>): void {
  useApp.setState((s) => ({ autoTrain: { ...s.autoTrain, ...patch } }));
  persist();
}

let checking = false;

/** Called after a take joins the recordings dataset: starts a round if one is due, and repeats while takes keep arriving. */
export async function maybeAutoTrain(datasetId: string): Promise<void> {
  if (checking) return;
  checking = true;
  try {
    for (;;) {
      const s = useApp.getState();
      const store = await DataStore.open();
      let takes: number;
      let trainTakes: number;
      try {
        const accepted = (await store.listUtterances(datasetId)).filter((u) => u.text);
        takes = accepted.length;
        trainTakes = accepted.filter((u) => u.split === 'train').length;
      } finally {
        store.close();
      }
      if (!autoTrainDue(s.autoTrain, { trainTakes, takesAtLastRound: s.autoTrainBaseline, runActive: runActive(s.run), modelReady: s.modelStatus === 'ready' })) return;
      useApp.setState({ autoTrainBaseline: trainTakes, autoTrainMessage: `Fine-tuning on your ${trainTakes} training takes (${s.autoTrain.steps} steps)…` });
      persist();
      const outcome = await startTraining({ datasetIds: [datasetId], settings: roundSettings(s.settings, s.autoTrain) });
      if (!outcome) return;
      if (outcome.status !== 'finished' || !outcome.resultModelId) {
        useApp.setState({ autoTrainMessage: `The round ended (${outcome.status})${outcome.message ? `: ${outcome.message}` : ''}. The current model is unchanged.` });
        return;
      }
      const run = await (await appDb()).get('runs', outcome.runId);
      const verdict = adoptRound(run?.baseMetrics, run?.fineTunedMetrics);
      if (verdict.adopt) await selectModelId(outcome.resultModelId);
      useApp.setState({ autoTrainMessage: verdict.message });
      await recordRound({ runId: outcome.runId, datasetId, takes, startModelId: s.modelId, roundModelId: outcome.resultModelId, adopted: verdict.adopt, roundMetrics: run?.fineTunedMetrics });
    }
  } finally {
    checking = false;
  }
}
