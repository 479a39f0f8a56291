import type { AudioFormat } from '../audio';
import type { FormatId, Split } from './formats/types';
import type { ImportReport } from './report';

export type { Split };

/** An utterance as stored: metadata only. Its audio bytes live in the `audio` store under `id`. */
export interface Utterance {
  id: string;
  datasetId: string;
  /** The bytes as imported (WAV, FLAC, MP3, Opus...) or as recorded (WebM/Ogg Opus, FLAC). */
  audioFormat: AudioFormat;
  audioBytes: number;
  /** SHA-256 of the audio bytes, hex: keys the feature cache and finds duplicates. */
  audioHash: string;
  /** The transcript as given. */
  transcript: string;
  /** normalizeText(transcript): what the model is trained on. */
  text: string;
  speaker?: string;
  /** Seconds of speech this utterance covers (a segment when offset is set). */
  duration: number;
  /** Seconds into the audio where the utterance starts (NeMo segments); absent = 0. */
  offset?: number;
  sampleRate: number;
  /** Where it came from: the path in the import, or 'recording'. */
  source: string;
  /** The manifest or transcript file that described it (absent for recordings and older imports). */
  origin?: string;
  split: Split;
  /** Whether the user set the split by hand (re-splitting keeps it). */
  splitLocked?: boolean;
  createdAt: number;
}

/** An utterance on its way into storage: metadata plus the audio bytes. */
export interface NewUtterance extends Omit<Utterance, 'datasetId' | 'split'> {
  audio: Uint8Array;
  split?: Split;
}

export interface Dataset {
  id: string;
  name: string;
  format: FormatId | 'recordings' | undefined;
  createdAt: number;
  utterances: number;
  audioSeconds: number;
  audioBytes: number;
  /** The seed the train/validation split was drawn with. */
  splitSeed: number;
  validationFraction: number;
  /** The import report, kept so it can be read again after a reload. */
  report?: ImportReport;
}

export function newId(): string {
  return globalThis.crypto.randomUUID();
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  let s = '';
  for (const b of new Uint8Array(digest)) s += b.toString(16).padStart(2, '0');
  return s;
}
