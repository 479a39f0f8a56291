// Models from elsewhere (issue 12) as the app keeps them: a Hugging Face / Optimum CTC folder
// (wav2vec2, HuBERT, WavLM…), a sherpa-onnx NeMo CTC model, or our own model after another
// exporter. Imported in the ASR worker from the files a user picked (a folder, a zip, an .onnx with
// its tokens.txt), stored in the app's IndexedDB as Blobs under their paths in the model's folder
// (onnx/model.onnx, config.json, …), which the browser keeps on disk: neither the page nor the
// store ever holds a weight. Both workers load them back from there.
//
// Our own model directory (config.json "earshot-ctc") keeps its own path (asr-models.ts); this file
// only says when a choice of files is one.
import { GREEDY, type Decoding } from '../asr/decode';
import type { Model } from '../engine/ir';
import { gradRules } from '../engine/grad-rules';
import { findProjections, PROJECTION_KINDS } from '../engine/lora-inject';
import { prepareStatic } from '../engine/static-graph';
import { ForeignModelError } from '../foreign/errors';
import { basename, fileSetFromBlobs, readText, type ModelFileSet } from '../foreign/files';
import { isSystemFile } from '../data/vfile';
import { ForeignModel, type ProjectionKindCount } from '../foreign/foreign-model';
import { floatModel } from '../foreign/foreign-trainer';
import { describeFrontEnd } from '../foreign/frontend';
import { detectModelLayout, type LayoutKind, type ModelDescription } from '../foreign/layout';
import { readZip } from '../data/zip';
import { isZip } from '../train/export';
import { MEASURE_AUDIO_SECONDS, measureFeatures } from '../runtime/measure';
import type { Backend } from '../runtime/types';
import type { FileRef } from './asr-protocol';
import type { BackendSubject } from './backend-select';
import type { Metrics } from '../train/export';
import type { Transcriber } from './score-model';

/** What the model card shows of an imported model; computed once, at import. */
export interface ForeignCard {
  kind: LayoutKind;
  /** "wav2vec2 (Hugging Face / Optimum layout)", "NeMo CTC (sherpa-onnx layout)", … */
  kindLabel: string;
  /** The ONNX file in use, relative to the model's folder, and its precision. */
  onnx: string;
  precision: 'full' | 'half' | 'quantized';
  /** The layout's other ONNX files, not kept (Earshot runs and fine-tunes one). */
  leftOut: string[];
  vocabulary: { kind: 'characters' | 'pieces'; size: number; blank: string; file: string; tokens: string[] };
  frontEnd: string;
  /** LoRA can go into these projections (MatMul/Gemm with a constant weight), by kind, with counts. */
  projections: ProjectionKindCount[];
  output: 'logits' | 'logProbs';
  parameters: number;
  bytes: number;
  /** Producer, model type: where it came from. */
  origin: string;
}

/** An imported model's files and card, as IndexedDB keeps them (StoredModel.foreign). */
export interface StoredForeign {
  kind: LayoutKind;
  /** The layout's files by path in the model's folder; the ONNX file among them is `onnx`. */
  files: Record<string, Blob>;
  onnx: string;
  card: ForeignCard;
  /** How transcripts are decoded (greedy unless set). */
  decoding?: { beamWidth: number };
  /** For a fine-tuned model: what was trained on what, and what its export holds (the card's text). */
  note?: string;
  /** For a fine-tuned model: validation WER/CER of the model it started from and of itself. */
  metrics?: { base?: Metrics; fineTuned?: Metrics };
}

/** Files picked for import, by normalised path; a zip is unpacked (in this worker). */
export interface Upload {
  blobs: Map<string, Blob>;
  set: ModelFileSet;
  /** The zip the files came from, if they did. */
  zip?: string;
}

const normalise = (path: string) => path.replace(/\\/g, '/').replace(/^(\.\/|\/)+/, '');

export async function readUpload(refs: readonly FileRef[]): Promise<Upload> {
  const zip = refs.find((r) => r.path.toLowerCase().endsWith('.zip'));
  const blobs = new Map<string, Blob>();
  if (zip) {
    const name = basename(zip.path);
    const bytes = new Uint8Array(await zip.file.arrayBuffer());
    if (!isZip(bytes)) throw new Error(`${name} is not a zip archive (it does not begin with a zip signature)`);
    const { files } = await readZip(bytes, { limits: { maxFileBytes: 2 ** 31, maxImportBytes: 2 ** 32, maxFiles: 10_000 } });
    for (const f of files) blobs.set(normalise(f.path), new Blob([(await f.read()) as BlobPart]));
  } else for (const r of refs) blobs.set(normalise(r.path), r.file);
  const set = fileSetFromBlobs([...blobs].map(([path, file]) => ({ path, file })));
  return { blobs, set, zip: zip && basename(zip.path) };
}

