// The PyTorch twin (python/earshot_torch) against our engine: the same weights give the same logits
// on real speech, and the same CTC loss and gradients on a padded batch. Needs Debian's python3-torch
// (.ci/run installs it) and ../shared/speech; without either it fails, saying what is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeParityFixture } from './parity-fixture';
import { torchPython } from './python';

const ROOT = resolve(import.meta.dirname, '../..');
const LJ = resolve(ROOT, '../shared/speech/ljspeech_coqui/manifest.jsonl');

const temps: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'earshot-torch-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('PyTorch twin of the model', () => {
  it('matches model.onnx logits (≤ 1e-4) on real speech, and our CTC loss and gradients (≤ 1e-4 relative)', async () => {
    const py = torchPython();
    if (!existsSync(LJ)) throw new Error(`this test reads real speech from ${LJ}: the shared corpus (../shared/speech) is missing`);
    const fixture = join(tempDir(), 'parity.safetensors');
    await writeParityFixture({ modelDir: join(ROOT, 'public/models/base'), manifest: LJ, clips: 3, batchClips: 2, out: fixture });
    const r = spawnSync(py, ['-m', 'python.earshot_torch.parity', '--fixture', fixture, '--model', 'public/models/base'], { cwd: ROOT, encoding: 'utf8' });
    const last = r.stdout.trim().split('\n').pop() ?? '';
    expect(r.stderr.includes('Traceback') ? r.stderr : '').toBe('');
    const report = JSON.parse(last) as { ok: boolean; failures: string[]; logits_max_abs_diff: number; base: { grad_max_rel_diff: number; loss_rel_diff: number } };
    expect(report.failures).toEqual([]);
    expect(report.logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
    expect(report.base.loss_rel_diff).toBeLessThanOrEqual(1e-4);
    expect(report.base.grad_max_rel_diff).toBeLessThanOrEqual(1e-4);
    expect(r.status).toBe(0);
  });
});
