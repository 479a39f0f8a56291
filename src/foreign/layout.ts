// Which kind of model a set of files is, and everything needed to run it: the ONNX file, the
// vocabulary and its blank, the front end, what the graph takes and gives. One function for the
// app (Files a user picked) and the CLI (a folder, a zip or an .onnx on disk); it reads config
// files and ONNX headers only, never a weight.
//
// Layouts:
// - 'earshot': our own model directory (src/asr/model-dir.ts): config.json with format
//   "earshot-ctc", tokens.txt, model.onnx. Load it with readModelDir as before; this only describes it.
// - 'hf-ctc': Hugging Face / Optimum / Transformers.js: config.json (model_type wav2vec2, hubert,
//   wavlm, data2vec-audio, unispeech, unispeech-sat, … with a *ForCTC architecture), vocab.json,
//   preprocessor_config.json, onnx/model.onnx and/or onnx/model_quantized.onnx (or at the top).
// - 'nemo-ctc': NeMo Conformer-CTC / Citrinet / QuartzNet as sherpa-onnx ships them: model.onnx or
//   model.int8.onnx (any .onnx name will do) with tokens.txt, and sherpa-onnx's metadata_props
//   (vocab_size, normalize_type, subsampling_factor, model_author NeMo, …).
// - 'earshot-onnx': an .onnx whose metadata carries our front end (`earshot_frontend` and
//   `earshot_frontend_config`, written by scripts/foreign/export-earshot-torch.py, or
//   `earshot_config`, written by writeModelDir) with tokens.txt beside it: our model after another
//   exporter.
// Anything else is refused with a ForeignModelError naming the file and the reason.
import type { ScoreKind } from '../asr/decode';
import { validateFrontEndConfig, type FrontEndConfig } from '../audio/log-mel';
import { ForeignModelError } from './errors';
import { basename, byteSource, dirname, fileSet, readText, type ModelFile, type ModelFileSet } from './files';
import { nemoLogMel, type ModelFrontEnd } from './frontend';
import { controlFlowNodes, readOnnxOutline, type OnnxOutline, type OutlineValue } from './onnx-outline';
import { vocabFromTokensTxt, vocabFromVocabJson, type ModelVocab } from './vocab';

export type LayoutKind = 'earshot' | 'hf-ctc' | 'nemo-ctc' | 'earshot-onnx';

/** An ONNX file a layout offers: full precision, or a smaller variant (Transformers.js's model_fp16, model_quantized, …). */
export interface OnnxFile {
  path: string;
  precision: 'full' | 'half' | 'quantized';
  /** The variant's own name: '' for model.onnx, 'quantized', 'int8', 'fp16', 'q4'… */
  variant: string;
  size: number;
}

export interface ModelInput {
  name: string;
  /** 'signal': the waveform or features; 'length': valid frames per item (NeMo); 'attention-mask': 1 for real samples (HF). */
  role: 'signal' | 'length' | 'attention-mask';
  elemType: string;
  shape: (number | string)[];
}

/** How many output frames an input length gives. */
export type TimeReduction =
  /** HF's feature encoder: per conv layer, L ← floor((L − kernel) / stride) + 1, on samples. */
  | { kind: 'conv'; kernels: number[]; strides: number[] }
  /** About L / factor on feature frames (the exact count follows the model's convolutions' padding). */
  | { kind: 'factor'; factor: number | undefined };

export interface ModelDescription {
  kind: LayoutKind;
  /** The folder the model sits in, within the files given ('' for the top). */
  root: string;
  /** The ONNX file chosen (paths here are as in the file set). */
  onnx: OnnxFile;
  /** Every ONNX file of this layout, so a caller can offer another precision. */
  onnxFiles: OnnxFile[];
  vocab: ModelVocab;
  blankId: number;
  frontEnd: ModelFrontEnd;
  inputs: ModelInput[];
  output: { name: string; kind: ScoreKind; shape: (number | string)[] };
  timeReduction: TimeReduction;
  outline: OnnxOutline;
  /** The layout's other files by role (config, vocabulary, preprocessor…), to carry into an export. */
  files: Record<string, string>;
  /** Where the model came from: producer, model type, metadata, names. */
  provenance: Record<string, unknown>;
}

