// Hugging Face "audiofolder": metadata.csv with a file_name column beside (or above) the audio.
// https://huggingface.co/docs/datasets/audio_dataset#audiofolder
import { basename, dirname, FileIndex, type VirtualFile } from '../vfile';
import { decodeText, parseDelimited, splitFromName } from './text';
import type { FormatParser, ParsedItem, ParseIssue } from './types';

const TEXT_COLUMNS = ['transcription', 'text', 'sentence'];
const SPEAKER_COLUMNS = ['speaker_id', 'speaker', 'client_id'];

async function header(f: VirtualFile): Promise<string[] | undefined> {
  if (basename(f.path).toLowerCase() !== 'metadata.csv') return undefined;
  const head = decodeText((await f.read()).subarray(0, 4096));
  const rows = parseDelimited(head.split(/\r?\n/)[0] ?? '', ',');
  return rows[0]?.fields.map((s) => s.trim());
}

async function metadataFiles(files: readonly VirtualFile[]): Promise<VirtualFile[]> {
  const out: VirtualFile[] = [];
  for (const f of files) {
    const h = await header(f);
    if (h && h.includes('file_name') && TEXT_COLUMNS.some((c) => h.includes(c))) out.push(f);
  }
  return out;
}

export const hfAudiofolder: FormatParser = {
  id: 'hf-audiofolder',
  async detect(files) {
    return (await metadataFiles(files)).length > 0 ? 80 : 0;
  },
  async parse(files) {
    const index = new FileIndex(files);
    const items: ParsedItem[] = [];
    const issues: ParseIssue[] = [];
    const found = await metadataFiles(files);
    for (const meta of found) {
      const dir = dirname(meta.path);
      // audiofolder puts splits in folders: train/metadata.csv, test/metadata.csv.
      const split = splitFromName(basename(dir));
      const [head, ...rows] = parseDelimited(decodeText(await meta.read()), ',');
      const cols = head.fields.map((s) => s.trim());
      const fileCol = cols.indexOf('file_name');
      const textName = TEXT_COLUMNS.find((c) => cols.includes(c)) as string;
      const textCol = cols.indexOf(textName);
      const speakerCol = cols.findIndex((c) => SPEAKER_COLUMNS.includes(c));
      for (const { line, fields } of rows) {
        const bad = (field: string | undefined, reason: string) => issues.push({ kind: 'bad-manifest-row', file: meta.path, line, field, reason });
        if (fields.length !== cols.length) {
          bad(undefined, `has ${fields.length} columns, the header has ${cols.length}`);
          continue;
        }
        const ref = fields[fileCol].trim();
        if (ref === '') {
          bad('file_name', 'is empty');
          continue;
        }
        items.push({
          audio: index.find(dir, ref),
          audioRef: ref,
          transcript: fields[textCol],
          speaker: speakerCol >= 0 && fields[speakerCol].trim() !== '' ? fields[speakerCol].trim() : undefined,
          split,
          source: { file: meta.path, line },
        });
      }
    }
    return { items, issues, metadataFiles: found.map((f) => f.path) };
  },
};
