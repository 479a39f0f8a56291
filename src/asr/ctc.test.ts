import { describe, expect, it } from 'vitest';
import { ctcLoss, type CtcReduction } from './ctc';

/** Deterministic uniform numbers in [0, 1) (a 32-bit LCG; quality is irrelevant here). */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomLogits(length: number, seed: number, spread = 3): Float64Array {
  const rand = rng(seed);
  return Float64Array.from({ length }, () => (rand() * 2 - 1) * spread);
}

/**
 * The oracle: −log of the summed probability of every one of the V^T frame labelings that
 * collapses (merge repeats, then drop blanks) to the target. Independent of alpha/beta.
 */
function bruteForceLoss(logits: Float64Array, frames: number, vocab: number, target: number[], blank = 0): number {
  const logProbs: number[][] = [];
  for (let t = 0; t < frames; t++) {
    const row = Array.from(logits.subarray(t * vocab, (t + 1) * vocab));
    const logSum = Math.log(row.reduce((acc, x) => acc + Math.exp(x), 0));
    logProbs.push(row.map((x) => x - logSum));
  }
  let total = 0;
  const path = new Array<number>(frames).fill(0);
  for (let code = 0; code < vocab ** frames; code++) {
    let rest = code;
    for (let t = 0; t < frames; t++) {
      path[t] = rest % vocab;
      rest = Math.floor(rest / vocab);
    }
    const collapsed: number[] = [];
    for (let t = 0; t < frames; t++) {
      if (path[t] !== blank && (t === 0 || path[t] !== path[t - 1])) collapsed.push(path[t]);
    }
    if (collapsed.length === target.length && collapsed.every((x, i) => x === target[i])) {
      total += Math.exp(path.reduce((acc, v, t) => acc + logProbs[t][v], 0));
    }
  }
  return -Math.log(total);
}

const single = (logits: Float64Array, frames: number, vocab: number, target: number[], blank = 0, forceLogSpace = false) =>
  ctcLoss({ logits, shape: [1, frames, vocab], inputLengths: [frames], targets: [target] }, { blank, reduction: 'sum', forceLogSpace });

// Every numeric check runs on both paths: the scaled fast path and the log-space reference.
const PATHS = [
  ['scaled', false],
  ['log-space', true],
] as const;

describe('ctcLoss against brute-force enumeration of all alignments', () => {
  const cases: Array<[frames: number, vocab: number, target: number[], blank?: number]> = [
    [1, 2, [1]],
    [1, 2, []],
    [2, 2, [1]],
    [3, 2, [1, 1]],
    [4, 2, [1, 1]],
    [5, 2, [1, 1, 1]],
    [5, 2, []],
    [4, 3, [1, 2]],
    [5, 3, [2, 1, 2]],
    [5, 3, [1, 1]],
    [5, 3, [2]],
    [5, 3, [1, 2, 2]],
    [4, 3, []],
    [5, 3, [0, 1], 2], // blank that is not id 0
    [3, 4, [1, 2, 3]], // tight: exactly one alignment per frame count
    [5, 3, [1, 2, 1, 2, 1]],
    [5, 3, [1, 2, 2]], // tight with a repeat: 4 frames of labels and blank, plus one spare
  ];
  describe.each(PATHS)('%s', (_, forceLogSpace) => {
    it.each(cases)('T=%i V=%i target=%j blank=%s', (frames, vocab, target, blank = 0) => {
      for (let seed = 1; seed <= 5; seed++) {
        const logits = randomLogits(frames * vocab, seed * 31 + frames);
        const result = single(logits, frames, vocab, target, blank, forceLogSpace);
        expect(result.infeasible[0]).toBe(0);
        expect(result.logSpace[0]).toBe(forceLogSpace ? 1 : 0);
        expect(result.losses[0]).toBeCloseTo(bruteForceLoss(logits, frames, vocab, target, blank), 10);
      }
    });
  });

  it('the two paths agree on a long random batch', () => {
    const [batch, frames, vocab] = [3, 80, 8];
    const logits = randomLogits(batch * frames * vocab, 17);
    const input = { logits, shape: [batch, frames, vocab] as const, inputLengths: [80, 70, 50], targets: [[1, 2, 2, 3, 4, 5, 6, 7, 1, 1], [3, 3, 3], [7, 6, 5, 4, 3, 2, 1, 2, 3, 4, 5, 6]] };
    const scaled = ctcLoss(input);
    const log = ctcLoss(input, { forceLogSpace: true });
    expect(Array.from(scaled.logSpace)).toEqual([0, 0, 0]);
    for (let b = 0; b < batch; b++) expect(scaled.losses[b]).toBeCloseTo(log.losses[b], 9);
    for (let i = 0; i < logits.length; i++) expect(scaled.grad![i]).toBeCloseTo(log.grad![i], 12);
  });

  it('stays finite and exact for confident logits where probability-space CTC would underflow', () => {
    // The target needs 30 label frames at log-prob about −30 each.
    const frames = 60;
    const vocab = 3;
    const logits = new Float64Array(frames * vocab);
    for (let t = 0; t < frames; t++) logits[t * vocab] = 30; // the model insists on blank
    const target = Array.from({ length: 30 }, (_, i) => 1 + (i % 2));
    const { losses, grad, logSpace } = single(logits, frames, vocab, target);
    expect(logSpace[0]).toBe(1); // the scaled path noticed it would underflow
    expect(Number.isFinite(losses[0])).toBe(true);
    expect(losses[0]).toBeGreaterThan(800); // p(target) < e^−800, far below float64's 1e−308
    expect(grad!.every(Number.isFinite)).toBe(true);
  });
});

