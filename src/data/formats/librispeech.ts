// LibriSpeech: <speaker>/<chapter>/<speaker>-<chapter>.trans.txt, one `<utt-id> <TEXT>` per line,
// beside <utt-id>.flac, under a folder naming the split (train-clean-100, dev-clean, test-other).
// http://www.openslr.org/12
import { basename, dirname, FileIndex, type VirtualFile } from '../vfile';
import { decodeText, numberedLines, splitFromName, splitKeyValue } from './text';
import type { FormatParser, ParsedItem, ParseIssue } from './types';

const isTrans = (f: VirtualFile) => basename(f.path).toLowerCase().endsWith('.trans.txt');

export const librispeech: FormatParser = {
  id: 'librispeech',
  detect(files) {
    return files.some(isTrans) ? 95 : 0;
  },
  async parse(files) {
    const index = new FileIndex(files);
    const items: ParsedItem[] = [];
    const issues: ParseIssue[] = [];
    const transFiles = files.filter(isTrans);
    for (const trans of transFiles) {
      const dir = dirname(trans.path);
      // The speaker is the folder two levels up (<speaker>/<chapter>/...); ids repeat it.
      const parts = dir.split('/');
      const folderSpeaker = parts.length >= 2 ? parts[parts.length - 2] : undefined;
      const split = parts.length >= 3 ? splitFromName(parts[parts.length - 3]) : undefined;
      for (const { line, text } of numberedLines(decodeText(await trans.read()))) {
        const [id, transcript] = splitKeyValue(text);
        if (transcript === '') {
          issues.push({ kind: 'bad-manifest-row', file: trans.path, line, field: 'text', reason: `utterance ${id} has no transcript after its id` });
          continue;
        }
        const audio = index.get([dir, `${id}.flac`].filter(Boolean).join('/')) ??
          files.find((f) => dirname(f.path) === dir && basename(f.path).startsWith(`${id}.`) && !isTrans(f));
        items.push({
          audio,
          audioRef: [dir, `${id}.flac`].filter(Boolean).join('/'),
          transcript,
          speaker: folderSpeaker ?? id.split('-')[0],
          split,
          source: { file: trans.path, line },
        });
      }
    }
    return { items, issues, metadataFiles: transFiles.map((f) => f.path) };
  },
};
