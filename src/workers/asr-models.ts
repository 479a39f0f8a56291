// Where models come from: the base model shipped with the app (public/models/base/, fetched from
// this origin only), or a model stored in the app's IndexedDB (imported from disk or fine-tuned).
// Used by both workers.
import { countParameters } from '../asr/model';
import { MODEL_FILES, OPTIONAL_MODEL_FILES, readModelDir, type LoadedModel } from '../asr/model-dir';
import { describeDecoding } from '../asr/decode';
import { foreignDecoding, type ForeignCard, type StoredForeign } from './foreign-models';
import { appDb } from './train-db';

export const BUILTIN_BASE_ID = 'builtin:base';

/** The shipped base model is absent (public/models/base/ is empty). */
export class ModelMissingError extends Error {
  override readonly name = 'ModelMissingError';
}

function baseUrl(): string {
  // Same origin, under the app's base path; never another host.
  const base = (import.meta.env?.BASE_URL as string | undefined) ?? '/';
  return new URL(`${base}models/base/`, self.location.origin).href;
}

export async function loadModelFiles(id: string): Promise<{ name: string; files: Record<string, Uint8Array> }> {
  if (id === BUILTIN_BASE_ID) {
    const files: Record<string, Uint8Array> = {};
    for (const name of MODEL_FILES) {
      const res = await fetch(new URL(name, baseUrl()), { credentials: 'same-origin' });
      // A dev server answers a missing file with index.html (200, text/html): not a model file either.
      const html = (res.headers.get('content-type') ?? '').includes('text/html');
      if (!res.ok || html) {
        if (OPTIONAL_MODEL_FILES.includes(name)) continue;
        throw new ModelMissingError(`The base model is not installed: ${name} is missing from public/models/base/. Import a model directory or an exported zip instead.`);
      }
      files[name] = new Uint8Array(await res.arrayBuffer());
    }
    return { name: 'Base model', files };
  }
  const m = await (await appDb()).get('models', id);
  if (!m) throw new ModelMissingError(`Model ${id} is no longer stored. Import it again.`);
  if (m.foreign) throw new ForeignModelUnsupported(m.name);
  return { name: m.name, files: m.files };
}

/** What only our own model directories can do yet (adapter files, teaching words), asked of a model from elsewhere. */
export class ForeignModelUnsupported extends Error {
  constructor(name: string) {
    super(`${name} is a model from elsewhere: this works only with Earshot's own model directories so far`);
  }
}

export interface ModelSummary {
  id: string;
  name: string;
  source: 'builtin' | 'imported' | 'fine-tuned';
  bytes: number;
  parameters: number;
  vocabulary: string[];
  /** Our own model's architecture; absent for a model from elsewhere (see `foreign`). */
  arch?: LoadedModel['config']['arch'];
  /** A model from elsewhere: its kind, vocabulary, front end and projections. */
  foreign?: ForeignCard;
  /** A model from elsewhere: the beam width it decodes with (1: greedy). */
  beamWidth?: number;
  adapters: string;
  /** How transcripts are decoded (greedy, or beam search with the model's word LM). */
  decoding: string;
  /** Metrics the model card's provenance records, if any. */
  metrics?: Record<string, unknown>;
  card: string;
}

export function summarize(id: string, name: string, source: ModelSummary['source'], files: Record<string, Uint8Array>, model: LoadedModel): ModelSummary {
  const bytes = Object.values(files).reduce((n, f) => n + f.byteLength, 0);
  const bn = model.config.adapters?.bottleneck;
  return {
    id,
    name,
    source,
    bytes,
    parameters: [...model.weights.values()].reduce((n, w) => n + w.length, 0) || countParameters(model.config.arch),
    vocabulary: model.vocab.tokens.map((t) => (t === ' ' ? '␣' : t)),
    arch: model.config.arch,
    adapters: bn ? `bottleneck adapters (${bn.dim})` : 'none',
    decoding: describeDecoding(model.decoding) + (model.personalTexts?.length && model.config.decoder?.personalShare ? `, mixed with an LM of ${model.personalTexts.length} personal transcripts (${Math.round(100 * model.config.decoder.personalShare)}%)` : ''),
    metrics: (model.config.provenance?.metrics as Record<string, unknown> | undefined) ?? undefined,
    card: model.card,
  };
}

export async function loadModel(id: string): Promise<{ model: LoadedModel; summary: ModelSummary }> {
  const { name, files } = await loadModelFiles(id);
  const model = readModelDir(files);
  const source = id === BUILTIN_BASE_ID ? 'builtin' : ((await (await appDb()).get('models', id))?.source ?? 'imported');
  return { model, summary: summarize(id, name, source, files, model) };
}

/** The card of a stored model from elsewhere. */
export function summarizeForeign(id: string, name: string, source: ModelSummary['source'], stored: StoredForeign, card = ''): ModelSummary {
  const c = stored.card;
  return {
    id,
    name,
    source,
    bytes: Object.values(stored.files).reduce((n, f) => n + f.size, 0),
    parameters: c.parameters,
    vocabulary: c.vocabulary.tokens.map((t) => (t === ' ' ? '␣' : t)),
    adapters: 'none',
    decoding: describeDecoding(foreignDecoding(stored)),
    beamWidth: foreignDecoding(stored).beamWidth,
    foreign: c,
    metrics: stored.metrics,
    card,
  };
}
