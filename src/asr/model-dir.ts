// The model directory shared by the app, the CLI and export:
//   model.onnx   inference graph, weights as initializers: features [batch, time, n_mels] → logits [batch, time/4, vocab]
//   config.json  everything needed to compute features and decode (ModelConfig below)
//   tokens.txt   `<token> <id>` per line (sherpa-onnx style)
//   README.md    the model card
//   lm.arpa      optional: a word n-gram LM of order ≤ 3 (ARPA text) that config.json's `decoder` fuses into a
//                beam search; without it (or without `decoder`) transcripts are greedy
//   personal.txt optional, fine-tuned models: the transcripts they were trained on, one per line;
//                an LM of them is mixed into lm.arpa's (decoder.personalShare) when the model loads.
//                lm.arpa itself stays the base model's, so fine-tuning a fine-tuned model again
//                adds to personal.txt instead of diluting the base LM round after round.
// Loading validates every part and says precisely what is wrong.

import { DEFAULT_FRONTEND, validateFrontEndConfig, type FrontEndConfig } from '../audio/log-mel';
import type { Graph } from '../engine/ir';
import { decodeModel, encodeModel, makeModel, validateModel } from '../engine/onnx-proto';
import { GREEDY, type Decoding } from './decode';
import { WordLm } from './lm';
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
  /** How to decode; the LM is lm.arpa. Absent: greedy. */
  decoder?: DecoderConfig;
}

export interface DecoderConfig {
  beamWidth: number;
  /** Shallow-fusion weight of lm.arpa (0 or absent file: no LM). */
  lmWeight: number;
  /** Natural-log score per word with the LM. */
  wordBonus: number;
  /** Natural-log cost per letter of a word lm.arpa does not know (absent: 0). */
  unkCharCost?: number;
  /** LM look-ahead while a word is being spelled (LmFusion.lookahead; absent: off). */
  lmLookahead?: boolean;
  /** Share of personal.txt's LM in the mixture with lm.arpa (absent or 0: lm.arpa alone). */
  personalShare?: number;
}

export interface LoadedModel {
  config: ModelConfig;
  vocab: Vocab;
  /** model.onnx as read (ready for an inference session). */
  onnx: Uint8Array;
  weights: Weights;
  card: string;
  /** The decoding config.json asks for (greedy when it has no `decoder`). */
  decoding: Decoding;
  /** lm.arpa as read, carried into models derived from this one. */
  lmArpa?: Uint8Array;
  /** personal.txt's lines: the transcripts this model was fine-tuned on, mixed into its LM. */
  personalTexts?: string[];
}

export class ModelDirError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid model directory:\n- ${problems.join('\n- ')}`);
    this.name = 'ModelDirError';
  }
}

export const MODEL_FILES = ['model.onnx', 'config.json', 'tokens.txt', 'README.md', 'lm.arpa', 'personal.txt'] as const;
/** A model directory's files by name (lm.arpa only when the model has an LM). */
export type ModelFiles = Partial<Record<(typeof MODEL_FILES)[number], Uint8Array>> & Record<'model.onnx' | 'config.json' | 'tokens.txt' | 'README.md', Uint8Array>;
/** Files a model directory may lack. */
export const OPTIONAL_MODEL_FILES: readonly string[] = ['README.md', 'lm.arpa', 'personal.txt'];

/** The inference graph for an architecture and its weights (symbolic batch and time). */
export function inferenceGraph(arch: ModelArch, weights: Weights, adapters: AdapterConfig = {}): Graph {
  const m = buildAcousticModel({ arch, adapters: { bottleneck: adapters.bottleneck }, weights, batch: 'batch', frames: 'time', masked: false });
  const missing = [...m.g.params.keys()].filter((n) => !weights.has(n));
  if (missing.length) throw new Error(`weights missing for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  m.g.output(m.logits, 'logits');
  return m.g.build();
}

/** personal.txt: one transcript per line, whitespace runs collapsed, blank ones dropped, each once. */
export function formatPersonalTexts(texts: readonly string[]): Uint8Array {
  return new TextEncoder().encode(cleanTexts(texts).join('\n') + '\n');
}

/** Transcripts as personal.txt keeps them: one line each, whitespace collapsed, no blanks, no repeats. */
export function cleanTexts(texts: readonly string[]): string[] {
  return [...new Set(texts.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean))];
}

/**
 * The files of a model directory. `decoder` and `lmArpa` (a derived model keeps its base model's)
 * are optional; lm.arpa is written only when given.
 */