describe('ctcLoss scaled path on a confident model', () => {
  it('drops hopeless states far off the alignment yet matches log space', () => {
    // A model that is sure (+25) of the right token on every frame: states dozens of labels off
    // the alignment fall below 1e−280 of their row and are dropped; the bound on what they could
    // carry is negligible, so the item stays on the fast path.
    const [frames, vocab, targetLength] = [120, 8, 30];
    const rand = rng(7);
    const target = Array.from({ length: targetLength }, () => 1 + Math.floor(rand() * (vocab - 1)));
    const logits = new Float64Array(frames * vocab);
    for (let t = 0; t < frames; t++) {
      const k = Math.floor((t * targetLength) / frames);
      const startsLabel = t === 0 || k !== Math.floor(((t - 1) * targetLength) / frames);
      for (let v = 0; v < vocab; v++) {
        logits[t * vocab + v] = (rand() * 2 - 1) * 3 + (v === (startsLabel ? target[k] : 0) ? 25 : 0);
      }
    }
    const fast = single(logits, frames, vocab, target);
    const reference = single(logits, frames, vocab, target, 0, true);
    expect(fast.logSpace[0]).toBe(0);
    expect(fast.losses[0]).toBeGreaterThan(0);
    expect(Math.abs(fast.losses[0] - reference.losses[0])).toBeLessThan(1e-12 * Math.max(1, reference.losses[0]) + 1e-15);
    for (let i = 0; i < logits.length; i++) expect(fast.grad![i]).toBeCloseTo(reference.grad![i], 13);
  });
});

