// earshot personalize: does fine-tuning on a speaker's own takes help them, and by how much, as
// the takes accumulate? For each speaker of a manifest, a fixed test set (their last utterances,
// planSpeaker's rule) is transcribed by the base model and by the model adapted on their first n
// utterances for each size n — adapted with the one recipe (src/train/recipe.ts) and adopted only
// if it is better on held-out takes (src/train/adoption.ts), as the app does. Progress goes to
// stderr; the last stdout line is one JSON object (scripts/plot-personalization.ts plots it).
import { cpus } from 'node:os';
import { describeDecoding, GREEDY } from '../asr/decode';
import { readModelDir, type LoadedModel } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { cer, wer } from '../asr/wer';
import { nodeBackend } from '../runtime/node';
import { ADOPTION_MIN_HELD_OUT, ADOPTION_TOLERANCE, adoptionVerdict, splitHeldOut, type AdoptionReason } from '../train/adoption';
import { fineTunedModelDir, type Metrics } from '../train/export';
import { stepsFor, type Recipe } from '../train/recipe';
import { readManifest, type ManifestRow } from './eval';
import { adapt, fineTuneRecord } from './finetune';
import { loadRows, type ManifestUtterance } from './manifest-data';
import { loadModelFromDisk } from './model-files';
import { DEFAULT_TEST, planSpeaker, relativeChange, summarizeChanges, vocabularyOf, vocabularySplit, type WordClassErrors } from './personalize-stats';

export const DEFAULT_SIZES = [5, 10, 20, 50, 100, 200];

export interface PersonalizeOptions {
  model: string;
  manifest: string;
  /** Speaker ids (the manifest's "speaker"); default all, sorted. */
  speakers?: string[];
  sizes: number[];
  /** Test utterances per speaker; default planSpeaker's rule. */
  test?: number;
  recipe: Recipe;
  /** Fixed steps for every size (default: the recipe's, scaled with the takes trained on). */
  steps?: number;
  seed: number;
  threads?: number;
  greedy?: boolean;
  log?: (m: string) => void;
}

interface Scored {
  wer: number;
  cer: number;
  own: WordClassErrors;
  other: WordClassErrors;
}

export interface SizeResult {
  n: number;
  /** Takes trained on and held out (every holdoutEvery-th of the n). */
  trained: number;
  held_out: number;
  own_vocabulary_words: number;
  steps: number;
  train_seconds: number;
  wer_before: number;
  wer_after: number;
  cer_before: number;
  cer_after: number;
  relative_wer_change: number | null;
  own_vocab: { words: number; wer_before: number | null; wer_after: number | null; relative_change: number | null };
  other_vocab: { words: number; wer_before: number | null; wer_after: number | null; relative_change: number | null };
  held_out_before?: Metrics;
  held_out_after?: Metrics;
  adopted: boolean;
  adoption: AdoptionReason;
  /** The test WER/CER of the model the user ends up with: the adapted one if adopted, else the base. */
  wer_adopted: number;
  cer_adopted: number;
  relative_wer_change_adopted: number | null;
}

export interface SpeakerResult {
  speaker: string;
  utterances: number;
  test_utterances: number;
  test_words: number;
  test_audio_seconds: number;
  skipped_sizes: number[];
  left_out: number;
  wer_base: number;
  cer_base: number;
  sizes: SizeResult[];
}