export interface DetectOptions {
  /** Which precision to use when the layout has several (default 'full', falling back to the other). */
  precision?: 'full' | 'quantized';
  /** The ONNX file to use, by path in the file set or relative to the model's folder. */
  onnx?: string;
}

/** Model types of Hugging Face speech encoders whose *ForCTC head reads a raw waveform. */
export const HF_CTC_MODEL_TYPES: ReadonlySet<string> = new Set(['wav2vec2', 'hubert', 'wavlm', 'data2vec-audio', 'unispeech', 'unispeech-sat', 'sew', 'sew-d', 'wav2vec2-conformer']);
const ENCODER_DECODER_TYPES: ReadonlySet<string> = new Set(['whisper', 'speech_to_text', 'speech-encoder-decoder', 'speecht5', 'seamless_m4t', 'seamless_m4t_v2', 'moonshine', 'bart', 't5']);

/**
 * Output frames for an input of `length` samples ('conv') or feature frames ('factor'). Exact for
 * 'conv'; for 'factor' it is ceil(length / factor), what stride-2 convolutions padded to keep
 * ceil(L / 2) per stage give (NeMo's striding subsampling); undefined without a factor.
 */
export function outputFrames(t: TimeReduction, length: number): number | undefined {
  if (t.kind === 'conv') {
    let n = length;
    t.kernels.forEach((k, i) => (n = n < k ? 0 : Math.floor((n - k) / t.strides[i]) + 1));
    return n;
  }
  return t.factor ? Math.ceil(length / t.factor) : undefined;
}

/** Describes the model in `files`, or throws a ForeignModelError saying why it cannot be used. */
export async function detectModelLayout(files: ModelFileSet | Iterable<ModelFile>, options: DetectOptions = {}): Promise<ModelDescription> {
  const all = files instanceof Map ? (files as ModelFileSet) : fileSet(files as Iterable<ModelFile>);
  const root = modelRoot(all);
  const at = (name: string) => (root ? `${root}/${name}` : name);
  const get = (name: string) => all.get(at(name));
  const where = root || 'the chosen files';

  const configFile = get('config.json');
  if (configFile) {
    const config = await readJson(configFile);
    if (config.format === 'earshot-ctc') return earshotLayout(all, root, config, options);
    if (typeof config.model_type === 'string' || Array.isArray(config.architectures)) return hfLayout(all, root, config, options);
  }
  const onnxFiles = [...all.keys()].filter((p) => (dirname(p) === root || dirname(p) === at('onnx')) && p.toLowerCase().endsWith('.onnx'));
  refuseSeq2SeqFiles(onnxFiles, where);
  if (onnxFiles.length === 0) throw new ForeignModelError('no-model', where, 'holds no ONNX model (no .onnx file beside config.json or tokens.txt)');
  return onnxWithTokens(all, root, onnxFiles, options);
}

// ---------------------------------------------------------------------------------------------
// The model's folder: the shallowest folder holding config.json, tokens.txt, vocab.json or an
// .onnx (an .onnx under onnx/ counts for the folder above, as Optimum lays it out).

function modelRoot(all: ModelFileSet): string {
  const candidates = new Set<string>();
  for (const p of all.keys()) {
    const name = basename(p);
    let dir = dirname(p);
    if (name.toLowerCase().endsWith('.onnx')) {
      if (basename(dir) === 'onnx') dir = dirname(dir);
    } else if (!['config.json', 'tokens.txt', 'vocab.json'].includes(name)) continue;
    candidates.add(dir);
  }
  if (candidates.size === 0) {
    if (all.size === 1) throw new ForeignModelError('no-model', [...all.keys()][0], 'is not a model: Earshot imports a folder or zip with an .onnx file, config.json or tokens.txt');
    throw new ForeignModelError('no-model', 'the chosen files', 'hold no model: no .onnx file, config.json or tokens.txt');
  }
  const depth = (d: string) => (d === '' ? 0 : d.split('/').length);
  const least = Math.min(...[...candidates].map(depth));
  const top = [...candidates].filter((d) => depth(d) === least);
  if (top.length > 1) throw new ForeignModelError('ambiguous', 'the chosen files', `hold more than one model (${top.map((d) => `${d}/`).join(', ')}); choose one folder`);
  return top[0];
}

