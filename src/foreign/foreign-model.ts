// One imported model, as the app's workers and the CLI use it: made from the files a user named (a
// ModelFileSet) and a runtime Backend, it computes the model's own front end, runs the model,
// decodes, makes a LoRA trainer, and exports the adapted model in the layout it came in.
//
// No DOM and no Node here (it runs in a Web Worker as well as under the CLI): files come in as the
// ModelFileSet abstraction, onnxruntime through the Backend.
//
// Our own model directory ('earshot' layout) is not handled here: it keeps its own path
// (readModelDir, Recognizer, CtcTrainer), so open() refuses it.
//
// Memory: the inference session is made on the first transcription (a training worker never makes
// one). The ONNX file is read when a session is made and when training or export needs the
// graph, and not kept in between; the decoded graph (float, dequantised if the file is int8) is
// kept from the first call that needs it, since training and export both start from it.

import { decodeText, GREEDY, type Decoding } from '../asr/decode';
import { normalizeText } from '../asr/text-normalize';
import type { Model } from '../engine/ir';
import { findProjections, PROJECTION_KINDS, type LoraConfig, type Projection, type ProjectionKind } from '../engine/lora-inject';
import { decodeModel, encodeModel } from '../engine/onnx-proto';
import type { OptimizerConfig } from '../engine/optim';
import { encodeCheckpoint } from '../runtime/checkpoint';
import type { Backend, HostTensor } from '../runtime/types';
import { ForeignModelError } from './errors';
import { basename, dirname, type ModelFileSet } from './files';
import { floatModel, ForeignCtcTrainer, ForeignRunner, type ForeignBatch } from './foreign-trainer';
import { describeFrontEnd, FrontEndRunner, frontEndSampleRate, type FrontEndOutput } from './frontend';
import { detectModelLayout, outputFrames, type DetectOptions, type ModelDescription } from './layout';
import { encodeTarget, missingCharacters } from './vocab';

/** The name the adapter file gets in an export, beside the model's own files. */
export const ADAPTER_FILE = 'adapter.safetensors';

/**
 * Files of a model folder that hold the model's weights in another form (PyTorch, TensorFlow,
 * NeMo, ONNX external data). An export leaves them out: after fine-tuning they would be stale.
 */
const WEIGHT_FILE = /\.(onnx|onnx_data|onnx\.data|bin|safetensors|pt|pth|ckpt|nemo|h5|msgpack|ot)$/i;

/** One projection kind the import found, for a picker: how many, and one module path as an example. */
export interface ProjectionKindCount {
  kind: ProjectionKind;
  count: number;
  example: string;
}

export interface ForeignLoraOptions {
  /** Projection kinds to adapt (see projectionKinds()). */
  targets: readonly ProjectionKind[];
  rank: number;
  alpha: number;
  seed?: number;
  optimizer: OptimizerConfig;
  clipNorm?: number;
  /** As ForeignTrainerOptions.shareFrozenAbove. */
  shareFrozenAbove?: number;
}

/** One training utterance: the model's input (features()) and its normalised transcript. */
export interface ForeignExample {
  input: FrontEndOutput;
  text: string;
}

/** What exportFiles() writes, by path relative to the model's folder. */
export interface ForeignExport {
  files: Map<string, Uint8Array>;
  /** The merged model's path among `files`. */
  onnx: string;
  /** Files of the import that the export does not carry, each with the reason. */
  leftOut: { path: string; reason: string }[];
  /** One paragraph saying what was written and why (for a model card, the CLI and the app). */
  note: string;
}

export class ForeignModel {
  private float?: Model;
  private readonly frontEnd: FrontEndRunner;

  private constructor(
    readonly description: ModelDescription,
    private readonly files: ModelFileSet,
    private readonly backend: Backend,
    /** The inference session: made on first use, so a training worker (which never runs it) holds none. */
    private runner: ForeignRunner | undefined,
  ) {
    this.frontEnd = new FrontEndRunner(description.frontEnd);
  }

