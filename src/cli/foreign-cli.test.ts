// The CLI on models from elsewhere, as a user runs it (a real process, real files): transcripts of
// each fixture equal onnxruntime's own run (reference-outputs.json), `finetune` trains LoRA and
// writes the model in its own layout, which plain onnxruntime-node runs with the scores the app
// computes, and a model Earshot cannot use is refused in one sentence.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMono } from '../audio/decode';
import { decodeModel, encodeModel } from '../engine/onnx-proto';
import { plainRun, relDiff } from '../engine/testing/plain-ort';
import { fineTuneForeign } from '../foreign/foreign-finetune';
import { ForeignModel } from '../foreign/foreign-model';
import { detectModelLayout } from '../foreign/layout';
import { nodeBackend } from '../runtime/node';
import { modelFilesFromDisk } from './foreign-source';

const run = promisify(execFile);
const FIXTURES = resolve('src/foreign/fixtures');
const SHARED = resolve('../shared');
const LIBRI = join(SHARED, 'speech/librispeech_train28');

interface Reference {
  clips: Record<string, { source: string; text: string }>;
  models: Record<string, { clips: Record<string, { greedy: string }> }>;
}
const ref = JSON.parse(readFileSync(join(FIXTURES, 'reference-outputs.json'), 'utf8')) as Reference;
// the Citrinet-style fixture has its own reference file (its own script), on the same clips
Object.assign(ref.models, (JSON.parse(readFileSync(join(FIXTURES, 'citrinet-reference-outputs.json'), 'utf8')) as Reference).models);
const clipPath = (source: string) => (source.startsWith('shared/') ? join(SHARED, source.slice('shared/'.length)) : resolve(source));

