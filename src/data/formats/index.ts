import type { VirtualFile } from '../vfile';
import { commonVoice } from './common-voice';
import { hfAudiofolder } from './hf-audiofolder';
import { kaldi } from './kaldi';
import { librispeech } from './librispeech';
import { ljspeech } from './ljspeech';
import { nemo } from './nemo';
import { pairs } from './pairs';
import type { FormatId, FormatParser } from './types';

export * from './types';
export const PARSERS: readonly FormatParser[] = [nemo, kaldi, librispeech, commonVoice, hfAudiofolder, ljspeech, pairs];

/** The format whose detector scores highest, or undefined when none matches at all. */
export async function detectFormat(files: readonly VirtualFile[]): Promise<FormatParser | undefined> {
  let best: FormatParser | undefined;
  let bestScore = 0;
  for (const p of PARSERS) {
    // A file that cannot be read while sniffing just does not count as that layout.
    const score = await Promise.resolve(p.detect(files)).catch(() => 0);
    if (score > bestScore) [best, bestScore] = [p, score];
  }
  return best;
}

export function parserFor(id: FormatId): FormatParser {
  const p = PARSERS.find((q) => q.id === id);
  if (!p) throw new Error(`no parser for format ${id}`);
  return p;
}
