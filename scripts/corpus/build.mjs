#!/usr/bin/env node
// Build the synthetic training corpus (and the real-speech manifest) for the base model.
//
//   node scripts/corpus/build.mjs [--out DIR] [--limit N] [--dev N] [--jobs N] [--seed S]
//                                 [--manifests-only] [--no-real]
//
// Idempotent and resumable: every utterance is a pure function of (seed, utterance id), an
// utterance counts as done once its sidecar .json exists (written after the .flac, both by
// rename), and the manifests are rebuilt from whatever is on disk. Several processes on the same
// --out are safe: at worst two of them synthesize the same utterance and one rename wins.
// See README.md next to this file.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { normalizeSentence } from './normalize.mjs';
import { loadSentences } from './sources.mjs';
import { chooseVoice, closeEngines, synthesize, voiceCount } from './voices.mjs';

const HERE = dirname(new URL(import.meta.url).pathname);
const DEFAULTS = {
  out: '/work/earshot-data/corpus',
  limit: 15000, // training utterances
  dev: 300,
  jobs: 1, // the dev machines have 2 cores shared with other work
  seed: 'earshot-v1',
  speech: resolve(HERE, '../../../shared/speech'),
};

function parseArgs(argv) {
  const opts = { ...DEFAULTS, manifestsOnly: false, real: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--out') opts.out = resolve(val());
    else if (a === '--limit') opts.limit = Number(val());
    else if (a === '--dev') opts.dev = Number(val());
    else if (a === '--jobs') opts.jobs = Number(val());
    else if (a === '--seed') opts.seed = val();
    else if (a === '--speech') opts.speech = resolve(val());
    else if (a === '--manifests-only') opts.manifestsOnly = true;
    else if (a === '--no-real') opts.real = false;
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 5).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['limit', 'dev', 'jobs']) {
    if (!Number.isInteger(opts[k]) || opts[k] < 0) throw new Error(`--${k} must be a whole number`);
  }
  if (opts.jobs < 1) opts.jobs = 1;
  return opts;
}

