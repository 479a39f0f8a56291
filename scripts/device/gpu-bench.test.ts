// The GPU measurement's plumbing, without a GPU: scripts/device/gpu-bench.py with a part table of
// stand-in commands (one that hangs, one that crashes, one past the deadline) must still print one
// JSON object with every other part's figures and their ratios; and the PyTorch peer it runs
// (python/earshot_torch/reference_encoder.py) must reproduce REFERENCE-ENCODER.md's losses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REFERENCE_LOSSES } from '../../src/engine/testing/reference-encoder';
import { torchPython } from '../torch/python';

const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'earshot-gpu-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A part that prints `lines` (JSON objects, one per line), then sleeps and exits as told. */
function fake(name: string, lines: object[], o: { sleep?: number; exit?: number; stderr?: string; timeout?: number } = {}) {
  const code = [
    'import sys, time',
    ...lines.map((l) => `print(${JSON.stringify(JSON.stringify(l))}, flush=True)`), // a JSON string is a Python string literal
    o.stderr ? `print(${JSON.stringify(o.stderr)}, file=sys.stderr, flush=True)` : '',
    o.sleep ? `time.sleep(${o.sleep})` : '',
    `sys.exit(${o.exit ?? 0})`,
  ].join('\n');
  return { name, cmd: ['{python}', '-c', code], timeout_s: o.timeout ?? 30 };
}

function bench(parts: object[], ...args: string[]) {
  const file = join(dir, `parts-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(parts));
  const t0 = performance.now();
  const r = spawnSync('python3', ['scripts/device/gpu-bench.py', '--parts-file', file, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, OUT: '' } });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1); // one JSON object and nothing else on stdout
  return { report: JSON.parse(lines[0]), seconds: (performance.now() - t0) / 1000 };
}

describe('gpu-bench.py', () => {
  it('stops a hung part at its timeout, keeps what every part printed, and computes the ratios', () => {
    const ref = (ms: number, extra = {}) => ({ part: 'reference', median_ms_per_step: ms, ...extra });
    const { report, seconds } = bench([
      fake('torch_cuda_reference', [{ engine: 'PyTorch', sizes: { full: { median_ms_per_step: 10 } } }]),
      fake('ort_webgpu_reference_full', [ref(30, { partial: true }), ref(25)]),
      fake('ort_webgpu_speech_lora', [{ median_ms_per_step: 100, x_real_time: 40, nodes: 1770, partial: true }], { sleep: 60, timeout: 2 }),
      fake('ort_webgpu_speech_full', [], { stderr: 'boom: device lost', exit: 3 }),
      fake('ort_cpu_reference_full', [ref(50)]),
    ]);
    expect(seconds).toBeLessThan(20);
    const p = report.parts;
    expect(p.ort_webgpu_reference_full).toMatchObject({ status: 'ok', result: { median_ms_per_step: 25 } });
    expect(p.ort_webgpu_speech_lora).toMatchObject({ status: 'timed_out', result: { median_ms_per_step: 100, partial: true } });
    expect(p.ort_webgpu_speech_full.status).toBe('failed');
    expect(p.ort_webgpu_speech_full.exit_code).toBe(3);
    expect(p.ort_webgpu_speech_full.stderr_tail).toContain('boom: device lost');
    expect(report.summary.reference_full_ms_per_step).toEqual({ ort_webgpu: 25, torch_cuda: 10, ort_cpu: 50 });
    expect(report.ratios.reference_full_ort_webgpu_over_torch_cuda).toBe(2.5);
    expect(report.ratios.reference_full_ort_webgpu_over_ort_cpu).toBe(0.5);
    expect(report.ratios.speech_full_over_lora).toBeNull();
    expect(report.summary.speech_lora).toMatchObject({ median_ms_per_step: 100, nodes: 1770 });
  });

  it('gives the parts past its deadline no time, and says so', () => {
    const { report, seconds } = bench(
      [fake('torch_cuda_reference', [{ skipped: 'CUDA is not available' }]), fake('ort_webgpu_reference_full', [], { sleep: 60, timeout: 300 }), fake('ort_webgpu_reference_reduced', [])],
      '--deadline-s', '8',
    );
    expect(seconds).toBeLessThan(20);
    expect(report.parts.ort_webgpu_reference_full.status).toBe('timed_out');
    expect(report.parts.ort_webgpu_reference_reduced.status).toBe('not_run');
    expect(report.ratios.note).toContain('CUDA is not available');
    expect(report.ratios.reference_full_ort_webgpu_over_torch_cuda).toBeNull();
  });
});

describe('python/earshot_torch/reference_encoder.py (the PyTorch peer)', () => {
  const run = (...args: string[]) => {
    const r = spawnSync(torchPython(), ['-m', 'python.earshot_torch.reference_encoder', ...args], { cwd: root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it("reproduces REFERENCE-ENCODER.md's losses at the reduced size", () => {
    const out = run('--device', 'cpu', '--size', 'reduced', '--warmup', '0', '--steps', '10');
    const losses: number[] = out.sizes.reduced.losses;
    for (const [step, want] of Object.entries(REFERENCE_LOSSES.reduced)) expect(losses[Number(step) - 1]).toBeCloseTo(want, 4);
    expect(out.sizes.reduced.parameters).toBe(4_747_296);
  });

  it('reports, not crashes, when asked for CUDA where there is none', () => {
    const out = run('--device', 'cuda', '--size', 'reduced', '--warmup', '0', '--steps', '1');
    if (out.skipped) expect(out.skipped).toMatch(/CUDA is not available/);
    else expect(out.sizes.reduced.median_ms_per_step).toBeGreaterThan(0);
  });
});
