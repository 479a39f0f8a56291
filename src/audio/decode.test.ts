import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeAudio, decodeMono, toMono } from './decode';
import { AudioDecodeError } from './errors';
import { encodeWav16 } from './wav';

const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => new Uint8Array(readFileSync(join(here, 'fixtures', name)));

/** Least-squares sine fit at `freq`: amplitude, phase (0 = a sine starting at sample 0), explained power share. */
function fitTone(x: Float32Array, rate: number, freq: number, from = 0, to = x.length) {
  let ss = 0, sc = 0, cc = 0, xs = 0, xc = 0, xx = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    const s = Math.sin(w), c = Math.cos(w), v = x[i];
    ss += s * s; sc += s * c; cc += c * c; xs += v * s; xc += v * c; xx += v * v;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  return { amplitude: Math.hypot(a, b), phase: Math.atan2(b, a), explained: (a * xs + b * xc) / xx };
}

/** The strongest frequency between 50 Hz and 4 kHz, by Goertzel-style correlation on a 1 Hz grid. */
function dominantFrequency(x: Float32Array, rate: number): number {
  let best = 0, bestPower = -1;
  for (let f = 50; f <= 4000; f += 1) {
    let re = 0, im = 0;
    for (let i = 0; i < x.length; i += 1) {
      const w = (2 * Math.PI * f * i) / rate;
      re += x[i] * Math.cos(w);
      im += x[i] * Math.sin(w);
    }
    const p = re * re + im * im;
    if (p > bestPower) { bestPower = p; best = f; }
  }
  return best;
}

interface Case {
  file: string;
  rate: number;
  channels: number;
  samples: number; // per-channel length
  tolerance?: number; // allowed length error in samples (default 0: exact)
  /** Minimum share of each channel's power the expected tone explains (lossy codecs add noise). */
  purity: number;
  /** Max phase error in radians at sample 0: checks decoder delay is removed (skip when not aligned). */
  phase?: number;
}

const TONES = [440, 880, 1320]; // per channel, as scripts/make-audio-fixtures.sh writes them

const CASES: Case[] = [
  { file: 'pcm8-8k-mono.wav', rate: 8000, channels: 1, samples: 2000, purity: 0.999, phase: 0.02 },
  { file: 'pcm16-16k-mono.wav', rate: 16000, channels: 1, samples: 4000, purity: 0.99999, phase: 0.001 },
  { file: 'pcm16-48k-stereo.wav', rate: 48000, channels: 2, samples: 2400, purity: 0.99999, phase: 0.001 },
  { file: 'pcm16-8k-3ch-extensible.wav', rate: 8000, channels: 3, samples: 800, purity: 0.99999, phase: 0.001 },
  { file: 'pcm24-8k-stereo-extensible.wav', rate: 8000, channels: 2, samples: 1600, purity: 0.99999, phase: 0.001 },
  { file: 'pcm32-16k-mono.wav', rate: 16000, channels: 1, samples: 1600, purity: 0.99999, phase: 0.001 },
  { file: 'float32-16k-mono.wav', rate: 16000, channels: 1, samples: 1600, purity: 0.99999, phase: 0.001 },
  { file: 'tone-16k-mono.flac', rate: 16000, channels: 1, samples: 8000, purity: 0.99999, phase: 0.001 },
  { file: 'tone-22k-mono.mp3', rate: 22050, channels: 1, samples: 11025, purity: 0.99, phase: 0.01 }, // gapless: exact length and alignment
  { file: 'tone-44k-stereo.mp3', rate: 44100, channels: 2, samples: 13230, purity: 0.99, phase: 0.01 },
  { file: 'tone-16k-mono.opus', rate: 48000, channels: 1, samples: 24000, purity: 0.98, phase: 0.02 },
  // ffmpeg's WebM lags the source by ~1.7 samples at 48 kHz (its encode path, not our decode).
  { file: 'tone-ffmpeg.webm', rate: 48000, channels: 1, samples: 24000, purity: 0.98, phase: 0.15 },
  // MediaRecorder's tone is not sample-aligned with the recording start: no phase check.
  { file: 'tone-mediarecorder.webm', rate: 48000, channels: 1, samples: 27000, tolerance: 8000, purity: 0.95 },
];

