// The layout people make by hand: clip.wav beside clip.txt (or clip.lab, the HTK/MFA label file).
import { dirname, extension, looksLikeAudio, stem, type VirtualFile } from '../vfile';
import { decodeText } from './text';
import type { FormatParser, ParsedItem } from './types';

const TRANSCRIPT_EXT = new Set(['txt', 'lab']);
const READ_CHUNK = 64;
const key = (f: VirtualFile) => `${dirname(f.path)}/${stem(f.path)}`;

export const pairs: FormatParser = {
  id: 'pairs',
  detect(files) {
    const audio = new Set(files.filter((f) => looksLikeAudio(f.path)).map(key));
    return files.some((f) => TRANSCRIPT_EXT.has(extension(f.path)) && audio.has(key(f))) ? 10 : 0;
  },
  async parse(files) {
    const audioByKey = new Map<string, VirtualFile>();
    for (const f of files) if (looksLikeAudio(f.path)) audioByKey.set(key(f), f);
    // A .txt with no audio beside it is only "transcript without audio" if it is short text; a
    // README.txt is not a transcript. Lone .lab files always are.
    const transcripts = files.filter(
      (f) => TRANSCRIPT_EXT.has(extension(f.path)) &&
        !(!audioByKey.has(key(f)) && extension(f.path) === 'txt' && /^(readme|license|licence|notes?|changelog)/i.test(stem(f.path))),
    );
    // Thousands of small reads: issue them in parallel chunks rather than one round trip at a time.
    const texts: string[] = [];
    for (let i = 0; i < transcripts.length; i += READ_CHUNK) {
      const chunk = await Promise.all(transcripts.slice(i, i + READ_CHUNK).map(async (f) => decodeText(await f.read()).trim()));
      texts.push(...chunk);
    }
    const items: ParsedItem[] = transcripts.map((f, i) => {
      const audio = audioByKey.get(key(f));
      return {
        audio,
        audioRef: audio?.path ?? `${dirname(f.path) ? dirname(f.path) + '/' : ''}${stem(f.path)}.wav`,
        transcript: texts[i],
        source: { file: f.path },
      };
    });
    return { items, issues: [], metadataFiles: transcripts.map((f) => f.path) };
  },
};