describe('ctcLoss gradient', () => {
  // Central differences in float64 of the reduced loss, for every logit.
  function checkGradient(reduction: CtcReduction, seed: number, forceLogSpace: boolean) {
    const [batch, frames, vocab] = [3, 5, 4];
    const logits = randomLogits(batch * frames * vocab, seed);
    const input = {
      logits,
      shape: [batch, frames, vocab] as const,
      inputLengths: [5, 4, 3],
      targets: [[1, 2, 2], [3], []],
    };
    const { grad } = ctcLoss(input, { reduction, forceLogSpace });
    const h = 1e-5;
    for (let i = 0; i < logits.length; i++) {
      const saved = logits[i];
      logits[i] = saved + h;
      const up = ctcLoss(input, { reduction, grad: false }).loss;
      logits[i] = saved - h;
      const down = ctcLoss(input, { reduction, grad: false }).loss;
      logits[i] = saved;
      expect(grad![i]).toBeCloseTo((up - down) / (2 * h), 7);
    }
  }
  it.each(['sum', 'mean', 'mean_per_target_length'] as const)('matches finite differences (%s)', (reduction) => {
    for (const [, forceLogSpace] of PATHS) {
      checkGradient(reduction, 11, forceLogSpace);
      checkGradient(reduction, 12, forceLogSpace);
    }
  });

  it.each(PATHS)('sums to zero over the vocabulary at every valid frame (%s)', (_, forceLogSpace) => {
    // softmax and occupancy both sum to 1 per frame.
    const frames = 20;
    const vocab = 6;
    const logits = randomLogits(frames * vocab, 5);
    const { grad } = single(logits, frames, vocab, [1, 2, 2, 3, 5, 1], 0, forceLogSpace);
    for (let t = 0; t < frames; t++) {
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += grad![t * vocab + v];
      expect(Math.abs(sum)).toBeLessThan(1e-12);
    }
  });

  it('returns a Float32Array gradient for Float32Array logits, and reuses gradOut', () => {
    const logits = Float32Array.from(randomLogits(2 * 3 * 3, 3));
    const input = { logits, shape: [2, 3, 3] as const, inputLengths: [3, 2], targets: [[1], [2]] };
    const first = ctcLoss(input);
    expect(first.grad).toBeInstanceOf(Float32Array);
    const gradOut = new Float32Array(logits.length).fill(7);
    const second = ctcLoss(input, { gradOut });
    expect(second.grad).toBe(gradOut);
    expect(Array.from(gradOut)).toEqual(Array.from(first.grad!));
  });
});

describe('ctcLoss batching', () => {
  it('a padded batch equals the items run one by one, with zero gradient in the padding', () => {
    const [batch, frames, vocab] = [4, 7, 5];
    const logits = randomLogits(batch * frames * vocab, 21);
    const inputLengths = [7, 5, 3, 6];
    const targets = [[1, 2, 3], [4, 4], [], [2, 1, 2, 1]];
    const maxLength = 4;
    const data = new Int32Array(batch * maxLength).fill(-1); // padding values must be ignored
    targets.forEach((t, b) => data.set(t, b * maxLength));
    const lists = ctcLoss({ logits, shape: [batch, frames, vocab], inputLengths, targets }, { reduction: 'sum' });
    const padded = ctcLoss(
      { logits, shape: [batch, frames, vocab], inputLengths, targets: { data, maxLength, lengths: targets.map((t) => t.length) } },
      { reduction: 'sum' },
    );
    expect(Array.from(padded.losses)).toEqual(Array.from(lists.losses));
    expect(Array.from(padded.grad!)).toEqual(Array.from(lists.grad!));

    for (let b = 0; b < batch; b++) {
      const length = inputLengths[b];
      const itemLogits = logits.slice(b * frames * vocab, b * frames * vocab + length * vocab);
      const alone = single(itemLogits, length, vocab, targets[b]);
      expect(lists.losses[b]).toBeCloseTo(alone.losses[0], 12);
      const itemGrad = lists.grad!.subarray(b * frames * vocab, (b + 1) * frames * vocab);
      for (let i = 0; i < length * vocab; i++) expect(itemGrad[i]).toBeCloseTo(alone.grad![i], 12);
      for (let i = length * vocab; i < frames * vocab; i++) expect(itemGrad[i]).toBe(0);
    }
  });

  it('reduces as documented', () => {
    const logits = randomLogits(2 * 4 * 3, 8);
    const input = { logits, shape: [2, 4, 3] as const, inputLengths: [4, 4], targets: [[1, 2, 1], []] };
    const sum = ctcLoss(input, { reduction: 'sum' });
    const [l0, l1] = sum.losses;
    expect(sum.loss).toBeCloseTo(l0 + l1, 12);
    expect(ctcLoss(input, { reduction: 'mean' }).loss).toBeCloseTo((l0 + l1) / 2, 12);
    expect(ctcLoss(input).loss).toBeCloseTo((l0 / 3 + l1 / 1) / 2, 12);
  });
});

