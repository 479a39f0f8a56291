// One import pipeline for every source: expand zips, detect the layout, parse it, then check
// each utterance (audio decodes, duration within limits, text fits the vocabulary, no duplicate)
// and hand the good ones to a sink. Every refused or changed thing becomes an ImportIssue; a bad
// item never stops the good ones.
import { AudioDecodeError, decodeAudio, sniffFormat, type AudioFormat } from '../audio';
import { DEFAULT_VOCAB, outOfVocab, type Vocab } from '../asr/vocab';
import { normalizeText } from '../asr/text-normalize';
import { detectFormat, FORMAT_NAMES, type ParsedItem } from './formats';
import { asWindows1252, invalidUtf8, textEncoding, type InvalidUtf8 } from './formats/text';
import { DEFAULT_LIMITS, formatBytes, type ImportLimits } from './limits';
import { newId, sha256Hex, type NewUtterance } from './model';
import { countIssues, SEVERITY, type ImportIssue, type ImportReport, type IssueKind, type SplitSource } from './report';
import { readZip } from './zip';
import { extension, isSystemFile, looksLikeAudio, sanitizePath, stem, type VirtualFile } from './vfile';

/** A file handed to the import; zips may offer a stream so they are never read whole. */
export interface ImportFile extends VirtualFile {
  stream?(): AsyncIterable<Uint8Array>;
}

export interface ImportProgress {
  phase: 'reading' | 'parsing' | 'checking' | 'done';
  done: number;
  total: number;
  audioSeconds: number;
  elapsedMs: number;
}

/** What decoding must tell the import; the default decodes fully with the speech core. */
export type AudioProbe = (bytes: Uint8Array, name: string) => Promise<{ format: AudioFormat; sampleRate: number; seconds: number }>;

export interface ImportOptions {
  name?: string;
  vocab?: Vocab;
  limits?: Partial<ImportLimits>;
  signal?: AbortSignal;
  onProgress?(p: ImportProgress): void;
  /** Receives accepted utterances in import order (e.g. writes them to IndexedDB). */
  sink?(utterance: NewUtterance): Promise<void>;
  probe?: AudioProbe;
  /** Clock for elapsed times; defaults to performance.now. */
  now?(): number;
}

export interface ImportResult {
  report: ImportReport;
  /** Accepted utterances, only when no sink was given. */
  utterances: NewUtterance[];
}

export const decodeProbe: AudioProbe = async (bytes) => {
  // No name hint: the report already names the file beside the message.
  const audio = await decodeAudio(bytes);
  const n = audio.channels[0]?.length ?? 0;
  return { format: sniffFormat(bytes), sampleRate: audio.sampleRate, seconds: n / audio.sampleRate };
};

// Give the event loop a turn this often, so a cancel message reaches a worker mid-import (each
// turn costs a timer's minimum delay, so not too often).
const YIELD_EVERY_MS = 100;
const yieldToLoop = () => new Promise<void>((r) => setTimeout(r, 0));
const READ_AHEAD = 8;

