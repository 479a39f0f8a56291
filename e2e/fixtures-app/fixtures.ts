// Inputs for the app journeys, generated at test time: a tiny random-weight model directory
// (the shipped base model may be absent), a small NeMo dataset zip of tone clips, and a WAV for
// Chromium's fake microphone. Tiny on purpose: headless Chromium's WebGPU is a software adapter.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAcousticModel, type Weights } from '../../src/asr/model';
import { WordLm } from '../../src/asr/lm';
import { writeModelDir } from '../../src/asr/model-dir';
import { DEFAULT_VOCAB } from '../../src/asr/vocab';
import { encodeWav16 } from '../../src/audio';
import { writeZip } from '../../src/data/zip';
import { toneWav } from '../../src/data/testing/sample-datasets';

export const TINY_ARCH = { nMels: 80, dModel: 32, heads: 2, blocks: 1, ffDim: 64, convKernel: 5, vocabSize: 29 };

export const OUT_DIR = join(process.cwd(), 'test-results', 'app');

/** `lm`: with a small word LM (lm.arpa + a beam-search decoder) of the tone dataset's words. */
export function tinyModelFiles(seed = 1, o: { lm?: boolean } = {}): { name: string; mimeType: string; buffer: Buffer }[] {
  const { g } = buildAcousticModel({ arch: TINY_ARCH, seed, batch: 1, frames: 64, masked: false });
  const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  const lm = o.lm ? { decoder: { beamWidth: 4, lmWeight: 0.5, wordBonus: 1 }, lmArpa: new TextEncoder().encode(WordLm.fromTexts(WORDS.map((w, i) => `${w} ${WORDS[(i * 3 + 1) % 10]}`)).toArpa()) } : {};
  const files = writeModelDir({ arch: TINY_ARCH, weights, vocab: DEFAULT_VOCAB, card: '# Tiny test model\n\nRandom weights, for the browser journeys.\n', provenance: { purpose: 'e2e' }, ...lm });
  return Object.entries(files).map(([name, bytes]) => ({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) }));
}

const WORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];

/** A NeMo-manifest zip of `n` short tone clips with two-word transcripts and two speakers. */
export function toneDatasetZip(n = 20): { name: string; mimeType: string; buffer: Buffer } {
  const entries: { path: string; bytes: Uint8Array }[] = [];
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const seconds = 0.8 + 0.02 * (i % 10);
    entries.push({ path: `clips/clip${i}.wav`, bytes: toneWav(seconds, i + 1) });
    rows.push(JSON.stringify({ audio_filepath: `clips/clip${i}.wav`, text: `${WORDS[i % 10]} ${WORDS[(i * 3 + 1) % 10]}`, duration: seconds, speaker: i % 2 ? 'ann' : 'bob' }));
  }
  entries.push({ path: 'train_manifest.json', bytes: new TextEncoder().encode(rows.join('\n') + '\n') });
  return { name: 'tones.zip', mimeType: 'application/zip', buffer: Buffer.from(writeZip(entries)) };
}

/** A 3 s WAV for --use-file-for-fake-audio-capture: a warbling tone with a pause, 16 kHz mono. */
export function fakeMicWav(): string {
  mkdirSync(OUT_DIR, { recursive: true });
  const sr = 16000;
  const x = new Float32Array(3 * sr);
  for (let i = 0; i < x.length; i++) {
    const t = i / sr;
    const on = t < 2 ? 1 : 0;
    x[i] = on * 0.3 * Math.sin(2 * Math.PI * (220 + 80 * Math.sin(2 * Math.PI * 3 * t)) * t);
  }
  const path = join(OUT_DIR, 'fake-mic.wav');
  writeFileSync(path, encodeWav16([x], sr));
  return path;
}
