// Ships a trained model directory as the app's base model: evaluates it on the evaluation sets with
// the same scorer the CLI uses, writes the model card (with the pocketsphinx peer figures measured by
// scripts/peer-pocketsphinx.ts on the same sets), and copies the directory to public/models/base.
//
//   npx tsx scripts/ship-base-model.ts --from /work/earshot-data/base-run/model [--to public/models/base]
//
// A model directory with a word LM (lm.arpa and config.json's decoder, from scripts/build-lm.ts) is
// evaluated twice: with its own decoding (beam search + LM) and greedily, and the card shows both.

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { describeDecoding } from '../src/asr/decode';
import { countParameters } from '../src/asr/model';
import { loadModelFromDisk } from '../src/cli/model-files';

const { values: a } = parseArgs({
  options: {
    from: { type: 'string', default: '/work/earshot-data/base-run/model' },
    to: { type: 'string', default: 'public/models/base' },
    shared: { type: 'string', default: '../shared/speech' },
    'fsdd-limit': { type: 'string', default: '600' },
    /** The card's "Limits" paragraph: what limits this model and what would lift it. */
    limits: { type: 'string' },
    /** The card's "Training" item, when the run had a history the default line does not tell (restarts, schedules). */
    training: { type: 'string' },
    /** The card's "Training data" item. */
    'training-data': { type: 'string' },
  },
});

const SETS: { name: string; manifest: string; limit?: number; what: string }[] = [
  { name: 'speechocean762/dev', manifest: 'speechocean762/dev/manifest.jsonl', what: 'non-native (Mandarin L1) read English, 25 speakers, half children' },
  { name: 'librispeech_dev4', manifest: 'librispeech_dev4/manifest.jsonl', what: 'native read English (LibriSpeech test-clean), 4 speakers never trained on' },
  { name: 'ljspeech_coqui', manifest: 'ljspeech_coqui/manifest.jsonl', what: 'native US English audiobook reading, 32 clips, a speaker never trained on' },
  { name: 'misc_samples', manifest: 'misc_samples/manifest.jsonl', what: 'LibriSpeech, CMU ARCTIC and a famous speech, 12 clips (4 by LibriSpeech speaker 1089, who is in librispeech_train28)' },
  { name: 'fsdd', manifest: 'fsdd/manifest.jsonl', limit: Number(a['fsdd-limit']), what: 'isolated spoken digits, 8 kHz' },
];

interface EvalResult {
  wer: number;
  cer: number;
  utterances: number;
  audio_seconds: number;
  wall_seconds: number;
  x_realtime: number;
}

