// Fine-tuning a model from elsewhere in the train worker (issue 12): the loop of src/train/loop.ts
// over batches in the model's own input format, LoRA on the projection kinds the user picked, and
// the result stored in the layout the model came in (ForeignModel.exportFiles) with its adapter.
//
// Data: the chosen datasets' utterances whose transcripts the model's vocabulary can spell, their
// audio decoded from IndexedDB and put through the model's own front end (FrontEndRunner via
// ForeignModel.features: wav2vec2's normalised waveform, NeMo's log-mel) in this worker, padded
// into static-shape buckets (src/train/buckets.ts, planned in 10 ms frames as for our models).
// Speed and noise augmentation act on the waveform as for our models; SpecAugment is not applied
// (it masks log-mel features, which a waveform model does not take).
import { GREEDY } from '../asr/decode';
import { addNoise, mulberry32, speedPerturb } from '../audio';
import { utteranceSamples, type AugmentConfig } from '../data/features';
import type { Utterance } from '../data/model';
import type { DataStore } from '../data/storage';
import { fileSetFromBlobs } from '../foreign/files';
import { ADAPTER_FILE, ForeignModel, type ForeignExample } from '../foreign/foreign-model';
import type { ForeignBatch, ForeignCtcTrainer } from '../foreign/foreign-trainer';
import type { Checkpoint } from '../runtime/checkpoint';
import type { HostTensor } from '../runtime/types';
import type { BatchPlan, BucketOptions } from '../train/buckets';
import type { CtcBatch, CtcStepResult } from '../train/ctc-trainer';
import { withLoss, type Metrics } from '../train/export';
import type { LoopBatch } from '../train/loop';
import { summarizeForeign } from './asr-models';
import { exampleDims, foreignBackendSubject, foreignDecoding, foreignTranscriber, type StoredForeign } from './foreign-models';
import { metricsOf, scoreOnValidation, validationUtterances } from './score-model';
import { augmentConfig, IdbPlannedData } from './train-data';
import { appDb, defaultProjections, type StoredModel } from './train-db';
import { makeBackend, type JobData, type JobOptions, type JobTrainer, type TrainJob } from './train-job';

/** A loop batch that also carries the model's own inputs. */
type ForeignLoopBatch = LoopBatch & { foreign: ForeignBatch };

const foreignOf = (b: CtcBatch) => (b as ForeignLoopBatch).foreign;

/** The loop's view of a ForeignCtcTrainer. */
class ForeignLoopTrainer implements JobTrainer {
  constructor(
    readonly t: ForeignCtcTrainer,
    private readonly model: ForeignModel,
  ) {}
  step(b: CtcBatch, lr: number): Promise<CtcStepResult> {
    return this.t.step(foreignOf(b), lr);
  }
  logits(b: CtcBatch): Promise<HostTensor> {
    return this.t.scores(foreignOf(b).inputs);
  }
  exportState(metadata?: Record<string, string>): Promise<Checkpoint> {
    return this.t.trainer.exportState(metadata);
  }
  importState(c: Checkpoint): void {
    this.t.trainer.importState(c);
  }
  async dispose(): Promise<void> {
    await this.t.dispose();
    await this.model.release();
  }
}

export class IdbForeignData extends IdbPlannedData<ForeignLoopBatch> implements JobData {
  private trainer?: ForeignCtcTrainer;

  constructor(
    store: DataStore,
    private readonly model: ForeignModel,
    buckets: BucketOptions,
    augment: AugmentConfig,
    seed: number,
  ) {
    super(store, buckets, augment, seed);
  }

  protected spellable(text: string): boolean {
    return this.model.unspellable(text).length === 0;
  }

  /** Planned in 10 ms frames (+1: a centred log-mel has one frame more than duration / hop). */
  protected framesOf(u: Utterance): number {
    return Math.ceil(u.duration * 100) + 1;
  }