// ---------------------------------------------------------------------------------------------
// Our own model directory.

async function earshotLayout(all: ModelFileSet, root: string, config: Record<string, unknown>, options: DetectOptions): Promise<ModelDescription> {
  const at = (name: string) => (root ? `${root}/${name}` : name);
  let frontEnd: FrontEndConfig;
  try {
    frontEnd = validateFrontEndConfig(config.frontEnd);
  } catch (e) {
    throw new ForeignModelError('unknown-front-end', at('config.json'), `describes a front end Earshot cannot compute: ${(e as Error).message}`);
  }
  const onnx = chooseOnnx([onnxFile(all, at('model.onnx'), '')].filter((f): f is OnnxFile => !!f), options, at('model.onnx'));
  const outline = await outlineOf(all, onnx.path);
  const vocab = await tokensVocab(all, at('tokens.txt'), onnx.path, undefined);
  return finish({
    kind: 'earshot',
    root,
    onnx,
    onnxFiles: [onnx],
    vocab,
    frontEnd: { kind: 'log-mel', config: frontEnd, layout: 'time-major' },
    outline,
    timeReduction: { kind: 'factor', factor: typeof config.subsampling === 'number' ? config.subsampling : 4 },
    files: { config: at('config.json'), vocabulary: at('tokens.txt') },
    provenance: { layout: 'earshot', ...(config.provenance as object | undefined) },
  });
}

// ---------------------------------------------------------------------------------------------
// Hugging Face / Optimum / Transformers.js.

