// Builds the word LM a model directory decodes with (lm.arpa), tunes the decoder on the
// development sets, and records the settings in config.json's `decoder` — one command, so it can
// be rerun whenever the acoustic model changes:
//
//   npx tsx scripts/build-lm.ts --model <dir>
//     [--texts <file>[,<file>…]]   default: ../shared/text/librispeech_train_transcripts.txt.gz and the
//                                  transcripts of the base-model training sets (speechocean762/train,
//                                  librispeech_train28, train_extra)
//     [--order 3] [--min-count 2] [--bigram-min-count 5] [--trigram-min-count 6]
//     [--tune <manifest>[:N][,…]]  default: speechocean762/dev and librispeech_dev4, 100 clips each
//     [--beam 16] [--tune-lookahead both|on|off]
//     | [--no-tune --weight X --word-bonus Y --unk-char-cost Z [--lookahead]]
//
// Texts: gzip or plain text with one sentence per line, or JSON lines with a "text" field (NeMo
// manifests). A development, evaluation or personal_* set is refused as LM text: it must stay
// unseen. Tuning: the acoustic model runs once per tuning clip (its logits are cached on disk,
// keyed by model.onnx, so a rerun on the same model skips it); every decoder setting then only
// re-runs the beam search. N clips are taken evenly spaced through a manifest so that all its
// speakers count. The LM weight, word bonus, unknown-word cost per letter and whether the LM
// looks ahead while a word is spelled (LmFusion.lookahead) are tuned by coordinate descent on the mean WER of the tuning sets (ties: mean CER). Prints one JSON object.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { decodeText, type Decoding } from '../src/asr/decode';
import { WordLm } from '../src/asr/lm';
import { MODEL_FILES, readModelDir, type LoadedModel } from '../src/asr/model-dir';
import { cer, wer } from '../src/asr/wer';
import { readManifest } from '../src/cli/eval';
import { loadModelFromDisk } from '../src/cli/model-files';
import { cachedLogits } from './logits-cache';

const SHARED = resolve(import.meta.dirname, '../../shared');
const DEFAULT_TEXTS = [
  `${SHARED}/text/librispeech_train_transcripts.txt.gz`,
  `${SHARED}/speech/speechocean762/train/manifest.jsonl`,
  `${SHARED}/speech/librispeech_train28/manifest.jsonl`,
  `${SHARED}/speech/train_extra/manifest.jsonl`,
];
const DEFAULT_TUNE = [`${SHARED}/speech/speechocean762/dev/manifest.jsonl:100`, `${SHARED}/speech/librispeech_dev4/manifest.jsonl:100`];
/** Sets that must never become LM text (../shared/speech/README.md: development, evaluation, personalization). */
const HELD_OUT = /(^|[/_-])(dev\d*|eval|test|personal_[^/]*|ljspeech_coqui|misc_samples|pocketsphinx_testdata)([/_.-]|$)/;

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    texts: { type: 'string', default: DEFAULT_TEXTS.join(',') },
    order: { type: 'string', default: '3' },
    'min-count': { type: 'string', default: '2' },
    'bigram-min-count': { type: 'string', default: '5' },
    'trigram-min-count': { type: 'string', default: '6' },
    beam: { type: 'string', default: '16' },
    tune: { type: 'string', default: DEFAULT_TUNE.join(',') },
    'no-tune': { type: 'boolean', default: false },
    weight: { type: 'string' },
    'word-bonus': { type: 'string' },
    'unk-char-cost': { type: 'string' },
    lookahead: { type: 'boolean', default: false },
    'tune-lookahead': { type: 'string', default: 'both' },
    cache: { type: 'string', default: join(tmpdir(), 'earshot-build-lm') },
  },
});
if (!a.model) throw new Error('usage: build-lm.ts --model <dir> [--texts …] [--tune <manifest>[:N],… | --no-tune --weight X --word-bonus Y --unk-char-cost Z]');
if (!['both', 'on', 'off'].includes(a['tune-lookahead']!)) throw new Error(`--tune-lookahead must be both, on or off, got ${a['tune-lookahead']}`);
const log = (m: string) => process.stderr.write(`[build-lm] ${m}\n`);

