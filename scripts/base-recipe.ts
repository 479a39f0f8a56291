// The decisions of the base-model recipe (scripts/train-base.ts) as pure functions, so they are
// tested on their own: which speakers are held out for monitoring, how batches mix real and
// synthetic speech, which speed each utterance gets, how strong SpecAugment is, when to stop.

import type { Random } from '../src/audio/random';
import type { SpecAugmentConfig } from '../src/audio/augment';

export interface SpeakerInfo {
  speaker: string;
  age?: number;
  gender?: string;
}

/**
 * Monitoring speakers balanced by age group (children under 16, adults) and sex: `perCell` speakers
 * from each of the four cells, picked by a fixed order of speaker id so the choice is stable across
 * runs. A cell with fewer speakers gives what it has.
 */
export function balancedMonitorSpeakers(infos: SpeakerInfo[], perCell: number): string[] {
  const bySpeaker = new Map<string, SpeakerInfo>();
  for (const i of infos) if (!bySpeaker.has(i.speaker)) bySpeaker.set(i.speaker, i);
  const cells = new Map<string, string[]>();
  for (const i of bySpeaker.values()) {
    const cell = `${i.age !== undefined && i.age < 16 ? 'child' : 'adult'}-${i.gender ?? '?'}`;
    cells.set(cell, [...(cells.get(cell) ?? []), i.speaker]);
  }
  // a stable spread through each cell (every k-th speaker in id order), not the first ids only
  const out: string[] = [];
  for (const key of [...cells.keys()].sort()) {
    const list = cells.get(key)!.sort();
    const k = Math.max(1, Math.floor(list.length / perCell));
    const taken: string[] = [];
    for (let j = 0; j < list.length && taken.length < perCell; j += k) taken.push(list[j]);
    out.push(...taken);
  }
  return out.sort();
}

export interface MixItem {
  seconds: number;
  real: boolean;
}

export interface PlannedItem<T> {
  item: T;
  /** Speed factor applied to the waveform (output length = seconds / speed). */
  speed: number;
}

/**
 * The speed an utterance is played at: 0.9, 1.0 or 1.1 with equal odds (two thirds perturbed, as
 * in Ko et al. 2015), times `tempo` for synthetic voices, which speak faster than people do.
 */
export function pickSpeed(real: boolean, rand: Random, synthTempo: number): number {
  const r = rand();
  const s = r < 1 / 3 ? 0.9 : r < 2 / 3 ? 1.0 : 1.1;
  return real ? s : +(s * synthTempo).toFixed(4);
}

/** Frames (10 ms) an utterance takes after speed change, with slack for the STFT. */
export const framesAfter = (seconds: number, speed: number) => Math.ceil((seconds / speed) * 100) + 2;

/**
 * Endless batches mixing real and synthetic speech: each batch picks a length bucket (as often as
 * the real data fills it), then takes real utterances of that bucket until at least `realShare` of
 * its audio seconds are real, and fills the rest with synthetic ones of the same bucket (real ones
 * again when the synthetic pool has none). Each pool is walked in a fresh shuffled order per pass,
 * so every utterance is seen once per pass of its pool.
 */
export class MixedBatcher<T extends MixItem> {
  private queues = new Map<string, PlannedItem<T>[]>();

  constructor(
    private readonly realPool: () => T[],
    private readonly synthPool: () => T[],
    private readonly buckets: readonly number[],
    private readonly batchFrames: number,
    private readonly rand: Random,
    private readonly o: { realShare: number; synthTempo: number },
  ) {}

  private bucketOf(frames: number): number {
    return this.buckets.find((b) => frames <= b) ?? -1;
  }

  /** Refills the queues of a pool (one bucket, or all) with a fresh shuffled pass over the pool. */
  private refill(real: boolean, only?: number): void {
    const pool = real ? this.realPool() : this.synthPool();
    const shuffled = pool.map((u) => [this.rand(), u] as const).sort((x, y) => x[0] - y[0]).map((p) => p[1]);
    for (const b of this.buckets) if (only === undefined || b === only) this.queues.set(`${real}:${b}`, []);
    for (const item of shuffled) {
      const speed = pickSpeed(real, this.rand, this.o.synthTempo);
      const b = this.bucketOf(framesAfter(item.seconds, speed));
      if (b > 0 && (only === undefined || b === only)) this.queues.get(`${real}:${b}`)!.push({ item, speed });
    }
  }