async function hfLayout(all: ModelFileSet, root: string, config: Record<string, unknown>, options: DetectOptions): Promise<ModelDescription> {
  const at = (name: string) => (root ? `${root}/${name}` : name);
  const configPath = at('config.json');
  const modelType = typeof config.model_type === 'string' ? config.model_type : undefined;
  const architectures = Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === 'string') : [];
  if (modelType === 'whisper' || architectures.some((a) => a.startsWith('Whisper'))) {
    throw new ForeignModelError('encoder-decoder', configPath, 'describes a Whisper model, an encoder–decoder model, which Earshot does not support yet (it imports CTC models: wav2vec2, HuBERT, WavLM, NeMo Conformer-CTC…)');
  }
  if (config.is_encoder_decoder === true || (modelType && ENCODER_DECODER_TYPES.has(modelType)) || architectures.some((a) => /ForConditionalGeneration|ForSpeechSeq2Seq|EncoderDecoder/.test(a))) {
    throw new ForeignModelError('encoder-decoder', configPath, `describes an encoder–decoder model (${modelType ?? architectures.join(', ')}), which Earshot does not support yet; it imports CTC models`);
  }
  const ctc = architectures.some((a) => a.endsWith('ForCTC'));
  if (architectures.length > 0 && !ctc) {
    throw new ForeignModelError('not-ctc', configPath, `describes a ${architectures.join(', ')} model, which has no CTC head to transcribe with (Earshot needs a …ForCTC model)`);
  }
  if (!ctc && !(modelType && HF_CTC_MODEL_TYPES.has(modelType))) {
    throw new ForeignModelError('not-ctc', configPath, `describes a model of type "${modelType}", which is not a speech CTC model Earshot knows (${[...HF_CTC_MODEL_TYPES].join(', ')})`);
  }

  const candidates = [...all.keys()]
    .filter((p) => (dirname(p) === at('onnx') || dirname(p) === root) && /^model(_[a-z0-9]+)?\.onnx$/i.test(basename(p)))
    .map((p) => onnxFile(all, p, (/^model_([a-z0-9]+)\.onnx$/i.exec(basename(p))?.[1] ?? '').toLowerCase())!);
  refuseSeq2SeqFiles([...all.keys()].filter((p) => (dirname(p) === at('onnx') || dirname(p) === root) && p.toLowerCase().endsWith('.onnx')), root || 'the chosen files');
  if (candidates.length === 0) throw new ForeignModelError('no-model', root ? `${root}/onnx/model.onnx` : 'onnx/model.onnx', 'is missing: the folder has config.json but no ONNX export of the model');
  const onnx = chooseOnnx(candidates, options, at('onnx/model.onnx'));
  const outline = await outlineOf(all, onnx.path);

  // Tokenizer settings: tokenizer_config.json, then special_tokens_map.json, then defaults.
  const tokenizerConfig = await optionalJson(all, at('tokenizer_config.json'));
  const specialTokens = await optionalJson(all, at('special_tokens_map.json'));
  const tokenName = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
  const padToken = tokenName(tokenizerConfig?.pad_token) ?? tokenName(specialTokens?.pad_token);
  const wordDelimiter = tokenName(tokenizerConfig?.word_delimiter_token);
  const targetLang = typeof tokenizerConfig?.target_lang === 'string' ? tokenizerConfig.target_lang : undefined;
  const added = await optionalJson(all, at('added_tokens.json'));
  const outputSize = lastDim(outline.outputs[0]);
  const size = outputSize ?? (typeof config.vocab_size === 'number' ? config.vocab_size : undefined);
  const blankId = typeof config.pad_token_id === 'number' ? config.pad_token_id : undefined;
  let vocabJson: unknown;
  let vocabPath = at('vocab.json');
  if (all.has(vocabPath)) vocabJson = await readJson(all.get(vocabPath)!);
  else if (all.has(at('tokenizer.json'))) {
    // tokenizer.json (the tokenizers library's file) holds the same map under model.vocab.
    vocabPath = at('tokenizer.json');
    const model = (await readJson(all.get(vocabPath)!)).model as { vocab?: unknown } | undefined;
    vocabJson = model?.vocab;
    if (typeof vocabJson !== 'object' || vocabJson === null || Array.isArray(vocabJson)) {
      throw new ForeignModelError('missing-vocabulary', at('vocab.json'), 'is missing and tokenizer.json holds no token → id map, so the model\'s output cannot be turned into text');
    }
  } else throw new ForeignModelError('missing-vocabulary', at('vocab.json'), 'is missing, so the model\'s output cannot be turned into text');
  const vocab = vocabFromVocabJson(vocabJson, { file: vocabPath, blankId, padToken, wordDelimiter, targetLang, addedTokens: added as Record<string, number> | undefined, size });

  // The front end: preprocessor_config.json must say it is wav2vec2's waveform normalisation.
  const preprocessorPath = at('preprocessor_config.json');
  const pre = await optionalJson(all, preprocessorPath);
  if (!pre) throw new ForeignModelError('unknown-front-end', preprocessorPath, 'is missing, so the input the model expects (a normalised waveform or not) cannot be known');
  const extractor = pre.feature_extractor_type;
  if (!(extractor === 'Wav2Vec2FeatureExtractor' || (extractor === undefined && (pre.feature_size ?? 1) === 1))) {
    throw new ForeignModelError('unknown-front-end', preprocessorPath, `names the feature extractor ${JSON.stringify(extractor)}, and Earshot computes only Wav2Vec2FeatureExtractor's normalised waveform for Hugging Face models`);
  }
  if (pre.feature_size !== undefined && pre.feature_size !== 1) {
    throw new ForeignModelError('unknown-front-end', preprocessorPath, `gives feature_size ${JSON.stringify(pre.feature_size)}, not the 1 of a raw waveform`);
  }
  const sampleRate = pre.sampling_rate ?? 16000;
  if (!(Number.isInteger(sampleRate) && (sampleRate as number) > 0)) throw new ForeignModelError('unknown-front-end', preprocessorPath, `gives sampling_rate ${JSON.stringify(sampleRate)}, not a rate in Hz`);
  const normalize = pre.do_normalize === undefined ? true : pre.do_normalize === true;

  const intList = (v: unknown, fallback: number[]) => (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x > 0) ? (v as number[]) : fallback);
  const kernels = intList(config.conv_kernel, [10, 3, 3, 3, 3, 2, 2]);
  const strides = intList(config.conv_stride, [5, 2, 2, 2, 2, 2, 2]);
  const present = (name: string) => (all.has(at(name)) ? { [name.replace(/\.json$/, '').replace(/_config$/, '').replace(/_/g, '-')]: at(name) } : {});
  return finish({
    kind: 'hf-ctc',
    root,
    onnx,
    onnxFiles: candidates,
    vocab,
    frontEnd: { kind: 'waveform', sampleRate: sampleRate as number, normalize },
    outline,
    timeReduction: { kind: 'conv', kernels, strides },
    files: {
      config: configPath,
      vocabulary: vocabPath,
      preprocessor: preprocessorPath,
      ...present('tokenizer_config.json'),
      ...present('special_tokens_map.json'),
      ...present('added_tokens.json'),
    },
    provenance: {
      layout: 'hf-ctc',
      modelType,
      architectures,
      nameOrPath: config._name_or_path,
      transformersVersion: config.transformers_version,
      producer: producer(outline),
    },
  });
}

