import { readFileSync } from 'node:fs';
import { decodeMono } from '../audio/decode';
import { openRecognizer, type DecodeFlags } from './open-model';

/** Prints "<file>\t<text>" per file; an unreadable file is reported on stderr and the rest still run. */
export async function runTranscribe(model: string, files: string[], o: DecodeFlags & { threads?: number; precision?: 'full' | 'quantized' }): Promise<number> {
  const rec = await openRecognizer(model, o);
  for (const n of rec.notes) process.stderr.write(`[transcribe] ${n}\n`);
  let failed = 0;
  for (const file of files) {
    try {
      const text = await rec.transcribe(await decodeMono(new Uint8Array(readFileSync(file)), rec.sampleRate, file));
      process.stdout.write(`${file}\t${text}\n`);
    } catch (e) {
      failed++;
      process.stderr.write(`${file}: ${(e as Error).message.replace(`${file}: `, '')}\n`);
    }
  }
  await rec.release();
  return failed ? 1 : 0;
}
