// earshot personalize as a user runs it: a real process on a tiny model and the audio fixtures.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAcousticModel, type ModelArch } from '../asr/model';
import { writeModelDir } from '../asr/model-dir';
import { DEFAULT_VOCAB } from '../asr/vocab';
import { DEFAULT_RECIPE } from '../train/recipe';

const run = promisify(execFile);
const TINY: ModelArch = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 5, vocabSize: 29 };
const fixtures = resolve('src/audio/fixtures');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-personalize-'));
  mkdirSync(join(dir, 'model'));
  const m = buildAcousticModel({ arch: TINY, batch: 1, frames: 32, masked: false, seed: 5 });
  const weights = new Map([...m.g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  for (const [name, bytes] of Object.entries(writeModelDir({ arch: TINY, weights, vocab: DEFAULT_VOCAB, card: '# tiny\n' }))) writeFileSync(join(dir, 'model', name), bytes);
  const files = ['pcm16-16k-mono.wav', 'tone-16k-mono.flac', 'tone-22k-mono.mp3', 'tone-16k-mono.opus'];
  const words = ['a tone', 'the tone', 'one tone', 'tone', 'a long tone', 'the end', 'tone one', 'a b c'];
  const rows = [
    ...words.map((text, i) => ({ audio_filepath: join(fixtures, files[i % 4]), text, speaker: 'ann' })),
    ...words.slice(0, 6).map((text, i) => ({ audio_filepath: join(fixtures, files[(i + 1) % 4]), text, speaker: 'bob' })),
  ];
  writeFileSync(join(dir, 'm.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('earshot personalize', () => {
  it('adapts each speaker on their first n, tests on their last N, skips sizes that do not fit, and prints one JSON summary', async () => {
    const r = await run('npx', ['tsx', 'src/cli/main.ts', 'personalize', '--model', join(dir, 'model'), '--manifest', join(dir, 'm.jsonl'), '--sizes', '2,5,7', '--test', '2', '--steps', '2', '--batch-seconds', '4'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/speaker bob: .*sizes 5, 7 skipped/);
    const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(s.recipe).toMatchObject({ adapter: DEFAULT_RECIPE.adapter, peakLr: DEFAULT_RECIPE.peakLr, l2sp: DEFAULT_RECIPE.l2sp, holdoutEvery: 5, steps_rule: 'fixed 2' });
    expect(s.decoding).toMatch(/greedy/);
    expect(s.per_speaker.map((p: { speaker: string; test_utterances: number; skipped_sizes: number[] }) => [p.speaker, p.test_utterances, p.skipped_sizes])).toEqual([
      ['ann', 2, [7]],
      ['bob', 2, [5, 7]],
    ]);
    const ann5 = s.per_speaker[0].sizes.find((x: { n: number }) => x.n === 5);
    // every fifth of the 5 held out: 4 trained, 1 held out; adoption decided on it
    expect(ann5).toMatchObject({ trained: 4, held_out: 1, steps: 2 });
    expect(typeof ann5.adopted).toBe('boolean');
    expect(ann5.wer_adopted).toBe(ann5.adopted ? ann5.wer_after : ann5.wer_before);
    expect(s.by_n.map((b: { n: number; speakers: number }) => [b.n, b.speakers])).toEqual([
      [2, 2],
      [5, 1],
    ]);
    expect(s.by_n[0].raw).toMatchObject({ speakers: 2, ci95: expect.any(Array) });
    expect(s.by_n[0].raw.improved + s.by_n[0].raw.worse + s.by_n[0].raw.unchanged).toBe(2);
  }, 120_000);
});
