// The voice pool and the synthesis of one utterance.
//
// Each utterance gets a voice drawn deterministically from its id, so a resumed or parallel run
// makes exactly the same choice, and the same rate/pitch jitter. Engines:
//   espeak-ng  (GPL-3): English accents x voice variants, native rate (-s) and pitch (-p)
//   flite      (BSD-style CMU licence): kal, kal16, awb, rms, slt, native duration_stretch
//   festival   (X11-style licence; kal/ked diphone voices and the CMU slt HTS voice, free use)
// MBROLA voices (mb-us1..3, mb-en1) are listed by espeak-ng but need Debian's contrib/non-free
// `mbrola` packages, which this machine's apt sources don't carry, and their licence forbids
// commercial use, so they are deliberately not in the pool.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { seededRandom } from './sources.mjs';

// Accents whose espeak-ng voices are distinct enough to matter. en-gb-x-gbcwmd (West Midlands)
// is held out of training and used only in dev, to measure an unseen accent.
export const ESPEAK_TRAIN_ACCENTS = [
  'en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-029', 'en-us-nyc',
];
export const ESPEAK_DEV_ONLY_ACCENTS = ['en-gb-x-gbcwmd'];

// espeak-ng voice variants: the numbered male/female ones, the klatt formant synthesizers, and
// the named human-like variants. Robots, whispers and effects (Demonic, announcer, croak, ...)
// are left out: they don't resemble anyone who will use the app.
export const ESPEAK_VARIANTS = [
  'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'f1', 'f2', 'f3', 'f4', 'f5',
  'klatt', 'klatt2', 'klatt3', 'klatt4', 'klatt5', 'klatt6',
  'adam', 'Alex', 'Alicia', 'Andrea', 'Andy', 'Annie', 'aunty', 'belinda', 'benjamin', 'caleb',
  'david', 'ed', 'edward', 'Gene', 'grandma', 'grandpa', 'iven', 'john', 'Lee', 'linda', 'max',
  'Michael', 'Mike', 'norbert', 'paul', 'quincy', 'rob', 'robert', 'shelby', 'steph', 'steph2',
  'steph3', 'travis', 'victor', 'zac', 'anika',
];

export const FLITE_VOICES = ['kal', 'kal16', 'awb', 'rms', 'slt']; // awb_time is limited-domain
export const FESTIVAL_VOICES = ['kal_diphone', 'ked_diphone', 'cmu_us_slt_arctic_hts'];

// Share of utterances per engine. espeak-ng has by far the most timbres; festival is the most
// natural-sounding but takes ~2 s per call (it loads its lexicon each time).
const ENGINE_WEIGHTS = [['espeak', 0.55], ['flite', 0.3], ['festival', 0.15]];

export function voiceCount() {
  return {
    espeak: ESPEAK_TRAIN_ACCENTS.length * ESPEAK_VARIANTS.length,
    espeakDevOnly: ESPEAK_DEV_ONLY_ACCENTS.length * ESPEAK_VARIANTS.length,
    flite: FLITE_VOICES.length,
    festival: FESTIVAL_VOICES.length,
  };
}

const pick = (rand, list) => list[Math.floor(rand() * list.length)];
const uniform = (rand, lo, hi) => lo + (hi - lo) * rand();
const round = (x, d) => Number(x.toFixed(d));

/**
 * Voice settings for an utterance. `dev` utterances may also use the held-out accent.
 * Returns { engine, voice (speaker id), rate|stretch, pitch, semitones, gainDb }.
 */
