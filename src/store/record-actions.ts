// Takes: every recording is written to IndexedDB the moment it stops (before anything else
// happens), then transcribed by the current model; an accepted take (with the user's corrected
// text) joins the "My recordings" dataset as a training utterance. While a take is recorded its
// audio already goes to the ASR worker (LiveTake), which computes its features as it comes, so
// the transcript follows the stop by little more than one run of the model.
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

/** A take being recorded, as the ASR worker sees it (asr-protocol.ts startTake … finishTake). */
export interface LiveTake {
  /** A chunk of the take, 16 kHz mono (copied to the worker; the recorder keeps its own). */
  push(samples: Float32Array): void;
  /** The take ended: its transcript by the model current now. */
  finish(): Promise<{ text: string; ms: number }>;
  /** The take is not kept. */
  drop(): void;
}

export function startLiveTake(): LiveTake {
  const id = crypto.randomUUID();
  const asr = asrWorker();
  // a failed start leaves the worker without the take: finish then rejects and the take is sent whole
  void asr.startTake(id, useApp.getState().modelId).catch(() => undefined);
  return {
    push: (samples) => void asr.pushTake(id, samples).catch(() => undefined),
    finish: () => asr.finishTake(id, useApp.getState().modelId),
    drop: () => void asr.dropTake(id).catch(() => undefined),
  };
}

/**
 * Stores a take at once, then transcribes it: `transcript` is its transcription already under way
 * (LiveTake.finish, started at the stop); without it the samples go to the worker whole.
 */
export async function saveTake(samples: Float32Array, prompt?: string, transcript?: Promise<{ text: string }>): Promise<string> {
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
  void transcribeTake(take.id, samples, transcript);
  return take.id;
}

export async function transcribeTake(id: string, samples?: Float32Array, transcript?: Promise<{ text: string }>): Promise<void> {
  const db = await appDb();
  const take = await db.get('takes', id);
  if (!take) return;
  patchTake(id, { transcribing: true });
  const whole = async () => {
    const x = samples ? samples.slice() : await decodeMono(take.audio, SAMPLE_RATE, 'take.wav');
    return asrWorker().transcribe(useApp.getState().modelId, transfer(x, [x.buffer as ArrayBuffer]));
  };
  try {
    // the live transcription failed (the worker never saw the take start): the take goes whole
    const { text } = transcript ? await transcript.catch(whole) : await whole();
    patchTake(id, { hypothesis: text, transcribing: false }); // on screen first, then kept
    const current = (await db.get('takes', id)) ?? take;
    await db.put('takes', { ...current, hypothesis: text });
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
