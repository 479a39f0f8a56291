// NeMo ASR manifests: one JSON object per line with audio_filepath, text and optionally duration,
// offset and speaker. https://docs.nvidia.com/nemo-framework/user-guide/latest/nemotoolkit/asr/datasets.html
import { basename, dirname, extension, FileIndex, type VirtualFile } from '../vfile';
import { decodeText, numberedLines, splitFromName } from './text';
import type { FormatParser, ParsedItem, ParseIssue } from './types';

const MANIFEST_EXT = new Set(['json', 'jsonl', 'manifest']);

async function isManifest(f: VirtualFile): Promise<boolean> {
  if (!MANIFEST_EXT.has(extension(f.path)) || f.size === 0) return false;
  const head = decodeText((await f.read()).subarray(0, 4096));
  const first = head.split(/\r?\n/).find((l) => l.trim() !== '');
  return first !== undefined && /^\s*\{/.test(first) && first.includes('"audio_filepath"');
}

async function manifests(files: readonly VirtualFile[]): Promise<VirtualFile[]> {
  const out: VirtualFile[] = [];
  for (const f of files) if (await isManifest(f)) out.push(f);
  return out;
}

export const nemo: FormatParser = {
  id: 'nemo',
  async detect(files) {
    return (await manifests(files)).length > 0 ? 100 : 0;
  },
  async parse(files) {
    const index = new FileIndex(files);
    const items: ParsedItem[] = [];
    const issues: ParseIssue[] = [];
    const found = await manifests(files);
    for (const manifest of found) {
      const dir = dirname(manifest.path);
      const split = splitFromName(basename(manifest.path));
      for (const { line, text } of numberedLines(decodeText(await manifest.read()))) {
        const bad = (field: string | undefined, reason: string) => issues.push({ kind: 'bad-manifest-row', file: manifest.path, line, field, reason });
        let row: unknown;
        try {
          row = JSON.parse(text);
        } catch (e) {
          bad(undefined, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
          continue;
        }
        if (typeof row !== 'object' || row === null || Array.isArray(row)) {
          bad(undefined, 'not a JSON object');
          continue;
        }
        const r = row as Record<string, unknown>;
        if (typeof r.audio_filepath !== 'string' || r.audio_filepath.trim() === '') {
          bad('audio_filepath', 'missing or not a string');
          continue;
        }
        if (typeof r.text !== 'string') {
          bad('text', r.text === undefined ? 'missing' : `must be a string, got ${typeof r.text}`);
          continue;
        }
        const num = (field: 'duration' | 'offset'): number | undefined | null => {
          const v = r[field];
          if (v === undefined || v === null) return undefined;
          if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
            bad(field, `must be a non-negative number of seconds, got ${JSON.stringify(v)}`);
            return null;
          }
          return v;
        };
        const duration = num('duration');
        const offset = num('offset');
        if (duration === null || offset === null) continue;
        const speaker = r.speaker ?? r.speaker_id;
        items.push({
          audio: index.find(dir, r.audio_filepath),
          audioRef: r.audio_filepath,
          transcript: r.text,
          speaker: speaker === undefined || speaker === null ? undefined : String(speaker),
          duration,
          offset,
          split,
          source: { file: manifest.path, line },
        });
      }
    }
    return { items, issues, metadataFiles: found.map((f) => f.path) };
  },
};