// --- the LM ---------------------------------------------------------------------------------------
const tuneFiles = a['no-tune'] ? [] : a.tune!.split(',').map((t) => resolve(t.split(':')[0]));
const texts: string[] = [];
const sources: Record<string, number> = {};
for (const file of a.texts!.split(',').map((f) => resolve(f))) {
  if (HELD_OUT.test(file) || tuneFiles.includes(file)) throw new Error(`${file} is a development, evaluation or personal set: it cannot be LM text`);
  const bytes = readFileSync(file);
  const content = file.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  let n = 0;
  for (const line of content.split('\n')) {
    if (!line.trim()) continue;
    if (line.trimStart().startsWith('{')) {
      const r = JSON.parse(line) as { text?: unknown };
      if (typeof r.text !== 'string') continue;
      texts.push(r.text);
    } else texts.push(line);
    n++;
  }
  sources[file] = n;
}
const lmOptions = { order: Number(a.order), minCount: Number(a['min-count']), bigramMinCount: Number(a['bigram-min-count']), trigramMinCount: Number(a['trigram-min-count']) };
let t0 = performance.now();
const lm = WordLm.fromTexts(texts, lmOptions);
const buildSeconds = (performance.now() - t0) / 1000;
const arpaText = lm.toArpa();
const arpa = new TextEncoder().encode(arpaText);
// What the app pays when it opens the model: decode the bytes and parse them.
t0 = performance.now();
const loaded = WordLm.fromArpa(new TextDecoder().decode(arpa));
const loadMs = performance.now() - t0;
log(`LM: ${lm.vocabularySize} words, ${lm.bigramCount} bigrams, ${lm.trigramCount} trigrams, ${(arpa.byteLength / 1e6).toFixed(1)} MB, built in ${buildSeconds.toFixed(0)} s, read back in ${loadMs.toFixed(0)} ms`);

// --- tuning -----------------------------------------------------------------------------------------
const model = acousticModel(a.model);
const beamWidth = Number(a.beam);
interface Setting {
  weight: number;
  wordBonus: number;
  unkCharCost: number;
  lookahead: boolean;
}
let best: Setting = { weight: Number(a.weight ?? 0.5), wordBonus: Number(a['word-bonus'] ?? 1.5), unkCharCost: Number(a['unk-char-cost'] ?? 0.5), lookahead: a.lookahead! };
interface Scored extends Setting {
  wer: number;
  cer: number;
  per_set: { wer: number; cer: number }[];
  decode_seconds: number;
}
const tried: Scored[] = [];
let tuneSets: { manifest: string; clips: number; greedy: { wer: number; cer: number } }[] = [];
if (!a['no-tune']) {
  const sets = await Promise.all(a.tune!.split(',').map((spec) => tuningSet(spec)));
  const greedy = sets.map((s) => score(s, { beamWidth: 1 }));
  tuneSets = sets.map((s, i) => ({ manifest: s.manifest, clips: s.items.length, greedy: greedy[i] }));
  const key = (s: Setting) => `${s.weight}/${s.wordBonus}/${s.unkCharCost}/${s.lookahead}`;
  const seen = new Map<string, Scored>();
  const evaluate = (s: Setting): Scored => {
    const known = seen.get(key(s));
    if (known) return known;
    const t = performance.now();
    const perSet = sets.map((set) => score(set, { beamWidth, lm: { model: loaded, ...s } }));
    const r: Scored = { ...s, wer: mean(perSet.map((p) => p.wer)), cer: mean(perSet.map((p) => p.cer)), per_set: perSet, decode_seconds: (performance.now() - t) / 1000 };
    seen.set(key(s), r);
    tried.push(r);
    log(`weight ${s.weight} bonus ${s.wordBonus} unk ${s.unkCharCost}/letter${s.lookahead ? ' look-ahead' : ''}: WER ${pct(r.wer)} CER ${pct(r.cer)} (${perSet.map((p) => pct(p.wer)).join(', ')}) ${r.decode_seconds.toFixed(1)} s`);
    return r;
  };
  const better = (x: Scored, y: Scored) => x.wer < y.wer - 1e-12 || (Math.abs(x.wer - y.wer) <= 1e-12 && x.cer < y.cer);
  const grids: { [K in keyof Setting]: Setting[K][] } = {
    lookahead: a['tune-lookahead'] === 'both' ? [false, true] : [a['tune-lookahead'] === 'on'],
    unkCharCost: [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6],
    weight: [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5],
    wordBonus: [-0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8],
  };
  let current = evaluate(best);
  for (let pass = 0; pass < 3; pass++) {
    const before = key(current);
    for (const param of ['lookahead', 'unkCharCost', 'weight', 'wordBonus'] as const) {
      for (const v of grids[param] as (number | boolean)[]) {
        const r = evaluate({ ...current, [param]: v });
        if (better(r, current)) current = r;
      }
    }
    if (key(current) === before) break;
  }
  best = { weight: current.weight, wordBonus: current.wordBonus, unkCharCost: current.unkCharCost, lookahead: current.lookahead };
}