/** Whether the files are our own model directory (a config.json saying "earshot-ctc", at the top of the files or in one folder). */
export async function isEarshotDirectory(u: Upload): Promise<boolean> {
  const configs = [...u.set.keys()].filter((p) => basename(p) === 'config.json').sort((a, b) => a.split('/').length - b.split('/').length);
  if (!configs.length) return false;
  try {
    return JSON.parse(await readText(u.set.get(configs[0])!)).format === 'earshot-ctc';
  } catch {
    return false;
  }
}

/**
 * The model in the upload, or a ForeignModelError whose sentence names the file and the reason.
 * Two choices get a sentence of their own: a zip without any model in it, and a lone .onnx (which
 * needs the files that came with it).
 */
export async function describeUpload(u: Upload): Promise<ModelDescription> {
  try {
    return await detectModelLayout(u.set);
  } catch (e) {
    if (!(e instanceof ForeignModelError)) throw e;
    if (u.zip && e.kind === 'no-model') throw new ForeignModelError('no-model', u.zip, 'is a zip but holds no model.onnx (nor another .onnx with its config.json or tokens.txt), so it holds no model Earshot can import');
    const [only] = u.set.keys();
    if (!u.zip && u.set.size === 1 && only.toLowerCase().endsWith('.onnx') && e.kind === 'missing-vocabulary') {
      throw new ForeignModelError(
        'missing-vocabulary',
        basename(only),
        'alone is not a model Earshot can use: it needs the files that come with it — config.json and tokens.txt for an Earshot model directory, tokens.txt for a sherpa-onnx NeMo model, the whole folder for a Hugging Face model — or a zip of that folder',
      );
    }
    throw e;
  }
}

const KIND_LABEL: Record<LayoutKind, string> = {
  earshot: 'Earshot model directory',
  'hf-ctc': 'Hugging Face / Optimum layout',
  'nemo-ctc': 'sherpa-onnx NeMo layout',
  'earshot-onnx': 'Earshot model after another exporter',
};

/** Where a model's own folder starts within the upload: the description's root, stripped from stored paths. */
const inFolder = (root: string, path: string) => (root && path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path);

/**
 * What fine-tuning needs of the graph, checked at import on one second of input: it becomes a
 * static graph, every op between the signal and the scores has a gradient rule, and the
 * projections LoRA can adapt are found (int8 files are dequantised first, as training does).
 */
export function inspectForTraining(d: ModelDescription, model: Model): { projections: ForeignCard['projections'] } {
  const float = floatModel(model);
  const dims = exampleDims(d, oneSecondLength(d));
  let graph;
  try {
    graph = prepareStatic(float, { inputs: dims }).graph;
  } catch (e) {
    throw new ForeignModelError('unsupported-graph', d.onnx.path, `cannot be made into a static training graph: ${(e as Error).message}`);
  }
  // Nodes on a path from the signal to the scores: the ones back-propagation goes through.
  const signal = d.inputs[0].name;
  const fromSignal = new Set([signal]);
  for (const n of graph.nodes) if (n.inputs.some((i) => fromSignal.has(i))) for (const o of n.outputs) fromSignal.add(o);
  const toOutput = new Set([d.output.name]);
  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const n = graph.nodes[k];
    if (n.outputs.some((o) => toOutput.has(o))) for (const i of n.inputs) toOutput.add(i);
  }
  for (const n of graph.nodes) {
    if (!n.outputs.some((o) => fromSignal.has(o) && toOutput.has(o))) continue;
    if (!(n.opType in gradRules)) {
      throw new ForeignModelError('unsupported-graph', d.onnx.path, `has the op ${n.opType}${n.name ? ` (node "${n.name}")` : ''}, which has no gradient rule in Earshot, so the model cannot be fine-tuned`);
    }
  }
  const found = findProjections(float.graph);
  return {
    projections: PROJECTION_KINDS.flatMap((kind) => {
      const of = found.filter((p) => p.kind === kind);
      return of.length ? [{ kind, count: of.length, example: of[0].module }] : [];
    }),
  };
}

/** Input length of one second of audio: samples for a waveform, feature frames for log-mel. */
function oneSecondLength(d: ModelDescription): number {
  return d.frontEnd.kind === 'waveform' ? d.frontEnd.sampleRate : Math.round(d.frontEnd.config.sampleRate / d.frontEnd.config.hopLength);
}

/** The model's input dims for `batch` items padded to `length` (samples or frames). */
export function exampleDims(d: ModelDescription, length: number, batch = 1): Record<string, number[]> {
  const fe = d.frontEnd;
  const signal = fe.kind === 'waveform' ? [batch, length] : fe.layout === 'mel-major' ? [batch, fe.config.nMels, length] : [batch, length, fe.config.nMels];
  return Object.fromEntries(d.inputs.map((i) => [i.name, i.role === 'signal' ? signal : i.role === 'length' ? [batch] : [batch, length]]));
}

