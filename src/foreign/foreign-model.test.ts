// ForeignModel's own plumbing on the fixtures: batch inputs in each model's layout (padding on the
// time axis, length and mask inputs), the word LM only over characters, adopt() switching inference
// to the adapted model. Transcripts, training and export are tested through the CLI
// (src/cli/foreign-cli.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WordLm } from '../asr/lm';
import { decodeMono } from '../audio/decode';
import { modelFilesFromDisk } from '../cli/foreign-source';
import { nodeBackend } from '../runtime/node';
import { ForeignModel } from './foreign-model';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const backend = nodeBackend({ threads: 1 });
const open = async (folder: string) => ForeignModel.open((await modelFilesFromDisk(new URL(folder, FIXTURES).pathname)).files, backend);
const vowels = () => decodeMono(new Uint8Array(readFileSync(new URL('audio/synthetic-vowels.wav', FIXTURES))), 16000);

describe('ForeignModel', () => {
  it('pads a NeMo batch along frames of [mels, frames] and feeds each item’s length', async () => {
    const m = await open('nemo-conformer-tiny');
    const samples = await vowels();
    const [a, b] = [m.features(samples), m.features(samples.subarray(0, 8000))];
    const x = m.inputs([a, b], a.length + 3);
    const T = a.length + 3;
    expect(x.audio_signal.dims).toEqual([2, 80, T]);
    expect(Array.from(x.length.data as BigInt64Array, Number)).toEqual([a.length, b.length]);
    const signal = x.audio_signal.data as Float32Array;
    // mel 5 of item 1: its frames, then zeros
    expect(Array.from(signal.subarray(80 * T + 5 * T, 80 * T + 5 * T + b.length))).toEqual(Array.from(b.data.subarray(5 * b.length, 6 * b.length)));
    expect(signal.subarray(80 * T + 5 * T + b.length, 80 * T + 6 * T).every((v) => v === 0)).toBe(true);
    await m.release();
  });

  it('uses the word LM over characters, and over SentencePiece pieces says it does not', async () => {
    const lm = { model: WordLm.fromTexts(['a e i o']), weight: 0.5, wordBonus: 1 };
    const w2v = await open('wav2vec2-tiny');
    expect(w2v.usableDecoding({ beamWidth: 8, lm })).toEqual({ decoding: { beamWidth: 8, lm } });
    expect(await w2v.transcribe(await vowels(), { beamWidth: 8, lm })).toBe('a e i o');
    const nemo = await open('nemo-conformer-tiny');
    const { decoding, note } = nemo.usableDecoding({ beamWidth: 8, lm });
    expect(decoding).toEqual({ beamWidth: 8 });
    expect(note).toBe("nemo-conformer-tiny/tokens.txt holds SentencePiece pieces, and Earshot's word LM is used only with character vocabularies: decoding with beam search (width 8) without the LM");
    await w2v.release();
    await nemo.release();
  });

  it('adopt() runs the adapted model from then on', async () => {
    const m = await open('wav2vec2-tiny');
    const samples = await vowels();
    const x = { input: m.features(samples), text: 'a e i o' };
    const before = (await m.scores(samples)).data;
    const t = await m.createTrainer({ targets: ['attention.q', 'attention.v'], rank: 2, alpha: 4, optimizer: { kind: 'adamw', weightDecay: 0 } }, m.inputs([x.input]));
    // targets the model was not trained on, so the step moves the weights
    const batch = m.batch(t, [{ ...x, text: 'o i e a' }]);
    for (let s = 0; s < 3; s++) await t.step(batch, 1e-2);
    const adapted = (await t.scores(batch.inputs)).data as Float32Array;
    await m.adopt(t);
    const after = (await m.scores(samples)).data;
    let worst = 0;
    let moved = 0;
    for (let i = 0; i < after.length; i++) {
      worst = Math.max(worst, Math.abs(after[i] - adapted[i]));
      moved = Math.max(moved, Math.abs(after[i] - before[i]));
    }
    expect(worst).toBeLessThan(1e-4);
    expect(moved).toBeGreaterThan(1e-3);
    await t.dispose();
    await m.release();
  });

  it('makes its inference session on the first transcription, so training alone never holds one', async () => {
    const sizes: number[] = [];
    const counting = { ...backend, info: backend.info, toDevice: backend.toDevice.bind(backend), createSession: (model: Uint8Array, deviceOutputs?: string[]) => (sizes.push(model.length), backend.createSession(model, deviceOutputs)) };
    const files = (await modelFilesFromDisk(new URL('wav2vec2-tiny', FIXTURES).pathname)).files;
    const m = await ForeignModel.open(files, counting);
    expect(sizes).toEqual([]);
    const samples = await vowels();
    const x = m.features(samples);
    const t = await m.createTrainer({ targets: ['attention.q'], rank: 2, alpha: 4, optimizer: { kind: 'adamw', weightDecay: 0 } }, m.inputs([x]));
    const onnxBytes = (await files.get(m.description.onnx.path)!.read()).length;
    expect(sizes.length).toBeGreaterThan(0); // the trainer's own graphs
    expect(sizes).not.toContain(onnxBytes); // but not the imported model's session
    const text = await m.transcribe(samples, { beamWidth: 1 });
    expect(typeof text).toBe('string');
    expect(sizes.filter((n) => n === onnxBytes)).toHaveLength(1);
    await m.transcribe(samples, { beamWidth: 1 }); // and it is kept
    expect(sizes.filter((n) => n === onnxBytes)).toHaveLength(1);
    await t.dispose();
    await m.release();
  });
});