// --- the model directory ------------------------------------------------------------------------------
writeFileSync(join(a.model, 'lm.arpa'), arpa);
const configFile = join(a.model, 'config.json');
const config = JSON.parse(readFileSync(configFile, 'utf8')) as { decoder?: Record<string, unknown> } & Record<string, unknown>;
config.decoder = { ...config.decoder, beamWidth, lmWeight: best.weight, wordBonus: best.wordBonus, unkCharCost: best.unkCharCost, lmLookahead: best.lookahead };
writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
loadModelFromDisk(a.model); // the directory still validates, LM included

console.log(
  JSON.stringify({
    model: a.model,
    lm: { words: lm.vocabularySize, bigrams: lm.bigramCount, trigrams: lm.trigramCount, bytes: arpa.byteLength, load_ms: Math.round(loadMs), build_seconds: Math.round(buildSeconds), sentences: texts.length, sources, ...lmOptions },
    decoder: config.decoder,
    tune: a['no-tune'] ? null : { sets: tuneSets, objective: 'mean WER of the tuning sets (ties: mean CER)', best: tried.find((t) => t.weight === best.weight && t.wordBonus === best.wordBonus && t.unkCharCost === best.unkCharCost && t.lookahead === best.lookahead), tried },
  }),
);

// --- helpers --------------------------------------------------------------------------------------------
/**
 * The model directory without its decoder, lm.arpa or personal.txt: only the acoustic model is
 * needed here, and a directory whose config.json names an LM it does not have yet (a fresh
 * acoustic model) must still load.
 */
function acousticModel(dir: string): LoadedModel {
  const files: Record<string, Uint8Array> = {};
  for (const f of MODEL_FILES) if (f !== 'lm.arpa' && f !== 'personal.txt' && existsSync(join(dir, f))) files[f] = new Uint8Array(readFileSync(join(dir, f)));
  if (!files['config.json']) throw new Error(`${dir} has no config.json`);
  const { decoder: _, ...config } = JSON.parse(new TextDecoder().decode(files['config.json'])) as Record<string, unknown>;
  files['config.json'] = new TextEncoder().encode(JSON.stringify(config));
  return readModelDir(files);
}

interface TuningSet {
  manifest: string;
  items: { text: string; logits: Float32Array }[];
}

/** `manifest[:N]`: N clips evenly spaced through the manifest (all when N is absent), with their logits. */
async function tuningSet(spec: string): Promise<TuningSet> {
  const [file, count] = spec.split(':');
  const rows = readManifest(file);
  const n = Math.min(rows.length, count ? Number(count) : rows.length);
  const picked = Array.from({ length: n }, (_, i) => rows[Math.floor((i * rows.length) / n)]);
  const onnxHash = createHash('sha256').update(model.onnx).digest('hex').slice(0, 16);
  const cacheFile = join(a.cache!, `${onnxHash}-${createHash('sha256').update(`${resolve(file)}:${n}`).digest('hex').slice(0, 16)}.bin`);
  const { logits, fresh } = await cachedLogits(model, picked.map((r) => r.path), cacheFile);
  log(`${file}: ${n} clips, logits ${fresh ? 'computed' : `from ${cacheFile}`}`);
  return { manifest: file, items: picked.map((r, i) => ({ text: r.text, logits: logits[i] })) };
}

function score(set: TuningSet, d: Decoding): { wer: number; cer: number } {
  const hyps = set.items.map((i) => (i.logits.length ? decodeText(i.logits, model.vocab, d) : ''));
  const refs = set.items.map((i) => i.text);
  return { wer: wer(refs, hyps).errorRate, cer: cer(refs, hyps).errorRate };
}

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}