/** The CLI in its own process; stderr without npm's own warnings. */
async function cli(...args: string[]) {
  const npmless = (s: string) => s.split('\n').filter((l) => !l.startsWith('npm warn')).join('\n');
  try {
    const r = await run('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return { code: 0, stdout: r.stdout, stderr: npmless(r.stderr) };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: npmless(x.stderr) };
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-foreign-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('earshot CLI on imported models', () => {
  // how each reference model is named on the command line: its folder, a precision, or the lone .onnx
  const commandLine: Record<string, string[]> = {
    'wav2vec2-tiny/onnx/model.onnx': ['--model', join(FIXTURES, 'wav2vec2-tiny')],
    'wav2vec2-tiny/onnx/model_quantized.onnx': ['--model', join(FIXTURES, 'wav2vec2-tiny'), '--precision', 'quantized'],
    'nemo-conformer-tiny/model.onnx': ['--model', join(FIXTURES, 'nemo-conformer-tiny/model.onnx')],
    'nemo-citrinet-tiny/model.onnx': ['--model', join(FIXTURES, 'nemo-citrinet-tiny')],
  };
  it.each(Object.keys(ref.models))('transcribe %s: the transcripts of onnxruntime’s own run', async (model) => {
    const clips = Object.entries(ref.models[model].clips).filter(([id]) => existsSync(clipPath(ref.clips[id].source)));
    expect(clips.length).toBeGreaterThan(0); // the committed synthetic clip at least
    const r = await cli('transcribe', ...commandLine[model], ...clips.map(([id]) => clipPath(ref.clips[id].source)));
    expect(r.code, r.stderr).toBe(0);
    const got = r.stdout.trim().split('\n').map((l) => l.split('\t')[1]);
    expect(got).toEqual(clips.map(([, c]) => c.greedy.toLowerCase()));
    // beam search without an LM agrees on these confident outputs
    const beam = await cli('transcribe', ...commandLine[model], '--beam', '4', ...clips.map(([id]) => clipPath(ref.clips[id].source)));
    expect(beam.stdout.trim().split('\n').map((l) => l.split('\t')[1])).toEqual(got);
  });

  it('refusals: one sentence naming the file and the reason, exit code 1', async () => {
    const whisper = await cli('transcribe', '--model', join(FIXTURES, 'whisper-tiny-encdec'), join(FIXTURES, 'audio/synthetic-vowels.wav'));
    expect(whisper.code).toBe(1);
    expect(whisper.stderr.trim()).toBe('whisper-tiny-encdec/config.json describes a Whisper model, an encoder–decoder model, which Earshot does not support yet (it imports CTC models: wav2vec2, HuBERT, WavLM, NeMo Conformer-CTC…).');
    expect(whisper.stdout).toBe('');

    const lone = join(dir, 'model.onnx'); // a NeMo model without its tokens.txt
    copyFileSync(join(FIXTURES, 'nemo-conformer-tiny/model.onnx'), lone);
    const noVocab = await cli('eval', '--model', lone, '--manifest', join(dir, 'none.jsonl'));
    expect(noVocab.code).toBe(1);
    expect(noVocab.stderr.trim().split('\n')).toEqual(["tokens.txt is missing beside model.onnx, so the model's output cannot be turned into text."]);

    // an op the engine has no gradient rule for: transcribes, but finetune refuses before training
    const model = decodeModel(new Uint8Array(readFileSync(join(FIXTURES, 'nemo-conformer-tiny/model.onnx'))));
    model.graph.nodes.find((n) => n.opType === 'Relu')!.opType = 'Softplus';
    const softplus = join(dir, 'softplus');
    mkdirSync(softplus);
    writeFileSync(join(softplus, 'model.onnx'), encodeModel(model));
    copyFileSync(join(FIXTURES, 'nemo-conformer-tiny/tokens.txt'), join(softplus, 'tokens.txt'));
    writeFileSync(join(dir, 'one.jsonl'), JSON.stringify({ audio_filepath: join(FIXTURES, 'audio/synthetic-vowels.wav'), text: 'a e i o' }) + '\n');
    const noRule = await cli('finetune', '--model', softplus, '--train', join(dir, 'one.jsonl'), '--out', join(dir, 'y'), '--steps', '2');
    expect(noRule.code).toBe(1);
    expect(noRule.stderr.trim().split('\n').pop()).toBe("softplus/model.onnx cannot be made into a static training graph: node '/encoder/pre_encode/conv/conv.1/Relu' (Softplus): operator Softplus is not supported.");
    expect(existsSync(join(dir, 'y'))).toBe(false);

    const bottleneck = await cli('finetune', '--model', join(FIXTURES, 'wav2vec2-tiny'), '--train', join(dir, 'none.jsonl'), '--out', join(dir, 'x'), '--adapter', 'bottleneck');
    expect(bottleneck.code).not.toBe(0);
    expect(bottleneck.stderr).toMatch(/--adapter bottleneck is for Earshot's own models; an imported model fine-tunes with LoRA/);
  });

  // three unseen 2.7 s LibriSpeech clips: one length bucket, so every step sees the same batch
  const TRAIN_CLIPS = ['ls_1089-134686-0003', 'ls_1089-134686-0027', 'ls_1089-134686-0030'];
  const haveLibri = TRAIN_CLIPS.every((c) => existsSync(join(LIBRI, `audio/${c}.opus`)));

  function trainManifest(): string {
    const rows = readFileSync(join(LIBRI, 'manifest.jsonl'), 'utf8').split('\n').filter((l) => TRAIN_CLIPS.some((c) => l.includes(`${c}.opus`)));
    const file = join(dir, 'train.jsonl');
    writeFileSync(file, rows.map((l) => { const r = JSON.parse(l); return JSON.stringify({ ...r, audio_filepath: join(LIBRI, r.audio_filepath) }); }).join('\n') + '\n');
    return file;
  }

  it.skipIf(!haveLibri)('finetune wav2vec2-tiny: 20 LoRA steps lower the loss; --out is the same layout, runs in plain onnxruntime and scores as the app scores it', async () => {
    const out = join(dir, 'tuned-w2v');
    const r = await cli('finetune', '--model', join(FIXTURES, 'wav2vec2-tiny'), '--train', trainManifest(), '--out', out, '--steps', '20', '--seed', '3');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.info(`CLI finetune wav2vec2-tiny: loss ${s.first_loss.toFixed(3)} → ${s.last_loss.toFixed(3)} in ${s.steps} steps (lr ${s.peak_lr}, LoRA r${s.adapter.rank} on ${s.adapter.targets.join(', ')}, ${s.adapter.modules} modules)`);
    expect(s.steps).toBe(20);
    expect(s.skipped_steps).toBe(0);
    expect(s.last_loss).toBeLessThan(0.95 * s.first_loss); // 7.97 → 7.09 at the recipe's lr 1e-3
    expect(s.adapter.targets).toEqual(['attention.q', 'attention.v', 'ff.in', 'ff.out']); // the recipe's q, v, ff1, ff2
    expect(s.files.sort()).toEqual(['adapter.safetensors', 'config.json', 'onnx/model.onnx', 'preprocessor_config.json', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json']);
    expect(s.left_out).toEqual(['onnx/model_quantized.onnx: another ONNX file of the original model, not adapted']);

    // detected as the layout it came in, with the side files unchanged
    const { files } = await modelFilesFromDisk(out);
    const d = await detectModelLayout(files);
    expect(d.kind).toBe('hf-ctc');
    expect(d.onnx.path).toBe('tuned-w2v/onnx/model.onnx');
    for (const f of ['config.json', 'vocab.json', 'preprocessor_config.json']) expect(readFileSync(join(out, f))).toEqual(readFileSync(join(FIXTURES, 'wav2vec2-tiny', f)));

    // plain onnxruntime-node on the exported file = the app's ForeignModel on the export; and it moved
    const m = await ForeignModel.open(files, nodeBackend({ threads: 1 }));
    const base = await ForeignModel.open((await modelFilesFromDisk(join(FIXTURES, 'wav2vec2-tiny'))).files, nodeBackend({ threads: 1 }));
    const samples = await decodeMono(new Uint8Array(readFileSync(join(LIBRI, `audio/${TRAIN_CLIPS[0]}.opus`))), 16000);
    const app = await m.scores(samples);
    const plain = await plainRun(join(out, 'onnx/model.onnx'), m.inputs([m.features(samples)]));
    expect(relDiff(plain, app.data)).toBeLessThan(1e-5);
    expect(relDiff(app.data, (await base.scores(samples)).data)).toBeGreaterThan(1e-3);
    await m.release();
    await base.release();
  });

  it.skipIf(!haveLibri)('finetune a convolution-only model (Citrinet-style): the recipe falls back to LoRA on its pointwise convolutions, the loss falls, --out is the same layout', async () => {
    const out = join(dir, 'tuned-citrinet');
    const r = await cli('finetune', '--model', join(FIXTURES, 'nemo-citrinet-tiny'), '--train', trainManifest(), '--out', out, '--steps', '20', '--seed', '3', '--lr', '1e-2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('LoRA goes on its pointwise convolutions');
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    console.info(`CLI finetune nemo-citrinet-tiny: loss ${s.first_loss.toFixed(3)} → ${s.last_loss.toFixed(3)} in ${s.steps} steps on ${s.adapter.targets.join(', ')} (${s.adapter.modules} modules)`);
    expect(s.adapter.targets).toEqual(['conv.pointwise']);
    expect(s.adapter.modules).toBeGreaterThan(0);
    expect(s.last_loss).toBeLessThan(0.9 * s.first_loss);
    const d = await detectModelLayout((await modelFilesFromDisk(join(out, 'model.onnx'))).files, { onnx: 'model.onnx' });
    expect(d.kind).toBe('nemo-ctc');
  });

  // Trained on the padded bucket (385 frames), scored at the batch's own length: a second shape, which
  // once fed the first bucket's folded position table to the second graph (foreign-trainer.ts).
  it.skipIf(!haveLibri)('NeMo (pieces, log-probs): the trainer’s adapted scores equal plain onnxruntime on the exported model.onnx', async () => {
    const backend = nodeBackend({ threads: 1 });
    const m = await ForeignModel.open((await modelFilesFromDisk(join(FIXTURES, 'nemo-conformer-tiny'))).files, backend);
    expect((await m.projectionKinds()).map((k) => k.kind)).toEqual(['attention.q', 'attention.k', 'attention.v', 'attention.out', 'ff.in', 'ff.out', 'conv.pointwise', 'decoder', 'other']);
    const rows = readFileSync(trainManifest(), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { audio_filepath: string; text: string });
    const train = await Promise.all(rows.map(async (r, i) => ({ id: String(i), text: r.text, samples: await decodeMono(new Uint8Array(readFileSync(r.audio_filepath)), 16000) })));
    const run = await fineTuneForeign(m, train, {
      lora: { targets: ['attention.q', 'attention.v', 'ff.in', 'ff.out'], rank: 4, alpha: 8, seed: 1, optimizer: { kind: 'adamw', weightDecay: 0 }, clipNorm: 5 },
      steps: 20, peakLr: 1e-2, warmupSteps: 2, batchSeconds: 12, seed: 1,
    });
    console.info(`nemo-conformer-tiny LoRA through fineTuneForeign: loss ${run.losses[0].toFixed(3)} → ${run.losses[19].toFixed(3)}`);
    expect(run.losses[19]).toBeLessThan(0.9 * run.losses[0]);
    const exported = await m.exportFiles(run.trainer);
    expect([...exported.files.keys()].sort()).toEqual(['adapter.safetensors', 'model.onnx', 'tokens.txt']);
    const out = join(dir, 'tuned-nemo');
    mkdirSync(out);
    for (const [p, bytes] of exported.files) writeFileSync(join(out, p), bytes);
    // the same layout, front end (sherpa-onnx reads it from the metadata) and vocabulary
    const d = await detectModelLayout((await modelFilesFromDisk(join(out, 'model.onnx'))).files, { onnx: 'model.onnx' });
    expect([d.kind, d.frontEnd, d.blankId, d.output.kind]).toEqual([m.description.kind, m.description.frontEnd, m.description.blankId, 'logProbs']);
    const batchInputs = m.inputs(train.map((u) => m.features(u.samples)));
    const adapted = await run.trainer.scores(batchInputs);
    expect(relDiff(await plainRun(join(out, 'model.onnx'), batchInputs), adapted.data as Float32Array)).toBeLessThan(1e-4);
    await run.trainer.dispose();
    await m.release();
  });
});
