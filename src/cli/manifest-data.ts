// The training loop's data in Node: utterances of NeMo manifests, decoded once and kept in memory,
// features computed per batch (augmented for training), batches planned by src/train/buckets
// exactly as the browser's IdbTrainData plans them.
import { readFileSync } from 'node:fs';
import { addNoise, decodeMono, frameCount, logMel, mulberry32, specAugment, speedPerturb, type FrontEndConfig } from '../audio';
import { normalizeText } from '../asr/text-normalize';
import { encodeText, outOfVocab, type Vocab } from '../asr/vocab';
import { padBatch, planEpoch, planValidation, type BatchPlan, type BucketOptions } from '../train/buckets';
import type { LoopBatch, LoopData } from '../train/loop';
import { readManifest, type ManifestRow } from './eval';

export interface ManifestUtterance {
  id: string;
  /** Its index in the rows it was loaded from. */
  row: number;
  text: string;
  samples: Float32Array;
  seconds: number;
}

export interface Augmentation {
  specAugment: boolean;
  speed: boolean;
  noise: boolean;
}

/** Reads and decodes a manifest; utterances the vocabulary cannot write are reported and left out. */
export async function loadManifest(file: string, vocab: Vocab, sampleRate: number, warn: (m: string) => void): Promise<ManifestUtterance[]> {
  return loadRows(readManifest(file), vocab, sampleRate, warn);
}

/** Decodes manifest rows (readManifest's); utterances the vocabulary cannot write are reported and left out. */
export async function loadRows(rows: ManifestRow[], vocab: Vocab, sampleRate: number, warn: (m: string) => void): Promise<ManifestUtterance[]> {
  const out: ManifestUtterance[] = [];
  for (const [i, r] of rows.entries()) {
    const text = normalizeText(r.text);
    const bad = outOfVocab(vocab, text);
    if (!text || bad.length) {
      warn(`${r.path}: ${!text ? 'empty transcript' : `characters outside the vocabulary: ${bad.join(' ')}`}; left out`);
      continue;
    }
    try {
      let samples = await decodeMono(new Uint8Array(readFileSync(r.path)), sampleRate, r.path);
      if (r.offset || r.duration) {
        const start = Math.round((r.offset ?? 0) * sampleRate);
        samples = samples.subarray(start, r.duration ? start + Math.round(r.duration * sampleRate) : undefined);
      }
      out.push({ id: `${i}:${r.path}`, row: i, text, samples, seconds: samples.length / sampleRate });
    } catch (e) {
      warn(`${r.path}: ${(e as Error).message}; left out`);
    }
  }
  return out;
}

export class ManifestTrainData implements LoopData {
  private readonly byId = new Map<string, ManifestUtterance>();
  private readonly items: { id: string; frames: number }[];
  private readonly validationPlan: BatchPlan[];
  private cached?: { epoch: number; plan: BatchPlan[] };

  constructor(
    readonly train: ManifestUtterance[],
    readonly validation: ManifestUtterance[],
    private readonly vocab: Vocab,
    private readonly frontEnd: FrontEndConfig,
    private readonly buckets: BucketOptions,
    private readonly augment: Augmentation,
    private readonly seed: number,
  ) {
    for (const u of [...train, ...validation]) this.byId.set(u.id, u);
    const frames = (u: ManifestUtterance) => frameCount(u.samples.length, frontEnd);
    this.items = train.map((u) => ({ id: u.id, frames: frames(u) }));
    this.validationPlan = planValidation(validation.map((u) => ({ id: u.id, frames: frames(u) })), buckets);
  }

  private plan(epoch: number): BatchPlan[] {
    if (this.cached?.epoch !== epoch) this.cached = { epoch, plan: planEpoch(this.items, this.buckets, this.seed, epoch).batches };
    return this.cached.plan;
  }

  firstShape(): { batch: number; frames: number } {
    const b = this.plan(0)[0];
    if (!b) throw new Error('no training utterances fit the length buckets');
    return { batch: b.ids.length, frames: b.frames };
  }

  async epochLength(epoch: number): Promise<number> {
    return this.plan(epoch).length;
  }

  private load(plan: BatchPlan, augmented: boolean, seed: number): LoopBatch {
    const rand = mulberry32(seed >>> 0);
    const utts = plan.ids.map((id) => this.byId.get(id)!);
    const examples = utts.map((u) => {
      let x = u.samples;
      if (augmented && this.augment.speed) x = speedPerturb(x, [0.9, 1, 1.1][Math.floor(rand() * 3)], this.frontEnd.sampleRate);
      if (augmented && this.augment.noise && rand() < 0.5) x = addNoise(x, 10 + 20 * rand(), rand);
      let f = logMel(x, this.frontEnd);
      if (augmented && this.augment.specAugment) f = specAugment(f, { freqMasks: 2, freqMaskWidth: 15, timeMasks: 2, timeMaskWidth: 25, maxTimeFraction: 0.1 }, rand);
      return { features: f.data, frames: f.frames, nMels: f.nMels, labels: encodeText(this.vocab, u.text) };
    });
    const real = utts.slice(0, plan.real);
    return { ...padBatch(examples, plan.frames), real: plan.real, texts: real.map((u) => u.text), audioSeconds: real.reduce((s, u) => s + u.seconds, 0) };
  }

  async trainBatch(epoch: number, index: number): Promise<LoopBatch> {
    return this.load(this.plan(epoch)[index], true, this.seed * 1_000_003 + epoch * 10_007 + index);
  }

  async validationBatches(): Promise<number> {
    return this.validationPlan.length;
  }

  async validationBatch(index: number): Promise<LoopBatch> {
    return this.load(this.validationPlan[index], false, 0);
  }
}
