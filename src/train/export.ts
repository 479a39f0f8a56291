// The fine-tuned model as a model directory (LoRA merged into the weights, so model.onnx runs in
// any onnxruntime) with a model card recording where it came from, and the zip the Export panel
// downloads. The same zip imports back as a model.
import type { LoadedModel } from '../asr/model-dir';
import { MODEL_FILES, writeModelDir, type ModelFiles } from '../asr/model-dir';
import type { PersonalLm } from './personal-lm';
import type { Weights } from '../asr/model';
import { readZip, writeZip } from '../data/zip';
import { adapterConfig, mergedWeights, type AdapterChoice } from './adapters';

export interface Metrics {
  wer: number;
  cer: number;
  utterances: number;
  /**
   * Mean per-token CTC loss of the acoustic model on these utterances (no decoding involved), when
   * measured during training; held-out adoption decides on it (src/train/adoption.ts).
   */
  loss?: number;
  /** How the model decoded while scored (src/workers/score-model.ts), when the app measured it. */
  decoding?: string;
}

/** `measured` (WER/CER of the saved model) keeping the held-out loss measured during training, if any. */
export function withLoss(measured: Metrics, estimate: Metrics | undefined): Metrics {
  return estimate?.loss === undefined ? measured : { ...measured, loss: estimate.loss };
}

export interface FineTuneRecord {
  baseModel: { name: string; parameters?: number };
  data: { datasets: string[]; trainUtterances: number; validationUtterances: number; trainSeconds: number };
  training: { adapter: AdapterChoice; peakLr: number; warmupSteps: number; steps: number; skippedSteps: number; batchSeconds: number; augmentation: string; backend: string; minutes: number };
  metrics: { base?: Metrics; fineTuned?: Metrics };
  /** The LM the fine-tuned model decodes with: the base model's, mixed with one of the training transcripts. */
  languageModel?: { personalSentences: number; personalShare: number };
  createdAt: string;
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);

export function modelCard(r: FineTuneRecord): string {
  const a = r.training.adapter;
  const adapter = a.kind === 'lora' ? `LoRA rank ${a.rank}, alpha ${a.alpha}, on ${a.targets.join(', ')} (merged into the weights)` : a.kind === 'bottleneck' ? `bottleneck adapters, ${a.dim} wide` : `last ${a.layers} block(s), final norm and head`;
  const m = r.metrics;
  return [
    `# ${r.baseModel.name}, fine-tuned with Earshot`,
    '',
    `Fine-tuned in the browser on ${r.createdAt.slice(0, 10)}. A CTC character model: \`model.onnx\` maps log-mel features`,
    '`[batch, time, n_mels]` to logits `[batch, time/4, vocab]`; `config.json` holds the front end and the architecture;',
    '`tokens.txt` the vocabulary (sherpa-onnx style). `lm.arpa`, when present, is a word language model (bigram or trigram)',
    'which `config.json`\'s `decoder` fuses into a beam search.',
    ...(r.languageModel
      ? ['', `\`personal.txt\` holds the ${r.languageModel.personalSentences} transcripts this model was trained on (with those of the models before it): an LM of them is mixed into \`lm.arpa\`'s (${Math.round(100 * r.languageModel.personalShare)}% share) so the words of the training data are known to the decoder. Share this model only if you would share those transcripts.`]
      : []),
    '',
    '## Base model',
    '',
    `${r.baseModel.name}${r.baseModel.parameters ? ` (${r.baseModel.parameters.toLocaleString('en')} parameters)` : ''}`,
    '',
    '## Data',
    '',
    `Datasets: ${r.data.datasets.join(', ') || 'n/a'}. ${r.data.trainUtterances} training utterances (${(r.data.trainSeconds / 60).toFixed(1)} min), ${r.data.validationUtterances} validation utterances.`,
    '',
    '## Training',
    '',
    `- adapter: ${adapter}`,
    `- learning rate: peak ${r.training.peakLr}, ${r.training.warmupSteps} warmup steps, cosine decay`,
    `- steps: ${r.training.steps} (${r.training.skippedSteps} skipped as non-finite), batches of ${r.training.batchSeconds} s`,
    `- augmentation: ${r.training.augmentation}`,
    `- ran on: ${r.training.backend}, ${r.training.minutes.toFixed(1)} min`,
    '',
    '## Validation metrics',
    '',
    'WER and CER after text normalization, on the validation split of the datasets above: each utterance transcribed alone by',
    "the model's `model.onnx` with the model's own decoding (named below), on the backend it was trained on, as Evaluate measures them.",
    '',
    '| model | WER | CER | utterances | decoding |',
    '|---|---|---|---|---|',
    `| base | ${pct(m.base?.wer)} | ${pct(m.base?.cer)} | ${m.base?.utterances ?? 'n/a'} | ${m.base?.decoding ?? 'n/a'} |`,
    `| fine-tuned | ${pct(m.fineTuned?.wer)} | ${pct(m.fineTuned?.cer)} | ${m.fineTuned?.utterances ?? 'n/a'} | ${m.fineTuned?.decoding ?? 'n/a'} |`,
    '',
    '```json',
    JSON.stringify(r, null, 2),
    '```',
    '',
  ].join('\n');
}