describe('decodeAudio on committed fixtures', () => {
  for (const c of CASES) {
    it(`${c.file}: ${c.channels} ch at ${c.rate} Hz carrying the known tones`, async () => {
      const audio = await decodeAudio(fixture(c.file), c.file);
      expect(audio.sampleRate).toBe(c.rate);
      expect(audio.channels.length).toBe(c.channels);
      for (const ch of audio.channels) {
        expect(Math.abs(ch.length - c.samples)).toBeLessThanOrEqual(c.tolerance ?? 0);
      }
      audio.channels.forEach((ch, i) => {
        // Skip 20 ms at each end: codecs smear the on/off transients of the tone.
        const skip = Math.round(0.02 * c.rate);
        const fit = fitTone(ch, c.rate, TONES[i], skip, ch.length - skip);
        expect(fit.explained).toBeGreaterThan(c.purity);
        expect(fit.amplitude).toBeGreaterThan(0.45);
        expect(fit.amplitude).toBeLessThan(0.55);
        if (c.phase !== undefined) expect(Math.abs(fit.phase)).toBeLessThan(c.phase);
      });
      // The dominant frequency of the first channel, searched blind, is the tone's.
      const first = audio.channels[0].subarray(0, Math.round(0.1 * c.rate));
      expect(Math.abs(dominantFrequency(first, c.rate) - 440)).toBeLessThanOrEqual(10);
    });
  }

  it('reads a MediaRecorder WebM written live, with unknown-size Segment and Cluster', async () => {
    const bytes = fixture('tone-mediarecorder.webm');
    const live = bytes.slice();
    // Rewrite every 8-byte size of Segment (18 53 80 67) and Cluster (1F 43 B6 75) to "unknown"
    // (all value bits set), as Chromium writes them while it is still recording.
    let patched = 0;
    for (let i = 0; i + 12 <= live.length; i++) {
      const seg = live[i] === 0x18 && live[i + 1] === 0x53 && live[i + 2] === 0x80 && live[i + 3] === 0x67;
      const clu = live[i] === 0x1f && live[i + 1] === 0x43 && live[i + 2] === 0xb6 && live[i + 3] === 0x75;
      if ((seg || clu) && live[i + 4] === 0x01) {
        live.set([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], i + 4);
        patched++;
      }
    }
    expect(patched).toBeGreaterThanOrEqual(2);
    const a = await decodeAudio(bytes);
    const b = await decodeAudio(live);
    expect(b.channels[0]).toEqual(a.channels[0]);
  });

  it('downmixes with toMono and resamples with decodeMono', async () => {
    const stereo = await decodeAudio(fixture('pcm16-48k-stereo.wav'));
    const mono = toMono(stereo);
    expect(mono.length).toBe(2400);
    for (let i = 0; i < mono.length; i += 97) expect(mono[i]).toBeCloseTo((stereo.channels[0][i] + stereo.channels[1][i]) / 2, 6);
    expect(toMono([stereo.channels[0]])).toBe(stereo.channels[0]);
    const at16k = await decodeMono(fixture('tone-22k-mono.mp3'));
    expect(at16k.length).toBe(8000);
    expect(fitTone(at16k, 16000, 440, 320, 7680).explained).toBeGreaterThan(0.99);
  });

  it('round-trips encodeWav16', async () => {
    const x = new Float32Array(100).map((_, i) => Math.sin(i / 5) * 0.9);
    const back = await decodeAudio(encodeWav16([x, x.map((v) => -v)], 11025));
    expect(back.sampleRate).toBe(11025);
    for (let i = 0; i < 100; i++) {
      expect(Math.abs(back.channels[0][i] - x[i])).toBeLessThan(1 / 32768);
      expect(Math.abs(back.channels[1][i] + x[i])).toBeLessThan(1 / 32768);
    }
  });
});

async function decodeError(bytes: Uint8Array, name?: string): Promise<AudioDecodeError> {
  try {
    await decodeAudio(bytes, name);
  } catch (e) {
    expect(e).toBeInstanceOf(AudioDecodeError);
    return e as AudioDecodeError;
  }
  throw new Error('expected decodeAudio to fail');
}