export async function importDataset(input: readonly ImportFile[], opts: ImportOptions = {}): Promise<ImportResult> {
  const now = opts.now ?? (() => performance.now());
  const t0 = now();
  const limits: ImportLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const vocab = opts.vocab ?? DEFAULT_VOCAB;
  const probe = opts.probe ?? decodeProbe;
  const issues: ImportIssue[] = [];
  const utterances: NewUtterance[] = [];
  const issue = (kind: IssueKind, file: string, message: string, extra: Partial<ImportIssue> = {}) =>
    issues.push({ kind, severity: SEVERITY[kind], file, message, ...extra });
  let audioSeconds = 0;
  let acceptedBytes = 0;
  let accepted = 0;
  let changed = 0;
  let cancelled = false;
  const timings = { parseMs: 0, readMs: 0, decodeMs: 0, hashMs: 0, sinkMs: 0 };
  const progress = (phase: ImportProgress['phase'], done: number, total: number) =>
    opts.onProgress?.({ phase, done, total, audioSeconds, elapsedMs: now() - t0 });

  // 1. Sizes and archives. Files are taken in path order so a capped import is deterministic.
  const sorted = [...input].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: VirtualFile[] = [];
  let total = 0;
  for (const original of sorted) {
    progress('reading', files.length, sorted.length);
    // Paths from a dropped folder are trusted no more than zip entry names.
    const verdict = sanitizePath(original.path);
    if (!verdict.ok) {
      issue('unsafe-path', original.path, `unsafe path: the name ${verdict.reason}; file skipped`);
      continue;
    }
    const f: ImportFile = verdict.path === original.path ? original : { ...original, path: verdict.path };
    if (isSystemFile(f.path)) {
      issue('ignored-file', f.path, 'operating-system metadata, not part of the dataset');
      continue;
    }
    if (extension(f.path) === 'zip') {
      if (f.size > limits.maxImportBytes) {
        issue('import-too-large', f.path, `the archive is ${formatBytes(f.size)}, over the import limit of ${formatBytes(limits.maxImportBytes)}`);
        continue;
      }
      try {
        const zip = await readZip(f.stream ? f.stream() : await f.read(), {
          prefix: stem(f.path),
          signal: opts.signal,
          limits: { ...limits, maxImportBytes: limits.maxImportBytes - total, maxFiles: limits.maxFiles - files.length },
        });
        for (const zi of zip.issues) issue(zi.kind, `${f.path}: ${zi.file}`, zi.reason);
        for (const zf of zip.files) {
          total += zf.size;
          files.push(zf);
        }
      } catch (e) {
        if (opts.signal?.aborted) {
          cancelled = true;
          break;
        }
        issue('bad-zip', f.path, e instanceof Error ? e.message : String(e));
      }
      continue;
    }
    if (f.size > limits.maxFileBytes) {
      issue('file-too-large', f.path, `${formatBytes(f.size)}, over the per-file limit of ${formatBytes(limits.maxFileBytes)}`);
      continue;
    }
    if (total + f.size > limits.maxImportBytes) {
      issue('import-too-large', f.path, `skipped: the import would pass its limit of ${formatBytes(limits.maxImportBytes)}`);
      continue;
    }
    if (files.length >= limits.maxFiles) {
      issue('import-too-large', f.path, `skipped: more than ${limits.maxFiles} files in one import`);
      continue;
    }
    total += f.size;
    files.push(f);
  }

  // 2. Layout.
  progress('parsing', 0, files.length);
  const tp = now();
  const parser = cancelled ? undefined : await detectFormat(files);
  const empty = { items: [] as ParsedItem[], issues: [], metadataFiles: [] as string[] };
  let parsed: Awaited<ReturnType<NonNullable<typeof parser>['parse']>> = empty;
  try {
    if (parser) parsed = await parser.parse(files);
  } catch (e) {
    // A parser bug must not lose the import silently: say so, and report the files as unused.
    issue('bad-manifest-row', parser!.id, `the ${FORMAT_NAMES[parser!.id]} reader failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  timings.parseMs = now() - tp;
  for (const pi of parsed.issues) issue(pi.kind, pi.file, pi.reason, { line: pi.line, field: pi.field });

  // Text encodings of the metadata: UTF-16 (marked by its BOM) was decoded, and is said so; bytes
  // that are not UTF-8 became U+FFFD, so the rows they are on are refused, naming line and byte.
  const badBytes = new Map<string, Map<number, InvalidUtf8>>(); // file → line → first bad byte
  for (const path of parsed.metadataFiles) {
    const meta = files.find((f) => f.path === path);
    const bytes = meta && (await meta.read().catch(() => undefined));
    if (!bytes) continue;
    const encoding = textEncoding(bytes);
    if (encoding !== 'utf-8') {
      issue('text-encoding', path, `decoded as ${encoding === 'utf-16le' ? 'UTF-16 little-endian' : 'UTF-16 big-endian'}, as its byte-order mark says`);
      continue;
    }
    const bad = invalidUtf8(bytes);
    if (bad.length === 0) continue;
    const lines = new Map<number, InvalidUtf8>();
    for (const b of bad) if (!lines.has(b.line)) lines.set(b.line, b);
    badBytes.set(path, lines);
  }

  // Files the layout did not use: audio lacks a transcript, anything else is not ours.
  const used = new Set(parsed.metadataFiles);
  for (const item of parsed.items) if (item.audio) used.add(item.audio.path);
  for (const f of files) {
    if (used.has(f.path)) continue;
    if (looksLikeAudio(f.path)) issue('missing-transcript', f.path, parser ? `no transcript for this audio in the ${FORMAT_NAMES[parser.id]} layout` : 'no transcript: no dataset layout was recognized in this import');
    else issue('ignored-file', f.path, parser ? `not audio and not part of the ${FORMAT_NAMES[parser.id]} layout` : 'not audio, and no dataset layout was recognized');
  }

  // 3. Items.
  const seen = new Map<string, string>(); // audio hash + segment → where first seen
  const splitSources = new Map<string, SplitSource>(); // manifest → the split its name gives, and how many it brought
  const items = parsed.items;
  // Read a few files ahead, so disk (or Blob) reads overlap with decoding the current one.
  const reads = new Map<number, Promise<Uint8Array>>();
  const readAhead = (k: number) => {
    for (let j = k; j < Math.min(items.length, k + READ_AHEAD); j++) {
      const audio = items[j].audio;
      if (audio && !reads.has(j)) {
        const p = audio.read();
        p.catch(() => undefined); // handled when awaited below
        reads.set(j, p);
      }
    }
  };
  let lastYield = now();
  for (let i = 0; i < items.length; i++) {
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    if (now() - lastYield > YIELD_EVERY_MS) {
      await yieldToLoop();
      lastYield = now();
    }
    progress('checking', i, items.length);
    reads.delete(i - 1); // an item refused before its audio was needed
    const item = items[i];
    const where = { line: item.source.line };
    const label = item.audio?.path ?? item.audioRef;
    if (!item.audio) {
      issue('missing-audio', item.source.file, `transcript without audio: ${item.audioRef} is not in the import`, where);
      continue;
    }
    // Text first: it is cheap, and an unusable transcript saves decoding the audio.
    const bad = badBytes.get(item.source.file);
    const badAt = bad && (item.source.line !== undefined ? bad.get(item.source.line) : bad.values().next().value);
    if (bad && (badAt || item.transcript.includes('\uFFFD'))) {
      issue('bad-encoding', item.source.file, notUtf8(badAt ?? bad.values().next().value!), where);
      continue;
    }
    if (item.transcript.trim() === '') {
      issue('empty-text', label, `the transcript in ${item.source.file} is empty`, where);
      continue;
    }
    const text = normalizeText(item.transcript);
    if (text === '') {
      issue('empty-text', label, `nothing is left of ${JSON.stringify(item.transcript)} after normalization`, where);
      continue;
    }
    const stillMissing = outOfVocab(vocab, text);
    if (stillMissing.length > 0) {
      issue('out-of-vocabulary', label, `characters outside the model's vocabulary even after normalization: ${showChars(stillMissing)} (normalized: ${JSON.stringify(text)})`, { ...where, characters: stillMissing, normalized: text });
      continue;
    }
    // case folding is not worth a warning (LibriSpeech is all capitals); other characters dropped are
    const rawMissing = outOfVocab(vocab, item.transcript.toLowerCase());
    let bytes: Uint8Array;
    try {
      readAhead(i);
      const tr = now();
      bytes = await reads.get(i)!;
      timings.readMs += now() - tr;
      reads.delete(i);
    } catch (e) {
      issue('undecodable-audio', label, `cannot read the file: ${e instanceof Error ? e.message : String(e)}`, where);
      continue;
    }
    let info: Awaited<ReturnType<AudioProbe>>;
    try {
      const td = now();
      info = await probe(bytes, label);
      timings.decodeMs += now() - td;
    } catch (e) {
      if (e instanceof AudioDecodeError && e.kind === 'truncated') issue('truncated-audio', label, e.message, where);
      else issue('undecodable-audio', label, e instanceof Error ? e.message : String(e), where);
      continue;
    }
    const offset = item.offset ?? 0;
    if (offset + (item.duration ?? 0) > info.seconds + 0.05) {
      issue('bad-manifest-row', item.source.file, `offset ${offset} s + duration ${item.duration ?? 0} s runs past the end of ${label} (${info.seconds.toFixed(2)} s)`, { ...where, field: item.duration !== undefined ? 'duration' : 'offset' });
      continue;
    }
    const duration = item.duration ?? info.seconds - offset;
    if (duration < limits.minDurationSec) {
      issue('too-short', label, `${duration.toFixed(2)} s, shorter than the minimum of ${limits.minDurationSec} s`, where);
      continue;
    }
    if (duration > limits.maxDurationSec) {
      issue('too-long', label, `${duration.toFixed(2)} s, longer than the maximum of ${limits.maxDurationSec} s`, where);
      continue;
    }
    const th = now();
    const audioHash = await sha256Hex(bytes);
    timings.hashMs += now() - th;
    const key = `${audioHash}@${offset.toFixed(3)}+${duration.toFixed(3)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      issue('duplicate', label, `same audio${item.offset !== undefined ? ' segment' : ''} as ${first}; kept the first`, where);
      continue;
    }
    seen.set(key, label);
    if (rawMissing.length > 0) {
      changed++;
      issue('normalized', label, `characters outside the vocabulary ${showChars(rawMissing)}; the transcript becomes ${JSON.stringify(text)}`, { ...where, characters: rawMissing, normalized: text });
    }
    const utterance: NewUtterance = {
      id: newId(),
      audio: bytes,
      audioFormat: info.format,
      audioBytes: bytes.byteLength,
      audioHash,
      transcript: item.transcript,
      text,
      speaker: item.speaker,
      duration,
      offset: item.offset,
      sampleRate: info.sampleRate,
      source: label,
      origin: item.source.file,
      split: item.split,
      // a split the data names (eval.jsonl, dev-clean/) is kept when the rest is re-drawn
      splitLocked: item.split === 'validation' || undefined,
      createdAt: Date.now(),
    };
    const from = splitSources.get(item.source.file) ?? { file: item.source.file, split: item.split, utterances: 0 };
    from.utterances++;
    splitSources.set(item.source.file, from);
    if (opts.sink) {
      const ts = now();
      await opts.sink(utterance);
      timings.sinkMs += now() - ts;
    } else utterances.push(utterance);
    accepted++;
    audioSeconds += duration;
    acceptedBytes += bytes.byteLength;
  }
  progress('done', items.length, items.length);

  const rejected = issues.filter((i) => i.severity === 'rejected').length;
  const report: ImportReport = {
    datasetName: opts.name ?? defaultName(input),
    format: parser?.id,
    formatName: parser ? FORMAT_NAMES[parser.id] : 'no recognized layout',
    accepted,
    rejected,
    changed,
    ignored: issues.filter((i) => i.severity === 'ignored').length,
    audioSeconds,
    bytes: acceptedBytes,
    files: files.length,
    issues,
    counts: countIssues(issues),
    elapsedMs: now() - t0,
    splitSources: [...splitSources.values()],
    cancelled,
    timings,
  };
  return { report, utterances };
}

function notUtf8(at: InvalidUtf8): string {
  const hex = `0x${at.byte.toString(16).toUpperCase().padStart(2, '0')}`;
  const legacy = asWindows1252(at.byte);
  const hint = legacy !== '\uFFFD' && legacy.trim() !== '' ? ` (in Latin-1/Windows-1252 that byte is ${JSON.stringify(legacy)})` : '';
  return `line ${at.line}, byte ${at.byteInLine} (offset ${at.offset} in the file): ${hex} is not valid UTF-8${hint}. The row is skipped: save the file as UTF-8 and import it again`;
}

function showChars(chars: readonly string[]): string {
  return chars.map((c) => `${JSON.stringify(c)} (U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`).join(', ');
}

function defaultName(files: readonly VirtualFile[]): string {
  const first = files[0]?.path ?? 'dataset';
  const top = first.split('/')[0];
  return files.every((f) => f.path.split('/')[0] === top) && files.length > 0 ? stem(top) || top : 'dataset';
}