/** The card of a described model, with what inspectForTraining found. */
export function foreignCard(d: ModelDescription, inspected: { projections: ForeignCard['projections'] }, bytes: number): ForeignCard {
  const type = typeof d.provenance.modelType === 'string' ? d.provenance.modelType : undefined;
  const family = d.kind === 'hf-ctc' ? (type ?? 'CTC model') : d.kind === 'nemo-ctc' ? `NeMo ${type ?? 'CTC model'}` : 'Earshot CTC model';
  const v = d.vocab;
  const parameters = d.outline.initializers.reduce((n, i) => n + (/^(float|u?int8|float16)/.test(i.elemType) ? i.dims.reduce((a, b) => a * b, 1) : 0), 0);
  const producer = typeof d.provenance.producer === 'string' ? d.provenance.producer : '';
  return {
    kind: d.kind,
    kindLabel: `${family} (${KIND_LABEL[d.kind]})`,
    onnx: inFolder(d.root, d.onnx.path),
    precision: d.onnx.precision,
    leftOut: d.onnxFiles.filter((f) => f.path !== d.onnx.path).map((f) => inFolder(d.root, f.path)),
    vocabulary: { kind: v.kind, size: v.pieces.length, blank: v.pieces[v.blankId], file: inFolder(d.root, v.file), tokens: v.pieces.slice(0, 200) as string[] },
    frontEnd: describeFrontEnd(d.frontEnd),
    projections: inspected.projections,
    output: d.output.kind,
    parameters,
    bytes,
    origin: [producer && `exported by ${producer}`, typeof d.provenance.nameOrPath === 'string' && d.provenance.nameOrPath].filter(Boolean).join(', '),
  };
}

/**
 * The files to keep of an upload described as `d`: every file in the model's folder (and below)
 * except the ONNX files not in use, under their paths in that folder.
 */
export function keptFiles(u: Upload, d: ModelDescription): Record<string, Blob> {
  const skip = new Set(d.onnxFiles.filter((f) => f.path !== d.onnx.path).map((f) => f.path));
  const out: Record<string, Blob> = {};
  for (const [path, blob] of u.blobs) {
    if (skip.has(path) || isSystemFile(path)) continue;
    if (d.root && !path.startsWith(`${d.root}/`)) continue;
    // other .onnx files elsewhere in the folder are not part of the model either
    if (path !== d.onnx.path && path.toLowerCase().endsWith('.onnx')) continue;
    out[inFolder(d.root, path)] = blob;
  }
  return out;
}

/** A stored imported model, opened on a backend (its files read from IndexedDB's blobs in this worker). */
export function openForeign(stored: StoredForeign, backend: Backend): Promise<ForeignModel> {
  const set = fileSetFromBlobs(Object.entries(stored.files).map(([path, file]) => ({ path, file })));
  return ForeignModel.open(set, backend, { onnx: stored.onnx });
}

export function foreignDecoding(stored: StoredForeign): Decoding {
  return stored.decoding && stored.decoding.beamWidth > 1 ? { beamWidth: stored.decoding.beamWidth } : GREEDY;
}

/** An imported model as a Transcriber, decoding as its stored settings say. */
export function foreignTranscriber(model: ForeignModel, decoding: Decoding = GREEDY): Transcriber {
  return {
    canWrite: (text) => model.unspellable(text).length === 0,
    sampleRate: model.sampleRate,
    transcribeSamples: (samples) => model.transcribe(samples, decoding),
    warmUp: async () => void (await model.scores(new Float32Array(model.sampleRate))), // a second of silence
    release: () => model.release(),
  };
}

/** What the backend choice measures for a stored model from elsewhere (backend-select.ts). */
export function foreignBackendSubject(id: string, stored: StoredForeign): BackendSubject {
  const time = async (b: Backend) => {
    const m = await openForeign(stored, b);
    try {
      return await timeForeignForward(m);
    } finally {
      await m.release();
    }
  };
  return { id: `foreign:${id}`, time };
}

/**
 * Median milliseconds of transcribing one second of synthetic audio on the model's backend (after
 * a warm-up run, which compiles and allocates): what the backend choice compares.
 */
export async function timeForeignForward(model: ForeignModel, runs = 2): Promise<number> {
  const samples = measureFeatures(Math.round(MEASURE_AUDIO_SECONDS * model.sampleRate), 1).map((x) => 0.05 * x);
  await model.scores(samples);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await model.scores(samples);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[(times.length - 1) >> 1];
}
