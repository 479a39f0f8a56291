// Decodes audio files to 16 kHz mono float32 (little-endian, no header) with the app's own decoder
// (src/audio/decode.ts: Opus at 48 kHz, then its resampler), so the Python fixture script
// (make-fixtures.py) computes its references on exactly the samples the TypeScript tests will see.
// Usage: npx tsx scripts/foreign/decode-clips.ts <out-dir> <audio-file>...  → <out-dir>/<basename>.f32
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { decodeMono } from '../../src/audio/decode';

const [outDir, ...files] = process.argv.slice(2);
if (!outDir || files.length === 0) throw new Error('usage: npx tsx scripts/foreign/decode-clips.ts <out-dir> <audio-file>...');
mkdirSync(outDir, { recursive: true });
for (const file of files) {
  const samples = await decodeMono(new Uint8Array(readFileSync(file)), 16000, file);
  const out = join(outDir, basename(file, extname(file)) + '.f32');
  writeFileSync(out, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
  console.log(`${out} ${samples.length}`);
}
