import { decodeFlac, decodeMp3, decodeOggOpus, decodeWebmOpus } from './codecs';
import { AudioDecodeError } from './errors';
import { resample } from './resample';
import { sniffFormat } from './sniff';
import { decodeWav } from './wav';

export interface DecodedAudio {
  sampleRate: number;
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
}

/**
 * Decodes WAV, FLAC, MP3, Ogg/Opus or WebM/Opus bytes, picking the format from magic bytes.
 * Pure: no DOM or Node APIs, so it runs in a Web Worker (which has no AudioContext) and in Node.
 * `nameHint` only labels error messages. Failures throw `AudioDecodeError`.
 */
export async function decodeAudio(bytes: Uint8Array, nameHint?: string): Promise<DecodedAudio> {
  try {
    const format = sniffFormat(bytes);
    switch (format) {
      case 'wav': return decodeWav(bytes);
      case 'flac': return await decodeFlac(bytes);
      case 'mp3': return await decodeMp3(bytes);
      case 'ogg-opus': return await decodeOggOpus(bytes);
      case 'webm-opus': return await decodeWebmOpus(bytes);
    }
  } catch (e) {
    const labelled = (msg: string) => (nameHint ? `${nameHint}: ${msg}` : msg);
    if (e instanceof AudioDecodeError) throw new AudioDecodeError(e.kind, labelled(e.message), e.format);
    // Anything else came from a codec library choking on bad input.
    throw new AudioDecodeError('corrupt', labelled(`decoder failed: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/**
 * Averages the channels with equal weights (averaging, not summing, keeps the level of a
 * centred voice). A single channel is returned as is, not copied.
 */
export function toMono(audio: DecodedAudio | readonly Float32Array[]): Float32Array {
  const channels = Array.isArray(audio) ? (audio as readonly Float32Array[]) : (audio as DecodedAudio).channels;
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0];
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] += c[i];
  const g = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= g;
  return out;
}

/** The usual front door for ASR: any supported file to mono samples at `sampleRate` (16 kHz). */
export async function decodeMono(bytes: Uint8Array, sampleRate = 16000, nameHint?: string): Promise<Float32Array> {
  const audio = await decodeAudio(bytes, nameHint);
  return resample(toMono(audio), audio.sampleRate, sampleRate);
}
