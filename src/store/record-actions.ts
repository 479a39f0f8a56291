// Takes: every recording is written to IndexedDB the moment it stops (before anything else
// happens), then transcribed by the current model; an accepted take (with the user's corrected
// text) joins the "My recordings" dataset as a training utterance.
import { transfer } from 'comlink';
import { decodeMono, encodeWav16 } from '../audio';
import { normalizeText } from '../asr/text-normalize';
import { sha256Hex } from '../data/model';
import { DataStore } from '../data/storage';
import { isHeldOut } from '../train/adoption';
import { DEFAULT_RECIPE } from '../train/recipe';
import { refreshDatasets } from '../ui/data/data-actions';
import { asrWorker } from '../workers/asr-client';
import { appDb, type Take } from '../workers/train-db';
import { useApp, type TakeView } from './app-store';
import { maybeAutoTrain } from './auto-train-actions';

export const RECORDINGS_DATASET = 'My recordings';
const SAMPLE_RATE = 16000;

const view = ({ audio: _audio, ...t }: Take): TakeView => t;

function patchTake(id: string, patch: Partial<TakeView>): void {
  useApp.setState((s) => ({ takes: s.takes.map((t) => (t.id === id ? { ...t, ...patch } : t)) }));
}

export async function loadTakes(): Promise<void> {
  const takes = await (await appDb()).getAll('takes');
  useApp.setState({ takes: takes.sort((a, b) => b.createdAt - a.createdAt).map(view) });
}

/** Stores a take at once, then transcribes it. */
export async function saveTake(samples: Float32Array, prompt?: string): Promise<string> {
  const take: Take = {
    id: crypto.randomUUID(),
    createdAt: Date.now(),
    audio: encodeWav16([samples], SAMPLE_RATE),
    duration: samples.length / SAMPLE_RATE,
    prompt,
    status: 'pending',
  };
  await (await appDb()).put('takes', take);
  useApp.setState((s) => ({ takes: [view(take), ...s.takes] }));
  void transcribeTake(take.id, samples);
  return take.id;
}

export async function transcribeTake(id: string, samples?: Float32Array): Promise<void> {
  const db = await appDb();
  const take = await db.get('takes', id);
  if (!take) return;
  patchTake(id, { transcribing: true });
  try {
    const x = samples ? samples.slice() : await decodeMono(take.audio, SAMPLE_RATE, 'take.wav');
    const { text } = await asrWorker().transcribe(useApp.getState().modelId, transfer(x, [x.buffer as ArrayBuffer]));
    const current = (await db.get('takes', id)) ?? take;
    await db.put('takes', { ...current, hypothesis: text });
    patchTake(id, { hypothesis: text, transcribing: false });
  } catch (e) {
    patchTake(id, { transcribing: false });
    useApp.setState({ recordMessage: `Transcription failed: ${(e as Error).message}. The take is stored; correct it by hand.` });
  }
}

let storePromise: Promise<DataStore> | undefined;
const dataStore = () => (storePromise ??= DataStore.open());

/** Adds the take with its corrected transcript to the recordings dataset. */
export async function acceptTake(id: string, transcript: string): Promise<void> {
  const db = await appDb();
  const take = await db.get('takes', id);
  if (!take || take.status === 'accepted') return;
  const text = normalizeText(transcript);
  if (!text) {
    useApp.setState({ recordMessage: 'Type what was said before accepting the take.' });
    return;
  }
  const store = await dataStore();
  const datasets = await store.listDatasets();
  const ds = datasets.find((d) => d.format === 'recordings') ?? (await store.createDataset({ name: RECORDINGS_DATASET, format: 'recordings' }));
  // Every fifth take is held out, so the recordings have a validation split of their own.
  const split = isHeldOut(ds.utterances, DEFAULT_RECIPE.holdoutEvery) ? 'validation' : 'train';
  const utteranceId = crypto.randomUUID();
  await store.addUtterances(ds.id, [
    {
      id: utteranceId,
      audioFormat: 'wav',
      audioBytes: take.audio.byteLength,
      audioHash: await sha256Hex(take.audio),
      transcript,
      text,
      duration: take.duration,
      sampleRate: SAMPLE_RATE,
      source: `recording-${new Date(take.createdAt).toISOString()}.wav`,
      createdAt: take.createdAt,
      split,
      audio: take.audio,
    },
  ]);
  await db.put('takes', { ...take, transcript, status: 'accepted', utteranceId });
  patchTake(id, { transcript, status: 'accepted', utteranceId });
  useApp.setState((s) => ({ recordMessage: undefined, datasetIds: s.datasetIds.includes(ds.id) ? s.datasetIds : [...s.datasetIds, ds.id] }));
  await refreshDatasets();
  void maybeAutoTrain(ds.id);
}

export async function discardTake(id: string): Promise<void> {
  await (await appDb()).delete('takes', id);
  useApp.setState((s) => ({ takes: s.takes.filter((t) => t.id !== id) }));
}

export async function takeAudio(id: string): Promise<Uint8Array | undefined> {
  return (await (await appDb()).get('takes', id))?.audio;
}