export function writeModelDir(o: {
  arch: ModelArch;
  weights: Weights;
  vocab: Vocab;
  frontEnd?: FrontEndConfig;
  adapters?: AdapterConfig;
  card: string;
  provenance?: Record<string, unknown>;
  decoder?: DecoderConfig;
  lmArpa?: Uint8Array;
  personalTexts?: readonly string[];
}): ModelFiles {
  const config: ModelConfig = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    frontEnd: o.frontEnd ?? { ...DEFAULT_FRONTEND },
    blankId: o.vocab.blankId,
    subsampling: 4,
    arch: o.arch,
    adapters: { bottleneck: o.adapters?.bottleneck },
    provenance: o.provenance,
    ...(o.decoder ? { decoder: o.decoder } : {}),
  };
  const text = new TextEncoder();
  return {
    ...(o.lmArpa ? { 'lm.arpa': o.lmArpa } : {}),
    ...(o.personalTexts?.length ? { 'personal.txt': formatPersonalTexts(o.personalTexts) } : {}),
    'model.onnx': encodeModel(makeModel(inferenceGraph(o.arch, o.weights, o.adapters), { metadata: { earshot_config: JSON.stringify(config) } })),
    'config.json': text.encode(JSON.stringify(config, null, 2) + '\n'),
    'tokens.txt': text.encode(formatTokens(o.vocab)),
    'README.md': text.encode(o.card),
  };
}

/** Validates and loads a model directory given its files by name. */
export function readModelDir(files: Record<string, Uint8Array | undefined>): LoadedModel {
  const problems: string[] = [];
  for (const f of MODEL_FILES) if (!files[f] && !OPTIONAL_MODEL_FILES.includes(f)) problems.push(`${f} is missing`);
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
  let decoding: Decoding = GREEDY;
  const d = config?.decoder;
  if (d !== undefined) {
    if (!Number.isInteger(d.beamWidth) || d.beamWidth < 1 || d.beamWidth > 256) problems.push(`config.json: decoder.beamWidth must be an integer from 1 to 256, got ${JSON.stringify(d.beamWidth)}`);
    if (!(typeof d.lmWeight === 'number' && d.lmWeight >= 0)) problems.push(`config.json: decoder.lmWeight must be a number ≥ 0, got ${JSON.stringify(d.lmWeight)}`);
    if (!(typeof d.wordBonus === 'number' && Number.isFinite(d.wordBonus))) problems.push(`config.json: decoder.wordBonus must be a number, got ${JSON.stringify(d.wordBonus)}`);
    if (d.unkCharCost !== undefined && !(typeof d.unkCharCost === 'number' && Number.isFinite(d.unkCharCost) && d.unkCharCost >= 0)) problems.push(`config.json: decoder.unkCharCost must be a number ≥ 0, got ${JSON.stringify(d.unkCharCost)}`);
    if (d.lmLookahead !== undefined && typeof d.lmLookahead !== 'boolean') problems.push(`config.json: decoder.lmLookahead must be true or false, got ${JSON.stringify(d.lmLookahead)}`);
    if (d.personalShare !== undefined && !(typeof d.personalShare === 'number' && d.personalShare >= 0 && d.personalShare <= 1)) problems.push(`config.json: decoder.personalShare must be a number from 0 to 1, got ${JSON.stringify(d.personalShare)}`);
  }
  const lmArpa = files['lm.arpa'];
  const personalTexts = files['personal.txt'] ? text.decode(files['personal.txt']).split(/\r?\n/).filter((l) => l.trim()) : undefined;
  if (lmArpa && problems.length === 0) {
    try {
      let lm = WordLm.fromArpa(text.decode(lmArpa));
      if (personalTexts?.length && d?.personalShare) lm = WordLm.mix(lm, WordLm.fromTexts(personalTexts), d.personalShare);
      if (d) decoding = { beamWidth: d.beamWidth, lm: d.lmWeight > 0 ? { model: lm, weight: d.lmWeight, wordBonus: d.wordBonus, ...(d.unkCharCost ? { unkCharCost: d.unkCharCost } : {}), ...(d.lmLookahead ? { lookahead: true } : {}) } : undefined };
    } catch (e) {
      problems.push(`lm.arpa: ${(e as Error).message}`);
    }
  } else if (d && problems.length === 0) {
    if (d.lmWeight > 0) problems.push('config.json: decoder.lmWeight is set but lm.arpa is missing');
    else decoding = { beamWidth: d.beamWidth };
  }
  if (problems.length) throw new ModelDirError(problems);
  return { config: config!, vocab: vocab!, onnx, weights, card: files['README.md'] ? text.decode(files['README.md']) : '', decoding, lmArpa, personalTexts };
}
