// The language side of personalization: a fine-tuned model decodes with its base model's word LM
// mixed with a small LM of the transcripts it was trained on (personal.txt in its directory), so
// the user's own words — names, jargon, the phrases they say — are no longer "unknown" to the
// decoder. The acoustic fine-tuning adapts to how they speak; this adapts to what they say.
import type { Decoding } from '../asr/decode';
import { WordLm } from '../asr/lm';
import { cleanTexts, formatPersonalTexts, type LoadedModel } from '../asr/model-dir';
import { normalizeText } from '../asr/text-normalize';

/** The personal LM's share of the mixture, unless the settings say otherwise. */
export const PERSONAL_LM_SHARE = 0.2;

export interface PersonalLm {
  /** The model's decoding with the mixed LM (for validation during and after training). */
  decoding: Decoding;
  /** What personal.txt will hold: the base model's own personal texts, then the new ones, each once. */
  texts: string[];
  share: number;
}

/**
 * The personal LM of a model fine-tuned from `base` on `trainTexts`; undefined when the base model
 * decodes without an LM (nothing to mix into), `share` is 0, or there are no texts.
 */
export function personalLm(base: LoadedModel, trainTexts: readonly string[], share = PERSONAL_LM_SHARE): PersonalLm | undefined {
  const baseLm = base.decoding.lm;
  if (!baseLm || !base.lmArpa || share <= 0) return undefined;
  const texts = cleanTexts([...(base.personalTexts ?? []), ...trainTexts]);
  if (!texts.length) return undefined;
  // mixed into the base LM itself (lm.arpa), not into an already mixed one
  const root = base.personalTexts?.length ? WordLm.fromArpa(new TextDecoder().decode(base.lmArpa)) : baseLm.model;
  const mixed = WordLm.mix(root, WordLm.fromTexts(texts), share);
  return { decoding: { ...base.decoding, lm: { ...baseLm, model: mixed } }, texts, share };
}

/**
 * The files of `model` (its directory, `files`) with `texts` added to its personal LM, no audio
 * needed: sentences, names or jargon from a text file, one per line. Throws, saying why, when the
 * model decodes without a word LM or the texts hold no words.
 */
export function teachWords(model: LoadedModel, files: Record<string, Uint8Array>, texts: readonly string[], share = PERSONAL_LM_SHARE): Record<string, Uint8Array> {
  if (!model.decoding.lm || !model.lmArpa) throw new Error('this model decodes without a word LM (no lm.arpa), so there is no LM to teach words to');
  const lines = texts.filter((t) => normalizeText(t) !== '');
  if (!lines.length) throw new Error('the text holds no words');
  const config = JSON.parse(new TextDecoder().decode(files['config.json'])) as { decoder: Record<string, unknown> };
  config.decoder = { ...config.decoder, personalShare: model.config.decoder?.personalShare || share };
  return { ...files, 'config.json': new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n'), 'personal.txt': formatPersonalTexts([...(model.personalTexts ?? []), ...lines]) };
}
