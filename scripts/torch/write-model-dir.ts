// Turns weights trained elsewhere (python/earshot_torch writes them as safetensors with the model's
// config.json in the header metadata) into a model directory with our own engine: model.onnx,
// config.json, tokens.txt, README.md, and the base model's lm.arpa and decoder settings when --base
// names it. So a model trained on PyTorch runs through the one inference graph the app and CLI know.
//
//   npx tsx scripts/torch/write-model-dir.ts --weights run/model/weights.safetensors --out run/model [--base public/models/base] [--card card.md]

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mergeLora, type Weights } from '../../src/asr/model';
import { writeModelDir, type ModelConfig } from '../../src/asr/model-dir';
import { DEFAULT_VOCAB } from '../../src/asr/vocab';
import { loadModelFromDisk } from '../../src/cli/model-files';
import { decodeCheckpoint } from '../../src/runtime/checkpoint';

const { values: a } = parseArgs({
  options: {
    weights: { type: 'string' },
    out: { type: 'string' },
    base: { type: 'string' },
    card: { type: 'string' },
    provenance: { type: 'string', default: '{}' },
  },
});
if (!a.weights || !a.out) throw new Error('usage: write-model-dir.ts --weights <file.safetensors> --out <dir> [--base <model dir>] [--card <file>] [--provenance <json>]');

const c = decodeCheckpoint(new Uint8Array(readFileSync(a.weights)));
if (!c.metadata.config) throw new Error(`${a.weights} has no "config" in its metadata: write it with python/earshot_torch (model_dir.write_model_dir)`);
const config = JSON.parse(c.metadata.config) as ModelConfig;
const weights: Weights = new Map();
for (const [name, t] of c.tensors) weights.set(name, t.data as Float32Array);
const base = a.base ? loadModelFromDisk(a.base) : undefined;
// a decoder that fuses an LM needs lm.arpa: without one the model decodes greedily
const decoder = config.decoder ?? base?.config.decoder;
const files = writeModelDir({
  arch: config.arch,
  weights: mergeLora(weights, config.adapters),
  vocab: base?.vocab ?? DEFAULT_VOCAB,
  frontEnd: config.frontEnd,
  adapters: { bottleneck: config.adapters?.bottleneck },
  card: a.card ? readFileSync(a.card, 'utf8') : '# Earshot model trained with PyTorch\n',
  provenance: { ...(config.provenance ?? {}), ...JSON.parse(a.provenance!) },
  decoder: decoder && (decoder.lmWeight === 0 || base?.lmArpa) ? decoder : undefined,
  lmArpa: base?.lmArpa,
});
mkdirSync(a.out, { recursive: true });
for (const [name, bytes] of Object.entries(files)) writeFileSync(join(a.out, name), bytes);
console.log(JSON.stringify({ out: a.out, files: Object.keys(files) }));
