// The front ends imported models expect, in plain TypeScript (no DOM, no Node) so the feature
// worker and the CLI compute the same numbers:
// - 'waveform': the 16 kHz signal itself, normalised per utterance to zero mean and unit variance,
//   (x − mean) / sqrt(var + 1e-7) with the population variance — Hugging Face's
//   Wav2Vec2FeatureExtractor with do_normalize (zero_mean_unit_var_norm), the input of wav2vec2,
//   HuBERT, WavLM, data2vec-audio and UniSpeech CTC models;
//   https://huggingface.co/docs/transformers/model_doc/wav2vec2#transformers.Wav2Vec2FeatureExtractor
// - 'log-mel': NeMo's AudioToMelSpectrogramPreprocessor, which src/audio/log-mel.ts's defaults
//   already are (pre-emphasis 0.97, 512-point FFT of a 400-sample symmetric Hann window every 160
//   samples, centred frames zero-padded, power spectrum, Slaney mels, ln(x + 2^-24), per-feature
//   normalisation with the n − 1 standard deviation + 1e-5, no dither at inference); only the number
//   of mels and the normalisation vary between models, and sherpa-onnx exports carry neither
//   window nor FFT settings, so they are read from the input shape and the metadata.
//   https://github.com/NVIDIA/NeMo/blob/main/nemo/collections/asr/parts/preprocessing/features.py
import { DEFAULT_FRONTEND, LogMelExtractor, validateFrontEndConfig, type FrontEndConfig } from '../audio/log-mel';
import { ForeignModelError } from './errors';

export type ModelFrontEnd =
  | {
      kind: 'waveform';
      sampleRate: number;
      /** Per-utterance zero mean, unit variance (preprocessor_config.json's do_normalize). */
      normalize: boolean;
    }
  | {
      kind: 'log-mel';
      config: FrontEndConfig;
      /** How the model takes the features: [batch, time, mels] or [batch, mels, time] (NeMo). */
      layout: 'time-major' | 'mel-major';
    };

/** One utterance's model input, without the batch axis. */
export interface FrontEndOutput {
  data: Float32Array;
  /** [samples] for a waveform; [frames, mels] or [mels, frames] for log-mel, as the model takes it. */
  dims: number[];
  /** Samples or frames along the time axis. */
  length: number;
}

/** HF's zero_mean_unit_var_norm: (x − mean) / sqrt(var + 1e-7), population variance, in float64. */
export function normalizeWaveform(samples: Float32Array): Float32Array {
  const n = samples.length;
  const out = new Float32Array(n);
  if (n === 0) return out;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += samples[i];
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (samples[i] - mean) ** 2;
  const scale = 1 / Math.sqrt(ss / n + 1e-7);
  for (let i = 0; i < n; i++) out[i] = (samples[i] - mean) * scale;
  return out;
}

/**
 * NeMo's log-mel for `nMels` mel bins with the normalisation its preprocessor config (or
 * sherpa-onnx's `normalize_type` metadata) names: "per_feature"; "" or "NA" for none. NeMo's
 * "all_features" (one mean and deviation over every value) is refused: the feature code has no such mode yet.
 */
export function nemoLogMel(nMels: number, normalizeType: string, file = 'model.onnx'): FrontEndConfig {
  let normalize: FrontEndConfig['normalize'];
  if (normalizeType === 'per_feature') normalize = 'per_utterance';
  else if (normalizeType === '' || normalizeType === 'NA' || normalizeType === 'none') normalize = 'none';
  else throw new ForeignModelError('unknown-front-end', file, `asks for NeMo feature normalisation "${normalizeType}", which Earshot does not compute (it knows "per_feature" and none)`);
  const config: FrontEndConfig = { ...DEFAULT_FRONTEND, nMels, normalize };
  try {
    return validateFrontEndConfig(config);
  } catch (e) {
    throw new ForeignModelError('unknown-front-end', file, `takes ${nMels} mel bins, which NeMo's front end cannot make: ${(e as Error).message}`);
  }
}

/** Computes one extractor per log-mel config and reuses it; a waveform front end needs none. */
export class FrontEndRunner {
  private readonly logMel: LogMelExtractor | undefined;

  constructor(readonly frontEnd: ModelFrontEnd) {
    this.logMel = frontEnd.kind === 'log-mel' ? new LogMelExtractor(frontEnd.config) : undefined;
  }

  /** The model input for mono samples at the front end's sample rate. */
  compute(samples: Float32Array): FrontEndOutput {
    const fe = this.frontEnd;
    if (fe.kind === 'waveform') {
      const data = fe.normalize ? normalizeWaveform(samples) : Float32Array.from(samples);
      return { data, dims: [data.length], length: data.length };
    }
    const f = this.logMel!.compute(samples);
    if (fe.layout === 'time-major') return { data: f.data, dims: [f.frames, f.nMels], length: f.frames };
    return { data: transpose(f.data, f.frames, f.nMels), dims: [f.nMels, f.frames], length: f.frames };
  }
}

export function frontEndSampleRate(fe: ModelFrontEnd): number {
  return fe.kind === 'waveform' ? fe.sampleRate : fe.config.sampleRate;
}

/** A one-line description for model cards and the CLI. */
export function describeFrontEnd(fe: ModelFrontEnd): string {
  if (fe.kind === 'waveform') return `raw ${fe.sampleRate / 1000} kHz waveform${fe.normalize ? ', normalised per utterance' : ''}`;
  const c = fe.config;
  const norm = c.normalize === 'per_utterance' ? ', normalised per feature' : c.normalize === 'none' ? '' : ', fixed normalisation';
  return `${c.nMels} log-mel bins (${c.winLength}-sample window, hop ${c.hopLength}, ${c.nFft}-point FFT${c.preemphasis ? `, pre-emphasis ${c.preemphasis}` : ''}${norm}), ${fe.layout === 'mel-major' ? 'mels × frames' : 'frames × mels'}`;
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}
