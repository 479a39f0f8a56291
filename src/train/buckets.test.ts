import { describe, expect, it } from 'vitest';
import { batchSizeFor, planEpoch, planValidation, padBatch } from './buckets';

const items = Array.from({ length: 23 }, (_, i) => ({ id: `u${String(i).padStart(2, '0')}`, frames: 90 + 20 * (i % 10) }));
const o = { batchSeconds: 5.12, buckets: [128, 256, 384] };

describe('planEpoch', () => {
  it('uses every item once per epoch, in static shapes of each bucket', () => {
    const { batches, tooLong } = planEpoch(items, o, 7, 0);
    expect(tooLong).toEqual([]);
    const real = batches.flatMap((b) => b.ids.slice(0, b.real)).sort();
    expect(real).toEqual(items.map((i) => i.id).sort());
    for (const b of batches) expect(b.ids.length).toBe(batchSizeFor(b.frames, o));
    const byId = new Map(items.map((i) => [i.id, i.frames]));
    for (const b of batches) for (const id of b.ids) expect(byId.get(id)!).toBeLessThanOrEqual(b.frames);
  });
  it('is deterministic per seed and epoch, and differs between epochs', () => {
    expect(planEpoch(items, o, 7, 1)).toEqual(planEpoch(items, o, 7, 1));
    expect(planEpoch(items, o, 7, 1).batches).not.toEqual(planEpoch(items, o, 7, 2).batches);
  });
  it('fills a partial batch with repeats of its own items', () => {
    const { batches } = planEpoch([{ id: 'a', frames: 100 }, { id: 'b', frames: 100 }, { id: 'c', frames: 100 }], { batchSeconds: 5.12, buckets: [128] }, 1, 0);
    expect(batches).toHaveLength(1);
    expect(batches[0].real).toBe(3);
    expect(batches[0].ids).toHaveLength(4);
    expect(batches[0].ids.slice(0, 3).sort()).toEqual(['a', 'b', 'c']);
  });
  it('leaves out items longer than the largest bucket and says which', () => {
    expect(planEpoch([{ id: 'long', frames: 999 }], o, 1, 0).tooLong).toEqual(['long']);
  });
  it('stretch moves items near a bucket edge up a bucket', () => {
    const { batches } = planEpoch([{ id: 'a', frames: 120 }], { ...o, stretch: 1.12 }, 1, 0);
    expect(batches[0].frames).toBe(256);
  });
});

describe('planValidation', () => {
  it('covers every item once in a fixed order', () => {
    const plan = planValidation(items, o);
    expect(plan).toEqual(planValidation([...items].reverse(), o));
    expect(plan.flatMap((b) => b.ids.slice(0, b.real)).sort()).toEqual(items.map((i) => i.id).sort());
  });
});

describe('padBatch', () => {
  it('pads with zeros and cuts what is too long', () => {
    const e = (frames: number, v: number) => ({ features: new Float32Array(frames * 2).fill(v), frames, nMels: 2, labels: Int32Array.of(1) });
    const b = padBatch([e(2, 1), e(5, 2)], 4);
    expect(b.lengths).toEqual([2, 4]);
    expect(Array.from(b.features)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2]);
  });
});
