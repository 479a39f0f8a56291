// Compares decodings of one acoustic model on whole sets, with paired intervals: is decoder B
// better than decoder A on this set, or is the difference noise?
//
//   npx tsx scripts/compare-decoders.ts --models <dirA>,<dirB>[,…] --manifests <m1>[,<m2>…] [--resamples 10000] [--seed 1]
//
// Every model directory must hold the same model.onnx (so only the decoding differs: config.json's
// decoder and lm.arpa). The acoustic model runs once per clip (logits cached on disk, keyed by
// model.onnx and manifest); each directory's decoding then decodes the cached logits. Per set and
// decoding: corpus WER and CER (the project's normalization); per set and decoding after the first:
// the WER difference to the first with a percentile bootstrap interval over utterances (each
// resample draws utterances with replacement and recomputes both corpus WERs from the same draw).
// Progress on stderr; one JSON object on stdout.
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/audio/random';
import { decodeText, describeDecoding } from '../src/asr/decode';
import { alignWords, cer } from '../src/asr/wer';
import { readManifest } from '../src/cli/eval';
import { loadModelFromDisk } from '../src/cli/model-files';
import { cachedLogits } from './logits-cache';

const { values: a } = parseArgs({
  options: {
    models: { type: 'string' },
    manifests: { type: 'string' },
    resamples: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    threads: { type: 'string', default: '2' },
    cache: { type: 'string', default: join(tmpdir(), 'earshot-compare-decoders') },
  },
});
if (!a.models || !a.manifests) throw new Error('usage: compare-decoders.ts --models <dirA>,<dirB>[,…] --manifests <m1>[,<m2>…]');
const log = (m: string) => process.stderr.write(`[compare-decoders] ${m}\n`);

const dirs = a.models.split(',').map((d) => resolve(d));
const models = dirs.map((d) => loadModelFromDisk(d));
const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const onnxHash = hash(models[0].onnx);
for (let i = 1; i < models.length; i++) {
  if (hash(models[i].onnx) !== onnxHash) throw new Error(`${dirs[i]}: model.onnx differs from ${dirs[0]}'s; only decodings of one acoustic model are compared`);
}
const vocab = models[0].vocab;

const sets = [];
for (const manifest of a.manifests.split(',')) {
  const rows = readManifest(manifest);
  const logits = await logitsOf(manifest, rows);
  const refs = rows.map((r) => r.text);
  const decoded = models.map((m, i) => {
    const t = performance.now();
    const hyps = logits.map((l) => (l.length ? decodeText(l, vocab, m.decoding) : ''));
    const seconds = (performance.now() - t) / 1000;
    log(`${manifest}: ${dirs[i]} decoded in ${seconds.toFixed(1)} s`);
    return { hyps, seconds };
  });
  // per utterance: reference words and word edits, for the paired bootstrap
  // (one alignment per utterance and decoding; the corpus WER is their edits over their words, as wer() computes it)
  const aligned = decoded.map((d) => refs.map((r, u) => alignWords(r, d.hyps[u])));
  const words = aligned[0].map((x) => x.refLength);
  const edits = aligned.map((per) => per.map((x) => x.edits));
  const totalWords = words.reduce((s, x) => s + x, 0);
  const corpusWer = (i: number) => edits[i].reduce((s, x) => s + x, 0) / totalWords;
  const rand = mulberry32(Number(a.seed) >>> 0);
  const B = Number(a.resamples);
  const diffs = models.map(() => new Float64Array(B));
  for (let b = 0; b < B; b++) {
    const draw = Array.from({ length: refs.length }, () => Math.floor(rand() * refs.length));
    const total = draw.reduce((s, u) => s + words[u], 0);
    const base = draw.reduce((s, u) => s + edits[0][u], 0) / total;
    for (let i = 1; i < models.length; i++) diffs[i][b] = draw.reduce((s, u) => s + edits[i][u], 0) / total - base;
  }
  const quantile = (xs: Float64Array, q: number) => xs[Math.min(B - 1, Math.max(0, Math.ceil(q * B) - 1))];
  const results = models.map((m, i) => {
    const w = corpusWer(i);
    const entry: Record<string, unknown> = { model: dirs[i], decoding: describeDecoding(m.decoding), wer: w, cer: cer(refs, decoded[i].hyps).errorRate, decode_seconds: decoded[i].seconds };
    if (i > 0) {
      const sorted = diffs[i].slice().sort();
      entry.wer_minus_first = w - corpusWer(0);
      entry.ci95 = [quantile(sorted, 0.025), quantile(sorted, 0.975)];
    }
    log(`${manifest}: WER ${(100 * w).toFixed(1)}%${i > 0 ? ` (${(100 * (entry.wer_minus_first as number)).toFixed(1)} points vs the first, 95% interval ${(entry.ci95 as number[]).map((x) => (100 * x).toFixed(1)).join(' to ')})` : ''} — ${entry.decoding}`);
    return entry;
  });
  sets.push({ manifest, utterances: refs.length, words: totalWords, results });
}
console.log(JSON.stringify({ normalization: 'earshot text-normalize on reference and hypothesis', interval: `paired percentile bootstrap over utterances, ${a.resamples} resamples, seed ${a.seed}`, sets }));

/** Logits of every clip of a manifest, from the cache or computed once. */
async function logitsOf(manifest: string, rows: { path: string }[]): Promise<Float32Array[]> {
  const file = join(a.cache!, `${onnxHash}-${hash(new TextEncoder().encode(resolve(manifest)))}.bin`);
  const { logits, fresh } = await cachedLogits(models[0], rows.map((r) => r.path), file, Number(a.threads));
  log(`${manifest}: ${rows.length} clips, logits ${fresh ? 'computed' : `from ${file}`}`);
  return logits;
}