// ---------------------------------------------------------------------------------------------
// An .onnx with tokens.txt: sherpa-onnx's NeMo CTC models, or ours after another exporter. The
// ONNX metadata says which, and which front end.

async function onnxWithTokens(all: ModelFileSet, root: string, paths: string[], options: DetectOptions): Promise<ModelDescription> {
  const at = (name: string) => (root ? `${root}/${name}` : name);
  const candidates = paths.map((p) => {
    const name = basename(p).toLowerCase();
    const variant = /[._-](int8|uint8|quantized|quant)\.onnx$/.exec(name)?.[1] ?? /[._-](fp16|float16)\.onnx$/.exec(name)?.[1] ?? '';
    return onnxFile(all, p, variant)!;
  });
  const fulls = candidates.filter((c) => c.precision === 'full');
  // Several full-precision files and no choice made: which one is the model cannot be told.
  if (!options.onnx && fulls.length > 1) {
    throw new ForeignModelError('ambiguous', root || 'the chosen files', `hold several ONNX files (${fulls.map((f) => basename(f.path)).join(', ')}); choose the model's .onnx with its tokens.txt`);
  }
  const onnx = chooseOnnx(candidates, options, paths[0]);
  const outline = await outlineOf(all, onnx.path);
  const meta = outline.metadata;
  const tokensPath = tokensBeside(all, onnx.path);

  if (meta.earshot_frontend !== undefined || meta.earshot_frontend_config !== undefined || meta.earshot_config !== undefined) {
    const { frontEnd, subsampling } = earshotMetadata(meta, onnx.path);
    const vocab = await tokensVocab(all, tokensPath, onnx.path, lastDim(outline.outputs[0]));
    const blank = intMeta(meta, 'blank_id');
    if (blank !== undefined && blank !== vocab.blankId) {
      throw new ForeignModelError('bad-vocabulary', vocab.file, `has the blank at id ${vocab.blankId}, but ${basename(onnx.path)}'s metadata says blank_id ${blank}`);
    }
    const signal = outline.inputs[0];
    const layout = signal?.shape?.length === 3 && signal.shape[1] === frontEnd.nMels && signal.shape[2] !== frontEnd.nMels ? 'mel-major' : 'time-major';
    return finish({
      kind: 'earshot-onnx',
      root,
      onnx,
      onnxFiles: candidates,
      vocab,
      frontEnd: { kind: 'log-mel', config: frontEnd, layout },
      outline,
      timeReduction: { kind: 'factor', factor: subsampling },
      files: { vocabulary: tokensPath },
      provenance: { layout: 'earshot-onnx', producer: producer(outline), exporter: meta.exporter, metadata: meta },
    });
  }

  const nemo = meta.model_author === 'NeMo' || /^EncDec/.test(meta.model_type ?? '') || 'normalize_type' in meta;
  if (!nemo) {
    throw new ForeignModelError('unknown-front-end', onnx.path, 'carries no metadata naming its front end (sherpa-onnx\'s normalize_type for NeMo models, or earshot_frontend_config), so the features it expects cannot be known');
  }
  if (meta.is_giga_am === '1') throw new ForeignModelError('unknown-front-end', onnx.path, 'is a GigaAM model, whose front end (not NeMo\'s log-mel) Earshot does not compute yet');
  if (/RNNT|Transducer|TDT/i.test(meta.model_type ?? '') && !/CTC/i.test(meta.model_type ?? '')) {
    throw new ForeignModelError('not-ctc', onnx.path, `is a ${meta.model_type} (transducer) model, not a CTC model`);
  }
  if (!('normalize_type' in meta)) throw new ForeignModelError('unknown-front-end', onnx.path, 'has no normalize_type metadata, so how NeMo normalised its features cannot be known');
  const signal = outline.inputs.find((i) => i.elemType === 'float32' || i.elemType === 'float16');
  const nMels = signal?.shape?.length === 3 ? signal.shape[1] : undefined;
  if (typeof nMels !== 'number') {
    throw new ForeignModelError('unknown-front-end', onnx.path, `takes ${signal ? `${signal.name} of shape [${(signal.shape ?? []).join(', ')}]` : 'no float input'}, not NeMo's [batch, mels, frames] with a fixed number of mels`);
  }
  const vocabSize = intMeta(meta, 'vocab_size') ?? lastDim(outline.outputs[0]);
  const vocab = await tokensVocab(all, tokensPath, onnx.path, vocabSize);
  return finish({
    kind: 'nemo-ctc',
    root,
    onnx,
    onnxFiles: candidates,
    vocab,
    frontEnd: { kind: 'log-mel', config: nemoLogMel(nMels, meta.normalize_type, onnx.path), layout: 'mel-major' },
    outline,
    timeReduction: { kind: 'factor', factor: intMeta(meta, 'subsampling_factor') },
    files: { vocabulary: tokensPath },
    provenance: { layout: 'nemo-ctc', modelType: meta.model_type, url: meta.url, comment: meta.comment, producer: producer(outline), metadata: meta },
  });

  function tokensBeside(files: ModelFileSet, onnxPath: string): string {
    // sherpa-onnx names it tokens.txt; some releases prefix the model's name ("tiny.en-tokens.txt").
    const stem = basename(onnxPath).replace(/(\.int8|\.fp16)?\.onnx$/i, '');
    for (const name of ['tokens.txt', `${stem}-tokens.txt`, `${stem}.tokens.txt`]) if (files.has(at(name))) return at(name);
    return at('tokens.txt');
  }
}

