import { describe, expect, it } from 'vitest';
import type { ProgressRound } from '../workers/train-db';
import { baseModelOf, currentLineage, pointOf, progressSeries, progressSummary, referenceWords, wordChanges, type RoundPoint } from './progress';

const score = (wer: number, cer = wer / 2, takes = 2) => ({ wer, cer, takes });

function round(p: Partial<RoundPoint> & Pick<RoundPoint, 'id' | 'takes'>): RoundPoint {
  return { createdAt: p.takes, datasetId: 'rec', baseModelId: 'base', roundModelId: `m${p.id}`, currentModelId: `m${p.id}`, adopted: true, ...p };
}

describe('progress of training as takes arrive', () => {
  it('the base of a round is the model its chain of runs began from', () => {
    const runs = [
      { baseModelId: 'base', resultModelId: 'r1' },
      { baseModelId: 'r1', resultModelId: 'r2' },
      { baseModelId: 'r2', resultModelId: 'r3' },
      { baseModelId: 'other', resultModelId: 'x1' },
      { baseModelId: 'r3' }, // a round that failed: no result
    ];
    expect(baseModelOf('r3', runs)).toBe('base');
    expect(baseModelOf('r1', runs)).toBe('base');
    expect(baseModelOf('base', runs)).toBe('base');
    expect(baseModelOf('x1', runs)).toBe('other');
    // a cycle (cannot happen with fresh ids, but must not hang)
    expect(['a', 'b']).toContain(baseModelOf('a', [{ baseModelId: 'b', resultModelId: 'a' }, { baseModelId: 'a', resultModelId: 'b' }]));
  });

  it('the picture holds the latest round’s dataset and base model, oldest first', () => {
    const pts = [round({ id: '3', takes: 15 }), round({ id: '1', takes: 5 }), round({ id: 'old', takes: 9, createdAt: 0, baseModelId: 'imported' }), round({ id: '2', takes: 10, datasetId: 'rec' })];
    expect(currentLineage(pts).map((p) => p.id)).toEqual(['1', '2', '3']);
    expect(currentLineage([round({ id: 'a', takes: 5 }), round({ id: 'b', takes: 6, baseModelId: 'imported' })]).map((p) => p.id)).toEqual(['b']);
    expect(currentLineage([])).toEqual([]);
  });

  it('each scored round is a point; a round not adopted marks the kept model and what it scored itself', () => {
    const pts = [
      round({ id: '0', takes: 4 }), // no held-out takes yet: no point
      round({ id: '1', takes: 6, base: score(0.6), current: score(0.5) }),
      round({ id: '2', takes: 11, base: score(0.62), current: score(0.52), adopted: false, currentModelId: 'm1', turnedDown: score(0.58) }),
      round({ id: '3', takes: 16, base: score(0.6, 0.3), current: score(0.4, 0.2) }),
    ];
    expect(progressSeries(pts, 'wer')).toEqual({
      base: [[6, 0.6], [11, 0.62], [16, 0.6]],
      current: [[6, 0.5], [11, 0.52], [16, 0.4]],
      kept: [[11, 0.52]],
      turnedDown: [[11, 0.58]],
    });
    expect(progressSeries(pts, 'cer').current).toEqual([[6, 0.25], [11, 0.26], [16, 0.2]]);
    expect(progressSummary(pts)).toMatchObject({ takes: 16, heldOut: 2, fewerErrors: expect.closeTo(1 / 3, 9) });
    expect(progressSummary([round({ id: '0', takes: 4 })])).toBeUndefined();
    expect(progressSummary([round({ id: '1', takes: 6, base: score(0), current: score(0.1) })])?.fewerErrors).toBe(0);
  });

  it('a stored round without its transcripts is what the store keeps', () => {
    const stored: ProgressRound = { ...round({ id: '1', takes: 6 }), transcripts: [{ utteranceId: 'u', ref: 'a', base: 'b', current: 'a' }] };
    expect(pointOf(stored)).toEqual(round({ id: '1', takes: 6 }));
  });

  it('reference words are marked right or missed, insertions belong to none', () => {
    expect(referenceWords('turn the lights on', 'turn uh lights on now')).toEqual([
      { word: 'turn', right: true },
      { word: 'the', right: false },
      { word: 'lights', right: true },
      { word: 'on', right: true },
    ]);
    expect(referenceWords('Call Siobhan!', 'call')).toEqual([
      { word: 'call', right: true },
      { word: 'siobhan', right: false },
    ]);
  });

  it('words newly right are those the base missed and the current model writes, counted per occurrence', () => {
    const changes = wordChanges([
      { ref: 'call siobhan at noon', base: 'call shivon at new', current: 'call siobhan at noon' },
      { ref: 'turn the lights on', base: 'turn lights on', current: 'turn the light on' },
      { ref: 'siobhan and siobhan', base: 'shivon and', current: 'siobhan and siobhan' },
      { ref: 'nothing changed', base: 'nothing change', current: 'nothing change' },
    ]);
    expect(changes.nowRight).toEqual([
      { word: 'siobhan', count: 3 },
      { word: 'noon', count: 1 },
      { word: 'the', count: 1 },
    ]);
    expect(changes.nowMissed).toEqual([{ word: 'lights', count: 1 }]);
    expect(wordChanges([])).toEqual({ nowRight: [], nowMissed: [] });
  });
});
