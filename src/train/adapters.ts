// What a fine-tune trains, as the Train panel and the CLI offer it: LoRA on chosen projections,
// residual bottleneck adapters, or the last N blocks (with the final norm and the output head).
// Also the adapter-only file: just the trained tensors in safetensors, a small delta to share
// that applies to the base model it was trained from.
import { buildAcousticModel, mergeLora, type AdapterConfig, type LoraTarget, type ModelArch, type Weights } from '../asr/model';
import { writeModelDir, type LoadedModel } from '../asr/model-dir';
import { decodeCheckpoint, encodeCheckpoint } from '../runtime/checkpoint';

export type AdapterChoice =
  | { kind: 'lora'; rank: number; alpha: number; targets: LoraTarget[] }
  | { kind: 'bottleneck'; dim: number }
  | { kind: 'last-layers'; layers: number };

const LORA_TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'ff1', 'ff2'];

/** An adapter choice from command-line words (the CLI's finetune and personalize). */
export function adapterChoice(o: { adapter: string; rank: number; alpha?: number; targets: string; dim: number; layers: number }): AdapterChoice {
  if (o.adapter === 'bottleneck') return { kind: 'bottleneck', dim: o.dim };
  if (o.adapter === 'last-layers') return { kind: 'last-layers', layers: o.layers };
  if (o.adapter !== 'lora') throw new Error(`--adapter must be lora, bottleneck or last-layers, not '${o.adapter}'`);
  const targets = o.targets.split(',').map((t) => t.trim()) as LoraTarget[];
  const bad = targets.filter((t) => !LORA_TARGETS.includes(t));
  if (bad.length || targets.length === 0) throw new Error(`--targets takes a comma-separated list of ${LORA_TARGETS.join(', ')}; not '${o.targets}'`);
  return { kind: 'lora', rank: o.rank, alpha: o.alpha ?? 2 * o.rank, targets };
}

/** The model's adapters during training: the base model's own (bottleneck) plus the chosen ones. */
export function adapterConfig(choice: AdapterChoice, base: AdapterConfig = {}): AdapterConfig {
  if (choice.kind === 'lora') return { ...base, lora: { rank: choice.rank, alpha: choice.alpha, targets: choice.targets } };
  if (choice.kind === 'bottleneck') return { ...base, bottleneck: base.bottleneck ?? { dim: choice.dim } };
  return { ...base };
}

/** Which parameters train. */
export function trainableFor(choice: AdapterChoice, arch: ModelArch): (name: string) => boolean {
  if (choice.kind === 'lora') return (n) => n.includes('.lora_');
  if (choice.kind === 'bottleneck') return (n) => n.includes('.adapter.');
  const first = Math.max(0, arch.blocks - choice.layers);
  return (n) => n.startsWith('final_norm.') || n.startsWith('head.') || Number(/^encoder\.(\d+)\./.exec(n)?.[1] ?? -1) >= first;
}

/** Trained parameter count for a choice (what the adapter file holds). */
export function trainableCount(choice: AdapterChoice, arch: ModelArch, base: AdapterConfig = {}): number {
  const { g } = buildAcousticModel({ arch, adapters: adapterConfig(choice, base), batch: 1, frames: 64, masked: false });
  const t = trainableFor(choice, arch);
  return [...g.params.values()].filter((p) => t(p.value.name)).reduce((n, p) => n + p.init.data.length, 0);
}

/** Weights ready for the inference graph: LoRA folded into the projections, bottleneck kept. */
export function mergedWeights(all: Weights, choice: AdapterChoice, base: AdapterConfig = {}): Weights {
  return mergeLora(all, adapterConfig(choice, base));
}

export const ADAPTER_FORMAT = 'earshot-adapter';

/**
 * A fingerprint of the weights an adapter file leaves untouched: FNV-1a over the names and the bytes
 * of every base tensor the choice does not train. Applying a file to a different base model than the
 * one it was trained on is refused by it, rather than giving a model that silently transcribes badly.
 */
