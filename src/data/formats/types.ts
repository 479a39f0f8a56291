import type { VirtualFile } from '../vfile';

/** The dataset layouts Earshot recognizes. */
export type FormatId = 'nemo' | 'hf-audiofolder' | 'ljspeech' | 'common-voice' | 'librispeech' | 'kaldi' | 'pairs';

export const FORMAT_NAMES: Readonly<Record<FormatId, string>> = {
  nemo: 'NeMo manifest (JSONL)',
  'hf-audiofolder': 'Hugging Face audiofolder (metadata.csv)',
  ljspeech: 'LJSpeech (metadata.csv + wavs/)',
  'common-voice': 'Common Voice (TSV + clips/)',
  librispeech: 'LibriSpeech (*.trans.txt + FLAC)',
  kaldi: 'Kaldi data directory (wav.scp + text)',
  pairs: 'Audio + transcript pairs (name.wav + name.txt/.lab)',
};

export type Split = 'train' | 'validation' | 'test';

/** One utterance a manifest promises: audio (by import path) and what is said in it. */
export interface ParsedItem {
  /** The audio file in the import, or undefined when the manifest points at nothing we have. */
  audio: VirtualFile | undefined;
  /** The path as written in the manifest, for messages when `audio` is missing. */
  audioRef: string;
  transcript: string;
  speaker?: string;
  /** Seconds, as the manifest states; checked against the audio later. */
  duration?: number;
  /** Seconds into the audio where this utterance starts (NeMo segments). */
  offset?: number;
  /** Split the source layout assigns (a file named train.tsv, test_manifest.json, ...). */
  split?: Split;
  /** Where the item was described: the manifest (and line) or the transcript file. */
  source: { file: string; line?: number };
}

/** A row or file that a parser could not use, with enough detail to fix it. */
export interface ParseIssue {
  file: string;
  line?: number;
  field?: string;
  reason: string;
  kind: 'bad-manifest-row' | 'ignored-file' | 'missing-audio';
}

export interface ParseResult {
  items: ParsedItem[];
  issues: ParseIssue[];
  /** Files the format read as metadata (manifests, transcript files); not "unused". */
  metadataFiles: string[];
}

export interface FormatParser {
  id: FormatId;
  /**
   * How strongly the file list looks like this format: 0 = not at all. Higher wins; a manifest
   * format beats plain pairs because pairs match almost any folder with audio in it.
   */
  detect(files: readonly VirtualFile[]): Promise<number> | number;
  parse(files: readonly VirtualFile[]): Promise<ParseResult>;
}