  /**
   * Describes and loads the model in `files` (ForeignModelError when it cannot be used).
   * `options.precision` picks full precision (default) or the layout's quantised file.
   */
  static async open(files: ModelFileSet, backend: Backend, options: DetectOptions = {}): Promise<ForeignModel> {
    const d = await detectModelLayout(files, options);
    if (d.kind === 'earshot') throw new Error(`${d.root || 'the chosen files'} is an Earshot model directory: load it with readModelDir, not as an imported model`);
    return new ForeignModel(d, files, backend, undefined);
  }

  get vocab() {
    return this.description.vocab;
  }

  /** The sample rate the front end expects (decode audio to this). */
  get sampleRate(): number {
    return frontEndSampleRate(this.description.frontEnd);
  }

  /** One line: layout, file, front end, vocabulary. */
  summary(): string {
    const d = this.description;
    const v = d.vocab;
    return `${d.kind} model ${d.onnx.path}${d.onnx.precision === 'full' ? '' : ` (${d.onnx.precision})`}: ${describeFrontEnd(d.frontEnd)}; ${v.pieces.length} ${v.kind === 'pieces' ? 'SentencePiece pieces' : 'characters'}, blank ${v.blankId}; output ${d.output.kind}`;
  }

  /** The model's input for mono samples at `sampleRate`. */
  features(samples: Float32Array): FrontEndOutput {
    return this.frontEnd.compute(samples);
  }

  /**
   * The graph's inputs for a batch: the signal padded with zeros to the longest item along its time
   * axis, the length ([B], for NeMo) and the attention mask ([B, S], 1 on real samples) where the
   * graph takes them. `padTo` pads further, to a bucket's length (static training shapes).
   */
  inputs(items: readonly FrontEndOutput[], padTo = 0): Record<string, HostTensor> {
    const d = this.description;
    const B = items.length;
    const maxLen = Math.max(padTo, ...items.map((x) => x.length));
    const timeAxis = d.frontEnd.kind === 'log-mel' && d.frontEnd.layout === 'mel-major' ? 1 : 0;
    const dims = [...items[0].dims];
    dims[timeAxis] = maxLen;
    const per = dims[0] * (dims[1] ?? 1);
    const signal = new Float32Array(B * per);
    items.forEach((x, b) => {
      if (x.dims.length === 1 || timeAxis === 0) signal.set(x.data, b * per); // [S] or [T, mels]: the padding is the tail
      else for (let m = 0; m < dims[0]; m++) signal.set(x.data.subarray(m * x.length, (m + 1) * x.length), b * per + m * maxLen);
    });
    const out: Record<string, HostTensor> = {};
    for (const i of d.inputs) {
      if (i.role === 'signal') out[i.name] = { dtype: 'float32', dims: [B, ...dims], data: signal };
      else if (i.role === 'length') out[i.name] = intTensor(i.elemType, [B], items.map((x) => x.length));
      else out[i.name] = intTensor(i.elemType, [B, maxLen], items.flatMap((x) => Array.from({ length: maxLen }, (_, t) => (t < x.length ? 1 : 0))));
    }
    return out;
  }

  /** Each input's dims for one item of this length (what ForeignCtcTrainer.outputFrames takes). */
  itemDims(input: FrontEndOutput): Record<string, number[]> {
    return Object.fromEntries(this.description.inputs.map((i) => [i.name, i.role === 'signal' ? [1, ...input.dims] : i.role === 'length' ? [1] : [1, input.length]]));
  }

  /**
   * Scores [frames, vocab] (logits or log-probabilities: description.output.kind) for mono samples.
   * An input too short to give one output frame (fewer feature frames than the subsampling factor, as
   * the native Recognizer treats it) gives no frames.
   */
  async scores(samples: Float32Array): Promise<{ data: Float32Array; frames: number }> {
    const input = this.features(samples);
    const t = this.description.timeReduction;
    const expected = t.kind === 'conv' ? outputFrames(t, input.length) : input.length < (t.factor ?? 1) ? 0 : undefined;
    if (expected === 0 || input.length === 0) return { data: new Float32Array(0), frames: 0 };
    this.runner ??= await ForeignRunner.create(this.backend, await this.files.get(this.description.onnx.path)!.read(), this.description.output.name);
    const out = await this.runner.scores(this.inputs([input]));
    return { data: out.data as Float32Array, frames: out.dims[1] };
  }

