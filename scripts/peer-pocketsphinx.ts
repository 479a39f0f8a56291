// npm run peer:pocketsphinx [-- --sets a,b --limit N --jobs N --mode batch|continuous --cross-check a,b --out file.json]
//
// The peer baseline, scored by our own scorer: Debian's pocketsphinx (GMM-HMM acoustic model and
// the large trigram LM of `pocketsphinx-en-us`) transcribes every clip of some NeMo manifests under
// ../shared/speech, and `wer`/`cer` from src/asr/wer.ts score the hypotheses against the manifest
// text, with normalizeText (src/asr/text-normalize.ts) applied to both sides — exactly as our own
// model is scored. Prints one JSON object on stdout (progress goes to stderr).
//
// Needs `sox` and Debian's `pocketsphinx` + `pocketsphinx-en-us` (apt-get install -y sox
// pocketsphinx pocketsphinx-en-us). Debian 12 ships pocketsphinx 5prealpha, whose command-line
// tools are `pocketsphinx_batch` and `pocketsphinx_continuous` (the `pocketsphinx single` CLI
// only arrived with 5.0). Every clip is converted to 16 kHz mono 16-bit (sox, into a temporary
// folder), then:
//   --mode batch (default): `pocketsphinx_batch` loads the model once per job and decodes each
//       clip as one utterance (utterance-level CMN) — the offline setting, and the only practical
//       one for fsdd's 3000 clips, since loading the LM costs about a second per process.
//   --mode continuous: `pocketsphinx_continuous -infile clip.wav`, one process per clip, live CMN
//       and silence segmentation; the hypotheses of all segments are joined with spaces.
// --cross-check a,b also runs the other mode on those sets (reported under other_mode): the two
// modes differ a lot on the same audio — measured here, WER 26.8% (batch) vs 45.5% (continuous)
// on ljspeech_coqui and 30.9% vs 42.3% on misc_samples; FIELD.md's 46% / 42% match continuous.
// --limit N scores N clips per set, evenly spaced through the manifest (so a subset of fsdd still
// covers every digit and speaker); the JSON reports how many were scored out of how many.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cer, wer } from '../src/asr/wer';
import { decodeMono, encodeWav16 } from '../src/audio';

const DEFAULT_SETS = ['speechocean762/dev', 'ljspeech_coqui', 'misc_samples', 'fsdd'];
const MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const here = dirname(fileURLToPath(import.meta.url));

const { values: args } = parseArgs({
  options: {
    sets: { type: 'string', default: DEFAULT_SETS.join(',') },
    limit: { type: 'string' },
    jobs: { type: 'string', default: '2' },
    mode: { type: 'string', default: 'batch' },
    root: { type: 'string', default: resolve(here, '../../shared/speech') },
    out: { type: 'string' },
    'cross-check': { type: 'string', default: '' },
    'keep-hyps': { type: 'boolean', default: false },
    // --out FILE --merge: replace only the sets run now in an existing results file
    merge: { type: 'boolean', default: false },
    // --score-hyps DIR (one set, batch mode, no --limit): score the job*.hyp files an earlier
    // pocketsphinx_batch run of this script left in DIR (its work folder), instead of decoding again
    'score-hyps': { type: 'string' },
  },
});

const log = (m: string) => process.stderr.write(`[peer:pocketsphinx] ${m}\n`);
function fail(m: string): never {
  process.stderr.write(`peer:pocketsphinx: ${m}\n`);
  process.exit(1);
}