// ---------------------------------------------------------------------------------------------
// Shared steps.

/** What a layout reader finds; finish() reads the rest off the graph. */
type LayoutFindings = Omit<ModelDescription, 'blankId' | 'inputs' | 'output'>;

/** Checks the graph's inputs and output (against the front end and the vocabulary) and completes the description. */
function finish(d: LayoutFindings): ModelDescription {
  const { outline, onnx, vocab } = d;
  // The first float input is the signal; the others may only be a length or an attention mask.
  const signalIndex = outline.inputs.findIndex(isFloat);
  const inputs = outline.inputs.map((i, k): ModelInput => {
    const role = k === signalIndex ? 'signal' : isFloat(i) ? undefined : /mask/i.test(i.name) ? 'attention-mask' : /len/i.test(i.name) ? 'length' : undefined;
    if (!role) throw new ForeignModelError('unsupported-graph', onnx.path, `takes an input "${i.name}" (${i.elemType}) that Earshot cannot feed: it feeds the signal, and a length or attention mask`);
    return { name: i.name, role, elemType: i.elemType, shape: i.shape ?? [] };
  });
  inputs.sort((a, b) => (a.role === 'signal' ? -1 : b.role === 'signal' ? 1 : 0));
  const signal = inputs[0];
  if (signal?.role !== 'signal') throw new ForeignModelError('unsupported-graph', onnx.path, 'takes no float input to feed the signal to');
  const wantRank = d.frontEnd.kind === 'waveform' ? 2 : 3;
  if (signal.shape.length !== wantRank) {
    const want = d.frontEnd.kind === 'waveform' ? '[batch, samples] waveform' : '[batch, frames, mels] or [batch, mels, frames] features';
    throw new ForeignModelError('unknown-front-end', onnx.path, `takes ${signal.name} of shape [${signal.shape.join(', ')}], not the ${want} its front end makes`);
  }
  const out = outline.outputs[0];
  if (!out || out.shape?.length !== 3) {
    throw new ForeignModelError('unsupported-graph', onnx.path, `gives ${out ? `${out.name} of shape [${(out.shape ?? []).join(', ')}]` : 'no output'}, not CTC scores [batch, frames, tokens]`);
  }
  const size = out.shape[2];
  if (typeof size === 'number' && size !== vocab.pieces.length) {
    throw new ForeignModelError('bad-vocabulary', vocab.file, `has ${vocab.pieces.length} tokens, but ${basename(onnx.path)} gives ${size} scores per frame`);
  }
  const producerOp = outline.nodes.find((n) => n.outputs.includes(out.name))?.opType;
  const kind: ScoreKind = producerOp === 'LogSoftmax' || /log_?probs?/i.test(out.name) ? 'logProbs' : 'logits';
  return { ...d, blankId: vocab.blankId, inputs, output: { name: out.name, kind, shape: out.shape } };
}