  /** Output frames per item come from the trainer's own shape arithmetic. */
  useTrainer(t: ForeignCtcTrainer): void {
    this.trainer = t;
  }

  /** A bucket's padded input length: samples for a waveform model, feature frames for log-mel. */
  private padTo(frames: number): number {
    const fe = this.model.description.frontEnd;
    return fe.kind === 'waveform' ? Math.round((frames * fe.sampleRate) / 100) : Math.round((frames * fe.config.sampleRate) / fe.config.hopLength / 100);
  }

  /** The first batch's input dims (the trainer compiles them first). */
  firstDims(): Record<string, { dims: number[] }> {
    const b = this.firstPlan('no training utterances: the chosen datasets have no utterances in their training split that this model\'s vocabulary can spell');
    const dims = exampleDims(this.model.description, this.padTo(b.frames), b.ids.length);
    return Object.fromEntries(Object.entries(dims).map(([k, d]) => [k, { dims: d }]));
  }

  protected async load(plan: BatchPlan, augmented: boolean, randSeed: number): Promise<ForeignLoopBatch> {
    const rand = mulberry32(randSeed >>> 0);
    const sr = this.model.sampleRate;
    const utts = plan.ids.map((id) => this.byId.get(id)!);
    const examples: ForeignExample[] = [];
    for (const u of utts) {
      let samples = await utteranceSamples(await this.store.getAudio(u.id), u, sr);
      if (augmented) {
        const a = this.augment;
        const speed = a.speedFactors?.length ? a.speedFactors[Math.floor(rand() * a.speedFactors.length)] : 1;
        if (speed !== 1) samples = speedPerturb(samples, speed, sr);
        if (a.noise && rand() < a.noise.probability) samples = addNoise(samples, a.noise.snrDb[0] + rand() * (a.noise.snrDb[1] - a.noise.snrDb[0]), rand, { noise: a.noise.noise });
      }
      examples.push({ input: this.model.features(samples), text: u.text });
    }
    const padTo = Math.max(this.padTo(plan.frames), ...examples.map((e) => e.input.length));
    const foreign = this.model.batch(this.trainer!, examples, padTo);
    const real = utts.slice(0, plan.real);
    return {
      features: new Float32Array(0),
      batch: examples.length,
      frames: padTo,
      lengths: examples.map((e) => e.input.length),
      targets: foreign.targets,
      outputLengths: foreign.outputLengths,
      real: plan.real,
      texts: real.map((u) => u.text),
      audioSeconds: real.reduce((s, u) => s + u.duration, 0),
      foreign,
    };
  }
}

const blobs = (files: Map<string, Uint8Array>) => Object.fromEntries([...files].map(([path, bytes]) => [path, new Blob([bytes as BlobPart])]));