type Mode = 'batch' | 'continuous';
const mode: Mode = args.mode === 'continuous' ? 'continuous' : args.mode === 'batch' ? 'batch' : fail(`--mode must be batch or continuous, got ${args.mode}`);
const jobs = Math.max(1, Math.floor(Number(args.jobs)));
const limit = args.limit === undefined ? Infinity : Math.floor(Number(args.limit));
if (!Number.isFinite(jobs) || !(limit > 0)) fail('--jobs and --limit must be positive integers');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, argv: string[]): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', reject);
    p.on('close', (code) => resolveRun({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

async function which(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0;
}

async function debVersion(pkg: string): Promise<string | null> {
  const r = await run('dpkg-query', ['-W', '-f', '${Version}', pkg]).catch(() => null);
  return r && r.code === 0 && r.stdout ? r.stdout : null;
}

/** Runs `task` over items with at most `n` in flight; results in input order. */
async function pool<T, R>(items: readonly T[], n: number, task: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}

interface Utterance {
  audio: string;
  text: string;
}

function readManifest(path: string): Utterance[] {
  const base = dirname(path);
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, k) => {
      const o = JSON.parse(line) as { audio_filepath?: unknown; text?: unknown };
      if (typeof o.audio_filepath !== 'string' || typeof o.text !== 'string') throw new Error(`${path}:${k + 1}: needs audio_filepath and text`);
      return { audio: resolve(base, o.audio_filepath), text: o.text };
    });
}

/** n items evenly spaced through xs (all of them when n ≥ xs.length). */
function evenlySpaced<T>(xs: readonly T[], n: number): T[] {
  if (n >= xs.length) return [...xs];
  return Array.from({ length: n }, (_, k) => xs[Math.floor((k * xs.length) / n)]);
}

/** pocketsphinx's own hypothesis minus anything that is not a word (fillers, silences, alt-pron marks). */
function cleanHyp(h: string): string {
  return h
    .split(/\s+/)
    .filter((w) => w && !/^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(w))
    .map((w) => w.replace(/\(\d+\)$/, ''))
    .join(' ');
}

/** pocketsphinx_batch's hypothesis file: one line per utterance, "<words> (<uttid> <score>)". */
function parseHyps(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split('\n')) {
    const m = /^(.*?)\s*\((\S+)\s+-?\d+\)\s*$/.exec(line);
    if (m) out.push([m[2], cleanHyp(m[1])]);
  }
  return out;
}

async function decodeBatch(rawDir: string, ids: string[], workDir: string): Promise<Map<string, string>> {
  // Balance the jobs by audio length: longest first, each to the job with the least audio so far.
  const size = (id: string) => statSync(join(rawDir, `${id}.raw`)).size;
  const order = [...ids].sort((a, b) => size(b) - size(a));
  const groups: { ids: string[]; bytes: number }[] = Array.from({ length: Math.min(jobs, ids.length) }, () => ({ ids: [], bytes: 0 }));
  for (const id of order) {
    const g = groups.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    g.ids.push(id);
    g.bytes += size(id);
  }
  const hyps = new Map<string, string>();
  await pool(groups, groups.length, async (g, k) => {
    const ctl = join(workDir, `job${k}.ctl`);
    const hyp = join(workDir, `job${k}.hyp`);
    const logf = join(workDir, `job${k}.log`);
    writeFileSync(ctl, g.ids.sort().join('\n') + '\n');
    const r = await run('pocketsphinx_batch', ['-ctl', ctl, '-cepdir', rawDir, '-cepext', '.raw', '-adcin', 'yes', '-samprate', '16000', '-hyp', hyp, '-logfn', logf]);
    if (r.code !== 0 || !existsSync(hyp)) {
      const tail = existsSync(logf) ? readFileSync(logf, 'utf8').split('\n').slice(-8).join('\n') : r.stderr;
      throw new Error(`pocketsphinx_batch exited with ${r.code}:\n${tail}`);
    }
    for (const [id, h] of parseHyps(readFileSync(hyp, 'utf8'))) hyps.set(id, h);
  });
  return hyps;
}

async function decodeContinuous(wav: string): Promise<string> {
  const r = await run('pocketsphinx_continuous', ['-infile', wav, '-logfn', '/dev/null']);
  if (r.code !== 0) throw new Error(`pocketsphinx_continuous exited with ${r.code} on ${wav}: ${r.stderr.slice(-400)}`);
  return cleanHyp(r.stdout.split('\n').join(' '));
}

const DECODER: Record<Mode, string> = {
  batch: 'pocketsphinx_batch -adcin yes -samprate 16000 (defaults otherwise): one process per job loads the model once and decodes each clip as one utterance',
  continuous: 'pocketsphinx_continuous -infile clip.wav (defaults otherwise): one process per clip, live CMN from its default initial value, silence segmentation; segment hypotheses joined with spaces',
};

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

