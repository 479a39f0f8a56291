import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { decodeMono } from '../audio/decode';
import { cer, wer } from '../asr/wer';
import { openRecognizer, type DecodeFlags } from './open-model';

interface Row {
  audio_filepath: string;
  text: string;
  offset?: number;
  duration?: number;
  speaker?: string;
  age?: number;
  gender?: string;
}

export interface ManifestRow {
  path: string;
  text: string;
  offset?: number;
  duration?: number;
  speaker?: string;
  /** Speaker metadata some corpora carry (speechocean762). */
  age?: number;
  gender?: string;
}

/** Reads a NeMo-style manifest (paths relative to its folder); bad lines are errors with their line number. */
export function readManifest(file: string): ManifestRow[] {
  const base = dirname(file);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim())
    .map(([line, n]) => {
      let r: Row;
      try {
        r = JSON.parse(line) as Row;
      } catch {
        throw new Error(`${file}:${n}: not valid JSON`);
      }
      if (typeof r.audio_filepath !== 'string' || typeof r.text !== 'string') throw new Error(`${file}:${n}: needs "audio_filepath" and "text"`);
      return { path: isAbsolute(r.audio_filepath) ? r.audio_filepath : join(base, r.audio_filepath), text: r.text, offset: r.offset, duration: r.duration, speaker: r.speaker, age: r.age, gender: r.gender };
    });
}

/**
 * WER and CER of a model on a manifest, both after the project's text normalization
 * (src/asr/text-normalize.ts) of reference and hypothesis. The last stdout line is one JSON object.
 */
export async function runEval(modelPath: string, manifest: string, o: DecodeFlags & { threads?: number; limit?: number; precision?: 'full' | 'quantized' }): Promise<number> {
  const rec = await openRecognizer(modelPath, o);
  for (const n of rec.notes) process.stderr.write(`[eval] ${n}\n`);
  const sr = rec.sampleRate;
  const rows = readManifest(manifest).slice(0, o.limit);
  const refs: string[] = [];
  const hyps: string[] = [];
  let audioSeconds = 0;
  let failed = 0;
  const t0 = performance.now();
  for (const [i, r] of rows.entries()) {
    try {
      let samples = await decodeMono(new Uint8Array(readFileSync(r.path)), sr, r.path);
      if (r.offset || r.duration) {
        const start = Math.round((r.offset ?? 0) * sr);
        samples = samples.subarray(start, r.duration ? start + Math.round(r.duration * sr) : undefined);
      }
      audioSeconds += samples.length / sr;
      hyps.push(await rec.transcribe(samples));
      refs.push(r.text);
    } catch (e) {
      failed++;
      process.stderr.write(`${r.path}: ${(e as Error).message}\n`);
    }
    if ((i + 1) % 25 === 0 || i + 1 === rows.length) process.stderr.write(`[eval] ${i + 1}/${rows.length}\n`);
  }
  await rec.release();
  const w = wer(refs, hyps);
  const c = cer(refs, hyps);
  const wallSeconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      wer: w.errorRate,
      cer: c.errorRate,
      utterances: refs.length,
      failed,
      audio_seconds: +audioSeconds.toFixed(2),
      wall_seconds: +wallSeconds.toFixed(2),
      x_realtime: +(audioSeconds / wallSeconds).toFixed(1),
      word_errors: { sub: w.sub, del: w.del, ins: w.ins, ref_words: w.refLength },
      normalization: 'earshot text-normalize (Whisper-English-like) on reference and hypothesis',
      decoding: rec.decoding,
      model: modelPath,
      layout: rec.layout,
      manifest,
    }),
  );
  return failed && refs.length === 0 ? 1 : 0;
}
