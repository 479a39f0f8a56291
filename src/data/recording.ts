// A recording (MediaRecorder's WebM/Opus or Ogg/Opus, or FLAC) as an utterance: kept as recorded,
// compressed, never re-encoded to WAV. Text goes through the same normalization and vocabulary
// check as an import, so a recording cannot carry a transcript the model could not learn.
import { decodeAudio, sniffFormat } from '../audio';
import { normalizeText } from '../asr/text-normalize';
import { DEFAULT_VOCAB, outOfVocab, type Vocab } from '../asr/vocab';
import { newId, sha256Hex, type NewUtterance, type Split } from './model';

export class RecordingRejected extends Error {
  override readonly name = 'RecordingRejected';
}

export async function recordingUtterance(
  audio: Uint8Array,
  transcript: string,
  opts: { vocab?: Vocab; speaker?: string; split?: Split } = {},
): Promise<NewUtterance> {
  const text = normalizeText(transcript);
  if (text === '') throw new RecordingRejected(`nothing is left of ${JSON.stringify(transcript)} after normalization`);
  const missing = outOfVocab(opts.vocab ?? DEFAULT_VOCAB, text);
  if (missing.length) throw new RecordingRejected(`characters outside the model's vocabulary: ${missing.map((c) => JSON.stringify(c)).join(', ')}`);
  const decoded = await decodeAudio(audio);
  const n = decoded.channels[0]?.length ?? 0;
  return {
    id: newId(),
    audio,
    audioFormat: sniffFormat(audio),
    audioBytes: audio.byteLength,
    audioHash: await sha256Hex(audio),
    transcript,
    text,
    speaker: opts.speaker,
    duration: n / decoded.sampleRate,
    sampleRate: decoded.sampleRate,
    source: 'recording',
    split: opts.split,
    createdAt: Date.now(),
  };
}
