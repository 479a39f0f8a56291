// python/earshot_torch/train.py: torchrun with 2 processes (gloo, CPU) takes the same steps as one
// process with the same global batch; and the round trip NeMo manifest + safetensors → torchrun →
// model directory (model.onnx by our engine) → our CLI transcribes with the new weights. A tiny
// architecture keeps it quick; the architecture itself is checked against our engine by
// torch-twin.test.ts. Needs Debian's python3-torch and ../shared/speech.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../src/cli/eval';
import { loadModelFromDisk } from '../../src/cli/model-files';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/runtime/checkpoint';
import { packAudio } from './pack-audio';
import { randomWeights, TINY_ARCH } from './parity-fixture';
import { torchPython } from './python';

const ROOT = resolve(import.meta.dirname, '../..');
const LJ = resolve(ROOT, '../shared/speech/ljspeech_coqui/manifest.jsonl');
let dir = '';
let py = '';
let manifest = '';
let init = '';
let pack = '';

beforeAll(async () => {
  py = torchPython();
  if (!existsSync(LJ)) throw new Error(`this test reads real speech from ${LJ}: the shared corpus (../shared/speech) is missing`);
  dir = mkdtempSync(join(tmpdir(), 'earshot-torch-train-'));
  // what the app's export gives: a NeMo manifest (here 8 ljspeech clips, absolute paths) …
  manifest = join(dir, 'train.jsonl');
  writeFileSync(manifest, readManifest(LJ).slice(0, 8).map((r) => JSON.stringify({ audio_filepath: r.path, text: r.text, duration: r.duration })).join('\n') + '\n');
  pack = join(dir, 'train.pack'); // packed once here for the equivalence runs; the round trip packs the manifest itself
  await packAudio({ manifests: [manifest], out: pack, codec: 'pcm16', maxSeconds: 16, minSeconds: 0.3, seed: 1 });
  // … and weights as safetensors, with the model's config.json in the metadata
  const config = JSON.parse(readFileSync(join(ROOT, 'public/models/base/config.json'), 'utf8'));
  const w = randomWeights(TINY_ARCH, {}, 3);
  init = join(dir, 'init.safetensors');
  writeFileSync(init, encodeCheckpoint({ tensors: new Map([...w].map(([n, d]) => [n, { dims: [d.length], data: d }])), metadata: { config: JSON.stringify({ ...config, arch: TINY_ARCH, adapters: {} }) } }));
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** train.py on `procs` processes (torchrun with gloo when more than one); returns its stdout. */
function train(procs: number, out: string, extra: string[], data = manifest): string {
  const args = ['--manifest', data, '--init', init, '--out', out, '--warmup', '0', '--peak-lr', '3e-3', '--batch-frames', '4096', '--workers', '0', '--log-every', '1', ...extra];
  const cmd = procs === 1
    ? [py, 'python/earshot_torch/train.py', ...args]
    // Debian's torchrun (PyTorch 1.13 on Python 3.11) cannot parse its default --redirects/--tee of 0
    : [py, '-m', 'torch.distributed.run', '--redirects', '1', '--tee', '1', '--log_dir', join(out + '-logs'), `--nproc_per_node=${procs}`, 'python/earshot_torch/train.py', ...args];
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  if (r.status !== 0) throw new Error(`train.py on ${procs} process(es) failed:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

const params = (file: string) => {
  const c = decodeCheckpoint(new Uint8Array(readFileSync(file)));
  return new Map([...c.tensors].filter(([n]) => !n.startsWith('adam.') && !n.startsWith('optim.')).map(([n, t]) => [n, t.data as Float32Array]));
};

function maxDiff(a: Map<string, ArrayLike<number>>, b: Map<string, ArrayLike<number>>): number {
  let m = 0;
  for (const [n, x] of a) {
    const y = b.get(n);
    if (!y || y.length !== x.length) throw new Error(`parameter ${n} is missing or has another size`);
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  }
  return m;
}

/** float64 states: our checkpoint reader keeps to F32/I32, so read them with the Python reader. */
function maxDiffF64(a: string, b: string): { diff: number; moved: number } {
  const code = `import sys, json, numpy as np
sys.path.insert(0, '.')
from python.earshot_torch.safetensors_io import read_safetensors
a, _ = read_safetensors(sys.argv[1]); b, _ = read_safetensors(sys.argv[2]); i, _ = read_safetensors(sys.argv[3])
print(json.dumps({"diff": max(float(np.abs(a[n] - b[n]).max()) for n in i), "moved": max(float(np.abs(a[n].reshape(-1) - i[n]).max()) for n in i), "dtype": str(a[next(iter(i))].dtype)}))`;
  const r = spawnSync(py, ['-c', code, a, b, init], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const o = JSON.parse(r.stdout) as { diff: number; moved: number; dtype: string };
  expect(o.dtype).toBe('float64');
  return o;
}

// several PyTorch processes each: slower than the suite's 120 s default allows on busy machines
describe('train.py (PyTorch DDP)', { timeout: 300_000 }, () => {
  it('torchrun --nproc_per_node=2 (gloo) gives the same parameters after 3 steps as one process with the same global batch', () => {
    const one = join(dir, 'one');
    const two = join(dir, 'two');
    train(1, one, ['--steps', '3', '--no-export', '--float64'], pack);
    train(2, two, ['--steps', '3', '--no-export', '--float64'], pack);
    const { diff, moved } = maxDiffF64(join(one, 'state.safetensors'), join(two, 'state.safetensors'));
    expect(moved).toBeGreaterThan(1e-3); // the steps did something
    expect(diff).toBeLessThan(1e-10); // and only the order of the all-reduce's sums differs
  });

  it('a run stopped after 2 steps and resumed from its checkpoint ends exactly where an uninterrupted run ends', () => {
    const straight = join(dir, 'straight');
    const resumed = join(dir, 'resumed');
    train(1, straight, ['--steps', '4', '--no-export', '--float64'], pack);
    train(1, resumed, ['--steps', '4', '--max-steps', '2', '--no-export', '--float64'], pack);
    expect(train(1, resumed, ['--steps', '4', '--no-export', '--float64'], pack)).toContain('"event": "resumed", "step": 2');
    const { diff } = maxDiffF64(join(straight, 'state.safetensors'), join(resumed, 'state.safetensors'));
    expect(diff).toBe(0);
  });

  it('round trip: NeMo manifest + safetensors → torchrun (2 processes, CPU) → model directory → our CLI transcribes with the new weights', () => {
    const out = join(dir, 'run');
    const log = train(2, out, ['--steps', '4']);
    expect(log).toContain('"event": "exported"');
    const trained = params(join(out, 'state.safetensors'));
    const initial = params(init);
    expect(maxDiff(trained, initial)).toBeGreaterThan(1e-3);
    // the model directory our app imports: model.onnx holds exactly the trained weights
    const model = loadModelFromDisk(join(out, 'model'));
    expect(model.config.arch).toEqual(TINY_ARCH);
    expect(maxDiff(trained, model.weights)).toBe(0);
    const clip = readManifest(LJ)[1].path;
    const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'transcribe', '--model', join(out, 'model'), '--greedy', clip], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr.includes('Error') ? r.stderr : '').toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\t')[0]).toBe(clip);
  });
});