describe('ctcLoss infeasible items', () => {
  const logits = randomLogits(2 * 3 * 3, 4);
  // [1, 1] needs 3 frames (1, blank, 1); [1, 2, 1, 2] needs 4 but item 0 has only 3.
  const input = { logits, shape: [2, 3, 3] as const, inputLengths: [3, 3], targets: [[1, 2, 1, 2], [1, 1]] };

  it('gives +Infinity and zero gradient, flagged', () => {
    const r = ctcLoss(input, { reduction: 'sum' });
    expect(Array.from(r.infeasible)).toEqual([1, 0]);
    expect(r.losses[0]).toBe(Infinity);
    expect(r.loss).toBe(Infinity);
    expect(Number.isFinite(r.losses[1])).toBe(true);
    expect(r.grad!.subarray(0, 9).every((g) => g === 0)).toBe(true);
    expect(r.grad!.subarray(9).some((g) => g !== 0)).toBe(true);
  });

  it('with zeroInfinity reports 0 for the item and keeps the batch loss finite', () => {
    const r = ctcLoss(input, { reduction: 'mean', zeroInfinity: true });
    expect(Array.from(r.infeasible)).toEqual([1, 0]);
    expect(r.losses[0]).toBe(0);
    expect(r.loss).toBeCloseTo(r.losses[1] / 2, 12);
  });

  it('treats repeats as needing a blank: [1,1] in 2 frames is infeasible, [1,2] is not', () => {
    const two = randomLogits(2 * 3, 9);
    expect(single(two, 2, 3, [1, 1]).infeasible[0]).toBe(1);
    expect(single(two, 2, 3, [1, 2]).infeasible[0]).toBe(0);
  });

  it('handles zero frames: empty target has loss 0, any other is infeasible', () => {
    const none = ctcLoss({ logits: new Float64Array(0), shape: [2, 0, 3], inputLengths: [0, 0], targets: [[], [1]] }, { reduction: 'sum' });
    expect(Array.from(none.losses)).toEqual([0, Infinity]);
    expect(Array.from(none.infeasible)).toEqual([0, 1]);
  });
});

describe('ctcLoss input validation', () => {
  const logits = new Float64Array(2 * 3);
  it.each([
    [{ inputLengths: [3], targets: [[1]] }, {}, /input length 3 of item 0/],
    [{ inputLengths: [2], targets: [[0]] }, {}, /target\[0\] = 0 is not a non-blank label/],
    [{ inputLengths: [2], targets: [[3]] }, {}, /target\[0\] = 3/],
    [{ inputLengths: [2, 2], targets: [[1]] }, {}, /2 input lengths for batch 1/],
    [{ inputLengths: [2], targets: [[1]] }, { blank: 3 }, /blank 3 not in/],
  ])('rejects %j %j', (parts, options, error) => {
    expect(() => ctcLoss({ logits, shape: [1, 2, 3], ...parts }, options)).toThrow(error);
  });
});

describe('ctcLoss speed', () => {
  it('runs B=16, T=200, V=29, S=60 (loss + gradient) in well under a second', () => {
    const [batch, frames, vocab, targetLength] = [16, 200, 29, 60];
    const logits = Float32Array.from(randomLogits(batch * frames * vocab, 99));
    const rand = rng(5);
    const targets = Array.from({ length: batch }, () =>
      Int32Array.from({ length: targetLength }, () => 1 + Math.floor(rand() * (vocab - 1))),
    );
    const input = { logits, shape: [batch, frames, vocab] as const, inputLengths: new Int32Array(batch).fill(frames), targets };
    const gradOut = new Float32Array(logits.length);
    for (let i = 0; i < 3; i++) ctcLoss(input, { gradOut }); // warm up the JIT
    const runs = 10;
    const start = performance.now();
    for (let i = 0; i < runs; i++) ctcLoss(input, { gradOut });
    const ms = (performance.now() - start) / runs;
    const { logSpace } = ctcLoss(input, { gradOut });
    console.log(
      `ctcLoss B=16 T=200 V=29 S=60: ${ms.toFixed(2)} ms per batch (loss + grad), ` +
        `${logSpace.reduce((a, b) => a + b, 0)} of 16 items in log space`,
    );
    expect(ms).toBeLessThan(500); // a loose bound: the machine is shared; the number is in the log
  });
});
