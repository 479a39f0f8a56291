// Features for an utterance: decode → mono → 16 kHz → (segment) → optional wave augmentation →
// log-mel → optional SpecAugment. Un-augmented features are cached in IndexedDB, keyed by audio hash
// + segment + front-end config, so each is computed once; wave augmentation (speed, noise)
// changes the signal, so an augmented example is computed fresh from the cached audio.
import { addNoise, DEFAULT_FRONTEND, decodeMono, logMel, specAugment, speedPerturb, type Features, type FrontEndConfig, type Random, type SpecAugmentConfig } from '../audio';
import { encodeText, type Vocab } from '../asr/vocab';
import type { Example } from './batching';
import type { Utterance } from './model';
import { configKey, featureKey, type DataStore } from './storage';

export interface AugmentConfig {
  /** Speed factors drawn uniformly per example, e.g. [0.9, 1, 1.1]. */
  speedFactors?: number[];
  /** Add white noise with this probability at an SNR drawn from [min, max] dB. */
  noise?: { probability: number; snrDb: [number, number]; noise?: Float32Array };
  specAugment?: SpecAugmentConfig;
}

/** Mono samples at the config's rate, cut to the utterance's segment. */
export async function utteranceSamples(bytes: Uint8Array, utt: Pick<Utterance, 'offset' | 'duration' | 'source'>, sampleRate: number): Promise<Float32Array> {
  const samples = await decodeMono(bytes, sampleRate, utt.source);
  if (utt.offset === undefined) return samples;
  const start = Math.round(utt.offset * sampleRate);
  return samples.subarray(start, start + Math.round(utt.duration * sampleRate));
}

export class FeatureSource {
  private cfgKey?: Promise<string>;

  constructor(
    private readonly store: DataStore,
    readonly config: FrontEndConfig = DEFAULT_FRONTEND,
  ) {}

  /** Cached features, computing and storing them on a miss. `hit` says which happened. */
  async features(utt: Utterance): Promise<{ features: Features; hit: boolean }> {
    this.cfgKey ??= configKey(this.config);
    const key = featureKey(utt, await this.cfgKey);
    const cached = await this.store.getFeatures(key);
    if (cached) return { features: { data: cached.data, frames: cached.frames, nMels: cached.nMels }, hit: true };
    const samples = await utteranceSamples(await this.store.getAudio(utt.id), utt, this.config.sampleRate);
    const features = logMel(samples, this.config);
    await this.store.putFeatures({ key, audioHash: utt.audioHash, data: features.data, frames: features.frames, nMels: features.nMels, createdAt: Date.now() });
    return { features, hit: false };
  }

  /** Features for many utterances: cache hits are read in one transaction, misses computed. */
  async featuresMany(utts: readonly Utterance[]): Promise<{ features: Features[]; hit: boolean[] }> {
    this.cfgKey ??= configKey(this.config);
    const cfgKey = await this.cfgKey;
    const cached = await this.store.getFeaturesMany(utts.map((u) => featureKey(u, cfgKey)));
    const features: Features[] = [];
    for (const [i, u] of utts.entries()) {
      const c = cached[i];
      if (c) {
        features.push({ data: c.data, frames: c.frames, nMels: c.nMels });
      } else features.push((await this.features(u)).features);
    }
    return { features, hit: cached.map((c) => c !== undefined) };
  }

  /** One training example, augmented as configured. Without wave augmentation the cache serves. */
  async example(utt: Utterance, vocab: Vocab, aug: AugmentConfig, rand: Random): Promise<Example> {
    let features: Features;
    const speed = aug.speedFactors?.length ? aug.speedFactors[Math.floor(rand() * aug.speedFactors.length)] : 1;
    const noisy = aug.noise !== undefined && rand() < aug.noise.probability;
    if (speed === 1 && !noisy) {
      features = (await this.features(utt)).features;
    } else {
      let samples = await utteranceSamples(await this.store.getAudio(utt.id), utt, this.config.sampleRate);
      if (speed !== 1) samples = speedPerturb(samples, speed, this.config.sampleRate);
      if (noisy) {
        const [lo, hi] = aug.noise!.snrDb;
        samples = addNoise(samples, lo + rand() * (hi - lo), rand, { noise: aug.noise!.noise });
      }
      features = logMel(samples, this.config);
    }
    if (aug.specAugment) features = specAugment(features, aug.specAugment, rand);
    return { features: features.data, frames: features.frames, nMels: features.nMels, labels: encodeText(vocab, utt.text) };
  }
}
