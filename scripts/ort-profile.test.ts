import { describe, expect, it } from 'vitest';
import { opTable, sessionsFromConsole } from './ort-profile';

const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur });
const kernel = (name: string, op: string, ts: number, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, args: { op_name: op } });

describe('ort-profile', () => {
  it('leaves out the first run, takes each node at its median, sums per op type across sessions', () => {
    const a = [
      run(0, 100), kernel('mm', 'MatMul', 10, 90), // first run: left out
      run(200, 100), kernel('mm', 'MatMul', 210, 3000), kernel('add', 'Add', 250, 2000),
      run(400, 100), kernel('mm', 'MatMul', 410, 1000), kernel('add', 'Add', 450, 2000),
      run(600, 100), kernel('mm', 'MatMul', 610, 1200), kernel('add', 'Add', 650, 4000),
      { cat: 'Node', name: 'mm_fence_before', ts: 420, dur: 50000 },
    ];
    const b = [run(0, 10), run(100, 10), kernel('add', 'Add', 105, 500)];
    expect(opTable([a, b])).toEqual({ runs: 3, kernel_ms: 3.7, ops: { Add: [2, 2.5], MatMul: [1, 1.2] } });
  });

  it("splits onnxruntime-web's console lines into sessions", () => {
    const lines = ['noise', '[', '{"cat" : "Session","name" :"model_run","ts" :1,"dur" :2},', '{"cat" : "Node","name" :"x_kernel_time","ts" :1,"dur" :1}', ']', '[', ']'];
    const s = sessionsFromConsole(lines);
    expect(s.map((e) => e.length)).toEqual([2, 0]);
    expect(s[0][1].name).toBe('x_kernel_time');
  });
});
