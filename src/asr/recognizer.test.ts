// A take transcribed while it is recorded (features streamed in 100 ms chunks) gives the very text
// the whole clip gives, with the shipped model, greedy and with its beam search + word LM.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMono } from '../audio/decode';
import { nodeBackend } from '../runtime/node';
import { GREEDY } from './decode';
import { MODEL_FILES, readModelDir, type ModelFiles } from './model-dir';
import { Recognizer } from './recognizer';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');

let rec: Recognizer;
const takes: Float32Array[] = [];

beforeAll(async () => {
  const files: Record<string, Uint8Array> = {};
  for (const f of MODEL_FILES) if (existsSync(join(root, 'public/models/base', f))) files[f] = new Uint8Array(readFileSync(join(root, 'public/models/base', f)));
  rec = await Recognizer.create(nodeBackend({ threads: 1 }), readModelDir(files as ModelFiles));
  const speech = join(root, '../shared/speech/ljspeech_coqui/audio');
  const paths = existsSync(speech) ? ['wavs_LJ001-0011.flac', 'wavs_LJ001-0002.flac'].map((f) => join(speech, f)) : [join(here, '../audio/fixtures/pcm16-16k-mono.wav')];
  for (const p of paths) takes.push(await decodeMono(new Uint8Array(readFileSync(p)), 16000, p));
}, 120_000); // reading the 9 MB ARPA LM and creating the session take seconds on a busy machine

afterAll(async () => {
  await rec?.release();
});

/** The take as the Record panel delivers it: 100 ms chunks, then the stop. */
async function streamed(samples: Float32Array, decoding = rec.model.decoding): Promise<string> {
  const stream = rec.featureStream();
  for (let at = 0; at < samples.length; at += 1600) stream.push(samples.slice(at, at + 1600));
  return rec.transcribeFeatures(stream.finish(), { decoding });
}

describe('Recognizer: a take streamed while recorded', () => {
  it('gives the text of the whole clip, with the model’s own decoding (beam search + word LM)', async () => {
    expect(rec.model.decoding.lm).toBeDefined();
    for (const x of takes) {
      const whole = await rec.transcribeSamples(x);
      expect(whole).not.toBe('');
      expect(await streamed(x)).toBe(whole);
    }
  });

  it('gives the text of the whole clip, greedy', async () => {
    for (const x of takes) expect(await streamed(x, GREEDY)).toBe(await rec.transcribeSamples(x, { decoding: GREEDY }));
  });

  it('transcribes the same after its warm-up', async () => {
    const before = await rec.transcribeSamples(takes[0]);
    await rec.warmUp(1);
    expect(await rec.transcribeSamples(takes[0])).toBe(before);
  });
});
