// Kaldi data directory: wav.scp (`<utt> <path>`), text (`<utt> <transcript>`), optional utt2spk
// (`<utt> <speaker>`). https://kaldi-asr.org/doc/data_prep.html
import { basename, dirname, FileIndex, type VirtualFile } from '../vfile';
import { decodeText, numberedLines, splitFromName, splitKeyValue } from './text';
import type { FormatParser, ParsedItem, ParseIssue } from './types';

interface KeyedLine { value: string; line: number }

async function readTable(f: VirtualFile, issues: ParseIssue[]): Promise<Map<string, KeyedLine>> {
  const table = new Map<string, KeyedLine>();
  for (const { line, text } of numberedLines(decodeText(await f.read()))) {
    const [key, value] = splitKeyValue(text);
    const earlier = table.get(key);
    if (earlier) {
      issues.push({ kind: 'bad-manifest-row', file: f.path, line, field: 'utterance id', reason: `"${key}" already appears on line ${earlier.line}` });
      continue;
    }
    table.set(key, { value, line });
  }
  return table;
}

export const kaldi: FormatParser = {
  id: 'kaldi',
  detect(files) {
    const dirs = new Set(files.filter((f) => basename(f.path) === 'wav.scp').map((f) => dirname(f.path)));
    return files.some((f) => basename(f.path) === 'text' && dirs.has(dirname(f.path))) ? 98 : 0;
  },
  async parse(files) {
    const index = new FileIndex(files);
    const items: ParsedItem[] = [];
    const issues: ParseIssue[] = [];
    const metadata: string[] = [];
    for (const scp of files.filter((f) => basename(f.path) === 'wav.scp')) {
      const dir = dirname(scp.path);
      const at = (name: string) => index.get([dir, name].filter(Boolean).join('/'));
      const textFile = at('text');
      if (!textFile) continue;
      const spkFile = at('utt2spk');
      metadata.push(...[scp, textFile, spkFile].filter((f): f is VirtualFile => !!f).map((f) => f.path));
      const segments = at('segments');
      if (segments) {
        issues.push({ kind: 'ignored-file', file: segments.path, reason: 'Kaldi segments are not supported; each wav.scp entry is imported whole' });
        metadata.push(segments.path);
      }
      const wavs = await readTable(scp, issues);
      const texts = await readTable(textFile, issues);
      const speakers = spkFile ? await readTable(spkFile, issues) : new Map<string, KeyedLine>();
      // A data dir named train/dev/test says the split.
      const split = splitFromName(basename(dir));
      for (const [utt, { value: ref, line }] of wavs) {
        if (ref.endsWith('|')) {
          issues.push({ kind: 'bad-manifest-row', file: scp.path, line, field: 'path', reason: `utterance ${utt} is a shell pipe ("… |"); only plain file paths can be imported in the browser` });
          continue;
        }
        const text = texts.get(utt);
        if (!text) {
          issues.push({ kind: 'bad-manifest-row', file: scp.path, line, field: 'text', reason: `utterance ${utt} has no line in ${textFile.path}` });
          continue;
        }
        items.push({
          audio: index.find(dir, ref),
          audioRef: ref,
          transcript: text.value,
          speaker: speakers.get(utt)?.value,
          split,
          source: { file: textFile.path, line: text.line },
        });
      }
      for (const [utt, { line }] of texts) {
        if (!wavs.has(utt)) issues.push({ kind: 'missing-audio', file: textFile.path, line, reason: `utterance ${utt} has a transcript but no entry in ${scp.path}` });
      }
    }
    return { items, issues, metadataFiles: metadata };
  },
};
