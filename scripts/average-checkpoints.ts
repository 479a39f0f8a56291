// Checkpoint averaging for shipping (as icefall's --avg): the element-wise mean of the weights of the
// last N evaluations of a base-model run (<run>/snapshots, written by scripts/train-base.ts), written
// as a model directory.
//
//   npx tsx scripts/average-checkpoints.ts --run /work/earshot-data/base-run --last 4 --to /work/earshot-data/avg-model [--upto STEP]
//
// Prints one JSON object: the steps averaged and where the model went.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ARCH } from '../src/asr/model';
import { writeModelDir } from '../src/asr/model-dir';
import { DEFAULT_VOCAB } from '../src/asr/vocab';
import { decodeCheckpoint } from '../src/runtime/checkpoint';
import { averageWeights } from './base-recipe';

const { values: a } = parseArgs({
  options: {
    run: { type: 'string', default: '/work/earshot-data/base-run' },
    last: { type: 'string', default: '4' },
    upto: { type: 'string' },
    to: { type: 'string', default: '/work/earshot-data/avg-model' },
  },
});
const dir = join(resolve(a.run!), 'snapshots');
if (!existsSync(dir)) throw new Error(`${dir} does not exist: run scripts/train-base.ts first`);
const upto = a.upto ? Number(a.upto) : Infinity;
const files = readdirSync(dir)
  .filter((f) => /^step-\d+\.safetensors$/.test(f) && Number(f.slice(5, -12)) <= upto)
  .sort()
  .slice(-Number(a.last));
if (!files.length) throw new Error(`no snapshots in ${dir}${a.upto ? ` up to step ${a.upto}` : ''}`);
const sets = files.map((f) => {
  const c = decodeCheckpoint(new Uint8Array(readFileSync(join(dir, f))));
  return { step: Number(c.metadata.step), monitored: Number(c.metadata.monitored_wer), weights: new Map([...c.tensors].map(([n, t]) => [n, t.data as Float32Array])) };
});
const weights = averageWeights(sets.map((s) => s.weights));
const steps = sets.map((s) => s.step);
const out = resolve(a.to!);
mkdirSync(out, { recursive: true });
const model = writeModelDir({ arch: DEFAULT_ARCH, weights, vocab: DEFAULT_VOCAB, card: '# Earshot base model (averaged checkpoints)\n', provenance: { step: Math.max(...steps), averaged_steps: steps } });
for (const [name, bytes] of Object.entries(model)) writeFileSync(join(out, name), bytes);
const lastEval = join(resolve(a.run!), 'last-eval.json');
writeFileSync(join(out, 'progress.json'), JSON.stringify({ step: Math.max(...steps), averaged_steps: steps, monitored_wer_of_each: sets.map((s) => s.monitored), ...(existsSync(lastEval) ? { run: JSON.parse(readFileSync(lastEval, 'utf8')) } : {}) }, null, 2));
console.log(JSON.stringify({ averaged_steps: steps, monitored_wer_of_each: sets.map((s) => s.monitored), to: out }));
