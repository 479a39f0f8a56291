// Mozilla Common Voice: <locale>/{train,dev,test,validated,...}.tsv with path, sentence and
// client_id columns; clips in <locale>/clips/. https://github.com/common-voice/cv-dataset
import { basename, dirname, extension, FileIndex, stem, type VirtualFile } from '../vfile';
import { decodeText, parseDelimited, splitFromName } from './text';
import type { FormatParser, ParsedItem, ParseIssue } from './types';

// validated.tsv is the union of train/dev/test and more; the others hold clips not meant for
// training. When split files exist, only they are read, so no clip is imported twice.
const SPLIT_FILES = new Set(['train', 'dev', 'test']);

async function tsvFiles(files: readonly VirtualFile[]): Promise<VirtualFile[]> {
  const out: VirtualFile[] = [];
  for (const f of files) {
    if (extension(f.path) !== 'tsv') continue;
    const first = decodeText((await f.read()).subarray(0, 4096)).split(/\r?\n/)[0] ?? '';
    const cols = first.split('\t').map((s) => s.trim());
    if (cols.includes('path') && cols.includes('sentence')) out.push(f);
  }
  return out;
}

export const commonVoice: FormatParser = {
  id: 'common-voice',
  async detect(files) {
    return (await tsvFiles(files)).length > 0 ? 90 : 0;
  },
  async parse(files) {
    const index = new FileIndex(files);
    const items: ParsedItem[] = [];
    const issues: ParseIssue[] = [];
    const all = await tsvFiles(files);
    const splitTsvs = all.filter((f) => SPLIT_FILES.has(stem(f.path).toLowerCase()));
    const used = splitTsvs.length > 0 ? splitTsvs : all;
    for (const f of all) {
      if (!used.includes(f)) {
        issues.push({ kind: 'ignored-file', file: f.path, reason: 'not read: train/dev/test.tsv are present and this file would repeat or add clips outside those splits' });
      }
    }
    for (const tsv of used) {
      const dir = dirname(tsv.path);
      const split = splitFromName(basename(tsv.path));
      // Common Voice does not quote: sentences may contain a bare ".
      const [head, ...rows] = parseDelimited(decodeText(await tsv.read()), '\t', false);
      const cols = head.fields.map((s) => s.trim());
      const pathCol = cols.indexOf('path');
      const sentenceCol = cols.indexOf('sentence');
      const speakerCol = cols.indexOf('client_id');
      for (const { line, fields } of rows) {
        const bad = (field: string | undefined, reason: string) => issues.push({ kind: 'bad-manifest-row', file: tsv.path, line, field, reason });
        if (fields.length < Math.max(pathCol, sentenceCol) + 1) {
          bad(undefined, `has ${fields.length} columns, the header has ${cols.length}`);
          continue;
        }
        const ref = fields[pathCol].trim();
        if (ref === '') {
          bad('path', 'is empty');
          continue;
        }
        const audio = index.get([dir, 'clips', ref].filter(Boolean).join('/')) ?? index.find(dir, ref);
        items.push({
          audio,
          audioRef: `clips/${ref}`,
          transcript: fields[sentenceCol],
          speaker: speakerCol >= 0 && fields[speakerCol]?.trim() ? fields[speakerCol].trim() : undefined,
          split,
          source: { file: tsv.path, line },
        });
      }
    }
    return { items, issues, metadataFiles: all.map((f) => f.path) };
  },
};
