import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/audio/random';
import { averageWeights, balancedMonitorSpeakers, framesAfter, MixedBatcher, pickSpeed, shouldStop, specAugmentFor } from './base-recipe';

describe('balancedMonitorSpeakers', () => {
  it('takes the same number of speakers from each age group and sex', () => {
    const infos: { speaker: string; age: number; gender: string }[] = [];
    for (let i = 0; i < 40; i++) infos.push({ speaker: `s${String(i).padStart(2, '0')}`, age: i % 2 ? 8 : 30, gender: i % 4 < 2 ? 'm' : 'f' });
    const picked = balancedMonitorSpeakers(infos, 3);
    expect(picked).toHaveLength(12);
    const cell = (s: string) => {
      const i = infos.find((x) => x.speaker === s)!;
      return `${i.age < 16}-${i.gender}`;
    };
    const counts = new Map<string, number>();
    for (const s of picked) counts.set(cell(s), (counts.get(cell(s)) ?? 0) + 1);
    expect([...counts.values()]).toEqual([3, 3, 3, 3]);
    // stable: the same speakers whatever order they come in
    expect(balancedMonitorSpeakers([...infos].reverse(), 3)).toEqual(picked);
  });
});

describe('pickSpeed', () => {
  it('gives 0.9, 1.0 and 1.1 about equally, and slows synthetic voices by the tempo', () => {
    const rand = mulberry32(3);
    const counts = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const s = pickSpeed(true, rand, 0.85);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([0.9, 1, 1.1]);
    for (const c of counts.values()) expect(c).toBeGreaterThan(850);
    const synth = new Set(Array.from({ length: 300 }, () => pickSpeed(false, rand, 0.85)));
    expect([...synth].sort()).toEqual([0.765, 0.85, 0.935]);
  });
});

describe('MixedBatcher', () => {
  const make = (n: number, real: boolean, seed: number) => {
    const r = mulberry32(seed);
    return Array.from({ length: n }, (_, i) => ({ id: `${real ? 'r' : 's'}${i}`, seconds: 1 + 14 * r(), real }));
  };

  it('puts at least half real speech (by seconds) in every batch, and fills buckets', () => {
    const real = make(300, true, 1);
    const synth = make(3000, false, 2);
    const b = new MixedBatcher(() => real, () => synth, [256, 512, 1024, 1600], 8000, mulberry32(5), { realShare: 0.5, synthTempo: 0.85 });
    let sawSynth = 0;
    for (let i = 0; i < 300; i++) {
      const { bucket, items } = b.next();
      expect(items.length).toBe(Math.floor(8000 / bucket));
      const sec = (f: (x: (typeof items)[number]) => boolean) => items.filter(f).reduce((s, p) => s + p.item.seconds / p.speed, 0);
      expect(sec((p) => p.item.real)).toBeGreaterThanOrEqual(0.5 * sec(() => true) - 1e-9);
      for (const p of items) expect(framesAfter(p.item.seconds, p.speed)).toBeLessThanOrEqual(bucket);
      sawSynth += items.filter((p) => !p.item.real).length;
    }
    expect(sawSynth).toBeGreaterThan(0);
  });

  it('trains on real speech alone when there is no synthetic corpus, no utterance more than twice in half a pass', () => {
    const real = make(2000, true, 4);
    const b = new MixedBatcher(() => real, () => [], [256, 512, 1024, 1600], 8000, mulberry32(6), { realShare: 0.5, synthTempo: 0.85 });
    const seen = new Map<string, number>();
    let n = 0;
    while (n < 1000) {
      for (const p of b.next().items) {
        seen.set(p.item.id, (seen.get(p.item.id) ?? 0) + 1);
        n++;
      }
    }
    for (const p of seen.values()) expect(p).toBeLessThanOrEqual(2);
    expect([...seen.keys()].every((k) => k.startsWith('r'))).toBe(true);
  });
});

describe('specAugmentFor', () => {
  it('strengthens as the loss falls', () => {
    const weak = specAugmentFor(1.6);
    const mid = specAugmentFor(1.0);
    const strong = specAugmentFor(0.4);
    expect(weak.strength).toBe(0);
    expect(strong.strength).toBe(1);
    expect(mid.timeMasks).toBeGreaterThan(weak.timeMasks);
    expect(strong.timeMasks).toBeGreaterThan(mid.timeMasks);
    expect(strong.freqMaskWidth).toBeGreaterThan(weak.freqMaskWidth);
    expect(specAugmentFor(NaN).strength).toBe(0);
  });
});

describe('shouldStop', () => {
  it('stops after `patience` evaluations without a new best', () => {
    expect(shouldStop([0.5, 0.4, 0.41, 0.42], 3)).toBe(false);
    expect(shouldStop([0.5, 0.4, 0.41, 0.42, 0.4], 3)).toBe(true);
    expect(shouldStop([0.5, 0.4, 0.41, 0.42, 0.39], 3)).toBe(false);
    expect(shouldStop([0.5, 0.6], 3)).toBe(false);
  });
});

describe('averageWeights', () => {
  it('averages element-wise and refuses mismatched checkpoints', () => {
    const a = new Map([['w', Float32Array.from([1, 2, 3])]]);
    const b = new Map([['w', Float32Array.from([3, 4, 5])]]);
    expect([...averageWeights([a, b]).get('w')!]).toEqual([2, 3, 4]);
    expect(() => averageWeights([a, new Map([['w', Float32Array.from([1])]])])).toThrow(/w/);
    expect(() => averageWeights([])).toThrow();
  });
});
