// `--model <folder|zip|.onnx>` for every command: our own model directory goes the way it always
// went (loadModelFromDisk → Recognizer, CtcTrainer); anything else is detected
// (src/foreign/layout.ts) and opened as a ForeignModel. Both end up behind one small recognizer
// interface, so transcribe and eval do not care which it is.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GREEDY, describeDecoding, type Decoding } from '../asr/decode';
import { WordLm } from '../asr/lm';
import { MODEL_FILES, readModelDir, type LoadedModel } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { ForeignModel } from '../foreign/foreign-model';
import { detectModelLayout } from '../foreign/layout';
import { nodeBackend } from '../runtime/node';
import { modelFilesFromDisk } from './foreign-source';
import { loadModelFromDisk } from './model-files';

export type OpenedModel = { kind: 'native'; model: LoadedModel } | { kind: 'foreign'; model: ForeignModel };

export interface OpenOptions {
  threads?: number;
  /** For layouts with several ONNX files: full precision (default) or the quantised file. */
  precision?: 'full' | 'quantized';
}

/**
 * Whether `path` is meant as our own model directory: a folder with a config.json that is not a
 * Hugging Face one (no model_type or architectures). A broken one then gets readModelDir's precise
 * problems ("model.onnx is missing") rather than a layout refusal.
 */
function isNativeDir(path: string): boolean {
  if (!existsSync(path) || !statSync(path).isDirectory() || !existsSync(join(path, 'config.json'))) return false;
  let config: { model_type?: unknown; architectures?: unknown };
  try {
    config = JSON.parse(readFileSync(join(path, 'config.json'), 'utf8')) as typeof config;
  } catch {
    return true;
  }
  return typeof config !== 'object' || config === null || !(typeof config.model_type === 'string' || Array.isArray(config.architectures));
}

/** Opens any supported model; a model Earshot cannot use throws its ForeignModelError. */
export async function openModel(path: string, o: OpenOptions = {}): Promise<OpenedModel> {
  if (isNativeDir(path)) return { kind: 'native', model: loadModelFromDisk(path) };
  const { files, onnx } = await modelFilesFromDisk(path);
  const d = await detectModelLayout(files, { onnx, precision: o.precision });
  if (d.kind === 'earshot') {
    // our own directory inside a zip: the files readModelDir knows, from the model's folder
    const at = (name: string) => (d.root ? `${d.root}/${name}` : name);
    const bytes: Record<string, Uint8Array | undefined> = {};
    for (const name of MODEL_FILES) bytes[name] = await files.get(at(name))?.read();
    return { kind: 'native', model: readModelDir(bytes) };
  }
  return { kind: 'foreign', model: await ForeignModel.open(files, nodeBackend({ threads: o.threads }), { onnx, precision: o.precision }) };
}

export interface DecodeFlags {
  greedy?: boolean;
  beam?: number;
  /**
   * A word LM for an imported model: an Earshot model directory (its lm.arpa with its config.json
   * decoder settings) or an .arpa file (with the base model's tuned settings, DEFAULT_LM_FUSION).
   */
  lm?: string;
}

/** Shallow-fusion settings for a bare .arpa: those build-lm.ts tuned for public/models/base. */
export const DEFAULT_LM_FUSION = { beamWidth: 32, weight: 0.6, wordBonus: 1.5, unkCharCost: 1.5 } as const;

/** The decoding `--lm` names. */
export function lmDecoding(path: string): Decoding {
  if (statSync(path).isDirectory()) {
    const m = loadModelFromDisk(path);
    if (!m.decoding.lm) throw new Error(`${path} has no word LM (lm.arpa with a decoder in config.json)`);
    return m.decoding;
  }
  const lm = WordLm.fromArpa(readFileSync(path, 'utf8'));
  const f = DEFAULT_LM_FUSION;
  return { beamWidth: f.beamWidth, lm: { model: lm, weight: f.weight, wordBonus: f.wordBonus, unkCharCost: f.unkCharCost } };
}

/** What transcribe and eval need of a model. */
export interface CliRecognizer {
  sampleRate: number;
  /** How transcripts are decoded, for the results. */
  decoding: string;
  /** Said once on stderr (e.g. the LM is not used with this vocabulary). */
  notes: string[];
  /** Layout and file, for the results. */
  layout: string;
  transcribe(samples: Float32Array): Promise<string>;
  release(): Promise<void>;
}

/**
 * A recognizer for `--model`. Native: the model's own decoding unless --greedy, --beam overriding
 * the width. Imported: greedy unless --beam N (beam search) or --lm (beam search with that LM);
 * --greedy always means no LM.
 */
export async function openRecognizer(path: string, o: OpenOptions & DecodeFlags): Promise<CliRecognizer> {
  if (o.lm && !isNativeDir(o.lm) && !o.lm.toLowerCase().endsWith('.arpa')) throw new Error(`--lm takes an Earshot model directory or an .arpa file, not ${o.lm}`);
  const opened = await openModel(path, o);
  if (opened.kind === 'native') {
    const m = opened.model;
    if (o.lm) throw new Error('--lm is for imported models; an Earshot model directory decodes with its own lm.arpa');
    const rec = await Recognizer.create(nodeBackend({ threads: o.threads }), m);
    const decoding = o.greedy ? GREEDY : m.decoding;
    return {
      sampleRate: m.config.frontEnd.sampleRate,
      decoding: describeDecoding(decoding, o.beam),
      notes: [],
      layout: 'earshot',
      transcribe: (samples) => rec.transcribeSamples(samples, { beamWidth: o.beam, decoding }),
      release: () => rec.release(),
    };
  }
  const m = opened.model;
  let wanted: Decoding = o.greedy || !o.lm ? { beamWidth: o.beam ?? 1 } : lmDecoding(o.lm);
  if (o.beam !== undefined) wanted = { ...wanted, beamWidth: o.beam };
  const { decoding, note } = m.usableDecoding(wanted);
  return {
    sampleRate: m.sampleRate,
    decoding: describeDecoding(decoding),
    notes: [m.summary(), ...(note ? [note] : [])],
    layout: `${m.description.kind} ${m.description.onnx.path}`,
    transcribe: (samples) => m.transcribe(samples, decoding),
    release: () => m.release(),
  };
}
