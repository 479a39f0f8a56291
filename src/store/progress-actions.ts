// The round history of training as takes arrive: after each round, the base model (where the
// user's rounds began) and the model current after it are scored on the held-out takes by the ASR
// worker, as the Evaluate panel scores (src/workers/score-model.ts). The round, with each held-out
// take's two transcripts, is kept in IndexedDB; the store gets its IDs and numbers.
import type { Metrics } from '../train/export';
import type { Score } from '../train/score';
import { asrWorker } from '../workers/asr-client';
import { appDb, type HeldOutScore, type ProgressRound } from '../workers/train-db';
import { useApp } from './app-store';
import { baseModelOf, pointOf } from './progress';

export async function loadProgress(): Promise<void> {
  const rounds = await (await appDb()).getAll('rounds');
  useApp.setState({ progress: rounds.map(pointOf).sort((a, b) => a.createdAt - b.createdAt) });
}

/** A round's held-out takes: reference, and what the base and the current model wrote. */
export async function roundTranscripts(roundId: string): Promise<ProgressRound['transcripts']> {
  return (await (await appDb()).get('rounds', roundId))?.transcripts ?? [];
}

export interface FinishedRound {
  runId: string;
  datasetId: string;
  /** Accepted takes when the round started. */
  takes: number;
  startModelId: string;
  roundModelId: string;
  adopted: boolean;
  /** The round's model on the held-out takes, from its run record. */
  roundMetrics?: Metrics;
}

const heldOut = (s: Pick<Score, 'wer' | 'cer' | 'utterances'>): HeldOutScore => ({ wer: s.wer, cer: s.cer, takes: s.utterances.length });

/** Scores a finished round on the held-out takes, stores it and adds its point. */
export async function recordRound(r: FinishedRound): Promise<void> {
  const db = await appDb();
  const baseModelId = baseModelOf(r.startModelId, await db.getAll('runs'));
  const currentModelId = r.adopted ? r.roundModelId : r.startModelId;
  const round: ProgressRound = {
    id: r.runId,
    createdAt: Date.now(),
    datasetId: r.datasetId,
    takes: r.takes,
    baseModelId,
    roundModelId: r.roundModelId,
    currentModelId,
    adopted: r.adopted,
    transcripts: [],
  };
  useApp.setState({ progressScoring: true });
  try {
    // a round that was not adopted is not scored again: its run measured it with the same code, and
    // loading it here would keep one more model in the ASR worker for nothing
    const scores = await asrWorker().evaluate([...new Set([baseModelId, currentModelId])], [r.datasetId]);
    const base = scores.find((s) => s.modelId === baseModelId)!.score;
    const current = scores.find((s) => s.modelId === currentModelId)!.score;
    const now = new Map(current.utterances.map((u) => [u.id, u.hyp]));
    const both = base.utterances.filter((u) => now.has(u.id));
    if (both.length > 0) {
      round.base = heldOut(base);
      round.current = heldOut(current);
      round.transcripts = both.map((u) => ({ utteranceId: u.id, ref: u.ref, base: u.hyp, current: now.get(u.id)! }));
      if (!r.adopted && r.roundMetrics?.utterances) round.turnedDown = { wer: r.roundMetrics.wer, cer: r.roundMetrics.cer, takes: r.roundMetrics.utterances };
    } else round.unscored = 'no held-out takes yet';
  } catch (e) {
    round.unscored = `scoring failed: ${(e as Error).message}`;
  } finally {
    useApp.setState({ progressScoring: false });
  }
  await db.put('rounds', round);
  useApp.setState((s) => ({ progress: [...s.progress.filter((p) => p.id !== round.id), pointOf(round)] }));
}