describe('decodeAudio errors are typed and say what is wrong', () => {
  it('truncated WAV', async () => {
    const e = await decodeError(fixture('pcm16-16k-mono.wav').subarray(0, 1200), 'a.wav');
    expect(e.kind).toBe('truncated');
    expect(e.message).toBe('a.wav: truncated WAV: data chunk says 8000 bytes, file has 1156');
  });

  it('unsupported WAV encodings name the format', async () => {
    const mp3InWav = fixture('pcm16-16k-mono.wav').slice();
    mp3InWav[20] = 85; // wFormatTag
    const e = await decodeError(mp3InWav);
    expect(e.kind).toBe('unsupported');
    expect(e.message).toBe('unsupported WAV encoding (format 85, MPEG Layer III)');
  });

  it('a zip file is not audio', async () => {
    const e = await decodeError(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0]));
    expect(e.kind).toBe('not-audio');
    expect(e.message).toBe('not an audio file (starts with "PK")');
  });

  it('binary junk and empty input', async () => {
    expect((await decodeError(new Uint8Array([0, 1, 2, 3, 4]))).message).toBe('not an audio file (starts with 0x00 0x01 0x02 0x03)');
    expect((await decodeError(new Uint8Array(0))).kind).toBe('empty');
  });

  it('AAC and MP4 are recognised and refused', async () => {
    const mp4 = new Uint8Array([0, 0, 0, 0x20, ...[...'ftypM4A '].map((c) => c.charCodeAt(0)), 0, 0, 0, 0]);
    expect((await decodeError(mp4)).kind).toBe('unsupported');
    expect((await decodeError(new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0, 0]))).message).toMatch(/AAC/);
  });

  const cuts: [string, RegExp][] = [
    ['tone-16k-mono.flac', /^truncated FLAC: STREAMINFO says 8000 samples, file has \d+$/],
    ['tone-22k-mono.mp3', /^truncated MP3: Xing header says \d+ frames, file has \d+$/],
    ['tone-16k-mono.opus', /^truncated Ogg: page at byte \d+ says \d+ bytes, file has \d+$/],
    ['tone-ffmpeg.webm', /^truncated WebM: element 0x[0-9a-f]+ at byte \d+ says \d+ bytes, file has \d+$/],
    ['tone-mediarecorder.webm', /^truncated WebM: /],
  ];
  for (const [file, message] of cuts) {
    it(`truncated ${file}`, async () => {
      const bytes = fixture(file);
      const e = await decodeError(bytes.subarray(0, Math.floor(bytes.length * 0.6)));
      expect(e.kind).toBe('truncated');
      expect(e.message).toMatch(message);
    });
  }

  it('corrupted FLAC frames fail loudly', async () => {
    const bytes = fixture('tone-16k-mono.flac').slice();
    for (let i = 3000; i < 3400; i++) bytes[i] ^= 0x5a;
    const e = await decodeError(bytes);
    expect(['corrupt', 'truncated']).toContain(e.kind);
  });

  it('a WebM without Opus names its codec', async () => {
    const bytes = fixture('tone-ffmpeg.webm').slice();
    const at = Buffer.from(bytes).indexOf('A_OPUS');
    bytes.set([...'A_VORB'].map((c) => c.charCodeAt(0)), at);
    const e = await decodeError(bytes);
    expect(e.kind).toBe('unsupported');
    expect(e.message).toMatch(/A_VORB/);
  });
});

// Real recordings (16-bit FLAC) from the shared speech folder; see ../shared/speech/README.md.
const speechDir = join(here, '../../../shared/speech');
const manifests = ['ljspeech_coqui', 'misc_samples'];
describe.skipIf(!existsSync(speechDir))('decodeAudio on real speech from ../shared/speech', () => {
  for (const set of manifests) {
    it(`${set}: the first two FLACs match the manifest's durations`, async () => {
      const lines = readFileSync(join(speechDir, set, 'manifest.jsonl'), 'utf8').trim().split('\n').slice(0, 2);
      for (const line of lines) {
        const entry = JSON.parse(line) as { audio_filepath: string; duration: number };
        const audio = await decodeAudio(new Uint8Array(readFileSync(join(speechDir, set, entry.audio_filepath))), entry.audio_filepath);
        const seconds = audio.channels[0].length / audio.sampleRate;
        expect(Math.abs(seconds - entry.duration)).toBeLessThan(0.01);
        const rms = Math.sqrt(audio.channels[0].reduce((s, v) => s + v * v, 0) / audio.channels[0].length);
        expect(rms).toBeGreaterThan(0.005); // speech, not silence
      }
    });
  }
});
if (!existsSync(speechDir)) console.warn(`skipping real-speech decode tests: ${speechDir} is absent (see shared/speech/README.md)`);

describe('decodeAudio on MP3 quirks', () => {
  it('finds the first frame after an ID3v2 tag followed by zero padding', async () => {
    const mp3 = fixture('tone-22k-mono.mp3');
    // ID3v2.4 header declaring a 20-byte tag (syncsafe size), 20 zero bytes, then 7 more zeros of slack.
    const tagged = new Uint8Array([...[0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 20], ...new Array(27).fill(0), ...mp3]);
    const a = await decodeAudio(tagged);
    expect(a.sampleRate).toBe(22050);
    expect(a.channels[0].length).toBe(11025);
  });
});
