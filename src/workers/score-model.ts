// The one definition of the validation WER and CER the app shows beside a model: in Evaluate, and
// on the model card a training run writes. Every validation utterance of the chosen datasets whose
// text the model can write is transcribed alone (no padding, no batch) by the model's inference
// graph with the model's own decoding (greedy, or beam search with its word LM and personal LM),
// and scored by scoreTranscripts (normalized text, corpus-level WER/CER). The training chart's
// validation curve is the trainer's estimate on padded batches (src/train/loop.ts) and can differ
// from it by a little; this is the number that is kept.
import type { LoadedModel } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { outOfVocab } from '../asr/vocab';
import { utteranceSamples } from '../data/features';
import type { Utterance } from '../data/model';
import type { DataStore } from '../data/storage';
import type { Backend } from '../runtime/types';
import type { Metrics } from '../train/export';
import { scoreTranscripts, type Score } from '../train/score';

/** What transcription, evaluation and the card's scores need of a model, ours or one from elsewhere (foreign-models.ts). */
export interface Transcriber {
  /** Whether the model can write a normalised transcript (every character in its vocabulary). */
  canWrite(text: string): boolean;
  readonly sampleRate: number;
  transcribeSamples(samples: Float32Array): Promise<string>;
  /**
   * A take transcribed as it is recorded (its features computed as its audio arrives); absent when
   * the model's front end needs the whole clip first (models from elsewhere: the take is
   * transcribed whole at its end).
   */
  startTake?(): TakeTranscription;
  /** Runs the model once so that its session's first-run cost is paid now (at load), not on the first take. */
  warmUp(): Promise<void>;
  release(): Promise<void>;
}

/** A take being recorded: audio in chunks at the transcriber's rate, then the text transcribeSamples gives for all of it. */
export interface TakeTranscription {
  push(samples: Float32Array): void;
  finish(): Promise<string>;
}

/** Our own model as a Transcriber (imported models: foreignTranscriber). */
export function nativeTranscriber(rec: Recognizer): Transcriber {
  return {
    canWrite: (text) => outOfVocab(rec.model.vocab, text).length === 0,
    sampleRate: rec.model.config.frontEnd.sampleRate,
    transcribeSamples: (samples) => rec.transcribeSamples(samples),
    startTake() {
      const features = rec.featureStream();
      return { push: (samples) => features.push(samples), finish: () => rec.transcribeFeatures(features.finish()) };
    },
    warmUp: () => rec.warmUp(),
    release: () => rec.release(),
  };
}

/** The validation utterances of the datasets, in dataset then storage order. */
export async function validationUtterances(store: DataStore, datasetIds: readonly string[]): Promise<Utterance[]> {
  return (await Promise.all(datasetIds.map((d) => store.listUtterances(d)))).flat().filter((u) => u.split === 'validation' && u.text);
}

/**
 * A model's score on `utts` (those it can write). `audio` caches decoded samples across models
 * scored on the same utterances.
 */
export async function scoreOnValidation(
  rec: Transcriber,
  store: DataStore,
  utts: readonly Utterance[],
  o: { audio?: Map<string, Float32Array>; onProgress?(done: number, total: number): void } = {},
): Promise<Score> {
  const usable = utts.filter((u) => rec.canWrite(u.text));
  const audio = o.audio ?? new Map<string, Float32Array>();
  const items = [];
  for (const [i, u] of usable.entries()) {
    let samples = audio.get(u.id);
    if (!samples) audio.set(u.id, (samples = await utteranceSamples(await store.getAudio(u.id), u, rec.sampleRate)));
    items.push({ id: u.id, ref: u.text, hyp: await rec.transcribeSamples(samples) });
    o.onProgress?.(i + 1, usable.length);
  }
  return scoreTranscripts(items);
}

/** A score as the model card and the run record keep it. */
export function metricsOf(s: Score, decoding: string): Metrics {
  return { wer: s.wer, cer: s.cer, utterances: s.utterances.length, decoding };
}

/**
 * The card's metrics of a fine-tuned model and its base, measured on `backend` as Evaluate
 * measures them; undefined when the datasets have no validation utterances.
 */
export async function measureForCard(
  backend: Backend,
  store: DataStore,
  datasetIds: readonly string[],
  models: { base: { model: LoadedModel; decoding: string }; fineTuned: { model: LoadedModel; decoding: string } },
): Promise<{ base: Metrics; fineTuned: Metrics } | undefined> {
  const utts = await validationUtterances(store, datasetIds);
  if (utts.length === 0) return undefined;
  const audio = new Map<string, Float32Array>();
  const measure = async ({ model, decoding }: { model: LoadedModel; decoding: string }) => {
    const rec = nativeTranscriber(await Recognizer.create(backend, model));
    try {
      return metricsOf(await scoreOnValidation(rec, store, utts, { audio }), decoding);
    } finally {
      await rec.release();
    }
  };
  return { base: await measure(models.base), fineTuned: await measure(models.fineTuned) };
}
