// The training loop's data in the browser: utterances of the chosen datasets from IndexedDB
// (src/data), their features through the data layer's cache, static-shape batches from
// src/train/buckets. Train batches are augmented as configured, with randomness seeded per step
// so a resumed run draws what the uninterrupted run would have.
import { frameCount, mulberry32, type FrontEndConfig } from '../audio';
import { encodeText, outOfVocab, type Vocab } from '../asr/vocab';
import type { AugmentConfig } from '../data/features';
import { FeatureSource } from '../data/features';
import type { Utterance } from '../data/model';
import type { DataStore } from '../data/storage';
import { padBatch, planEpoch, planValidation, type BatchPlan, type BucketOptions } from '../train/buckets';
import type { LoopBatch, LoopData } from '../train/loop';
import type { TrainSettings } from './train-db';

export function augmentConfig(a: TrainSettings['augment']): AugmentConfig {
  return {
    speedFactors: a.speed ? [0.9, 1, 1.1] : undefined,
    noise: a.noise ? { probability: 0.5, snrDb: [10, 30] } : undefined,
    // Two frequency and two time masks (SpecAugment's LibriSpeech "LD" policy, scaled down).
    specAugment: a.specAugment ? { freqMasks: 2, freqMaskWidth: 15, timeMasks: 2, timeMaskWidth: 25, maxTimeFraction: 0.1 } : undefined,
  };
}

/**
 * What the browser's training data sources share: the chosen datasets' usable utterances from
 * IndexedDB, split into train and validation, planned into static-shape batches per epoch (in
 * 10 ms frames as `framesOf` counts them) with seeded randomness per batch. A subclass says which
 * texts its model can spell, how an utterance counts in frames, and how a planned batch loads.
 */
export abstract class IdbPlannedData<B extends LoopBatch> {
  protected readonly byId = new Map<string, Utterance>();
  train: Utterance[] = [];
  validation: Utterance[] = [];
  /** Utterances left out: text the model cannot spell, or no text at all. */
  unusable = 0;
  protected items: { id: string; frames: number }[] = [];
  private plans = new Map<number, BatchPlan[]>();
  private validationPlan: BatchPlan[] = [];

  constructor(
    protected readonly store: DataStore,
    protected readonly buckets: BucketOptions,
    protected readonly augment: AugmentConfig,
    protected readonly seed: number,
  ) {}

  /** Whether the model can learn from this transcript (its vocabulary spells all of it). */
  protected abstract spellable(text: string): boolean;
  /** The utterance's length in the frames batches are planned in. */
  protected abstract framesOf(u: Utterance): number;
  /** One planned batch, augmented (train) or not (validation), drawing randomness from `randSeed`. */
  protected abstract load(plan: BatchPlan, augmented: boolean, randSeed: number): Promise<B>;

  async init(datasetIds: readonly string[]): Promise<this> {
    for (const id of datasetIds) {
      for (const u of await this.store.listUtterances(id)) {
        // text the model cannot write (another vocabulary), or nothing to learn from, is left out
        if (!u.text || !this.spellable(u.text)) {
          this.unusable++;
          continue;
        }
        this.byId.set(u.id, u);
        if (u.split === 'validation') this.validation.push(u);
        else if (u.split === 'train') this.train.push(u);
      }
    }
    this.items = this.train.map((u) => ({ id: u.id, frames: this.framesOf(u) }));
    this.validationPlan = planValidation(this.validation.map((u) => ({ id: u.id, frames: this.framesOf(u) })), this.buckets);
    return this;
  }

  get trainSeconds(): number {
    return this.train.reduce((s, u) => s + u.duration, 0);
  }

  protected plan(epoch: number): BatchPlan[] {
    let p = this.plans.get(epoch);
    if (!p) {
      p = planEpoch(this.items, this.buckets, this.seed, epoch).batches;
      this.plans.clear(); // only the current epoch is needed
      this.plans.set(epoch, p);
    }
    return p;
  }

  /** The first training batch's plan (the trainer compiles its shape first), or an error naming why there is none. */
  protected firstPlan(none: string): BatchPlan {
    const b = this.plan(0)[0];
    if (!b) throw new Error(none);
    return b;
  }

  async epochLength(epoch: number): Promise<number> {
    return this.plan(epoch).length;
  }

  trainBatch(epoch: number, index: number): Promise<B> {
    return this.load(this.plan(epoch)[index], true, this.seed * 1_000_003 + epoch * 10_007 + index);
  }

  async validationBatches(): Promise<number> {
    return this.validationPlan.length;
  }

  validationBatch(index: number): Promise<B> {
    return this.load(this.validationPlan[index], false, 0);
  }
}

export class IdbTrainData extends IdbPlannedData<LoopBatch> implements LoopData {
  private readonly features: FeatureSource;
  /** Training utterances longer than the largest bucket (left out of every epoch). */
  tooLong = 0;

  constructor(
    store: DataStore,
    private readonly vocab: Vocab,
    private readonly frontEnd: FrontEndConfig,
    buckets: BucketOptions,
    augment: AugmentConfig,
    seed: number,
  ) {
    super(store, buckets, augment, seed);
    this.features = new FeatureSource(store, frontEnd);
  }

  protected spellable(text: string): boolean {
    return outOfVocab(this.vocab, text).length === 0;
  }

  protected framesOf(u: Utterance): number {
    return frameCount(Math.round(u.duration * this.frontEnd.sampleRate), this.frontEnd);
  }

  override async init(datasetIds: readonly string[]): Promise<this> {
    await super.init(datasetIds);
    this.tooLong = planEpoch(this.items, this.buckets, this.seed, 0).tooLong.length;
    return this;
  }

  /** The first batch's shape (the trainer compiles it first). */
  firstShape(): { batch: number; frames: number } {
    const b = this.firstPlan('no training utterances: the chosen datasets have no usable utterances in their training split');
    return { batch: b.ids.length, frames: b.frames };
  }

  protected async load(plan: BatchPlan, augmented: boolean, randSeed: number): Promise<LoopBatch> {
    const rand = mulberry32(randSeed >>> 0);
    const utts = plan.ids.map((id) => this.byId.get(id)!);
    const examples = [];
    for (const u of utts) {
      if (augmented) examples.push(await this.features.example(u, this.vocab, this.augment, rand));
      else {
        const { features } = await this.features.features(u);
        examples.push({ features: features.data, frames: features.frames, nMels: features.nMels, labels: encodeText(this.vocab, u.text) });
      }
    }
    const real = utts.slice(0, plan.real);
    return { ...padBatch(examples, plan.frames), real: plan.real, texts: real.map((u) => u.text), audioSeconds: real.reduce((s, u) => s + u.duration, 0) };
  }
}