/** Throws a ForeignModelError when the graph has control flow (If, Loop, Scan), which a static training graph cannot hold. */
export function assertNoControlFlow(outline: OnnxOutline, file: string): void {
  const flow = controlFlowNodes(outline);
  if (flow.length === 0) return;
  const shown = flow.slice(0, 3).map((n) => `${n.opType}${n.name ? ` "${n.name}"` : ''}`).join(', ');
  throw new ForeignModelError('control-flow', file, `has control flow (${shown}${flow.length > 3 ? ` and ${flow.length - 3} more` : ''}), which Earshot cannot train through: export the model with fixed control flow (no If, Loop or Scan)`);
}

function refuseSeq2SeqFiles(paths: string[], where: string): void {
  const names = paths.map((p) => basename(p).toLowerCase());
  const encoder = names.some((n) => /(^|[-_.])encoder(_model)?([-_.].*)?\.onnx$/.test(n));
  const decoder = names.some((n) => /(^|[-_.])decoder(_model)?(_merged|_with_past)?([-_.].*)?\.onnx$/.test(n));
  const joiner = names.some((n) => /(^|[-_.])joiner([-_.].*)?\.onnx$/.test(n));
  if (encoder && joiner) throw new ForeignModelError('not-ctc', where, 'holds a transducer (encoder, decoder and joiner .onnx files), not a CTC model, and Earshot imports CTC models only');
  // Optimum names a seq2seq export's files encoder_model.onnx and decoder_model(_merged).onnx; either alone says what the model is.
  const optimum = names.some((n) => /^(encoder|decoder)_model(_[a-z0-9_]+)?\.onnx$/.test(n));
  if ((encoder && decoder) || optimum) throw new ForeignModelError('encoder-decoder', where, 'holds an encoder–decoder model (separate encoder and decoder .onnx files, as Whisper\'s), which Earshot does not support yet; it imports CTC models');
}

function refuseSeq2SeqGraph(outline: OnnxOutline, file: string): void {
  const names = outline.inputs.map((i) => i.name);
  const seq = names.find((n) => /^(decoder_input_ids|input_ids|encoder_hidden_states|encoder_outputs|tokens)$/.test(n) || n.startsWith('past_key_values'));
  if (seq) throw new ForeignModelError('encoder-decoder', file, `takes "${seq}", an input of a sequence-to-sequence decoder, which Earshot does not support yet; it imports CTC models`);
}

function chooseOnnx(candidates: OnnxFile[], options: DetectOptions, missing: string): OnnxFile {
  if (options.onnx) {
    const want = options.onnx.replace(/\\/g, '/');
    const hit = candidates.find((c) => c.path === want || c.path.endsWith(`/${want}`));
    if (!hit) throw new ForeignModelError('no-model', want, `is not among the model's ONNX files (${candidates.map((c) => c.path).join(', ') || 'none'})`);
    return hit;
  }
  if (candidates.length === 0) throw new ForeignModelError('no-model', missing, 'is missing');
  // Full precision first (it is what training starts from), else the quantised file the layout
  // ships; 'quantized' reverses that. Within a precision, the plain name ('' or 'quantized') first.
  const order = options.precision === 'quantized' ? ['quantized', 'full', 'half'] : ['full', 'quantized', 'half'];
  const variantRank = (v: string) => ['', 'quantized', 'int8', 'uint8', 'fp16'].indexOf(v) >>> 0;
  return [...candidates].sort((a, b) => order.indexOf(a.precision) - order.indexOf(b.precision) || variantRank(a.variant) - variantRank(b.variant) || (a.path < b.path ? -1 : 1))[0];
}

