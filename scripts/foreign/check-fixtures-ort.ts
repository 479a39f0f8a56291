// Runs every case make-fixtures.py left in its check folder (inputs and torch's outputs as raw
// little-endian arrays, listed in cases.json) through onnxruntime-node and compares with torch.
// Called by scripts/foreign/make-fixtures.py at the end; exits 1 when a case is off by more than its atol.
// Usage: npx tsx scripts/foreign/check-fixtures-ort.ts <check-dir>
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

interface ArrayFile { file: string; dtype: 'float32' | 'int64' | 'bool'; shape: number[] }
interface Case { model: string; atol: number; inputs: Record<string, ArrayFile>; outputs: Record<string, ArrayFile> }

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx scripts/foreign/check-fixtures-ort.ts <check-dir>');
const cases: Record<string, Case> = JSON.parse(readFileSync(`${dir}/cases.json`, 'utf8'));

function tensor(a: ArrayFile): ort.Tensor {
  const b = readFileSync(a.file);
  const bytes = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  if (a.dtype === 'float32') return new ort.Tensor('float32', new Float32Array(bytes), a.shape);
  if (a.dtype === 'int64') return new ort.Tensor('int64', new BigInt64Array(bytes), a.shape);
  return new ort.Tensor('bool', new Uint8Array(bytes), a.shape);
}

const sessions = new Map<string, ort.InferenceSession>();
let failed = 0;
for (const [name, c] of Object.entries(cases)) {
  const session = sessions.get(c.model) ?? (await ort.InferenceSession.create(c.model));
  sessions.set(c.model, session);
  const feeds = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, tensor(v)]));
  const results = await session.run(feeds);
  for (const [k, v] of Object.entries(c.outputs)) {
    const want = tensor(v).data as Float32Array;
    const got = results[k].data as Float32Array;
    const sameShape = results[k].dims.join(',') === v.shape.join(',');
    let maxDiff = 0;
    for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    const ok = sameShape && maxDiff <= c.atol;
    if (!ok) failed++;
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name} ${k} [${results[k].dims.join(', ')}] max |ort - torch| = ${maxDiff.toExponential(2)} (atol ${c.atol})`);
  }
}
process.exit(failed ? 1 : 0);
