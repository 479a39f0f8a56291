// Evaluation of the base and the fine-tuned model side by side on the validation split.
import { proxy } from 'comlink';
import { asrWorker } from '../workers/asr-client';
import type { EvalProgress } from '../workers/asr-protocol';
import { useApp } from './app-store';

export async function runEvaluation(modelIds: string[], datasetIds: string[]): Promise<void> {
  if (useApp.getState().evalStatus === 'running') return;
  useApp.setState({ evalStatus: 'running', evalResults: [], evalMessage: undefined, evalProgress: undefined });
  try {
    const results = await asrWorker().evaluate(modelIds, datasetIds, proxy((p: EvalProgress) => useApp.setState({ evalProgress: p })));
    const empty = results.every((r) => r.score.utterances.length === 0);
    useApp.setState({ evalStatus: 'done', evalResults: results, evalMessage: empty ? 'The chosen datasets have no validation utterances.' : undefined });
  } catch (e) {
    useApp.setState({ evalStatus: 'error', evalMessage: (e as Error).message });
  }
}