export function chooseVoice(seed, uttId, dev) {
  const rand = seededRandom(`voice:${seed}:${uttId}`);
  let r = rand();
  let engine = ENGINE_WEIGHTS[ENGINE_WEIGHTS.length - 1][0];
  for (const [name, w] of ENGINE_WEIGHTS) {
    if (r < w) { engine = name; break; }
    r -= w;
  }
  // Peak level varies so the model doesn't learn one loudness; applied by sox at the end.
  const peakDb = round(uniform(rand, -12, -1), 1);
  if (engine === 'espeak') {
    // Half of dev's espeak utterances use the held-out accent.
    const accents = dev && rand() < 0.5 ? ESPEAK_DEV_ONLY_ACCENTS : ESPEAK_TRAIN_ACCENTS;
    const accent = pick(rand, accents);
    const variant = pick(rand, ESPEAK_VARIANTS);
    return {
      engine, voice: `espeak:${accent}+${variant}`, accent, variant,
      rate: Math.round(uniform(rand, 130, 200)), // words per minute
      pitch: Math.round(uniform(rand, 30, 70)), // espeak's 0-99 scale, 50 is the default
      semitones: 0, tempo: 1, peakDb,
    };
  }
  if (engine === 'flite') {
    return {
      engine, voice: `flite:${pick(rand, FLITE_VOICES)}`,
      stretch: round(uniform(rand, 0.8, 1.25), 2), // >1 is slower
      semitones: round(uniform(rand, -2, 2), 1), tempo: 1, peakDb,
    };
  }
  const voice = pick(rand, FESTIVAL_VOICES);
  const stretch = round(uniform(rand, 0.85, 1.2), 2);
  // The HTS voice ignores Duration_Stretch, so its speed is changed by sox tempo instead.
  const hts = voice.endsWith('_hts');
  return {
    engine, voice: `festival:${voice}`, stretch,
    semitones: round(uniform(rand, -2, 2), 1), tempo: hts ? round(1 / stretch, 3) : 1, peakDb,
  };
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim().slice(0, 500)}`));
    });
  });
}

/** The engine command that writes `wav` from the text file `txt` (espeak-ng and flite). */
function engineCommand(v, txt, wav) {
  const name = v.voice.split(':')[1];
  if (v.engine === 'espeak') {
    return ['espeak-ng', ['-v', name, '-s', String(v.rate), '-p', String(v.pitch), '-w', wav, '-f', txt]];
  }
  return ['flite', ['-voice', name, '--setf', `duration_stretch=${v.stretch}`, '-f', txt, '-o', wav]];
}

/**
 * A long-lived `festival --pipe` per voice. Starting festival (text2wave) costs ~0.8 s of CPU
 * to load its lexicon and voice, more than the synthesis itself, so we keep one process per
 * voice and feed it Scheme commands on stdin. Each request ends with a marker line on stdout;
 * requests are answered in order, so several may be in flight. If festival dies or stalls, the
 * pending requests fail and the next request starts a fresh process.
 */
class FestivalPipe {
  constructor(voice) {
    this.voice = voice;
    this.child = null;
    this.pending = new Map();
    this.seq = 0;
  }

  start() {
    // stdbuf: festival's stdout is block-buffered on a pipe, which would hold back the markers.
    const child = spawn('stdbuf', ['-oL', 'festival', '--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let buf = '';
    let err = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const m = /^EARSHOT-DONE (\d+)$/.exec(line);
        const req = m && this.pending.get(Number(m[1]));
        if (req) { this.pending.delete(Number(m[1])); clearTimeout(req.timer); req.resolve(); }
      }
    });
    child.stderr.on('data', (d) => { err = (err + d).slice(-2000); });
    const fail = (why) => {
      if (this.child === child) this.child = null;
      for (const req of this.pending.values()) {
        clearTimeout(req.timer);
        req.reject(new Error(`festival ${this.voice}: ${why} ${err.trim()}`));
      }
      this.pending.clear();
    };
    child.on('error', (e) => fail(e.message));
    child.on('exit', (code) => fail(`exited ${code}`));
    child.stdin.on('error', () => {}); // reported through 'exit'
    child.stdin.write(`(voice_${this.voice})\n`);
  }

  synth(text, stretch, wav) {
    if (/["\\]/.test(text + wav)) throw new Error('festival text must not contain quotes');
    if (!this.child) this.start();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      // A stall would otherwise hang the whole run; 60 s is far beyond any sentence.
      const timer = setTimeout(() => {
        reject(new Error(`festival ${this.voice}: timed out`));
        this.pending.delete(id);
        this.child?.kill();
      }, 60_000);
      this.pending.set(id, { resolve, reject, timer });
      this.child.stdin.write(
        `(Parameter.set 'Duration_Stretch ${stretch})\n` +
          `(utt.save.wave (utt.synth (Utterance Text "${text}")) "${wav}" 'riff)\n` +
          `(format t "EARSHOT-DONE %d\\n" ${id})\n`,
      );
    });
  }

  close() {
    this.child?.stdin.end();
  }
}

const festivals = new Map();

/** Let festival processes exit so node can too. */
export function closeEngines() {
  for (const f of festivals.values()) f.close();
  festivals.clear();
}

async function runEngine(v, txt, wav) {
  if (v.engine !== 'festival') {
    const [cmd, args] = engineCommand(v, txt, wav);
    await run(cmd, args);
    return;
  }
  const name = v.voice.split(':')[1];
  if (!festivals.has(name)) festivals.set(name, new FestivalPipe(name));
  const text = readFileSync(txt, 'utf8').trim();
  await festivals.get(name).synth(text, v.stretch, wav);
}

/**
 * Synthesize `txt` with voice `v` into `flac` (16 kHz, mono, 16-bit) and return its duration (s).
 * Intermediate wav goes next to the text file; the caller owns and cleans both.
 */
export async function synthesize(v, txt, wav, flac) {
  await runEngine(v, txt, wav);
  const effects = [];
  if (v.semitones) effects.push('pitch', String(Math.round(v.semitones * 100)));
  if (v.tempo !== 1) effects.push('tempo', '-s', String(v.tempo));
  // Engines write 8, 16, 22.05 or 32 kHz; everything ends at 16 kHz mono 16-bit.
  effects.push('rate', '-h', '16000', 'channels', '1', 'norm', String(v.peakDb));
  await run('sox', [wav, '-b', '16', '-e', 'signed-integer', '-t', 'flac', flac, ...effects]);
  const dur = flacDuration(flac);
  if (!(dur > 0)) throw new Error(`empty audio for ${flac}`);
  return dur;
}

/**
 * Duration from the FLAC STREAMINFO block (always the first metadata block): sample rate is 20
 * bits at byte 18 of the file, total samples 36 bits at byte 21. Saves a `soxi` process per
 * utterance, which on this 2-core machine is a noticeable share of the cost.
 */
export function flacDuration(file) {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(26);
  try { readSync(fd, b, 0, 26, 0); } finally { closeSync(fd); }
  if (b.toString('latin1', 0, 4) !== 'fLaC') throw new Error(`${file} is not FLAC`);
  const rate = (b[18] << 12) | (b[19] << 4) | (b[20] >> 4);
  const samples = (b[21] & 0x0f) * 2 ** 32 + b.readUInt32BE(22);
  return samples / rate;
}