  /**
   * The decoding this model can use: our word LM only where the vocabulary is characters. Over
   * SentencePiece pieces the beam search keeps its width but drops the LM, and `note` says so: our
   * LMs are trained on our normalised text, and the piece segmentation of training text here is
   * not the one the model was trained with (vocab.ts, segmentWord), so the fusion is not one we
   * have measured; greedy and beam search without LM join pieces at "▁" as usual.
   */
  usableDecoding(d: Decoding): { decoding: Decoding; note?: string } {
    if (!d.lm || this.vocab.kind === 'characters') return { decoding: d };
    return {
      decoding: { beamWidth: d.beamWidth },
      note: `${this.vocab.file} holds SentencePiece pieces, and Earshot's word LM is used only with character vocabularies: decoding with beam search (width ${d.beamWidth}) without the LM`,
    };
  }

  /** Text of scores [frames, vocab] under a decoding (see usableDecoding for the LM). */
  decode(scores: Float32Array, decoding: Decoding = GREEDY): string {
    if (scores.length === 0) return '';
    return decodeText(scores, this.vocab.vocab, this.usableDecoding(decoding).decoding, this.description.output.kind);
  }

  async transcribe(samples: Float32Array, decoding: Decoding = GREEDY): Promise<string> {
    return this.decode((await this.scores(samples)).data, decoding);
  }

  /**
   * The model graph training and export start from: float (an int8 file is dequantised, see
   * engine/dequantize.ts), decoded once and kept.
   */
  async model(): Promise<Model> {
    if (!this.float) this.float = floatModel(decodeModel(await this.files.get(this.description.onnx.path)!.read()));
    return this.float;
  }

  /** Every projection LoRA can adapt (MatMul / Gemm with a constant weight), in graph order. */
  async projections(): Promise<Projection[]> {
    return findProjections((await this.model()).graph);
  }

  /** The projection kinds the import finds, in PROJECTION_KINDS order, for the user to pick from. */
  async projectionKinds(): Promise<ProjectionKindCount[]> {
    const ps = await this.projections();
    return PROJECTION_KINDS.flatMap((kind) => {
      const of = ps.filter((p) => p.kind === kind);
      return of.length ? [{ kind, count: of.length, example: of[0].module }] : [];
    });
  }

  /**
   * Characters of a normalised transcript the vocabulary cannot spell (such an utterance cannot be
   * a training example); empty when it can.
   */
  unspellable(text: string): string[] {
    return missingCharacters(this.vocab, normalizeText(text));
  }

  /** A LoRA trainer on the chosen projection kinds, its graphs built for `first` (a batch's inputs, or their dims). */
  async createTrainer(o: ForeignLoraOptions, first: Record<string, { dims: readonly number[] }>): Promise<ForeignCtcTrainer> {
    const found = new Set((await this.projections()).map((p) => p.kind));
    const missing = o.targets.filter((k) => !found.has(k));
    if (o.targets.length === 0 || missing.length === o.targets.length) {
      throw new Error(`${this.description.onnx.path} has no ${o.targets.join(', ') || 'chosen'} projections to adapt; it has ${[...found].join(', ') || 'none'}`);
    }
    const lora: LoraConfig = { rank: o.rank, alpha: o.alpha, targets: o.targets, seed: o.seed };
    const d = this.description;
    return ForeignCtcTrainer.create(
      this.backend,
      { model: await this.model(), blank: d.blankId, scores: d.output.kind, output: d.output.name, lora, optimizer: o.optimizer, clipNorm: o.clipNorm, shareFrozenAbove: o.shareFrozenAbove },
      first,
    );
  }

  /** A padded training batch: inputs (padded to `padTo` at least), exact output frames per item, targets in the model's vocabulary. */
  batch(trainer: ForeignCtcTrainer, items: readonly ForeignExample[], padTo = 0): ForeignBatch {
    return {
      inputs: this.inputs(items.map((x) => x.input), padTo),
      outputLengths: items.map((x) => trainer.outputFrames(this.itemDims(x.input))),
      targets: items.map((x) => encodeTarget(this.vocab, normalizeText(x.text))),
    };
  }

  /**
   * Makes the trainer's adapted model this model's: inference runs the merged model from now on,
   * and a later trainer or export starts from it.
   */
  async adopt(trainer: ForeignCtcTrainer): Promise<void> {
    const merged = await trainer.mergedModel();
    const runner = await ForeignRunner.create(this.backend, encodeModel(merged), this.description.output.name);
    await this.runner?.dispose();
    this.runner = runner;
    this.float = merged;
  }

