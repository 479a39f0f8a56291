// Audio in, text out: decode → 16 kHz mono → log-mel (the model's own front-end config) → the
// inference graph → CTC decoding. The same path serves the CLI, the app and evaluation. A take
// being recorded gets its features as its audio arrives (featureStream), so that at its end only
// the last rows, the model and the decoding are left.

import { decodeMono } from '../audio/decode';
import { LogMelExtractor, type Features } from '../audio/log-mel';
import { LogMelStream } from '../audio/log-mel-stream';
import { mulberry32 } from '../audio/random';
import type { Backend, Session } from '../runtime/types';
import { beamSearch, decodeText, type Decoding } from './decode';
import type { LoadedModel } from './model-dir';
import type { Vocab } from './vocab';

export interface TranscribeOptions {
  /** How to decode; default the model's own (config.json `decoder` with lm.arpa, else greedy). */
  decoding?: Decoding;
  /** Overrides the decoding's beam width (1 with no LM = greedy). */
  beamWidth?: number;
  hotwords?: string[];
}

export interface Logits {
  /** [frames, vocab] row-major. */
  data: Float32Array;
  frames: number;
}

export class Recognizer {
  private readonly extractor: LogMelExtractor;

  private constructor(
    readonly model: LoadedModel,
    private readonly session: Session,
  ) {
    this.extractor = new LogMelExtractor(model.config.frontEnd);
  }

  static async create(backend: Backend, model: LoadedModel): Promise<Recognizer> {
    return new Recognizer(model, await backend.createSession(model.onnx));
  }

  /**
   * Runs the model on `seconds` of silence and the decoding on made-up logits, and drops the
   * results: onnxruntime's first run of a session allocates and prepares its kernels, and the first
   * beam searches build the LM's spelling trie and run before V8 has optimised them (together about
   * 2 s on WASM here, measured by bench:asr), so a session that will transcribe takes pays for that
   * when the model loads, not at the first take.
   */
  async warmUp(seconds = 5): Promise<void> {
    const silence = await this.logitsOf(this.features(new Float32Array(Math.round(seconds * this.model.config.frontEnd.sampleRate))));
    // Silence decodes along the blank path alone; these logits spell a sentence, so the hypotheses
    // spell words and ask the LM as a take's do.
    const spelled = spellingLogits(this.model.vocab, 'it is of the first importance that the letter used should be fine in form', silence.frames);
    for (let i = 0; i < 2; i++) this.decode(spelled);
  }

  /** Log-mel features of 16 kHz mono samples, as the model was trained on them. */
  features(samples: Float32Array): Features {
    return this.extractor.compute(samples);
  }

  /** Features computed while audio arrives: push chunks, then `finish()` gives what `features` gives for the whole clip. */
  featureStream(expectSeconds?: number): LogMelStream {
    return new LogMelStream(this.extractor, expectSeconds);
  }

  /** Logits [frames/4, vocab] for 16 kHz mono samples. */
  async logits(samples: Float32Array): Promise<Logits> {
    return this.logitsOf(this.features(samples));
  }

  /** Logits [frames/4, vocab] for features of the model's front end. */
  async logitsOf(f: Features): Promise<Logits> {
    if (f.frames < 4) return { data: new Float32Array(0), frames: 0 };
    const out = await this.session.run({ features: { dtype: 'float32', dims: [1, f.frames, f.nMels], data: f.data } });
    const l = out.host.logits;
    return { data: l.data as Float32Array, frames: l.dims[1] };
  }

  async transcribeSamples(samples: Float32Array, o: TranscribeOptions = {}): Promise<string> {
    return this.decode(await this.logits(samples), o);
  }

  async transcribeFeatures(f: Features, o: TranscribeOptions = {}): Promise<string> {
    return this.decode(await this.logitsOf(f), o);
  }

  /** The transcript of logits under the model's decoding (or `o`'s). */
  decode({ data, frames }: Logits, o: TranscribeOptions = {}): string {
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

/** Noisy logits [frames, vocab] whose best path spells `text` (one token, then a blank, per character the vocabulary has). */
function spellingLogits(vocab: Vocab, text: string, frames: number): Logits {
  const size = vocab.tokens.length;
  const rand = mulberry32(1);
  const data = Float32Array.from({ length: frames * size }, () => 3 * rand());
  const ids = [...text].map((ch) => vocab.ids.get(ch)).filter((id): id is number => id !== undefined);
  for (let t = 0; t < frames; t++) data[t * size + (t % 2 === 0 && t / 2 < ids.length ? ids[t / 2] : vocab.blankId)] += 6;
  return { data, frames };
}