  private take(real: boolean, bucket: number): PlannedItem<T> | undefined {
    const key = `${real}:${bucket}`;
    if (!this.queues.get(key)?.length) {
      if (real ? !this.realPool().length : !this.synthPool().length) return undefined;
      this.refill(real, bucket);
    }
    return this.queues.get(key)!.shift();
  }

  next(): { bucket: number; items: PlannedItem<T>[] } {
    if (!this.queues.size) this.refill(true);
    // buckets in proportion to the real utterances left in this pass (fresh pass when all are empty)
    let counts = this.buckets.map((b) => this.queues.get(`true:${b}`)?.length ?? 0);
    if (counts.every((c) => c === 0)) {
      this.refill(true);
      counts = this.buckets.map((b) => this.queues.get(`true:${b}`)!.length);
    }
    const total = counts.reduce((s, c) => s + c, 0);
    if (total === 0) throw new Error('no real utterance fits a length bucket');
    let r = this.rand() * total;
    let bi = 0;
    while (r >= counts[bi]) r -= counts[bi++];
    const bucket = this.buckets[bi];
    const size = Math.max(1, Math.floor(this.batchFrames / bucket));
    const items: PlannedItem<T>[] = [];
    let realSec = 0;
    let allSec = 0;
    while (items.length < size) {
      const wantReal = allSec === 0 || realSec / allSec < this.o.realShare;
      const p = wantReal ? this.take(true, bucket) : this.take(false, bucket) ?? this.take(true, bucket);
      if (!p) break;
      items.push(p);
      const sec = p.item.seconds / p.speed;
      allSec += sec;
      if (p.item.real) realSec += sec;
    }
    // the last pick may tip the share under realShare: swap synthetic items for real ones until it holds
    for (let i = items.length - 1; i >= 0 && realSec < this.o.realShare * allSec; i--) {
      if (items[i].item.real) continue;
      const p = this.take(true, bucket);
      if (!p) break;
      allSec += p.item.seconds / p.speed - items[i].item.seconds / items[i].speed;
      realSec += p.item.seconds / p.speed;
      items[i] = p;
    }
    return { bucket, items };
  }
}

/**
 * SpecAugment that strengthens as the model learns (in the spirit of Park et al. 2020's adaptive
 * masking): strength s goes 0 → 1 as the smoothed training loss falls from `hi` to `lo`; frequency
 * masks widen from 15 to 27 channels and time masks grow from 2 to 10, each at most 5% of the
 * utterance (at most 40 frames).
 */
export function specAugmentFor(loss: number, o: { hi: number; lo: number } = { hi: 1.4, lo: 0.6 }): SpecAugmentConfig & { strength: number } {
  const s = Number.isFinite(loss) ? Math.min(1, Math.max(0, (o.hi - loss) / (o.hi - o.lo))) : 0;
  return { strength: +s.toFixed(3), freqMasks: 2, freqMaskWidth: Math.round(15 + 12 * s), timeMasks: Math.round(2 + 8 * s), timeMaskWidth: 40, maxTimeFraction: 0.05 };
}

/** Early stop: true when the last `patience` evaluations did not beat the best before them. */
export function shouldStop(history: number[], patience: number): boolean {
  if (history.length <= patience) return false;
  const before = Math.min(...history.slice(0, history.length - patience));
  return Math.min(...history.slice(-patience)) >= before;
}

/** Element-wise mean of several weight sets (checkpoint averaging, as icefall's --avg). */
export function averageWeights(sets: Map<string, Float32Array>[]): Map<string, Float32Array> {
  if (!sets.length) throw new Error('averageWeights: no checkpoints');
  const out = new Map<string, Float32Array>();
  for (const [name, w] of sets[0]) {
    const acc = new Float64Array(w.length);
    for (const s of sets) {
      const x = s.get(name);
      if (!x || x.length !== w.length) throw new Error(`averageWeights: ${name} is missing or has another size in one checkpoint`);
      for (let i = 0; i < x.length; i++) acc[i] += x[i];
    }
    out.set(name, Float32Array.from(acc, (v) => v / sets.length));
  }
  return out;
}