  /**
   * The adapted model in the layout it came in, paths relative to the model's folder: its side
   * files (config, vocabulary, preprocessor, tokenizer settings, README…) as they were, the merged
   * model (LoRA folded into the weights, the file's own opset, dynamic axes and metadata) in place
   * of the ONNX file used, and the adapter alone as ADAPTER_FILE.
   *
   * A quantised import is written as the float model it was trained as, not re-quantised: as
   * onnx/model.onnx (Transformers.js / Optimum) or model.onnx beside tokens.txt (sherpa-onnx), and
   * no model_quantized.onnx / model.int8.onnx. Re-quantising would round the adapted weights
   * again to the int8 grid, on which a LoRA update is often smaller than one step, and the scores
   * could then no longer be checked against what was trained; a quantised file of the original
   * beside the new model would be the old, unadapted model. Any ONNX file of the import other than
   * the one trained on is left out for the same reason, as are weight files in other formats.
   */
  async exportFiles(trainer: ForeignCtcTrainer, adapterMetadata: Record<string, string> = {}): Promise<ForeignExport> {
    const d = this.description;
    const rel = (p: string) => (d.root && p.startsWith(`${d.root}/`) ? p.slice(d.root.length + 1) : p);
    const quantized = d.onnx.precision !== 'full';
    const onnx = quantized ? (dirname(rel(d.onnx.path)) === 'onnx' || d.kind === 'hf-ctc' ? 'onnx/model.onnx' : joinPath(dirname(rel(d.onnx.path)), 'model.onnx')) : rel(d.onnx.path);
    const files = new Map<string, Uint8Array>();
    const leftOut: { path: string; reason: string }[] = [];
    for (const [path, file] of this.files) {
      if (d.root && !path.startsWith(`${d.root}/`)) continue;
      const r = rel(path);
      if (r === rel(d.onnx.path) || r === onnx) continue;
      if (WEIGHT_FILE.test(r)) {
        const reason = path === d.onnx.path ? 'replaced' : r.toLowerCase().endsWith('.onnx') ? 'another ONNX file of the original model, not adapted' : 'weights of the original model in another format, not adapted';
        if (reason !== 'replaced') leftOut.push({ path: r, reason });
        continue;
      }
      if (r === ADAPTER_FILE) {
        leftOut.push({ path: r, reason: 'the adapter of an earlier fine-tune (the new adapter replaces it)' });
        continue;
      }
      files.set(r, await file.read());
    }
    const merged = await trainer.mergedModel();
    files.set(onnx, encodeModel(merged));
    const adapter = await trainer.adapterCheckpoint({
      base_model: d.root || basename(d.onnx.path),
      base_file: rel(d.onnx.path),
      base_layout: d.kind,
      merged_into: onnx,
      ...adapterMetadata,
    });
    files.set(ADAPTER_FILE, encodeCheckpoint(adapter));
    const note = quantized
      ? `${onnx} is the fine-tuned model in float32 (LoRA merged), trained on the dequantised ${rel(d.onnx.path)}; it is not re-quantised (int8 rounding would blur the adaptation), so there is no quantised file${d.kind === 'hf-ctc' ? ' (with Transformers.js, load it with dtype "fp32")' : ''}. ${ADAPTER_FILE} holds the adapter alone.`
      : `${onnx} is the fine-tuned model (LoRA merged into its weights, same inputs, outputs, opset and metadata); the other files are the original's. ${ADAPTER_FILE} holds the adapter alone.`;
    return { files, onnx, leftOut, note };
  }

  async release(): Promise<void> {
    await this.runner?.dispose();
    this.runner = undefined;
    this.float = undefined;
  }
}

function joinPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

function intTensor(elemType: string, dims: number[], values: number[]): HostTensor {
  if (elemType === 'int32') return { dtype: 'int32', dims, data: Int32Array.from(values) };
  if (elemType === 'int64') return { dtype: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
  throw new ForeignModelError('unsupported-graph', 'the model', `takes a length or mask of type ${elemType}, which Earshot cannot feed (int32 or int64)`);
}