export function baseFingerprint(weights: Weights, choice: AdapterChoice, arch: ModelArch): string {
  const trained = trainableFor(choice, arch);
  let h = 0x811c9dc5;
  const mix = (byte: number) => {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  };
  for (const name of [...weights.keys()].sort()) {
    if (trained(name) || name.includes('.lora_')) continue;
    for (let i = 0; i < name.length; i++) mix(name.charCodeAt(i) & 0xff);
    const w = weights.get(name)!;
    const bytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
    for (let i = 0; i < bytes.length; i++) mix(bytes[i]);
  }
  return h.toString(16).padStart(8, '0');
}

/** The trained tensors only, with what is needed to apply them again (and to check the base model). */
export function encodeAdapterFile(o: { weights: Weights; choice: AdapterChoice; arch: ModelArch; baseModel: string; baseAdapters?: AdapterConfig }): Uint8Array {
  const trainable = trainableFor(o.choice, o.arch);
  const tensors = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const [name, w] of o.weights) if (trainable(name)) tensors.set(name, { dims: [w.length], data: w });
  return encodeCheckpoint({
    tensors,
    metadata: {
      format: ADAPTER_FORMAT,
      version: '1',
      choice: JSON.stringify(o.choice),
      base_model: o.baseModel,
      base_adapters: JSON.stringify(o.baseAdapters ?? {}),
      base_fingerprint: baseFingerprint(o.weights, o.choice, o.arch),
    },
  });
}

export class AdapterMismatchError extends Error {}

/** Applies an adapter file to the base model it was trained from: the merged weights and adapters for the inference graph. */
export function applyAdapterFile(base: LoadedModel, bytes: Uint8Array): { weights: Weights; adapters: AdapterConfig; choice: AdapterChoice; baseModel: string } {
  let c;
  try {
    c = decodeCheckpoint(bytes);
  } catch (e) {
    throw new Error(`not an Earshot adapter file: ${(e as Error).message}`);
  }
  if (c.metadata.format !== ADAPTER_FORMAT) throw new Error(`not an Earshot adapter file (format ${JSON.stringify(c.metadata.format)})`);
  const choice = JSON.parse(c.metadata.choice) as AdapterChoice;
  const baseModel = c.metadata.base_model ?? 'an unnamed model';
  const want = c.metadata.base_fingerprint;
  if (want !== undefined) {
    const got = baseFingerprint(base.weights, choice, base.config.arch);
    if (got !== want)
      throw new AdapterMismatchError(`this adapter was trained on another base model ("${baseModel}", fingerprint ${want}); the current model's fingerprint is ${got}. Choose that base model first.`);
  }
  const all: Weights = new Map(base.weights);
  for (const [name, t] of c.tensors) all.set(name, t.data as Float32Array);
  const adapters = adapterConfig(choice, base.config.adapters);
  // Missing tensors (a file for another architecture) are caught by the graph builder by name and size.
  try {
    buildAcousticModel({ arch: base.config.arch, adapters, weights: all, batch: 1, frames: 64, masked: false });
  } catch (e) {
    throw new AdapterMismatchError(`this adapter does not fit the current model's architecture: ${(e as Error).message}`);
  }
  return { weights: mergeLora(all, adapters), adapters: { bottleneck: adapters.bottleneck }, choice, baseModel };
}

/** A model directory: the base model with an adapter file applied (merged), with a card saying so. */
export function adaptedModelDir(base: LoadedModel, baseName: string, adapterName: string, bytes: Uint8Array) {
  const a = applyAdapterFile(base, bytes);
  const card = [
    `# ${baseName} + ${adapterName}`,
    '',
    `The base model "${baseName}" with the Earshot adapter file \`${adapterName}\` applied and merged into its weights`,
    `(adapter: ${JSON.stringify(a.choice)}; trained on "${a.baseModel}").`,
    '',
    '## Base model card',
    '',
    base.card,
  ].join('\n');
  return writeModelDir({ arch: base.config.arch, weights: a.weights, vocab: base.vocab, frontEnd: base.config.frontEnd, adapters: a.adapters, card, provenance: { adapter: adapterName, choice: a.choice, baseModel: baseName }, decoder: base.config.decoder, lmArpa: base.lmArpa, personalTexts: base.personalTexts });
}
