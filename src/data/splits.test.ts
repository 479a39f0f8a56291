import { describe, expect, it } from 'vitest';
import { assignSplits } from './splits';
import { collate, makeBatches } from './batching';

const utt = (i: number, speaker?: string) => ({ id: `u${i}`, audioHash: `h${String(i).padStart(4, '0')}`, source: `s${i}`, speaker, split: 'train' as const });

describe('assignSplits', () => {
  it('by speaker: no speaker is in both splits; the same seed gives the same split', () => {
    const utts = Array.from({ length: 200 }, (_, i) => utt(i, `spk${i % 10}`));
    const a = assignSplits(utts, { seed: 3, validationFraction: 0.2 });
    expect(a.bySpeaker).toBe(true);
    const valSpeakers = new Set(utts.filter((u) => a.splits.get(u.id) === 'validation').map((u) => u.speaker));
    const trainSpeakers = new Set(utts.filter((u) => a.splits.get(u.id) === 'train').map((u) => u.speaker));
    expect([...valSpeakers].filter((s) => trainSpeakers.has(s))).toEqual([]);
    expect(valSpeakers.size).toBe(2);
    // Reversed input order, same seed: same result.
    expect(assignSplits([...utts].reverse(), { seed: 3, validationFraction: 0.2 }).splits).toEqual(a.splits);
    expect(assignSplits(utts, { seed: 4, validationFraction: 0.2 }).splits).not.toEqual(a.splits);
  });

  it('random without speakers, exact share; locked and test utterances keep theirs', () => {
    const utts = [...Array.from({ length: 98 }, (_, i) => utt(i)), { ...utt(98), split: 'validation' as const, splitLocked: true }, { ...utt(99), split: 'test' as const }];
    const { splits, bySpeaker } = assignSplits(utts, { seed: 1, validationFraction: 0.1 });
    expect(bySpeaker).toBe(false);
    const counts = { train: 0, validation: 0, test: 0 };
    for (const s of splits.values()) counts[s]++;
    expect(counts).toEqual({ train: 89, validation: 10, test: 1 });
    expect(splits.get('u98')).toBe('validation');
  });

  it('a single speaker falls back to a random split', () => {
    const { bySpeaker, splits } = assignSplits(Array.from({ length: 10 }, (_, i) => utt(i, 'me')), { seed: 1, validationFraction: 0.2 });
    expect(bySpeaker).toBe(false);
    expect([...splits.values()].filter((s) => s === 'validation')).toHaveLength(2);
  });
});

describe('makeBatches', () => {
  const items = Array.from({ length: 300 }, (_, i) => ({ id: `u${i}`, duration: 0.5 + ((i * 7919) % 150) / 10 }));
  const byId = new Map(items.map((i) => [i.id, i.duration]));

  it('every item once per epoch; padded seconds within budget; deterministic per seed and epoch', () => {
    const opts = { maxBatchSeconds: 60, buckets: 6, seed: 5 };
    const e0 = makeBatches(items, opts, 0);
    expect(e0.flat().sort()).toEqual(items.map((i) => i.id).sort());
    for (const b of e0) {
      const durs = b.map((id) => byId.get(id)!);
      if (b.length > 1) expect(b.length * Math.max(...durs)).toBeLessThanOrEqual(60);
    }
    expect(makeBatches(items, opts, 0)).toEqual(e0);
    expect(makeBatches(items, opts, 1)).not.toEqual(e0);
    expect(makeBatches(items, opts, 1).flat().sort()).toEqual(e0.flat().sort());
  });

  it('bucketing cuts padding compared to one bucket', () => {
    const padding = (buckets: number) => {
      let padded = 0;
      for (const b of makeBatches(items, { maxBatchSeconds: 60, buckets, seed: 1 }, 0)) {
        const durs = b.map((id) => byId.get(id)!);
        padded += b.length * Math.max(...durs) - durs.reduce((s, d) => s + d, 0);
      }
      return padded;
    };
    expect(padding(10)).toBeLessThan(padding(1) / 3);
  });

  it('maxBatchSize caps items; an item over the budget gets a batch of its own', () => {
    const batches = makeBatches([{ id: 'long', duration: 100 }, ...items.slice(0, 20)], { maxBatchSeconds: 60, maxBatchSize: 4, buckets: 1, seed: 1 }, 0);
    expect(batches.find((b) => b.includes('long'))).toEqual(['long']);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(4);
  });
});

describe('collate', () => {
  it('pads features, mask and labels; rounds frames up to a multiple', () => {
    const ex = (frames: number, labels: number[]) => ({ features: Float32Array.from({ length: frames * 2 }, (_, i) => i + 1), frames, nMels: 2, labels: Int32Array.from(labels) });
    const b = collate([ex(3, [5, 6]), ex(1, [7])], { padFramesTo: 4 });
    expect([b.size, b.frames, b.nMels, b.maxLabels]).toEqual([2, 4, 2, 2]);
    expect(Array.from(b.features)).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(b.mask)).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    expect(Array.from(b.frameLengths)).toEqual([3, 1]);
    expect(Array.from(b.labels)).toEqual([5, 6, 7, 0]);
    expect(Array.from(b.labelLengths)).toEqual([2, 1]);
  });
});