function onnxFile(all: ModelFileSet, path: string, variant: string): OnnxFile | undefined {
  const f = all.get(path);
  if (!f) return undefined;
  const precision = variant === '' ? 'full' : /^(fp16|float16|half)$/.test(variant) ? 'half' : 'quantized';
  return { path, precision, variant, size: f.size };
}

/** The outline of an ONNX file, refused at once if it is a sequence-to-sequence decoder or has control flow. */
async function outlineOf(all: ModelFileSet, path: string): Promise<OnnxOutline> {
  let outline: OnnxOutline;
  try {
    outline = await readOnnxOutline(byteSource(all.get(path)!));
  } catch (e) {
    throw new ForeignModelError('unreadable', path, `cannot be read as an ONNX model: ${(e as Error).message}`);
  }
  refuseSeq2SeqGraph(outline, path);
  assertNoControlFlow(outline, path);
  return outline;
}

async function tokensVocab(all: ModelFileSet, path: string, onnxPath: string, size: number | undefined): Promise<ModelVocab> {
  const f = all.get(path);
  if (!f) throw new ForeignModelError('missing-vocabulary', path, `is missing beside ${basename(onnxPath)}, so the model's output cannot be turned into text`);
  return vocabFromTokensTxt(await readText(f), { file: path, size });
}

/**
 * The front end and subsampling an Earshot model's ONNX metadata gives: `earshot_frontend_config`
 * (config.json's frontEnd as JSON) with the label `earshot_frontend` ("logmel-80") and
 * `subsampling_factor`, as scripts/foreign/export-earshot-torch.py writes them; or `earshot_config`
 * (the whole config.json), as writeModelDir does.
 */
function earshotMetadata(meta: Record<string, string>, file: string): { frontEnd: FrontEndConfig; subsampling: number } {
  const refuse = (reason: string) => new ForeignModelError('unknown-front-end', file, reason);
  const key = meta.earshot_frontend_config !== undefined ? 'earshot_frontend_config' : meta.earshot_config !== undefined ? 'earshot_config' : undefined;
  if (!key) throw refuse(`names the front end ${JSON.stringify(meta.earshot_frontend)} but carries no earshot_frontend_config metadata with its settings`);
  let parsed: Record<string, unknown>;
  let frontEnd: FrontEndConfig;
  try {
    parsed = JSON.parse(meta[key]) as Record<string, unknown>;
    frontEnd = validateFrontEndConfig(key === 'earshot_config' ? parsed.frontEnd : parsed);
  } catch (e) {
    throw refuse(`has ${key} metadata that is not a front end Earshot can compute: ${(e as Error).message}`);
  }
  const label = /^logmel-(\d+)$/.exec(meta.earshot_frontend ?? '');
  if (meta.earshot_frontend !== undefined && (!label || Number(label[1]) !== frontEnd.nMels)) {
    throw refuse(`names the front end ${JSON.stringify(meta.earshot_frontend)}, which does not match its earshot_frontend_config (logmel-${frontEnd.nMels})`);
  }
  const subsampling = key === 'earshot_config' ? parsed.subsampling : intMeta(meta, 'subsampling_factor');
  return { frontEnd, subsampling: typeof subsampling === 'number' ? subsampling : 4 };
}

async function readJson(file: ModelFile): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(await readText(file));
  } catch (e) {
    throw new ForeignModelError('unreadable', file.path, `is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ForeignModelError('unreadable', file.path, 'is not a JSON object');
  return value as Record<string, unknown>;
}

async function optionalJson(all: ModelFileSet, path: string): Promise<Record<string, unknown> | undefined> {
  const f = all.get(path);
  return f ? readJson(f) : undefined;
}

function lastDim(v: OutlineValue | undefined): number | undefined {
  const d = v?.shape?.[v.shape.length - 1];
  return typeof d === 'number' && d > 0 ? d : undefined;
}

function intMeta(meta: Record<string, string>, key: string): number | undefined {
  const v = Number(meta[key]);
  return meta[key] !== undefined && Number.isInteger(v) ? v : undefined;
}

function isFloat(v: OutlineValue): boolean {
  return v.elemType === 'float32' || v.elemType === 'float16';
}

function producer(outline: OnnxOutline): string {
  return [outline.producerName, outline.producerVersion].filter(Boolean).join(' ');
}
