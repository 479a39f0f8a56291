// Audio in, text out: decode → 16 kHz mono → log-mel (the model's own front-end config) → the
// inference graph → CTC decoding. The same path serves the CLI, the app and evaluation.

import { decodeMono } from '../audio/decode';
import { logMel } from '../audio/log-mel';
import type { Backend, Session } from '../runtime/types';
import { beamSearch, decodeText, type Decoding } from './decode';
import type { LoadedModel } from './model-dir';

export interface TranscribeOptions {
  /** How to decode; default the model's own (config.json `decoder` with lm.arpa, else greedy). */
  decoding?: Decoding;
  /** Overrides the decoding's beam width (1 with no LM = greedy). */
  beamWidth?: number;
  hotwords?: string[];
}

export class Recognizer {
  private constructor(
    readonly model: LoadedModel,
    private readonly session: Session,
  ) {}

  static async create(backend: Backend, model: LoadedModel): Promise<Recognizer> {
    return new Recognizer(model, await backend.createSession(model.onnx));
  }

  /** Logits [frames/4, vocab] for 16 kHz mono samples. */
  async logits(samples: Float32Array): Promise<{ data: Float32Array; frames: number }> {
    const cfg = this.model.config.frontEnd;
    const f = logMel(samples, cfg);
    if (f.frames < 4) return { data: new Float32Array(0), frames: 0 };
    const out = await this.session.run({ features: { dtype: 'float32', dims: [1, f.frames, f.nMels], data: f.data } });
    const l = out.host.logits;
    return { data: l.data as Float32Array, frames: l.dims[1] };
  }

  async transcribeSamples(samples: Float32Array, o: TranscribeOptions = {}): Promise<string> {
    const { data, frames } = await this.logits(samples);
    if (frames === 0) return '';
    const d = o.decoding ?? this.model.decoding;
    const beamWidth = o.beamWidth ?? d.beamWidth;
    if (!o.hotwords?.length) return decodeText(data, this.model.vocab, { ...d, beamWidth });
    return beamSearch(data, this.model.vocab, { beamWidth: Math.max(beamWidth, 8), lm: d.lm, hotwords: o.hotwords, kind: 'logits', pruneBelowBest: 15 })[0]?.text ?? '';
  }

  async transcribeFile(bytes: Uint8Array, name?: string, o: TranscribeOptions = {}): Promise<string> {
    const samples = await decodeMono(bytes, this.model.config.frontEnd.sampleRate, name);
    return this.transcribeSamples(samples, o);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
