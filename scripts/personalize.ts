// The personalization experiment: for each speaker of speechocean762/dev, fine-tune the base model
// on 10 of their utterances and evaluate on their other 10, with the same fine-tuning code as the
// app and `earshot finetune`. Prints one JSON object: mean WER before and after, the relative
// reduction, and training time per speaker.
//
//   npx tsx scripts/personalize.ts [--model public/models/base] [--skip-speakers K] [--speakers N] [--steps N] [--lr X] [--speed] [--greedy] [--personal-lm-share X]
//     [--adapter lora|bottleneck|last-layers] [--rank N (LoRA rank, bottleneck width or layer count)] [--targets q,v,ff1,ff2]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { finetune } from '../src/cli/finetune';
import { adapterChoice } from '../src/train/adapters';
import { loadModelFromDisk } from '../src/cli/model-files';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/models/base' },
    manifest: { type: 'string', default: '../shared/speech/speechocean762/dev/manifest.jsonl' },
    speakers: { type: 'string' },
    'skip-speakers': { type: 'string', default: '0' },
    speed: { type: 'boolean', default: false },
    greedy: { type: 'boolean', default: false },
    'personal-lm-share': { type: 'string' },
    steps: { type: 'string', default: '40' },
    adapter: { type: 'string', default: 'lora' },
    lr: { type: 'string', default: '1e-3' },
    rank: { type: 'string', default: '8' },
    targets: { type: 'string', default: 'q,v,ff1,ff2' },
    'batch-seconds': { type: 'string', default: '40' },
  },
});

interface Row { audio_filepath: string; text: string; speaker: string; duration: number }
const manifest = resolve(a.manifest!);
const rows = readFileSync(manifest, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
const bySpeaker = new Map<string, Row[]>();
for (const r of rows) bySpeaker.set(r.speaker, [...(bySpeaker.get(r.speaker) ?? []), { ...r, audio_filepath: resolve(dirname(manifest), r.audio_filepath) }]);
const skip = Number(a['skip-speakers']);
const speakers = [...bySpeaker.keys()].sort().slice(skip, a.speakers ? skip + Number(a.speakers) : undefined);
const base = loadModelFromDisk(a.model!);
const tmp = mkdtempSync(join(tmpdir(), 'earshot-personalize-'));
const write = (name: string, rs: Row[]) => {
  const f = join(tmp, name);
  writeFileSync(f, rs.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return f;
};

// --rank is the LoRA rank, the bottleneck width or the number of last layers, as the adapter needs
const adapter = adapterChoice({ adapter: a.adapter!, rank: Number(a.rank), targets: a.targets!, dim: Number(a.rank), layers: Number(a.rank) });
let decoding = '';
const per: { speaker: string; wer_before: number; wer_after: number; cer_before: number; cer_after: number; train_seconds: number; steps: number }[] = [];
for (const sp of speakers) {
  // the first 10 utterances (manifest order) train, the other 10 test
  const utts = bySpeaker.get(sp)!;
  const r = await finetune(
    {
      model: a.model!,
      train: write(`${sp}-train.jsonl`, utts.slice(0, 10)),
      val: write(`${sp}-test.jsonl`, utts.slice(10, 20)),
      out: join(tmp, `${sp}-model`),
      adapter,
      steps: Number(a.steps),
      lr: Number(a.lr),
      batchSeconds: Number(a['batch-seconds']),
      seed: 1,
      augment: { specAugment: true, speed: a.speed!, noise: false },
      verbose: false,
      greedy: a.greedy,
      personalLmShare: a['personal-lm-share'] !== undefined ? Number(a['personal-lm-share']) : undefined,
    },
    base,
  );
  decoding = r.decoding;
  per.push({ speaker: sp, wer_before: r.val_wer_before!, wer_after: r.val_wer_after!, cer_before: r.val_cer_before!, cer_after: r.val_cer_after!, train_seconds: r.train_seconds, steps: r.steps });
  process.stderr.write(`[personalize] speaker ${sp}: WER ${(100 * r.val_wer_before!).toFixed(1)}% → ${(100 * r.val_wer_after!).toFixed(1)}%, CER ${(100 * r.val_cer_before!).toFixed(1)}% → ${(100 * r.val_cer_after!).toFixed(1)}% in ${r.train_seconds.toFixed(1)} s\n`);
}
rmSync(tmp, { recursive: true, force: true });
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const before = mean(per.map((p) => p.wer_before));
const after = mean(per.map((p) => p.wer_after));
console.log(
  JSON.stringify({
    set: 'speechocean762/dev',
    model: a.model,
    speakers: per.length,
    protocol: `per speaker: ${a.adapter} fine-tune on the first 10 utterances, evaluate on the other 10 (WER and CER after text normalization)`,
    decoding,
    skipped_speakers: skip,
    settings: { adapter: a.adapter, steps: Number(a.steps), speed_perturbation: a.speed, lr: Number(a.lr), rank: Number(a.rank), targets: a.targets, batch_seconds: Number(a['batch-seconds']) },
    mean_wer_before: before,
    mean_wer_after: after,
    relative_wer_reduction: (before - after) / before,
    mean_cer_before: mean(per.map((p) => p.cer_before)),
    mean_cer_after: mean(per.map((p) => p.cer_after)),
    relative_cer_reduction: (mean(per.map((p) => p.cer_before)) - mean(per.map((p) => p.cer_after))) / mean(per.map((p) => p.cer_before)),
    mean_train_seconds_per_speaker: mean(per.map((p) => p.train_seconds)),
    backend: `onnxruntime-node CPU (${cpus().length} cores, ${cpus()[0]?.model})`,
    per_speaker: per,
  }),
);
