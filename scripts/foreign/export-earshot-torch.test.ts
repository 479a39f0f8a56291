// A real trained model through a foreign exporter (issue 12): public/models/base exported by
// torch.onnx.export from its PyTorch twin (export-earshot-torch.py), imported through the CLI as an
// 'earshot-onnx' model, transcribes speechocean762/dev clips exactly as the native model does —
// greedy, and with beam search and the base model's word LM (--lm public/models/base).
// On 10 clips here; the README gives the whole dev set.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { torchPython } from '../torch/python';

const run = promisify(execFile);
const BASE = resolve('public/models/base');
const DEV = resolve('../shared/speech/speechocean762/dev');
const CLIPS = 10;

function python(): string | undefined {
  try {
    const py = torchPython();
    return spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0 ? py : undefined;
  } catch {
    return undefined;
  }
}
const py = python();
const missing = !existsSync(join(DEV, 'manifest.jsonl')) ? `${DEV} is not here` : !py ? 'no python3 with torch and onnx' : !existsSync(join(BASE, 'model.onnx')) ? 'public/models/base is missing' : undefined;

async function cli(...args: string[]): Promise<string> {
  const r = await run('npx', ['tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return r.stdout;
}
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as { wer: number; cer: number; utterances: number; word_errors: object; decoding: string; layout: string };

let dir: string | undefined;
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!!missing)(`public/models/base after torch.onnx.export${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it(`transcribes ${CLIPS} speechocean762/dev clips as the native model does (greedy, and beam search with its LM)`, { timeout: 300_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'earshot-torch-export-'));
    const out = join(dir, 'base-torch');
    const exported = spawnSync(py!, ['scripts/foreign/export-earshot-torch.py', '--model', BASE, '--out', out], { encoding: 'utf8' });
    expect(exported.status, exported.stderr).toBe(0);
    // the first clips of the dev manifest, paths made absolute
    const rows = readFileSync(join(DEV, 'manifest.jsonl'), 'utf8').trim().split('\n').slice(0, CLIPS).map((l) => JSON.parse(l) as { audio_filepath: string });
    const manifest = join(dir, 'dev10.jsonl');
    writeFileSync(manifest, rows.map((r) => JSON.stringify({ ...r, audio_filepath: resolve(DEV, r.audio_filepath) })).join('\n') + '\n');

    const transcripts = async (model: string) => (await cli('transcribe', '--model', model, '--greedy', ...rows.map((r) => resolve(DEV, r.audio_filepath)))).trim().split('\n');
    const native = await transcripts(BASE);
    const foreign = await transcripts(out);
    expect(native).toHaveLength(CLIPS);
    expect(foreign).toEqual(native);

    const nativeLm = lastJson(await cli('eval', '--model', BASE, '--manifest', manifest));
    const foreignLm = lastJson(await cli('eval', '--model', out, '--manifest', manifest, '--lm', BASE));
    console.info(`${CLIPS} speechocean762/dev clips, beam + LM: native WER ${nativeLm.wer.toFixed(4)}, torch-exported ${foreignLm.wer.toFixed(4)} (${foreignLm.layout}; ${foreignLm.decoding})`);
    expect(foreignLm.layout).toBe('earshot-onnx base-torch/model.onnx');
    expect(foreignLm.decoding).toBe(nativeLm.decoding);
    expect([foreignLm.utterances, foreignLm.wer, foreignLm.cer, foreignLm.word_errors]).toEqual([nativeLm.utterances, nativeLm.wer, nativeLm.cer, nativeLm.word_errors]);
  });
});