function checkTools() {
  const missing = ['espeak-ng', 'flite', 'festival', 'sox', 'stdbuf', 'Rscript'].filter((t) => {
    try { execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' }); return false; } catch { return true; }
  });
  if (missing.length) {
    throw new Error(`missing tools: ${missing.join(', ')}. Install with: sudo bash scripts/corpus/setup.sh`);
  }
}

// Utterance ids: tr000123 (train) and dv000123 (dev); 1000 files per folder keeps listings fast.
function uttPaths(out, split, index) {
  const id = `${split === 'dev' ? 'dv' : 'tr'}${String(index).padStart(6, '0')}`;
  const dir = join(out, 'audio', split, String(Math.floor(index / 1000)).padStart(3, '0'));
  return { id, dir, flac: join(dir, `${id}.flac`), meta: join(dir, `${id}.json`) };
}

/**
 * The work list. Dev takes the first `dev` sentences of the shuffled list and train never sees
 * them; train walks the rest in order (wrapping around, with a new voice, if asked for more
 * utterances than there are sentences).
 */
function plan(opts, sentences) {
  const items = [];
  if (sentences.length <= opts.dev) throw new Error('not enough sentences for the dev split');
  for (let i = 0; i < opts.dev; i++) items.push({ split: 'dev', index: i, sentence: sentences[i] });
  const trainPool = sentences.length - opts.dev;
  for (let i = 0; i < opts.limit; i++) {
    items.push({ split: 'train', index: i, sentence: sentences[opts.dev + (i % trainPool)] });
  }
  return items;
}

async function makeUtterance(opts, item, tmpDir) {
  const p = uttPaths(opts.out, item.split, item.index);
  if (existsSync(p.meta)) return false;
  mkdirSync(p.dir, { recursive: true });
  const v = chooseVoice(opts.seed, p.id, item.split === 'dev');
  const base = join(tmpDir, `${p.id}.${process.pid}`);
  const txt = `${base}.txt`;
  const wav = `${base}.wav`;
  const flacTmp = `${p.flac}.${process.pid}.tmp`;
  try {
    writeFileSync(txt, item.sentence.speak + '\n');
    const duration = await synthesize(v, txt, wav, flacTmp);
    renameSync(flacTmp, p.flac);
    const { engine, voice, ...settings } = v;
    const meta = {
      id: p.id, split: item.split, text: item.sentence.text, speak: item.sentence.speak,
      sentence_id: item.sentence.id, source: item.sentence.source,
      duration: Number(duration.toFixed(3)), engine, speaker: voice, ...settings,
    };
    writeFileSync(`${p.meta}.${process.pid}.tmp`, JSON.stringify(meta) + '\n');
    renameSync(`${p.meta}.${process.pid}.tmp`, p.meta);
  } finally {
    for (const f of [txt, wav, flacTmp]) rmSync(f, { force: true });
  }
  return true;
}

/** Rebuild train.jsonl / dev.jsonl from the sidecars on disk (atomically replaced). */
export function writeManifests(out) {
  const lines = { train: [], dev: [] };
  for (const split of ['train', 'dev']) {
    const root = join(out, 'audio', split);
    if (!existsSync(root)) continue;
    for (const sub of readdirSync(root).sort()) {
      const dir = join(root, sub);
      for (const f of readdirSync(dir).sort()) {
        if (!f.endsWith('.json')) continue;
        const meta = JSON.parse(readFileSync(join(dir, f), 'utf8'));
        const flac = join(dir, f.replace(/\.json$/, '.flac'));
        if (!existsSync(flac)) continue;
        const { text, duration, speaker, id, split: _s, ...extra } = meta;
        lines[split].push(JSON.stringify({
          audio_filepath: relative(out, flac), text, duration, speaker, id, ...extra,
        }));
      }
    }
  }
  for (const split of ['train', 'dev']) {
    const file = join(out, `${split}.jsonl`);
    const tmp = `${file}.${process.pid}.tmp`; // per-process name: parallel runs may rebuild too
    writeFileSync(tmp, lines[split].map((l) => l + '\n').join(''));
    renameSync(tmp, file);
  }
  return { train: lines.train.length, dev: lines.dev.length };
}

/**
 * real-train.jsonl: speechocean762/train with absolute paths and our text normalization.
 * The audio stays where it is (shared/ must never be copied into the repo or the corpus).
 */
function writeRealManifest(opts) {
  const src = join(opts.speech, 'speechocean762', 'train', 'manifest.jsonl');
  if (!existsSync(src)) {
    console.warn(`real: ${src} not found; skipping real-train.jsonl (pass --speech DIR or --no-real)`);
    return 0;
  }
  const lines = [];
  let dropped = 0;
  for (const line of readFileSync(src, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const m = JSON.parse(line);
    // These transcripts are short prompts ("we call it bear"), so only the character cleanup of
    // the normalizer applies, not the 3-25 word limit of the synthetic sentences.
    const n = normalizeSentence(String(m.text), { minWords: 1, maxWords: Infinity, spoken: true });
    const text = n ? n.text : '';
    if (!text) { dropped++; continue; }
    lines.push(JSON.stringify({
      ...m, audio_filepath: resolve(dirname(src), m.audio_filepath), text, source: 'speechocean762/train',
    }));
  }
  const file = join(opts.out, 'real-train.jsonl');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, lines.map((l) => l + '\n').join(''));
  renameSync(tmp, file);
  console.log(`real: ${lines.length} utterances -> ${file}${dropped ? ` (${dropped} dropped)` : ''}`);
  return lines.length;
}

/** Remove temp files that a killed run left behind (older than an hour, so not a live run's). */
function cleanStaleTemps(tmpDir) {
  const cutoff = Date.now() - 3600_000;
  for (const f of readdirSync(tmpDir)) {
    const p = join(tmpDir, f);
    if (statSync(p).mtimeMs < cutoff) rmSync(p, { force: true });
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  mkdirSync(opts.out, { recursive: true });
  if (opts.manifestsOnly) {
    const c = writeManifests(opts.out);
    console.log(`manifests: ${c.train} train, ${c.dev} dev`);
    if (opts.real) writeRealManifest(opts);
    return;
  }
  checkTools();
  const tmpDir = join(opts.out, '.tmp');
  mkdirSync(tmpDir, { recursive: true });
  cleanStaleTemps(tmpDir);
  const sentences = loadSentences({ textDir: join(opts.out, 'text'), seed: opts.seed, speechDir: opts.speech });
  console.log(`text: ${sentences.length} sentences; voices: ${JSON.stringify(voiceCount())}`);
  if (opts.real) writeRealManifest(opts);

  const items = plan(opts, sentences);
  const todo = items.filter((it) => !existsSync(uttPaths(opts.out, it.split, it.index).meta));
  console.log(`plan: ${opts.dev} dev + ${opts.limit} train; ${items.length - todo.length} already done, ${todo.length} to make, ${opts.jobs} job(s)`);

  const t0 = Date.now();
  let made = 0;
  let failed = 0;
  let next = 0;
  const report = () => {
    const min = (Date.now() - t0) / 60000;
    const rate = made / Math.max(min, 1e-9);
    const left = todo.length - made - failed;
    const eta = rate > 0 ? `${(left / rate).toFixed(0)} min left` : '';
    console.log(`[${new Date().toISOString()}] ${made}/${todo.length} made, ${failed} failed, ${rate.toFixed(1)} utt/min ${eta}`);
  };
  // A simple pool: each worker takes the next item until none are left.
  const worker = async () => {
    while (next < todo.length) {
      const item = todo[next++];
      try {
        if (await makeUtterance(opts, item, tmpDir)) made++;
      } catch (err) {
        failed++;
        console.error(`failed ${item.split} ${item.index}: ${err.message}`);
      }
      const done = made + failed;
      if (done % 50 === 0) report();
      // Refresh manifests now and then so a trainer can start on a partial corpus.
      if (done % 1000 === 0) writeManifests(opts.out);
    }
  };
  await Promise.all(Array.from({ length: opts.jobs }, worker));
  closeEngines();
  report();
  const c = writeManifests(opts.out);
  console.log(`manifests: ${c.train} train, ${c.dev} dev in ${opts.out}`);
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
