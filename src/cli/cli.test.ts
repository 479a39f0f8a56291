// The CLI as a user runs it: a real process, real files, a model directory on disk.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAcousticModel, type ModelArch } from '../asr/model';
import { readModelDir, writeModelDir } from '../asr/model-dir';
import { DEFAULT_VOCAB } from '../asr/vocab';

const run = promisify(execFile);
const TINY: ModelArch = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 5, vocabSize: 29 };
const fixtures = resolve('src/audio/fixtures');
let dir: string;
let modelDir: string;

async function cli(...args: string[]) {
  try {
    const r = await run('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-cli-'));
  modelDir = join(dir, 'model');
  mkdirSync(modelDir);
  const m = buildAcousticModel({ arch: TINY, batch: 1, frames: 32, masked: false, seed: 5 });
  const weights = new Map([...m.g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  for (const [name, bytes] of Object.entries(writeModelDir({ arch: TINY, weights, vocab: DEFAULT_VOCAB, card: '# tiny\n' }))) writeFileSync(join(modelDir, name), bytes);
  writeFileSync(join(dir, 'broken.wav'), new TextEncoder().encode('RIFF....WAVEfmt garbage'));
  const rows = ['pcm16-16k-mono.wav', 'tone-16k-mono.flac', 'tone-22k-mono.mp3', 'tone-16k-mono.opus'].map((f, i) => JSON.stringify({ audio_filepath: join(fixtures, f), text: ['a tone', 'the tone', 'one tone', 'tone'][i] }));
  writeFileSync(join(dir, 'train.jsonl'), rows.join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('earshot CLI', () => {
  it('transcribe prints one line per file and reports an unreadable file without stopping', async () => {
    const r = await cli('transcribe', '--model', modelDir, join(fixtures, 'pcm16-16k-mono.wav'), join(dir, 'broken.wav'), join(fixtures, 'tone-44k-stereo.mp3'));
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split('\t')[0])).toEqual([join(fixtures, 'pcm16-16k-mono.wav'), join(fixtures, 'tone-44k-stereo.mp3')]);
    expect(r.stderr).toMatch(/broken\.wav: .+/);
  });

  it('eval prints a JSON summary as its last line', async () => {
    const r = await cli('eval', '--model', modelDir, '--manifest', join(dir, 'train.jsonl'));
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.utterances).toBe(4);
    expect(s.wer).toBeGreaterThan(0);
    expect(s.audio_seconds).toBeGreaterThan(0);
    expect(s.wall_seconds).toBeGreaterThan(0);
  });

  it('a model directory with a problem is refused with the problem named', async () => {
    const bad = join(dir, 'bad-model');
    mkdirSync(bad);
    writeFileSync(join(bad, 'config.json'), '{}');
    const r = await cli('transcribe', '--model', bad, join(fixtures, 'pcm16-16k-mono.wav'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/model.onnx is missing/);
  });

  it('finetune trains LoRA, writes a model directory that loads, and reports before/after', async () => {
    const out = join(dir, 'tuned');
    const r = await cli('finetune', '--model', modelDir, '--train', join(dir, 'train.jsonl'), '--val', join(dir, 'train.jsonl'), '--out', out, '--steps', '6', '--lr', '1e-2', '--batch-seconds', '4');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.steps).toBe(6);
    expect(s.train_seconds).toBeGreaterThan(0);
    expect(typeof s.val_wer_before).toBe('number');
    expect(typeof s.val_wer_after).toBe('number');
    const files = Object.fromEntries(['model.onnx', 'config.json', 'tokens.txt', 'README.md'].map((f) => [f, new Uint8Array(readFileSync(join(out, f)))]));
    const tuned = readModelDir(files);
    expect([...tuned.weights.keys()].some((n) => n.includes('lora'))).toBe(false); // merged
    expect(existsSync(join(out, 'adapter.safetensors'))).toBe(true);
  });
});
