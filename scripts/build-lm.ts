// Builds the word bigram LM a model directory decodes with (lm.arpa) and, optionally, picks its
// fusion weight and word bonus on a tuning manifest, then records them in config.json's `decoder`.
//
//   npx tsx scripts/build-lm.ts --model <dir> --texts <file>[,<file>…] [--exclude-speakers <manifest>:<N>]
//     [--bigram-min-count 3] [--beam 16] [--weight X --word-bonus Y | --tune <manifest.jsonl>[:N]]
//
// A text file is a NeMo manifest or any JSON-lines file with a "text" field, or plain text with
// one sentence per line. `--exclude-speakers m.jsonl:5` leaves out the texts of the first five
// speakers (sorted) of that manifest — the base model's monitoring speakers — so that `--tune` on
// their audio picks the weights on transcripts the LM has not seen (`--tune m.jsonl:5` takes the
// same first five speakers). Prints one JSON object.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeText, type Decoding } from '../src/asr/decode';
import { WordLm } from '../src/asr/lm';
import { Recognizer } from '../src/asr/recognizer';
import { cer, wer } from '../src/asr/wer';
import { decodeMono } from '../src/audio/decode';
import { readManifest } from '../src/cli/eval';
import { loadModelFromDisk } from '../src/cli/model-files';
import { nodeBackend } from '../src/runtime/node';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    texts: { type: 'string' },
    'exclude-speakers': { type: 'string' },
    'bigram-min-count': { type: 'string', default: '3' },
    beam: { type: 'string', default: '16' },
    weight: { type: 'string' },
    'word-bonus': { type: 'string' },
    tune: { type: 'string' },
  },
});
if (!a.model || !a.texts) throw new Error('usage: build-lm.ts --model <dir> --texts <file>[,<file>…] [--tune <manifest> | --weight X --word-bonus Y]');

interface Line {
  text?: string;
  speaker?: string;
}
let excluded = new Set<string>();
let excludedFrom = '';
if (a['exclude-speakers']) {
  const [file, n] = a['exclude-speakers'].split(':');
  const speakers = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as Line).speaker ?? '');
  excluded = new Set([...new Set(speakers)].sort().slice(0, Number(n)));
  excludedFrom = file;
}
const texts: string[] = [];
const sources: Record<string, number> = {};
for (const file of a.texts.split(',')) {
  let n = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    if (line.trimStart().startsWith('{')) {
      const r = JSON.parse(line) as Line;
      if (typeof r.text !== 'string') continue;
      if (file === excludedFrom && r.speaker !== undefined && excluded.has(r.speaker)) continue;
      texts.push(r.text);
    } else texts.push(line);
    n++;
  }
  sources[file] = n;
}

const lm = WordLm.fromTexts(texts, { bigramMinCount: Number(a['bigram-min-count']) });
const arpa = new TextEncoder().encode(lm.toArpa());
const model = loadModelFromDisk(a.model);
const beamWidth = Number(a.beam);

let weight = a.weight !== undefined ? Number(a.weight) : 0.5;
let wordBonus = a['word-bonus'] !== undefined ? Number(a['word-bonus']) : 1.5;
const tuning: { weight: number; word_bonus: number; wer: number; cer: number }[] = [];
let greedyTune: { wer: number; cer: number } | undefined;
let tuneUtterances = 0;
if (a.tune) {
  // Logits once, then every (weight, bonus) pair decodes them.
  const rec = await Recognizer.create(nodeBackend({}), model);
  const items: { text: string; logits: Float32Array }[] = [];
  const [tuneFile, tuneSpeakers] = a.tune.split(':');
  let rows = readManifest(tuneFile);
  if (tuneSpeakers) {
    const keep = new Set([...new Set(rows.map((r) => r.speaker ?? ''))].sort().slice(0, Number(tuneSpeakers)));
    rows = rows.filter((r) => keep.has(r.speaker ?? ''));
  }
  for (const r of rows) {
    const samples = await decodeMono(new Uint8Array(readFileSync(r.path)), model.config.frontEnd.sampleRate, r.path);
    items.push({ text: r.text, logits: (await rec.logits(samples)).data });
  }
  await rec.release();
  const refs = items.map((i) => i.text);
  tuneUtterances = items.length;
  const score = (d: Decoding) => {
    const hyps = items.map((i) => (i.logits.length ? decodeText(i.logits, model.vocab, d) : ''));
    return { wer: wer(refs, hyps).errorRate, cer: cer(refs, hyps).errorRate };
  };
  greedyTune = score({ beamWidth: 1 });
  for (const w of [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0]) {
    for (const b of [0, 0.5, 1, 1.5, 2, 3]) {
      const s = score({ beamWidth, lm: { model: lm, weight: w, wordBonus: b } });
      tuning.push({ weight: w, word_bonus: b, ...s });
      process.stderr.write(`[lm] weight ${w} bonus ${b}: WER ${(100 * s.wer).toFixed(1)}%\n`);
    }
  }
  const best = tuning.reduce((x, y) => (y.wer < x.wer || (y.wer === x.wer && y.cer < x.cer) ? y : x));
  weight = best.weight;
  wordBonus = best.word_bonus;
}

writeFileSync(join(a.model, 'lm.arpa'), arpa);
const configFile = join(a.model, 'config.json');
const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
config.decoder = { beamWidth, lmWeight: weight, wordBonus };
writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
loadModelFromDisk(a.model); // the directory still validates, LM included

console.log(
  JSON.stringify({
    model: a.model,
    lm: { words: lm.vocabularySize, bigrams: lm.bigramCount, bytes: arpa.byteLength, sentences: texts.length, sources, excluded_speakers: [...excluded], bigram_min_count: Number(a['bigram-min-count']) },
    decoder: config.decoder,
    tune: a.tune ? { manifest: a.tune, utterances: tuneUtterances, greedy: greedyTune, best: tuning.find((t) => t.weight === weight && t.word_bonus === wordBonus), grid: tuning } : null,
  }),
);