/** A stored model from elsewhere, fine-tuned with LoRA on the projection kinds the settings pick. */
export async function foreignJob(o: JobOptions, m: StoredModel, store: DataStore): Promise<TrainJob> {
  const stored = m.foreign!;
  const s = o.settings;
  const backend = o.backendInstance ?? (await makeBackend(o.backend, foreignBackendSubject(o.modelId, stored), o.asker));
  const model = await ForeignModel.open(fileSetFromBlobs(Object.entries(stored.files).map(([path, file]) => ({ path, file }))), backend, { onnx: stored.onnx });
  const aug = o.measuring ? augmentConfig({ specAugment: false, speed: false, noise: false }) : augmentConfig({ ...s.augment, specAugment: false });
  const data = await new IdbForeignData(store, model, { batchSeconds: o.measuring ? Math.min(8, s.batchSeconds) : s.batchSeconds, stretch: !o.measuring && s.augment.speed ? 1.12 : 1 }, aug, s.seed).init(o.datasetIds);
  const lora = s.adapter.kind === 'lora' ? s.adapter : { rank: 8, alpha: 16 };
  const found = stored.card.projections;
  const targets = (s.projections ?? defaultProjections(found)).filter((k) => found.some((p) => p.kind === k));
  const trainer = await model.createTrainer({ targets, rank: lora.rank, alpha: lora.alpha, seed: s.seed, optimizer: o.optimizer, clipNorm: o.clipNorm }, data.firstDims());
  data.useTrainer(trainer);
  const loop = new ForeignLoopTrainer(trainer, model);
  return {
    backend,
    data,
    trainer: loop,
    vocab: model.vocab.vocab,
    baseDecoding: GREEDY,
    decoding: GREEDY,
    async save(c) {
      const pos = c.position;
      const exp = await model.exportFiles(trainer, { base_model_name: m.name });
      const adapter = exp.files.get(ADAPTER_FILE);
      exp.files.delete(ADAPTER_FILE);
      const files = blobs(exp.files);
      const card = { ...stored.card, onnx: exp.onnx, precision: 'full' as const, leftOut: [], bytes: exp.files.get(exp.onnx)!.length };
      const next: StoredForeign = { kind: stored.kind, files, onnx: exp.onnx, card, decoding: stored.decoding };
      // The card's WER/CER: both models transcribe the validation utterances alone, as Evaluate does.
      let metrics: { base?: Metrics; fineTuned?: Metrics } = { base: c.saved.baseMetrics, fineTuned: c.lastEval ?? c.saved.fineTunedMetrics };
      try {
        const utts = await validationUtterances(c.store, c.record.datasetIds);
        if (utts.length) {
          const audio = new Map<string, Float32Array>();
          const score = async (sf: StoredForeign) => {
            const rec = foreignTranscriber(await ForeignModel.open(fileSetFromBlobs(Object.entries(sf.files).map(([path, file]) => ({ path, file }))), backend, { onnx: sf.onnx }), foreignDecoding(sf));
            try {
              return metricsOf(await scoreOnValidation(rec, c.store, utts, { audio }), summarizeForeign('', '', 'imported', sf).decoding);
            } finally {
              await rec.release();
            }
          };
          metrics = { base: withLoss(await score(stored), metrics.base), fineTuned: withLoss(await score(next), metrics.fineTuned) };
        }
      } catch (e) {
        console.warn('measuring the fine-tuned model failed; the card keeps the training estimates:', e);
      }
      const kinds = targets.join(', ');
      const pct = (x?: number) => (x === undefined || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(1)}%`);
      next.metrics = metrics;
      next.note = [
        `# ${m.name}, fine-tuned with Earshot`,
        '',
        `LoRA rank ${lora.rank}, alpha ${lora.alpha}, on ${kinds} (merged into the weights); ${pos.step} steps (${pos.skipped} skipped) at peak learning rate ${s.peakLr} on ${c.datasetNames.join(', ')}: ${data.train.length} training utterances (${(data.trainSeconds / 60).toFixed(1)} min), ${data.validation.length} validation utterances; ${c.record.backend ?? backend.info.name}.`,
        '',
        `Validation WER ${pct(metrics.base?.wer)} → ${pct(metrics.fineTuned?.wer)}, CER ${pct(metrics.base?.cer)} → ${pct(metrics.fineTuned?.cer)}${metrics.fineTuned?.decoding ? ` (${metrics.fineTuned.decoding})` : ''}.`,
        '',
        exp.note,
        ...(exp.leftOut.length ? ['', `Not in the export: ${exp.leftOut.map((l) => `${l.path} (${l.reason})`).join('; ')}.`] : []),
      ].join('\n');
      const modelId = crypto.randomUUID();
      const name = `${m.name} + ${c.datasetNames.join(', ')} (${pos.step} steps)`;
      await (await appDb()).put('models', { id: modelId, name, source: 'fine-tuned', createdAt: Date.now(), files: {}, foreign: next, adapter });
      return { modelId, metrics };
    },
  };
}
