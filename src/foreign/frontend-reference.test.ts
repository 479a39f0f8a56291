// The front ends against independent numbers: fixtures/frontend-reference.json (+ .bin), computed
// in float64 numpy from the definitions by scripts/foreign/make-fixtures.py (its NeMo log-mel is
// itself cross-checked there against torch.stft + torchaudio's mel filter bank).
//
// Tolerances, with what was measured when this was written (synthetic-vowels.wav and a lossless
// arctic FLAC from the shared corpus):
// - waveform normalisation: 1e-6 absolute; measured max 5e-8 (the reference is float32 printed
//   to 7 significant digits).
// - NeMo log-mel, per-feature normalised [80, T]: 2e-4 absolute; measured max 1.2e-6 and 1.6e-5.
//   Our spectrum and mel weights are float32 where numpy is float64, and per-feature normalisation
//   divides by each channel's standard deviation, which magnifies the error in quiet channels.
// - NeMo log-mel before normalisation (frame 0 and the middle frame): 1e-4 absolute on ln values;
//   measured max 5.4e-6 and 5.5e-6.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMono } from '../audio/decode';
import { FrontEndRunner, nemoLogMel, normalizeWaveform } from './frontend';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

interface Ref {
  bin: string;
  clips: Record<
    string,
    {
      source: string;
      samples: number;
      samples_sha256: string;
      wav2vec2: { output_mean: number; output_var: number; first_100: number[]; middle_100: { start: number; values: number[] }; last_100: number[] };
      nemo_logmel: {
        shape: [number, number];
        data: { byte_offset: number; floats: number };
        raw_log_mel_frame0: number[];
        raw_log_mel_frame_mid: number[];
      };
    }
  >;
}

const present = existsSync(`${FIXTURES}frontend-reference.json`);
const ref: Ref | undefined = present ? JSON.parse(readFileSync(`${FIXTURES}frontend-reference.json`, 'utf8')) : undefined;
// Copied so that float32 views of it are aligned.
const bin = present ? new Uint8Array(readFileSync(`${FIXTURES}${ref!.bin}`)).slice() : new Uint8Array(0);

/**
 * The clip's samples as the reference script read them: 16-bit PCM / 32768. Our WAV decoder does
 * the same; the FLAC decoder library divides by 32767, so its samples are put back on the 1/32768
 * grid (exactly: they are integers / 32767 to within float32 rounding).
 */
async function samplesOf(source: string): Promise<Float32Array | undefined> {
  const path = source.startsWith('shared/') ? `${SHARED}${source.slice('shared/'.length)}` : fileURLToPath(new URL(`../../${source}`, import.meta.url));
  if (!existsSync(path)) return undefined;
  const x = await decodeMono(new Uint8Array(readFileSync(path)), 16000);
  return source.endsWith('.flac') ? x.map((v) => Math.round(v * 32767) / 32768) : x;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const measured: Record<string, number> = {};

describe.skipIf(!present)('front ends against the numpy references', () => {
  for (const [id, clip] of Object.entries(ref?.clips ?? {})) {
    it(`${id}: samples are the ones the reference used`, async (ctx) => {
      const x = await samplesOf(clip.source);
      if (!x) return ctx.skip(`${clip.source} is not here`);
      expect(x.length).toBe(clip.samples);
      expect(createHash('sha256').update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest('hex')).toBe(clip.samples_sha256);
    });

    it(`${id}: wav2vec2 waveform normalisation within 1e-6`, async (ctx) => {
      const x = await samplesOf(clip.source);
      if (!x) return ctx.skip(`${clip.source} is not here`);
      const y = normalizeWaveform(x);
      const w = clip.wav2vec2;
      const n = y.length;
      const err = Math.max(
        maxAbsDiff(y.subarray(0, 100), w.first_100),
        maxAbsDiff(y.subarray(w.middle_100.start, w.middle_100.start + 100), w.middle_100.values),
        maxAbsDiff(y.subarray(n - 100), w.last_100),
      );
      measured[`${id} wav2vec2`] = err;
      expect(err).toBeLessThan(1e-6);
      let mean = 0;
      for (const v of y) mean += v;
      mean /= n;
      let v2 = 0;
      for (const v of y) v2 += (v - mean) ** 2;
      expect(Math.abs(mean - w.output_mean)).toBeLessThan(1e-6);
      expect(Math.abs(v2 / n - w.output_var)).toBeLessThan(1e-5);
    });

    it(`${id}: NeMo log-mel [80, T] within 2e-4, before normalisation within 1e-4`, async (ctx) => {
      const x = await samplesOf(clip.source);
      if (!x) return ctx.skip(`${clip.source} is not here`);
      const r = clip.nemo_logmel;
      // the matrix lies in the .bin at data.byte_offset, data.floats float32 values (make-fixtures.py)
      expect(r.data.byte_offset + 4 * r.data.floats).toBeLessThanOrEqual(bin.length);
      const expected = new Float32Array(bin.buffer, bin.byteOffset + r.data.byte_offset, r.data.floats);
      const out = new FrontEndRunner({ kind: 'log-mel', config: nemoLogMel(80, 'per_feature'), layout: 'mel-major' }).compute(x);
      expect(out.dims).toEqual(r.shape);
      const err = maxAbsDiff(out.data, expected);
      measured[`${id} nemo log-mel`] = err;
      expect(err).toBeLessThan(2e-4);

      const raw = new FrontEndRunner({ kind: 'log-mel', config: nemoLogMel(80, ''), layout: 'mel-major' }).compute(x);
      const T = r.shape[1];
      const column = (t: number) => Array.from({ length: 80 }, (_, m) => raw.data[m * T + t]);
      const rawErr = Math.max(maxAbsDiff(column(0), r.raw_log_mel_frame0), maxAbsDiff(column(Math.floor(T / 2)), r.raw_log_mel_frame_mid));
      measured[`${id} nemo raw log-mel`] = rawErr;
      expect(rawErr).toBeLessThan(1e-4);
    });
  }

  it('reports the errors measured', () => {
    console.log('front-end max abs errors vs numpy:', JSON.stringify(measured));
  });
});