async function evaluateSet(name: string, tmpRoot: string, mode: Mode) {
  const manifest = join(args.root!, name, 'manifest.jsonl');
  if (!existsSync(manifest)) fail(`${manifest} is missing: this needs the shared speech corpus at ${args.root} (see ../shared/speech/README.md), or pass --root`);
  const all = readManifest(manifest);
  const utts = evenlySpaced(all, limit);
  const dir = join(tmpRoot, `${mode}-${name.replace(/[^\w.-]+/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  const ids = utts.map((_, k) => `u${String(k).padStart(6, '0')}`);
  const ext = mode === 'batch' ? 'raw' : 'wav';
  const scored = args['score-hyps'];
  if (scored) {
    if (mode !== 'batch' || limit !== Infinity) fail('--score-hyps scores a batch-mode run over a whole set (no --limit)');
    const byId = new Map<string, string>();
    for (const f of readdirSync(scored).filter((f) => /^job\d+\.hyp$/.test(f)))
      for (const [id, h] of parseHyps(readFileSync(join(scored, f), 'utf8'))) byId.set(id, h);
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length) fail(`${scored} has no hypothesis for ${missing.length} of ${ids.length} clips (first: ${missing[0]}): the run did not finish`);
    return score(name, utts, all.length, ids.map((id) => byId.get(id)!), { audio_seconds: round(ids.reduce((t, id) => t + statSync(join(scored, `${id}.raw`)).size / 2 / 16000, 0), 1), from_hypotheses: `scored from the job*.hyp files of an earlier pocketsphinx_batch run (${scored}); wall time not measured` });
  }
  log(`${name} (${mode}): ${utts.length} of ${all.length} clips, converting with sox (Opus with our own decoder)…`);
  const t0 = performance.now();
  await pool(utts, jobs, async (u, k) => {
    const out = join(dir, `${ids[k]}.${ext}`);
    if (/\.opus$/i.test(u.audio)) {
      // Debian's sox has no Opus handler: our own decoder (src/audio) gives the 16 kHz mono samples
      const x = await decodeMono(new Uint8Array(readFileSync(u.audio)), 16000, u.audio);
      const pcm = Int16Array.from(x, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767))));
      writeFileSync(out, ext === 'raw' ? new Uint8Array(pcm.buffer) : encodeWav16([x], 16000));
      return;
    }
    const r = await run('sox', ['-R', '-V1', u.audio, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', ...(ext === 'raw' ? ['-t', 'raw'] : []), out]);
    if (r.code !== 0) throw new Error(`sox failed on ${u.audio}: ${r.stderr.trim()}`);
  });
  log(`${name}: decoding (${mode}, ${jobs} job(s))…`);
  let hyps: string[];
  if (mode === 'batch') {
    const byId = await decodeBatch(dir, ids, dir);
    hyps = ids.map((id) => byId.get(id) ?? '');
  } else {
    hyps = await pool(ids, jobs, (id) => decodeContinuous(join(dir, `${id}.wav`)));
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const headerBytes = ext === 'wav' ? 44 : 0;
  const audioSeconds = ids.reduce((s, id) => s + (statSync(join(dir, `${id}.${ext}`)).size - headerBytes) / 2 / 16000, 0);
  rmSync(dir, { recursive: true, force: true });

  return score(name, utts, all.length, hyps, {
    audio_seconds: round(audioSeconds, 1),
    wall_seconds: round(wallSeconds, 1),
    x_real_time: round(audioSeconds / wallSeconds, 2),
  });
}

function score(name: string, utts: ReturnType<typeof readManifest>, inManifest: number, hyps: string[], timing: { audio_seconds: number; wall_seconds?: number; x_real_time?: number; from_hypotheses?: string }) {
  const refs = utts.map((u) => u.text);
  const w = wer(refs, hyps);
  const c = cer(refs, hyps);
  const result = {
    manifest: `${name}/manifest.jsonl`,
    wer: round(w.errorRate),
    cer: round(c.errorRate),
    utterances: utts.length,
    utterances_in_manifest: inManifest,
    subset: utts.length < inManifest ? `${utts.length} clips evenly spaced through the manifest (--limit ${limit})` : undefined,
    ...timing,
    scored_at: new Date().toISOString(),
    words: { reference: w.refLength, substitutions: w.sub, deletions: w.del, insertions: w.ins },
    empty_hypotheses: hyps.filter((h) => h.trim() === '').length,
    hypotheses: args['keep-hyps'] ? utts.map((u, k) => ({ audio: u.audio, ref: u.text, hyp: hyps[k] })) : undefined,
  };
  log(`${name}: WER ${(result.wer * 100).toFixed(1)}%  CER ${(result.cer * 100).toFixed(1)}%  (${result.utterances} clips, ${result.audio_seconds} s audio, ${result.wall_seconds ?? '?'} s wall)`);
  return result;
}

const otherMode: Mode = mode === 'batch' ? 'continuous' : 'batch';
const crossCheck = args['cross-check']!.split(',').map((s) => s.trim()).filter(Boolean);
const tools = ['sox', 'pocketsphinx_batch', 'pocketsphinx_continuous'];
for (const t of tools) {
  if (!(await which(t))) fail(`\`${t}\` is not installed: apt-get install -y sox pocketsphinx pocketsphinx-en-us (Debian 12 ships pocketsphinx 5prealpha with pocketsphinx_batch/pocketsphinx_continuous)`);
}
if (!existsSync(join(MODEL_DIR, 'en-us.lm.bin'))) fail(`the US English model is missing at ${MODEL_DIR}: apt-get install -y pocketsphinx-en-us`);

