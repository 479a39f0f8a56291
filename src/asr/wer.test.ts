import { describe, expect, it } from 'vitest';
import { alignChars, alignUnits, alignWords, cer, topWordErrors, wer } from './wer';

const summary = (ops: ReturnType<typeof alignWords>['ops']) =>
  ops.map((e) => (e.op === 'equal' ? e.ref : e.op === 'sub' ? `${e.ref}→${e.hyp}` : `${e.op}:${e.ref ?? e.hyp}`));

describe('alignWords', () => {
  it('the cat sat / the bat sat on: 1 sub, 1 ins, WER 2/3', () => {
    const a = alignWords('the cat sat', 'the bat sat on');
    expect(summary(a.ops)).toEqual(['the', 'cat→bat', 'sat', 'ins:on']);
    expect([a.equal, a.sub, a.del, a.ins, a.edits]).toEqual([2, 1, 0, 1, 2]);
    expect(a.errorRate).toBeCloseTo(2 / 3, 12);
  });

  it('counts a deletion in the middle', () => {
    const a = alignWords('a b c d', 'a c d');
    expect(summary(a.ops)).toEqual(['a', 'del:b', 'c', 'd']);
    expect(a.errorRate).toBe(1 / 4);
  });

  it('prefers sub+del over other equal-cost alignments in a stated order', () => {
    expect(summary(alignWords('a b', 'x').ops)).toEqual(['del:a', 'b→x']);
  });

  it('normalizes by default and not when asked', () => {
    expect(alignWords('Hello, World!', 'hello world').edits).toBe(0);
    const raw = alignWords('Hello, World!', 'hello world', { normalize: false });
    expect(raw.sub).toBe(2);
    const custom = alignWords('A B', 'a b', { normalize: (s) => s.toLowerCase() });
    expect(custom.edits).toBe(0);
  });

  it('handles empty reference and/or hypothesis', () => {
    const both = alignWords('', '  ');
    expect([both.edits, both.errorRate, both.ops.length]).toEqual([0, 0, 0]);
    const noHyp = alignWords('one two', '');
    expect([noHyp.del, noHyp.errorRate]).toEqual([2, 1]);
    const noRef = alignWords('', 'uh huh');
    expect([noRef.ins, noRef.edits, noRef.errorRate]).toEqual([2, 2, Infinity]);
  });

  it('is a minimum edit distance (checked against a plain recursive definition)', () => {
    const dist = (a: string[], b: string[]): number =>
      a.length === 0 ? b.length : b.length === 0 ? a.length
        : Math.min(dist(a.slice(1), b.slice(1)) + (a[0] === b[0] ? 0 : 1), dist(a.slice(1), b) + 1, dist(a, b.slice(1)) + 1);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let k = 0; k < 200; k++) {
      const pick = () => Array.from({ length: Math.floor(rand() * 6) }, () => 'abc'[Math.floor(rand() * 3)]);
      const ref = pick();
      const hyp = pick();
      const a = alignUnits(ref, hyp);
      expect(a.edits).toBe(dist(ref, hyp));
      // The ops replay to the two sequences.
      expect(a.ops.filter((e) => e.op !== 'ins').map((e) => e.ref)).toEqual(ref);
      expect(a.ops.filter((e) => e.op !== 'del').map((e) => e.hyp)).toEqual(hyp);
    }
  });
});

describe('alignChars', () => {
  it('counts characters including spaces', () => {
    const a = alignChars('ab cd', 'ab  xd');
    expect([a.refLength, a.sub, a.edits]).toEqual([5, 1, 1]);
    expect(a.errorRate).toBe(1 / 5);
  });

  it('counts a code point outside the BMP as one character', () => {
    expect(alignChars('a😀', 'ab', { normalize: false }).refLength).toBe(2);
  });
});

describe('wer / cer over a corpus', () => {
  it('divides total edits by total reference units', () => {
    const r = wer(['the cat sat', 'hello world', ''], ['the bat sat on', 'hello world', 'oops']);
    // 2 + 0 + 1 edits over 3 + 2 + 0 reference words.
    expect([r.edits, r.refLength, r.sub, r.del, r.ins]).toEqual([3, 5, 1, 0, 2]);
    expect(r.errorRate).toBe(3 / 5);
    expect(r.utterances.map((u) => u.errorRate)).toEqual([2 / 3, 0, Infinity]);
  });

  it('computes CER', () => {
    const r = cer(['abc', 'de'], ['abd', 'de']);
    expect(r.errorRate).toBe(1 / 5);
  });

  it('returns 0 on an empty corpus and rejects mismatched lengths', () => {
    expect(wer([], []).errorRate).toBe(0);
    expect(() => wer(['a'], [])).toThrow(/1 references but 0 hypotheses/);
  });
});

describe('topWordErrors', () => {
  it('ranks substitutions, deletions and insertions by count, then alphabetically', () => {
    const r = wer(
      ['the cat sat', 'a cat ran', 'to be or not', 'big dog'],
      ['the bat sat', 'a bat ran uh', 'to bee or', 'big dog uh um'],
    );
    const top = topWordErrors(r.utterances, 2);
    expect(top.substitutions).toEqual([
      { ref: 'cat', hyp: 'bat', key: 'cat→bat', count: 2 },
      { ref: 'be', hyp: 'bee', key: 'be→bee', count: 1 },
    ]);
    expect(top.deletions).toEqual([{ unit: 'not', count: 1 }]);
    expect(top.insertions).toEqual([
      { unit: 'uh', count: 2 },
      { unit: 'um', count: 1 },
    ]);
  });
});
