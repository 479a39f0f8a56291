import type { FormatId, Split } from './formats/types';

/** Why an item or file was rejected, changed or skipped. One kind per thing a user can fix. */
export type IssueKind =
  | 'undecodable-audio' // not audio, corrupt, or an encoding the speech core does not decode
  | 'truncated-audio'
  | 'missing-transcript' // audio with no transcript
  | 'missing-audio' // transcript (or manifest row) whose audio is not in the import
  | 'empty-text'
  | 'bad-encoding' // a transcript line that is not valid UTF-8 (a Latin-1 or Windows-1252 file, say)
  | 'text-encoding' // a metadata file decoded from the encoding its byte-order mark names (UTF-16)
  | 'out-of-vocabulary' // characters the model cannot write, even after normalization
  | 'normalized' // kept, but the text was changed to fit the vocabulary
  | 'too-short'
  | 'too-long'
  | 'duplicate'
  | 'bad-manifest-row'
  | 'file-too-large'
  | 'import-too-large'
  | 'zip-bomb'
  | 'unsafe-path'
  | 'bad-zip'
  | 'ignored-file'; // not part of the dataset (README, OS metadata, a manifest of another layout)

export type Severity = 'rejected' | 'changed' | 'ignored';

export const SEVERITY: Readonly<Record<IssueKind, Severity>> = {
  'undecodable-audio': 'rejected',
  'truncated-audio': 'rejected',
  'missing-transcript': 'rejected',
  'missing-audio': 'rejected',
  'empty-text': 'rejected',
  'bad-encoding': 'rejected',
  'text-encoding': 'changed',
  'out-of-vocabulary': 'rejected',
  normalized: 'changed',
  'too-short': 'rejected',
  'too-long': 'rejected',
  duplicate: 'rejected',
  'bad-manifest-row': 'rejected',
  'file-too-large': 'rejected',
  'import-too-large': 'rejected',
  'zip-bomb': 'rejected',
  'unsafe-path': 'rejected',
  'bad-zip': 'rejected',
  'ignored-file': 'ignored',
};

export const ISSUE_LABELS: Readonly<Record<IssueKind, string>> = {
  'undecodable-audio': 'Audio that cannot be decoded',
  'truncated-audio': 'Truncated audio',
  'missing-transcript': 'Audio without a transcript',
  'missing-audio': 'Transcript without audio',
  'empty-text': 'Empty transcript',
  'bad-encoding': 'Text that is not valid UTF-8',
  'text-encoding': 'Text decoded from UTF-16',
  'out-of-vocabulary': 'Characters outside the vocabulary',
  normalized: 'Transcript normalized',
  'too-short': 'Clip too short',
  'too-long': 'Clip too long',
  duplicate: 'Duplicate',
  'bad-manifest-row': 'Bad manifest row',
  'file-too-large': 'File too large',
  'import-too-large': 'Import too large',
  'zip-bomb': 'Zip bomb suspected',
  'unsafe-path': 'Unsafe path in archive',
  'bad-zip': 'Unreadable zip entry',
  'ignored-file': 'Not part of the dataset',
};

export interface ImportIssue {
  kind: IssueKind;
  severity: Severity;
  /** The file the issue is about (audio, manifest or archive entry), as a path inside the import. */
  file: string;
  line?: number;
  field?: string;
  message: string;
  /** For out-of-vocabulary and normalized: the characters, and the text after normalizeText. */
  characters?: string[];
  normalized?: string;
}

export interface ImportReport {
  datasetName: string;
  format: FormatId | undefined;
  formatName: string;
  /** Utterances imported (including changed ones). */
  accepted: number;
  /** Utterances or files refused. */
  rejected: number;
  /** Imported with a modified transcript. */
  changed: number;
  ignored: number;
  audioSeconds: number;
  bytes: number;
  files: number;
  issues: ImportIssue[];
  counts: Partial<Record<IssueKind, number>>;
  elapsedMs: number;
  /** The split each manifest or transcript file's utterances went to, as its name (or folder) says; none: drawn after the import. */
  splitSources?: SplitSource[];
  /** How validation was chosen after the import (kept as the files name it, or drawn), in a sentence. */
  splitNote?: string;
  /** Where the time went, ms: layout detection and parsing, waiting for audio reads, decoding, hashing, and the sink (storage). */
  timings?: { parseMs: number; readMs: number; decodeMs: number; hashMs: number; sinkMs: number };
  cancelled: boolean;
}

export interface SplitSource {
  file: string;
  split?: Split;
  utterances: number;
}

export function countIssues(issues: readonly ImportIssue[]): Partial<Record<IssueKind, number>> {
  const counts: Partial<Record<IssueKind, number>> = {};
  for (const i of issues) counts[i.kind] = (counts[i.kind] ?? 0) + 1;
  return counts;
}
