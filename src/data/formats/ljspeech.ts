// LJSpeech: metadata.csv without a header, `id|text|normalized_text` per line, audio in wavs/<id>.wav.
// https://keithito.com/LJ-Speech-Dataset/
import { basename, dirname, FileIndex, type VirtualFile } from '../vfile';
import { decodeText, parseDelimited } from './text';
import type { FormatParser, ParsedItem, ParseIssue } from './types';

async function isLjMetadata(f: VirtualFile): Promise<boolean> {
  if (basename(f.path).toLowerCase() !== 'metadata.csv') return false;
  const first = decodeText((await f.read()).subarray(0, 4096)).split(/\r?\n/)[0] ?? '';
  const fields = first.split('|');
  return fields.length >= 2 && fields.length <= 3 && /^\S+$/.test(fields[0]) && !first.includes('file_name');
}

export const ljspeech: FormatParser = {
  id: 'ljspeech',
  async detect(files) {
    for (const f of files) if (await isLjMetadata(f)) return 70;
    return 0;
  },
  async parse(files) {
    const index = new FileIndex(files);
    const items: ParsedItem[] = [];
    const issues: ParseIssue[] = [];
    const metas: string[] = [];
    for (const meta of files) {
      if (!(await isLjMetadata(meta))) continue;
      metas.push(meta.path);
      const dir = dirname(meta.path);
      // LJSpeech quotes nothing: a sentence may contain a lone ".
      for (const { line, fields } of parseDelimited(decodeText(await meta.read()), '|', false)) {
        const bad = (field: string | undefined, reason: string) => issues.push({ kind: 'bad-manifest-row', file: meta.path, line, field, reason });
        if (fields.length < 2 || fields.length > 3) {
          bad(undefined, `expected id|text|normalized_text, got ${fields.length} field(s)`);
          continue;
        }
        const id = fields[0].trim();
        if (id === '' || /\s/.test(id)) {
          bad('id', id === '' ? 'is empty' : 'contains whitespace');
          continue;
        }
        // The normalized column spells out numbers and abbreviations; prefer it when present.
        const normalized = fields[2]?.trim();
        const ref = `wavs/${id}.wav`;
        items.push({
          audio: index.find(dir, ref),
          audioRef: ref,
          transcript: normalized ? normalized : fields[1],
          source: { file: meta.path, line },
        });
      }
    }
    return { items, issues, metadataFiles: metas };
  },
};
