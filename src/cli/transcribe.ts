import { readFileSync } from 'node:fs';
import { GREEDY } from '../asr/decode';
import { Recognizer } from '../asr/recognizer';
import { nodeBackend } from '../runtime/node';
import { loadModelFromDisk } from './model-files';

/** Prints "<file>\t<text>" per file; an unreadable file is reported on stderr and the rest still run. */
export async function runTranscribe(modelDir: string, files: string[], o: { threads?: number; beam?: number; greedy?: boolean }): Promise<number> {
  const rec = await Recognizer.create(nodeBackend({ threads: o.threads }), loadModelFromDisk(modelDir));
  let failed = 0;
  for (const file of files) {
    try {
      const text = await rec.transcribeFile(new Uint8Array(readFileSync(file)), file, { beamWidth: o.beam, decoding: o.greedy ? GREEDY : undefined });
      process.stdout.write(`${file}\t${text}\n`);
    } catch (e) {
      failed++;
      process.stderr.write(`${file}: ${(e as Error).message.replace(`${file}: `, '')}\n`);
    }
  }
  await rec.release();
  return failed ? 1 : 0;
}
