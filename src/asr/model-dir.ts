// The model directory shared by the app, the CLI and export:
//   model.onnx   inference graph, weights as initializers: features [batch, time, n_mels] → logits [batch, time/4, vocab]
//   config.json  everything needed to compute features and decode (ModelConfig below)
//   tokens.txt   `<token> <id>` per line (sherpa-onnx style)
//   README.md    the model card
// Loading validates every part and says precisely what is wrong.

import { DEFAULT_FRONTEND, validateFrontEndConfig, type FrontEndConfig } from '../audio/log-mel';
import type { Graph } from '../engine/ir';
import { decodeModel, encodeModel, makeModel, validateModel } from '../engine/onnx-proto';
import { buildAcousticModel, DEFAULT_ARCH, type AdapterConfig, type ModelArch, type Weights } from './model';
import { formatTokens, parseTokens, type Vocab } from './vocab';

export const MODEL_FORMAT = 'earshot-ctc';
export const MODEL_FORMAT_VERSION = 1;

export interface ModelConfig {
  format: typeof MODEL_FORMAT;
  version: number;
  frontEnd: FrontEndConfig;
  blankId: number;
  subsampling: 4;
  arch: ModelArch;
  /** Adapters present in model.onnx (LoRA is always merged into the weights on export). */
  adapters: AdapterConfig;
  /** Free-form provenance: base model, data, training settings, metrics. */
  provenance?: Record<string, unknown>;
}

export interface LoadedModel {
  config: ModelConfig;
  vocab: Vocab;
  /** model.onnx as read (ready for an inference session). */
  onnx: Uint8Array;
  weights: Weights;
  card: string;
}

export class ModelDirError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid model directory:\n- ${problems.join('\n- ')}`);
    this.name = 'ModelDirError';
  }
}

export const MODEL_FILES = ['model.onnx', 'config.json', 'tokens.txt', 'README.md'] as const;

/** The inference graph for an architecture and its weights (symbolic batch and time). */
export function inferenceGraph(arch: ModelArch, weights: Weights, adapters: AdapterConfig = {}): Graph {
  const m = buildAcousticModel({ arch, adapters: { bottleneck: adapters.bottleneck }, weights, batch: 'batch', frames: 'time', masked: false });
  const missing = [...m.g.params.keys()].filter((n) => !weights.has(n));
  if (missing.length) throw new Error(`weights missing for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  m.g.output(m.logits, 'logits');
  return m.g.build();
}

export function writeModelDir(o: { arch: ModelArch; weights: Weights; vocab: Vocab; frontEnd?: FrontEndConfig; adapters?: AdapterConfig; card: string; provenance?: Record<string, unknown> }): Record<(typeof MODEL_FILES)[number], Uint8Array> {
  const config: ModelConfig = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    frontEnd: o.frontEnd ?? { ...DEFAULT_FRONTEND },
    blankId: o.vocab.blankId,
    subsampling: 4,
    arch: o.arch,
    adapters: { bottleneck: o.adapters?.bottleneck },
    provenance: o.provenance,
  };
  const text = new TextEncoder();
  return {
    'model.onnx': encodeModel(makeModel(inferenceGraph(o.arch, o.weights, o.adapters), { metadata: { earshot_config: JSON.stringify(config) } })),
    'config.json': text.encode(JSON.stringify(config, null, 2) + '\n'),
    'tokens.txt': text.encode(formatTokens(o.vocab)),
    'README.md': text.encode(o.card),
  };
}

/** Validates and loads a model directory given its files by name. */
export function readModelDir(files: Record<string, Uint8Array | undefined>): LoadedModel {
  const problems: string[] = [];
  for (const f of MODEL_FILES) if (!files[f] && f !== 'README.md') problems.push(`${f} is missing`);
  if (problems.length) throw new ModelDirError(problems);
  const text = new TextDecoder();

  let config: ModelConfig | undefined;
  try {
    const raw = JSON.parse(text.decode(files['config.json'])) as Partial<ModelConfig>;
    if (raw.format !== MODEL_FORMAT) problems.push(`config.json: format is ${JSON.stringify(raw.format)}, expected "${MODEL_FORMAT}"`);
    if (typeof raw.version !== 'number' || raw.version > MODEL_FORMAT_VERSION) problems.push(`config.json: version ${raw.version} is not supported (this app reads up to ${MODEL_FORMAT_VERSION})`);
    try {
      validateFrontEndConfig(raw.frontEnd);
    } catch (e) {
      problems.push(`config.json: frontEnd: ${(e as Error).message}`);
    }
    const arch = raw.arch as Partial<ModelArch> | undefined;
    for (const k of Object.keys(DEFAULT_ARCH) as (keyof ModelArch)[])
      if (!arch || !Number.isInteger(arch[k]) || (arch[k] as number) <= 0) problems.push(`config.json: arch.${k} must be a positive integer`);
    if (raw.subsampling !== 4) problems.push(`config.json: subsampling must be 4, got ${raw.subsampling}`);
    config = raw as ModelConfig;
  } catch (e) {
    problems.push(`config.json is not valid JSON: ${(e as Error).message}`);
  }

  let vocab: Vocab | undefined;
  try {
    vocab = parseTokens(text.decode(files['tokens.txt']));
    if (config && vocab.blankId !== config.blankId) problems.push(`tokens.txt has blank id ${vocab.blankId}, config.json says ${config.blankId}`);
    if (config?.arch && vocab.tokens.length !== config.arch.vocabSize) problems.push(`tokens.txt has ${vocab.tokens.length} tokens, config.json arch.vocabSize is ${config.arch.vocabSize}`);
  } catch (e) {
    problems.push(`tokens.txt: ${(e as Error).message}`);
  }

  const onnx = files['model.onnx']!;
  const weights: Weights = new Map();
  try {
    const model = decodeModel(onnx);
    for (const p of validateModel(model)) problems.push(`model.onnx: ${p}`);
    const g = model.graph;
    if (!g.inputs.some((i) => i.name === 'features')) problems.push('model.onnx has no input named "features"');
    const logits = g.outputs.find((o) => o.name === 'logits');
    if (!logits) problems.push('model.onnx has no output named "logits"');
    for (const t of g.initializers) if (t.dtype === 'float32' && !t.name.startsWith('const_')) weights.set(t.name, t.data as Float32Array);
    if (config?.arch && problems.length === 0) {
      const expected = buildAcousticModel({ arch: config.arch, adapters: { bottleneck: config.adapters?.bottleneck }, batch: 1, frames: 64, masked: false }).g.params;
      const missing = [...expected.keys()].filter((n) => !weights.has(n));
      if (missing.length) problems.push(`model.onnx lacks weights the architecture needs: ${missing.slice(0, 5).join(', ')}`);
      for (const [n, p] of expected) {
        const w = weights.get(n);
        if (w && w.length !== p.init.data.length) problems.push(`model.onnx weight ${n} has ${w.length} values, the architecture needs ${p.init.data.length}`);
      }
    }
  } catch (e) {
    problems.push(`model.onnx cannot be read: ${(e as Error).message}`);
  }
  if (problems.length) throw new ModelDirError(problems);
  return { config: config!, vocab: vocab!, onnx, weights, card: files['README.md'] ? text.decode(files['README.md']) : '' };
}