const from = resolve(a.from!);
const model = loadModelFromDisk(from); // validates
const hasLm = model.decoding.lm !== undefined;
const results: Record<string, EvalResult> = {};
const greedyResults: Record<string, EvalResult> = {};
for (const s of SETS) {
  const manifest = join(a.shared!, s.manifest);
  if (!existsSync(manifest)) throw new Error(`${manifest} is missing: the evaluation sets live in ../shared/speech`);
  process.stderr.write(`[ship] evaluating on ${s.name}…\n`);
  const args = ['tsx', 'src/cli/main.ts', 'eval', '--model', from, '--manifest', manifest, ...(s.limit ? ['--limit', String(s.limit)] : [])];
  const out = execFileSync('npx', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
  results[s.name] = JSON.parse(out.trim().split('\n').pop()!) as EvalResult;
  if (hasLm) {
    const g = execFileSync('npx', [...args, '--greedy'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    greedyResults[s.name] = JSON.parse(g.trim().split('\n').pop()!) as EvalResult;
  }
}

const peerFile = 'scripts/results/pocketsphinx.json';
const peer = existsSync(peerFile) ? (JSON.parse(readFileSync(peerFile, 'utf8')) as { sets?: Record<string, { wer: number; cer: number; utterances: number }> }) : undefined;
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(1)}%`);
const progress = existsSync(join(from, 'progress.json')) ? JSON.parse(readFileSync(join(from, 'progress.json'), 'utf8')) : {};
const provenance = (model.config.provenance ?? {}) as Record<string, unknown>;

const rows = SETS.map((s) => {
  const r = results[s.name];
  const p = peer?.sets?.[s.name];
  const peerN = p && p.utterances !== r.utterances ? ` (${p.utterances} clips)` : '';
  const g = greedyResults[s.name];
  const greedy = hasLm ? ` ${pct(g?.wer)} | ${pct(g?.cer)} |` : '';
  return `| ${s.name}${s.limit ? ` (first ${r.utterances})` : ''} | ${s.what} | ${r.utterances} | ${pct(r.wer)} | ${pct(r.cer)} |${greedy} ${pct(p?.wer)}${peerN} | ${pct(p?.cer)} |`;
});

const card = `# Earshot base model

A small English speech recognizer (character CTC) trained from scratch by Earshot's own training
engine on onnxruntime-node (CPU), shipped as the starting point for on-device fine-tuning.

- **Architecture**: ${model.config.arch.blocks} Conformer-style blocks (self-attention, depthwise convolution, feed-forward),
  d_model ${model.config.arch.dModel}, ${model.config.arch.heads} heads, feed-forward ${model.config.arch.ffDim}, conv kernel ${model.config.arch.convKernel},
  ×4 convolutional subsampling, ${model.config.arch.vocabSize} output tokens (blank, space, apostrophe, a–z).
  ${countParameters(model.config.arch).toLocaleString('en-US')} parameters; model.onnx ${(readFileSync(join(from, 'model.onnx')).length / 1e6).toFixed(1)} MB (float32).
- **Input**: 80 log-mel channels, 25 ms windows, 10 ms hop, 16 kHz, per-utterance normalization (config.json).
- **Training data**: ${
  a['training-data'] ??
  `real speech — speechocean762/train (non-native, Mandarin L1, adults and children; 12 of its speakers, balanced by age group and sex, held out for monitoring), librispeech_train28 (28 native LibriSpeech test-clean speakers) and train_extra (LibriSpeech train-clean-100, Common Voice and VoxForge voices) — with speed (0.9/1.0/1.1), noise and SpecAugment augmentation; earlier legs also used synthetic speech from Debian's TTS engines (scripts/corpus/README.md).`
}
  speechocean762/dev, librispeech_dev4 and the other evaluation sets below were never trained on; librispeech_dev4 (with the 12 held-out
  speechocean762/train speakers) chose which checkpoint is shipped.
- **Training**: ${a.training ?? `${progress.step ?? provenance.step ?? '?'} steps of AdamW (peak learning rate 2e-3, warmup + cosine), batches of ~80 s of audio
  padded to length buckets, global-norm clipping 5; the checkpoint with the best monitored WER was kept
  (see scripts/train-base.ts to regenerate).`}

## Accuracy

WER and CER after the project's text normalization (src/asr/text-normalize.ts: lower case, punctuation
removed, digits spelled out) of reference and hypothesis. ${
  hasLm
    ? `The model decodes as its config.json says, with the word LM in \`lm.arpa\`: ${describeDecoding(model.decoding)};
the "greedy" columns are the same acoustic model without beam search or LM (\`--greedy\`). The LM was estimated
from training text only (scripts/build-lm.ts: ../shared/text/librispeech_train_transcripts.txt.gz, whose lines identical to
any evaluation transcript were removed, and the transcripts of the base-training sets); its weight, word bonus and
unknown-word cost were picked on 100 clips each of speechocean762/dev and librispeech_dev4, so those two rows are
development figures, not held-out ones; ljspeech_coqui, misc_samples and fsdd were never tuned on.`
    : 'Greedy CTC decoding, no language model.'
}
Measured with \`npm run earshot -- eval --model public/models/base --manifest <set>/manifest.jsonl${hasLm ? ' [--greedy]' : ''}\`.
The peer is Debian's pocketsphinx with pocketsphinx-en-us (GMM-HMM acoustic model with a large n-gram language
model), run on the same audio and scored by the same scorer (scripts/peer-pocketsphinx.ts).

| set | what | utterances | Earshot WER | Earshot CER |${hasLm ? ' greedy WER | greedy CER |' : ''} pocketsphinx WER | pocketsphinx CER |
|---|---|---|---|---|---|---|${hasLm ? '---|---|' : ''}
${rows.join('\n')}

Where the pocketsphinx column names a clip count, pocketsphinx was scored on that many clips spread evenly
through the set (scripts/results/pocketsphinx.json), not on all of them.

## Limits

${a.limits ?? 'A small character model without a language model: a starting point for fine-tuning on a user\'s own voice, not a general recognizer.'}
`;

const to = resolve(a.to!);
mkdirSync(to, { recursive: true });
for (const f of ['model.onnx', 'config.json', 'tokens.txt', ...(hasLm ? ['lm.arpa'] : [])]) copyFileSync(join(from, f), join(to, f));
if (!hasLm && existsSync(join(to, 'lm.arpa'))) rmSync(join(to, 'lm.arpa'));
writeFileSync(join(to, 'README.md'), card);
writeFileSync(join(to, 'metrics.json'), JSON.stringify({ earshot: results, ...(hasLm ? { earshot_greedy: greedyResults } : {}), pocketsphinx: peer?.sets ?? null }, null, 2) + '\n');
console.log(JSON.stringify({ shipped: to, results, ...(hasLm ? { greedy: greedyResults } : {}) }));