export async function personalize(o: PersonalizeOptions, base: LoadedModel = loadModelFromDisk(o.model)): Promise<Record<string, unknown>> {
  const log = o.log ?? (() => undefined);
  const t0 = performance.now();
  const sr = base.config.frontEnd.sampleRate;
  const rows = readManifest(o.manifest);
  const bySpeaker = new Map<string, ManifestRow[]>();
  for (const r of rows) if (r.speaker !== undefined) bySpeaker.set(String(r.speaker), [...(bySpeaker.get(String(r.speaker)) ?? []), r]);
  if (bySpeaker.size === 0) throw new Error(`${o.manifest}: no rows name a "speaker"`);
  const missing = (o.speakers ?? []).filter((s) => !bySpeaker.has(s));
  if (missing.length) throw new Error(`speakers not in ${o.manifest}: ${missing.join(', ')} (it has ${[...bySpeaker.keys()].sort().slice(0, 20).join(', ')}${bySpeaker.size > 20 ? ', …' : ''})`);
  const speakers = o.speakers ?? [...bySpeaker.keys()].sort();
  const decoding = o.greedy ? GREEDY : undefined;
  const backend = nodeBackend({ threads: o.threads });
  const transcribe = async (model: LoadedModel, utts: ManifestUtterance[]) => {
    const rec = await Recognizer.create(backend, model);
    try {
      const hyps: string[] = [];
      for (const u of utts) hyps.push(await rec.transcribeSamples(u.samples, { decoding }));
      return hyps;
    } finally {
      await rec.release();
    }
  };
  const score = (refs: string[], hyps: string[], own: Set<string>): Scored => {
    const split = vocabularySplit(refs, hyps, own);
    return { wer: wer(refs, hyps).errorRate, cer: cer(refs, hyps).errorRate, own: split.own, other: split.other };
  };

  const results: SpeakerResult[] = [];
  for (const sp of speakers) {
    const all = bySpeaker.get(sp)!;
    const plan = planSpeaker(all.length, o.sizes, o.test);
    if (plan.skipped.length) log(`speaker ${sp}: ${all.length} utterances, ${plan.test} test; sizes ${plan.skipped.join(', ')} skipped (more than the ${plan.adaptable} before the test set)`);
    let leftOut = 0;
    const warn = (m: string) => {
      leftOut++;
      log(`speaker ${sp}: ${m}`);
    };
    const test = await loadRows(all.slice(all.length - plan.test), base.vocab, sr, warn);
    const maxN = Math.max(0, ...plan.sizes);
    // the first maxN rows; size n takes those of rows [0, n) that loaded
    const pool = await loadRows(all.slice(0, maxN), base.vocab, sr, warn);
    const refs = test.map((u) => u.text);
    const baseHyps = await transcribe(base, test);
    const baseAll = score(refs, baseHyps, new Set());
    const result: SpeakerResult = {
      speaker: sp,
      utterances: all.length,
      test_utterances: test.length,
      test_words: wer(refs, baseHyps).refLength,
      test_audio_seconds: +test.reduce((s, u) => s + u.seconds, 0).toFixed(1),
      skipped_sizes: plan.skipped,
      left_out: 0,
      wer_base: baseAll.wer,
      cer_base: baseAll.cer,
      sizes: [],
    };
    log(`speaker ${sp}: ${test.length} test utterances (${result.test_words} words), base WER ${(100 * baseAll.wer).toFixed(1)}%, CER ${(100 * baseAll.cer).toFixed(1)}%`);
    for (const n of plan.sizes) {
      const takes = pool.filter((u) => u.row < n);
      const { train, heldOut } = splitHeldOut(takes, o.recipe.holdoutEvery);
      const steps = o.steps ?? stepsFor(train.length, o.recipe);
      log(`speaker ${sp}, n = ${n}: training on ${train.length}, holding out ${heldOut.length}, ${steps} steps`);
      const a = await adapt(base, train, heldOut, { recipe: o.recipe, steps, seed: o.seed, threads: o.threads, greedy: o.greedy });
      const verdict = adoptionVerdict(a.before, a.after);
      const record = fineTuneRecord({ modelDir: o.model, base, datasets: [`${o.manifest} speaker ${sp}, first ${n}`], train, val: heldOut, recipe: o.recipe, adapted: a });
      const adapted = readModelDir(fineTunedModelDir(base, a.weights, o.recipe.adapter, record, a.personal));
      const hyps = await transcribe(adapted, test);
      const own = vocabularyOf(train.map((u) => u.text));
      const before = score(refs, baseHyps, own);
      const after = score(refs, hyps, own);
      const cls = (b: WordClassErrors, f: WordClassErrors) => ({ words: b.words, wer_before: b.wer, wer_after: f.wer, relative_change: relativeChange(b.wer, f.wer) });
      const r: SizeResult = {
        n,
        trained: train.length,
        held_out: heldOut.length,
        own_vocabulary_words: own.size,
        steps: a.steps,
        train_seconds: +a.trainSeconds.toFixed(2),
        wer_before: before.wer,
        wer_after: after.wer,
        cer_before: before.cer,
        cer_after: after.cer,
        relative_wer_change: relativeChange(before.wer, after.wer),
        own_vocab: cls(before.own, after.own),
        other_vocab: cls(before.other, after.other),
        held_out_before: a.before,
        held_out_after: a.after,
        adopted: verdict.adopt,
        adoption: verdict.reason,
        wer_adopted: verdict.adopt ? after.wer : before.wer,
        cer_adopted: verdict.adopt ? after.cer : before.cer,
        relative_wer_change_adopted: verdict.adopt ? relativeChange(before.wer, after.wer) : 0,
      };
      result.sizes.push(r);
      const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
      log(
        `speaker ${sp}, n = ${n}: WER ${pct(r.wer_before)} → ${pct(r.wer_after)} (${pct(r.relative_wer_change)} relative), CER ${pct(r.cer_before)} → ${pct(r.cer_after)}; ` +
          `own words (${r.own_vocab.words}) ${pct(r.own_vocab.wer_before)} → ${pct(r.own_vocab.wer_after)}, other words ${pct(r.other_vocab.wer_before)} → ${pct(r.other_vocab.wer_after)}; ` +
          `${r.train_seconds.toFixed(1)} s training; held out ${a.before ? `WER ${pct(a.before.wer)} → ${pct(a.after!.wer)}, CER ${pct(a.before.cer)} → ${pct(a.after!.cer)}, loss ${a.before.loss?.toFixed(3)} → ${a.after!.loss?.toFixed(3)}` : 'none'}: ${verdict.adopt ? 'adopted' : 'kept the base'} (${verdict.reason})`,
      );
    }
    result.left_out = leftOut;
    results.push(result);
  }

  const sizes = [...new Set(results.flatMap((s) => s.sizes.map((r) => r.n)))].sort((x, y) => x - y);
  const byN = sizes.map((n) => {
    const rs = results.flatMap((s) => s.sizes.filter((r) => r.n === n));
    const classSummary = (pick: (r: SizeResult) => SizeResult['own_vocab']) =>
      summarizeChanges(
        rs.map(pick).filter((c) => c.wer_before !== null && c.wer_after !== null).map((c) => ({ before: c.wer_before!, after: c.wer_after! })),
        o.seed,
      );
    return {
      n,
      speakers: rs.length,
      raw: summarizeChanges(rs.map((r) => ({ before: r.wer_before, after: r.wer_after })), o.seed),
      with_adoption: summarizeChanges(rs.map((r) => ({ before: r.wer_before, after: r.wer_adopted })), o.seed),
      adopted: rs.filter((r) => r.adopted).length,
      own_vocab: classSummary((r) => r.own_vocab),
      other_vocab: classSummary((r) => r.other_vocab),
      cer: summarizeChanges(rs.map((r) => ({ before: r.cer_before, after: r.cer_after })), o.seed),
      mean_train_seconds: rs.reduce((s, r) => s + r.train_seconds, 0) / Math.max(1, rs.length),
      mean_steps: rs.reduce((s, r) => s + r.steps, 0) / Math.max(1, rs.length),
    };
  });
  const baseDecoding = describeDecoding(o.greedy ? GREEDY : base.decoding);
  return {
    command: 'earshot personalize',
    manifest: o.manifest,
    model: o.model,
    model_step: (base.config.provenance as { step?: number } | undefined)?.step ?? null,
    speakers: results.length,
    sizes: o.sizes,
    protocol:
      `per speaker: the last ${o.test ?? `${DEFAULT_TEST} (half the utterances for speakers with fewer than ${2 * DEFAULT_TEST})`} utterances (manifest order) test; ` +
      `for each size n the first n adapt, every ${o.recipe.holdoutEvery || '—'}th of them held out for the adoption decision and the rest trained on; ` +
      'sizes beyond what precedes the test set are skipped',
    adoption_rule:
      `adopted when, on the held-out takes only, the mean per-token CTC loss is lower than the base model's and WER and CER are not worse by more than ${100 * ADOPTION_TOLERANCE}% relative, and only with at least ${ADOPTION_MIN_HELD_OUT} held-out takes (src/train/adoption.ts)`,
    normalization: 'earshot text-normalize (Whisper-English-like) on reference and hypothesis',
    decoding: o.greedy
      ? 'greedy (best path), base and adapted'
      : `${baseDecoding}; the adapted model decodes as it is exported: the same, with its LM mixed with an LM of the transcripts it trained on (share ${o.recipe.personalLmShare})`,
    own_vocabulary: 'test reference words that occur in the transcripts the adapted model trained on; insertions count with the reference word before them',
    relative_change: '(after − before) / before per speaker; negative is better. Interval: percentile bootstrap of the mean over speakers, 10,000 resamples, seeded',
    recipe: { ...o.recipe, steps_rule: o.steps !== undefined ? `fixed ${o.steps}` : `stepsFor(trained takes): ${o.recipe.steps} at 10 takes, × √(n/10), within [20, 200]` },
    seed: o.seed,
    backend: `onnxruntime-node CPU (${cpus().length} cores, ${cpus()[0]?.model ?? '?'}${o.threads ? `, ${o.threads} threads` : ''})`,
    by_n: byN,
    per_speaker: results,
    wall_seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
}