const sets = args.sets!.split(',').map((s) => s.trim()).filter(Boolean);
const tmpRoot = mkdtempSync(join(tmpdir(), 'earshot-pocketsphinx-'));
const started = new Date().toISOString();
const results: Record<string, unknown> = {};
const crossResults: Record<string, unknown> = {};
try {
  for (const s of sets) results[s] = await evaluateSet(s, tmpRoot, mode);
  for (const s of crossCheck) crossResults[s] = await evaluateSet(s, tmpRoot, otherMode);
} finally {
  rmSync(tmpRoot, { recursive: true, force: true });
}

const output = {
  peer: 'pocketsphinx',
  pocketsphinx_version: (await debVersion('pocketsphinx')) ?? 'unknown',
  model: {
    package: 'pocketsphinx-en-us',
    version: (await debVersion('pocketsphinx-en-us')) ?? 'unknown',
    acoustic: `${MODEL_DIR}/en-us (continuous GMM-HMM)`,
    language_model: `${MODEL_DIR}/en-us.lm.bin`,
    dictionary: `${MODEL_DIR}/cmudict-en-us.dict`,
  },
  mode,
  decoder: DECODER[mode],
  audio_conversion: 'sox -R (repeatable dither) → 16 kHz mono 16-bit signed PCM, sox\'s default resampler',
  scorer: 'wer/cer from src/asr/wer.ts: corpus rate = total edits / total reference units',
  normalization:
    'normalizeText (src/asr/text-normalize.ts) on reference and hypothesis: Whisper-style English normalization, lower case, punctuation removed, numbers spelled out as words; pocketsphinx fillers (<s>, </s>, <sil>, [NOISE], ++X++) and alternate-pronunciation marks "(2)" dropped first',
  jobs,
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model },
  started,
  sets: results,
  other_mode: crossCheck.length ? { mode: otherMode, decoder: DECODER[otherMode], sets: crossResults } : undefined,
};
if (args.merge && args.out && existsSync(args.out)) {
  // the run-level fields (started, jobs) stay those of the run that measured the sets kept; each
  // set replaced now carries its own scored_at (and from_hypotheses when it was scored from files)
  const before = JSON.parse(readFileSync(args.out, 'utf8')) as { started?: string; jobs?: number; sets?: Record<string, unknown> };
  output.started = before.started ?? output.started;
  output.jobs = before.jobs ?? output.jobs;
  output.sets = { ...before.sets, ...results };
}
const json = JSON.stringify(output, null, 2);
if (args.out) writeFileSync(args.out, json + '\n');
console.log(json);