/** The fine-tuned model directory from the base model and all trained weights (adapters included). */
/**
 * The fine-tuned model keeps the base model's lm.arpa and decoder; with `personal` (personal-lm.ts)
 * it also carries the training transcripts in personal.txt, mixed into the LM when it loads.
 */
export function fineTunedModelDir(base: LoadedModel, trained: Weights, choice: AdapterChoice, record: FineTuneRecord, personal?: PersonalLm): ModelFiles {
  const adapters = adapterConfig(choice, base.config.adapters);
  return writeModelDir({
    arch: base.config.arch,
    weights: mergedWeights(trained, choice, base.config.adapters),
    vocab: base.vocab,
    frontEnd: base.config.frontEnd,
    adapters: { bottleneck: adapters.bottleneck },
    card: modelCard(record),
    provenance: record as unknown as Record<string, unknown>,
    decoder: base.config.decoder && { ...base.config.decoder, personalShare: personal ? personal.share : base.config.decoder.personalShare },
    lmArpa: base.lmArpa,
    personalTexts: personal ? personal.texts : base.personalTexts,
  });
}

export const EXPORT_FOLDER = 'earshot-model';

/** A zip of a model directory (under one folder), optionally with the adapter-only file beside it. */
export function modelZip(files: Record<string, Uint8Array>, extra: Record<string, Uint8Array> = {}): Uint8Array {
  return writeZip([
    ...Object.entries(files).map(([name, bytes]) => ({ path: `${EXPORT_FOLDER}/${name}`, bytes, compress: name !== 'model.onnx' })),
    ...Object.entries(extra).map(([name, bytes]) => ({ path: name, bytes })),
  ]);
}

/** The model-directory files in a zip, wherever they sit (the first folder holding model.onnx). */
export async function modelFilesFromZip(bytes: Uint8Array, name = 'the zip'): Promise<Record<string, Uint8Array>> {
  if (!isZip(bytes)) throw new Error(`${name} is not a zip archive (it does not begin with a zip signature)`);
  const { files } = await readZip(bytes, { limits: { maxFileBytes: 1 << 30, maxImportBytes: 2 ** 31 } });
  const onnx = files.find((f) => f.path === 'model.onnx' || f.path.endsWith('/model.onnx'));
  if (!onnx) throw new Error(`${name} is a zip but holds no model.onnx, so it is neither a model directory nor a zip that Export made`);
  const dir = onnx.path.slice(0, onnx.path.length - 'model.onnx'.length);
  const out: Record<string, Uint8Array> = {};
  for (const f of files) if (f.path.startsWith(dir) && (MODEL_FILES as readonly string[]).includes(f.path.slice(dir.length))) out[f.path.slice(dir.length)] = await f.read();
  return out;
}

/** A zip begins with a local file header, or (an empty archive) with its end-of-directory record. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

/**
 * The model-directory files of what a user chose to import: the zip Export makes, or a directory's
 * files (by name, wherever they sit). A lone .onnx file is refused with what else a model needs;
 * an .onnx under another name beside config.json and tokens.txt is taken as model.onnx.
 */
export async function modelFilesFromUpload(chosen: readonly { path: string; bytes: Uint8Array }[]): Promise<Record<string, Uint8Array>> {
  const base = (p: string) => p.split('/').pop()!;
  const zip = chosen.find((c) => c.path.toLowerCase().endsWith('.zip'));
  if (zip) return modelFilesFromZip(zip.bytes, base(zip.path));
  const files: Record<string, Uint8Array> = {};
  for (const c of chosen) files[base(c.path)] = c.bytes;
  const onnx = Object.keys(files).filter((n) => n.toLowerCase().endsWith('.onnx'));
  if (!files['model.onnx'] && onnx.length === 1) {
    files['model.onnx'] = files[onnx[0]];
    delete files[onnx[0]];
  }
  if (files['model.onnx'] && !files['config.json'] && !files['tokens.txt']) {
    throw new Error(
      `${onnx[0] ?? 'model.onnx'} alone is not a model Earshot can use: it needs the whole model directory — config.json (front end, architecture) and tokens.txt (vocabulary) beside model.onnx — or the zip that Export makes. Choose all of the directory's files, or its folder.`,
    );
  }
  return files;
}
