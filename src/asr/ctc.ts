// Connectionist temporal classification: the loss −log p(target | logits) and its gradient with
// respect to the raw (pre-softmax) logits, for a padded batch, on the CPU.
// Graves et al. 2006, "Connectionist Temporal Classification: Labelling Unsegmented Sequence Data
// with Recurrent Neural Networks", https://www.cs.toronto.edu/~graves/icml_2006.pdf (sections 3–4).
//
// The target l (length S) is extended to l' = [blank, l1, blank, l2, …, lS, blank] (length 2S+1).
// A path moves through l' one frame at a time: it stays, steps to the next state, or skips a blank
// between two *different* labels (between equal labels the blank is mandatory, otherwise "aa"
// would collapse to "a"). The reference computation is in log space (log-sum-exp) in float64, so
// that neither long inputs nor confident models underflow. Because exp/log per state dominate
// the time in JavaScript, each item first tries the same recursions in rescaled probability space
// (ctcItemScaled): it drops values too small for float64, bounds what the dropped paths could
// have carried, and if that bound is not negligible against p(l|x) (1e−13) it redoes the item in
// log space (ctcItemLog). `CtcResult.logSpace` says which items needed it.
//
//   alpha[t][s] = log p(frames 0..t emitted, in state s at t)        (includes frame t's emission)
//   beta[t][s]  = log p(frames t+1..T−1 emitted | in state s at t)   (excludes frame t's emission)
//   log p(l|x)  = logsumexp(alpha[T−1][L−1], alpha[T−1][L−2])
//   occupancy   γ[t][s] = exp(alpha[t][s] + beta[t][s] − log p(l|x)); Σ_s γ[t][s] = 1
//   ∂(−log p)/∂logit[t][v] = softmax[t][v] − Σ_{s: l'_s = v} γ[t][s]     (Graves 2006, eq. 16)
//
// Only states inside the band that is reachable from the start by frame t *and* can still reach
// the end by the last frame are computed (s ≤ 2t+1 and s ≥ L − 2(T−t)); outside it alpha·beta is
// zero anyway. Scratch buffers are module-level and grow on demand, so a training step allocates
// only its outputs.

export type CtcReduction = 'sum' | 'mean' | 'mean_per_target_length';

/** Targets as one padded [B, maxLength] array plus each item's length. */
export interface PaddedTargets {
  data: Int32Array;
  maxLength: number;
  lengths: ArrayLike<number>;
}

export interface CtcInput {
  /** Raw pre-softmax scores, row-major [batch, frames, vocab]. */
  logits: Float32Array | Float64Array;
  shape: readonly [batch: number, frames: number, vocab: number];
  /** Valid frames per item, each ≤ frames; later frames are padding and get zero gradient. */
  inputLengths: ArrayLike<number>;
  /** One label sequence per item (no blanks), or a padded array. */
  targets: readonly ArrayLike<number>[] | PaddedTargets;
}

export interface CtcOptions {
  /** Id of the blank label. Default 0. */
  blank?: number;
  /**
   * How per-item losses are combined into `loss`; `grad` is the gradient of that combined loss.
   *  - 'sum': Σ_b loss_b (gradient of item b scaled by 1)
   *  - 'mean': Σ_b loss_b / B (scaled by 1/B)
   *  - 'mean_per_target_length' (default, PyTorch's 'mean'): Σ_b (loss_b / max(S_b, 1)) / B
   *    (scaled by 1 / (B·max(S_b, 1)); an empty target divides by 1, as PyTorch clamps it).
   */
  reduction?: CtcReduction;
  /**
   * Like PyTorch's zero_infinity: an infeasible item (target needs more frames than it has)
   * reports loss 0 instead of +Infinity, so one bad utterance does not make the batch loss
   * infinite. Either way the item is flagged in `infeasible` and its gradient is zero.
   */
  zeroInfinity?: boolean;
  /** Compute the gradient (default true); without it only the forward recursion runs. */
  grad?: boolean;
  /** Reuse this buffer (length B·T·V) for the gradient instead of allocating one. */
  gradOut?: Float32Array | Float64Array;
  /** Skip the scaled fast path (see ctcItemScaled); for tests and benchmarks. */
  forceLogSpace?: boolean;
}

export interface CtcResult {
  /** Per-item −log p(target | logits); +Infinity for infeasible items (0 with zeroInfinity). */
  losses: Float64Array;
  /** The reduced loss. */
  loss: number;
  /**
   * ∂loss/∂logits, [B, T, V], of the same element type as the logits (or `gradOut`). Zero beyond
   * each item's input length and for infeasible items. null when `grad: false`.
   */
  grad: Float32Array | Float64Array | null;
  /** 1 where the target cannot be aligned within the item's input length. */
  infeasible: Uint8Array;
  /** 1 where the item needed the log-space path (see ctcItemScaled); for diagnostics. */
  logSpace: Uint8Array;
}

// Scratch space, reused across calls (a worker runs one step at a time).
let logProbsBuffer = new Float64Array(0); // [T, V] log-softmax of the current item
let probsBuffer = new Float64Array(0); // [T, V] its softmax
let logSumBuffer = new Float64Array(0); // [T] log Σ_v exp(logit) per frame
let logMaxProbUpToBuffer = new Float64Array(0); // [T] Σ_{t' ≤ t} log max_{v in l'} softmax[t'][v]
let usedTokensBuffer = new Uint8Array(0); // [V] 1 for the tokens of l'
let usedListBuffer = new Int32Array(0); // the tokens of l', listed
let alphaBuffer = new Float64Array(0); // [T, L]
let betaNextBuffer = new Float64Array(0); // [L] beta[t+1][s] + emission at t+1
let betaHereBuffer = new Float64Array(0); // [L] beta[t][s]
let extendedBuffer = new Int32Array(0); // [L] l'
let canSkipBuffer = new Uint8Array(0); // [L] 1 where s−2 → s is allowed

function ensureScratch(frames: number, vocab: number, states: number): void {
  if (logProbsBuffer.length < frames * vocab) {
    logProbsBuffer = new Float64Array(frames * vocab);
    probsBuffer = new Float64Array(frames * vocab);
  }
  if (logMaxProbUpToBuffer.length < frames) {
    logMaxProbUpToBuffer = new Float64Array(frames);
    logSumBuffer = new Float64Array(frames);
  }
  if (usedTokensBuffer.length < vocab) {
    usedTokensBuffer = new Uint8Array(vocab);
    usedListBuffer = new Int32Array(vocab);
  }
  if (alphaBuffer.length < frames * states) alphaBuffer = new Float64Array(frames * states);
  if (extendedBuffer.length < states) {
    betaNextBuffer = new Float64Array(states);
    betaHereBuffer = new Float64Array(states);
    extendedBuffer = new Int32Array(states);
    canSkipBuffer = new Uint8Array(states);
  }
}

/** CTC loss and gradient for a padded batch; see the file comment for the math. */
export function ctcLoss(input: CtcInput, options: CtcOptions = {}): CtcResult {
  const { logits, inputLengths, targets } = input;
  const [batch, frames, vocab] = input.shape;
  const { blank = 0, reduction = 'mean_per_target_length', zeroInfinity = false, forceLogSpace = false } = options;
  const wantGrad = options.grad ?? true;
  if (logits.length !== batch * frames * vocab) {
    throw new Error(`ctcLoss: logits has ${logits.length} values, shape [${input.shape}] needs ${batch * frames * vocab}`);
  }
  if (!Number.isInteger(blank) || blank < 0 || blank >= vocab) throw new Error(`ctcLoss: blank ${blank} not in [0, ${vocab})`);
  if (inputLengths.length !== batch) throw new Error(`ctcLoss: ${inputLengths.length} input lengths for batch ${batch}`);
  const padded = isPadded(targets) ? targets : null;
  const targetCount = padded ? padded.lengths.length : (targets as readonly ArrayLike<number>[]).length;
  if (targetCount !== batch) throw new Error(`ctcLoss: ${targetCount} targets for batch ${batch}`);
  if (padded && padded.data.length < batch * padded.maxLength) {
    throw new Error(`ctcLoss: padded targets hold ${padded.data.length} values, need ${batch * padded.maxLength}`);
  }

  let grad: Float32Array | Float64Array | null = null;
  if (wantGrad) {
    if (options.gradOut) {
      if (options.gradOut.length !== logits.length) throw new Error(`ctcLoss: gradOut has ${options.gradOut.length} values, need ${logits.length}`);
      grad = options.gradOut;
      grad.fill(0);
    } else {
      grad = logits instanceof Float64Array ? new Float64Array(logits.length) : new Float32Array(logits.length);
    }
  }
  const losses = new Float64Array(batch);
  const infeasible = new Uint8Array(batch);
  const logSpace = new Uint8Array(batch);
  let loss = 0;

  for (let b = 0; b < batch; b++) {
    const frameCount = inputLengths[b];
    if (!Number.isInteger(frameCount) || frameCount < 0 || frameCount > frames) {
      throw new Error(`ctcLoss: input length ${frameCount} of item ${b} not in [0, ${frames}]`);
    }
    const targetLength = padded ? padded.lengths[b] : (targets as readonly ArrayLike<number>[])[b].length;
    if (padded && (!Number.isInteger(targetLength) || targetLength < 0 || targetLength > padded.maxLength)) {
      throw new Error(`ctcLoss: target length ${targetLength} of item ${b} not in [0, ${padded.maxLength}]`);
    }
    const states = 2 * targetLength + 1;
    ensureScratch(frames, vocab, states);
    const extended = extendedBuffer;
    const canSkip = canSkipBuffer;

    // Build l' and count adjacent repeats: each needs an extra (blank) frame.
    let needed = targetLength;
    for (let i = 0; i < targetLength; i++) {
      const label = padded ? padded.data[b * padded.maxLength + i] : (targets as readonly ArrayLike<number>[])[b][i];
      if (!Number.isInteger(label) || label < 0 || label >= vocab || label === blank) {
        throw new Error(`ctcLoss: item ${b} target[${i}] = ${label} is not a non-blank label in [0, ${vocab})`);
      }
      extended[2 * i] = blank;
      extended[2 * i + 1] = label;
      if (i > 0 && extended[2 * i - 1] === label) needed++;
    }
    extended[states - 1] = blank;
    for (let s = 0; s < states; s++) canSkip[s] = s >= 2 && extended[s] !== blank && extended[s] !== extended[s - 2] ? 1 : 0;

    const scale =
      reduction === 'sum' ? 1 : reduction === 'mean' ? 1 / batch : 1 / (batch * Math.max(targetLength, 1));
    if (frameCount < needed) {
      infeasible[b] = 1;
      losses[b] = zeroInfinity ? 0 : Infinity;
      loss += scale * losses[b];
      continue;
    }
    if (frameCount === 0) continue; // empty target, no frames: the empty path, probability 1

    const item = ctcItem(logits, b * frames * vocab, frameCount, vocab, states, grad, scale, forceLogSpace);
    losses[b] = item.loss;
    logSpace[b] = item.logSpace ? 1 : 0;
    loss += scale * item.loss;
  }
  return { losses, loss, grad, infeasible, logSpace };
}

/**
 * One item: softmax, then the scaled path, or the log-space path if the scaled one reports a
 * possible loss of precision (or `forceLogSpace`). Returns −log p(l|x). Expects extended/canSkip
 * filled and the item to be feasible.
 */
function ctcItem(
  logits: Float32Array | Float64Array,
  offset: number,
  frameCount: number,
  vocab: number,
  states: number,
  grad: Float32Array | Float64Array | null,
  scale: number,
  forceLogSpace: boolean,
): { loss: number; logSpace: boolean } {
  // Softmax, written straight into the gradient as its first term (the paths then subtract
  // occupancy). The log path's log-softmax is derived from logSumBuffer only if it runs.
  const probs = probsBuffer;
  const logSums = logSumBuffer;
  const logMaxProbUpTo = logMaxProbUpToBuffer;
  for (let t = 0; t < frameCount; t++) {
    const row = offset + t * vocab;
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) if (logits[row + v] > max) max = logits[row + v];
    const lpRow = t * vocab;
    let sum = 0;
    for (let v = 0; v < vocab; v++) {
      const e = Math.exp(logits[row + v] - max);
      probs[lpRow + v] = e;
      sum += e;
    }
    logSums[t] = max + Math.log(sum);
    const inverse = 1 / sum;
    for (let v = 0; v < vocab; v++) probs[lpRow + v] *= inverse;
    if (grad) for (let v = 0; v < vocab; v++) grad[row + v] = scale * probs[lpRow + v];
  }
  if (!forceLogSpace) {
    // Σ_{t' ≤ t} log of the largest probability among l's tokens (blank included) at frame t':
    // a bound on what any part of a path can emit, used to charge dropped values.
    const used = usedTokensBuffer;
    used.fill(0, 0, vocab);
    for (let s = 0; s < states; s++) used[extendedBuffer[s]] = 1;
    let tokenCount = 0;
    for (let v = 0; v < vocab; v++) if (used[v] === 1) usedListBuffer[tokenCount++] = v;
    let sum = 0;
    for (let t = 0; t < frameCount; t++) {
      let best = 0;
      for (let k = 0; k < tokenCount; k++) {
        const p = probs[t * vocab + usedListBuffer[k]];
        if (p > best) best = p;
      }
      sum += Math.log(best);
      logMaxProbUpTo[t] = sum;
    }
    const loss = ctcItemScaled(offset, frameCount, vocab, states, grad, scale);
    if (loss !== null) return { loss, logSpace: false };
  }
  const logProbs = logProbsBuffer;
  for (let t = 0; t < frameCount; t++) {
    const row = offset + t * vocab;
    for (let v = 0; v < vocab; v++) logProbs[t * vocab + v] = logits[row + v] - logSums[t];
  }
  return { loss: ctcItemLog(offset, frameCount, vocab, states, grad, scale), logSpace: true };
}

/** Writes scale · softmax into the item's gradient rows. */
function writeSoftmaxGrad(grad: Float32Array | Float64Array, offset: number, frameCount: number, vocab: number, scale: number) {
  const probs = probsBuffer;
  for (let t = 0; t < frameCount; t++) {
    const row = offset + t * vocab;
    const lpRow = t * vocab;
    for (let v = 0; v < vocab; v++) grad[row + v] = scale * probs[lpRow + v];
  }
}

// The scaled path drops (sets to 0) any value below TINY in its row's units, so it never meets
// float64's denormals (below 2.2e-308), where digits are lost.
const TINY = 1e-280;
const LOG_TINY = Math.log(TINY);
// The dropped paths may carry at most e^-30 (1e-13) of p(l|x), or the item is redone in log space.
const LOG_DROPPED_TOLERANCE = -30;

// What the current item's scaled path dropped: how many values, and the log of an upper bound on
// the probability of the paths through the worst of them.
let droppedCount = 0;
let droppedLogBound = -Infinity;

/**
 * The fast path: the same recursions in probability space, each row divided by its maximum and
 * the logs of the divisors summed (Rabiner's scaling, used for CTC in Graves's thesis, 2012,
 * section 7.3.1, https://www.cs.toronto.edu/~graves/preprint.pdf). Only additions and
 * multiplications of non-negative numbers, so no cancellation and no exp/log per state.
 *
 * Values below TINY times their row's scale are dropped, and each drop is charged with an upper
 * bound on the probability of every path through it: a dropped forward value at (t, s) is below
 * TINY·scale_t and the rest of any path emits frames t+1.. with at most the product of those
 * frames' largest probabilities among the tokens of l'; a dropped backward value likewise with
 * frames ..t. If the charges could add up to more than e^-30 of p(l|x), the result is not
 * trusted and the item returns null, to be redone in log space. Confident models drop many hopeless states (far off
 * the alignment) and stay here; a model confidently wrong by hundreds of nats falls back.
 *
 * The work per frame lives in small functions (here and in the log path): V8 then optimizes them
 * as whole functions, where one long function with nested loops kept being compiled mid-loop
 * and thrown away again (measured: 3× slower).
 */
function ctcItemScaled(
  offset: number,
  frameCount: number,
  vocab: number,
  states: number,
  grad: Float32Array | Float64Array | null,
  scale: number,
): number | null {
  const logMaxProbUpTo = logMaxProbUpToBuffer;
  const logMaxProbAll = logMaxProbUpTo[frameCount - 1];
  droppedCount = 0;
  droppedLogBound = -Infinity;
  // Forward. Row t is computed from row t−1 divided by row t−1's maximum (the division is folded
  // into row t's products, so no separate pass); logScale sums the logs of those maxima, so row t
  // holds alpha[t] / e^logScale.
  // Only the band of each row is written; scaledAlphaRow zeroes the two cells above the previous
  // row's band that it reads, so the buffer needs no clearing.
  const alpha = alphaBuffer;
  alpha[0] = probsBuffer[extendedBuffer[0]];
  if (states > 1) alpha[1] = probsBuffer[extendedBuffer[1]];
  for (let s = 0; s < Math.min(states, 2); s++) {
    if (alpha[s] < TINY) {
      droppedCount++;
      droppedLogBound = Math.max(droppedLogBound, LOG_TINY + logMaxProbAll - logMaxProbUpTo[0]);
      alpha[s] = 0;
    }
  }
  let max = states > 1 && alpha[1] > alpha[0] ? alpha[1] : alpha[0];
  let logScale = 0;
  for (let t = 1; t < frameCount; t++) {
    if (!(max > 0)) return null;
    logScale += Math.log(max);
    max = scaledAlphaRow(t, frameCount, vocab, states, 1 / max, logScale + logMaxProbAll - logMaxProbUpTo[t]);
  }
  if (!(max > 0)) return null;
  const last = (frameCount - 1) * states;
  const finalMass = states > 1 ? alpha[last + states - 1] + alpha[last + states - 2] : alpha[last];
  const logLikelihood = logScale + Math.log(finalMass);
  if (!Number.isFinite(logLikelihood) || !droppedWithinTolerance(logLikelihood)) return null;
  if (!grad) return -logLikelihood;

  // Backward, scaled the same way (betaScale plays logScale's part). Occupancy is alpha·beta
  // normalized to sum 1 per frame, because Σ_s alpha[t][s]·beta[t][s] = p(l|x) at every t.
  // grad already holds scale·softmax (written by ctcItem).
  const betaHere = betaHereBuffer;
  betaHere.fill(0, 0, states);
  betaHere[states - 1] = 1;
  if (states > 1) betaHere[states - 2] = 1;
  max = 1;
  let betaScale = 0;
  for (let t = frameCount - 1; t >= 0; t--) {
    if (!scaledOccupancy(grad, offset, t, frameCount, vocab, states, scale)) return null;
    if (t > 0) {
      betaScale += Math.log(max);
      max = scaledBetaRow(t, frameCount, vocab, states, 1 / max, betaScale + logMaxProbUpTo[t - 1]);
      if (!(max > 0)) return null;
    }
  }
  return droppedWithinTolerance(logLikelihood) ? -logLikelihood : null;
}

function droppedWithinTolerance(logLikelihood: number): boolean {
  return droppedCount === 0 || Math.log(droppedCount) + droppedLogBound < logLikelihood + LOG_DROPPED_TOLERANCE;
}

/**
 * alpha row t from row t−1 times `inverse` (1 / row t−1's maximum). Returns row t's maximum.
 * `logDropCharge`: log of (row t's unit × the most frames t+1.. can emit), for dropped values.
 */
function scaledAlphaRow(
  t: number,
  frameCount: number,
  vocab: number,
  states: number,
  inverse: number,
  logDropCharge: number,
): number {
  const alpha = alphaBuffer;
  const probs = probsBuffer;
  const extended = extendedBuffer;
  const canSkip = canSkipBuffer;
  const lo = Math.max(0, states - 2 * (frameCount - t));
  const hi = Math.min(states - 1, 2 * t + 1);
  const here = t * states;
  const prev = here - states;
  const pRow = t * vocab;
  // Row t−1's band ends at 2t−1; cells 2t and 2t+1 may be read (even below lo when S = T).
  for (let s = 2 * t; s <= hi; s++) alpha[prev + s] = 0;
  let max = 0;
  let dropped = 0;
  for (let s = lo; s <= hi; s++) {
    let inflow = s > 0 ? alpha[prev + s] + alpha[prev + s - 1] : alpha[prev];
    if (canSkip[s] === 1) inflow += alpha[prev + s - 2];
    let value = inflow * inverse * probs[pRow + extended[s]];
    // inflow > 0 rather than value !== 0: a product that underflowed to 0 is a drop too.
    if (value < TINY && inflow > 0) {
      value = 0;
      dropped++;
    }
    alpha[here + s] = value;
    if (value > max) max = value;
  }
  if (dropped > 0) {
    droppedCount += dropped;
    if (LOG_TINY + logDropCharge > droppedLogBound) droppedLogBound = LOG_TINY + logDropCharge;
  }
  return max;
}

/** Subtracts frame t's occupancy from the gradient; false if alpha·beta vanished. */
function scaledOccupancy(
  grad: Float32Array | Float64Array,
  offset: number,
  t: number,
  frameCount: number,
  vocab: number,
  states: number,
  scale: number,
): boolean {
  const alpha = alphaBuffer;
  const betaHere = betaHereBuffer;
  const extended = extendedBuffer;
  const here = t * states;
  const row = offset + t * vocab;
  const lo = Math.max(0, states - 2 * (frameCount - t));
  const hi = Math.min(states - 1, 2 * t + 1);
  let total = 0;
  for (let s = lo; s <= hi; s++) total += alpha[here + s] * betaHere[s];
  if (!(total > 0 && total < Infinity)) return false;
  const norm = scale / total;
  for (let s = lo; s <= hi; s++) grad[row + extended[s]] -= norm * alpha[here + s] * betaHere[s];
  return true;
}

/**
 * Replaces betaHere (frame t) with beta of frame t−1, from frame t's row times `inverse`.
 * Returns the new row's maximum. `logDropCharge`: log of (the new row's unit × the most frames
 * 0..t−1 can emit), for dropped values.
 */
function scaledBetaRow(
  t: number,
  frameCount: number,
  vocab: number,
  states: number,
  inverse: number,
  logDropCharge: number,
): number {
  const probs = probsBuffer;
  const betaHere = betaHereBuffer;
  const betaNext = betaNextBuffer;
  const extended = extendedBuffer;
  const canSkip = canSkipBuffer;
  const pRow = t * vocab;
  // Band of frame t (the only non-zero part of betaHere) and of frame t−1.
  const loHere = Math.max(0, states - 2 * (frameCount - t));
  const hiHere = Math.min(states - 1, 2 * t + 1);
  const lo = Math.max(0, loHere - 2);
  const hi = Math.min(states - 1, 2 * t - 1);
  let dropped = 0;
  for (let s = loHere; s <= hiHere; s++) {
    const value = betaHere[s] * inverse * probs[pRow + extended[s]];
    if (value < TINY && betaHere[s] > 0) {
      betaNext[s] = 0;
      dropped++;
    } else {
      betaNext[s] = value;
    }
  }
  // Every cell of frame t−1's band is written below, and nothing outside it is read later.
  let max = 0;
  for (let s = lo; s <= hi; s++) {
    let value: number = s >= loHere ? betaNext[s] : 0;
    if (s + 1 >= loHere && s + 1 <= hiHere) value += betaNext[s + 1];
    if (s + 2 <= hiHere && canSkip[s + 2] === 1) value += betaNext[s + 2];
    betaHere[s] = value; // a sum of terms that are 0 or ≥ TINY: nothing more to drop
    if (value > max) max = value;
  }
  if (dropped > 0) {
    droppedCount += dropped;
    if (LOG_TINY + logDropCharge > droppedLogBound) droppedLogBound = LOG_TINY + logDropCharge;
  }
  return max;
}

/** The reference path: alpha, then beta and occupancy frame by frame backwards, in log space. */
function ctcItemLog(
  offset: number,
  frameCount: number,
  vocab: number,
  states: number,
  grad: Float32Array | Float64Array | null,
  scale: number,
): number {
  // Rows are filled with -Infinity outside the band so that the next row may read its
  // neighbours without bounds checks.
  const alpha = alphaBuffer;
  alpha.fill(-Infinity, 0, frameCount * states);
  alpha[0] = logProbsBuffer[extendedBuffer[0]];
  if (states > 1) alpha[1] = logProbsBuffer[extendedBuffer[1]];
  for (let t = 1; t < frameCount; t++) logAlphaRow(t, frameCount, vocab, states);
  const last = (frameCount - 1) * states;
  const logLikelihood = states > 1 ? logSumExp2(alpha[last + states - 1], alpha[last + states - 2]) : alpha[last];
  if (!grad) return -logLikelihood;

  // Backward: beta, one row at a time, subtracting the occupancy of each frame as soon as its beta
  // row is known. grad is reset to scale·softmax first: the scaled path may have given up halfway.
  writeSoftmaxGrad(grad, offset, frameCount, vocab, scale);
  const betaHere = betaHereBuffer;
  betaHere.fill(-Infinity, 0, states);
  betaHere[states - 1] = 0;
  if (states > 1) betaHere[states - 2] = 0;
  for (let t = frameCount - 1; t >= 0; t--) {
    logOccupancy(grad, offset, t, frameCount, vocab, states, scale, logLikelihood);
    if (t > 0) logBetaRow(t, frameCount, vocab, states);
  }
  return -logLikelihood;
}

function logAlphaRow(t: number, frameCount: number, vocab: number, states: number): void {
  const alpha = alphaBuffer;
  const logProbs = logProbsBuffer;
  const extended = extendedBuffer;
  const canSkip = canSkipBuffer;
  const lo = Math.max(0, states - 2 * (frameCount - t));
  const hi = Math.min(states - 1, 2 * t + 1);
  const here = t * states;
  const prev = here - states;
  const lpRow = t * vocab;
  for (let s = lo; s <= hi; s++) {
    const a = alpha[prev + s];
    let total: number;
    if (s === 0) total = a;
    else if (canSkip[s] === 1) total = logSumExp3(a, alpha[prev + s - 1], alpha[prev + s - 2]);
    else total = logSumExp2(a, alpha[prev + s - 1]);
    alpha[here + s] = total + logProbs[lpRow + extended[s]];
  }
}

function logOccupancy(
  grad: Float32Array | Float64Array,
  offset: number,
  t: number,
  frameCount: number,
  vocab: number,
  states: number,
  scale: number,
  logLikelihood: number,
): void {
  const alpha = alphaBuffer;
  const betaHere = betaHereBuffer;
  const extended = extendedBuffer;
  const here = t * states;
  const row = offset + t * vocab;
  const lo = Math.max(0, states - 2 * (frameCount - t));
  const hi = Math.min(states - 1, 2 * t + 1);
  for (let s = lo; s <= hi; s++) {
    const logGamma = alpha[here + s] + betaHere[s] - logLikelihood;
    if (logGamma > -745) grad[row + extended[s]] -= scale * Math.exp(logGamma);
  }
}

/** Replaces betaHere (frame t) with beta of frame t−1; betaNext holds beta[t] + emission at t. */
function logBetaRow(t: number, frameCount: number, vocab: number, states: number): void {
  const logProbs = logProbsBuffer;
  const betaHere = betaHereBuffer;
  const betaNext = betaNextBuffer;
  const extended = extendedBuffer;
  const canSkip = canSkipBuffer;
  const lpRow = t * vocab;
  for (let s = 0; s < states; s++) betaNext[s] = betaHere[s] + logProbs[lpRow + extended[s]];
  const lo = Math.max(0, states - 2 * (frameCount - t + 1));
  const hi = Math.min(states - 1, 2 * (t - 1) + 1);
  betaHere.fill(-Infinity, 0, states);
  for (let s = lo; s <= hi; s++) {
    const a = betaNext[s];
    if (s + 1 >= states) betaHere[s] = a;
    else if (s + 2 < states && canSkip[s + 2] === 1) betaHere[s] = logSumExp3(a, betaNext[s + 1], betaNext[s + 2]);
    else betaHere[s] = logSumExp2(a, betaNext[s + 1]);
  }
}

// A term more than 37 nats below the largest changes a float64 sum by less than one part in
// 1e16 (e^−37 ≈ 8.5e−17), so it is skipped, which saves the exp/log for confident models.
const NEGLIGIBLE = 37;

function logSumExp2(a: number, b: number): number {
  const m = a > b ? a : b;
  const d = (a > b ? b : a) - m;
  if (!(d > -NEGLIGIBLE)) return m; // also when both are -Infinity (d is NaN)
  return m + Math.log1p(Math.exp(d));
}

function logSumExp3(a: number, b: number, c: number): number {
  let m = a > b ? a : b;
  if (c > m) m = c;
  if (m === -Infinity) return -Infinity;
  const da = a - m;
  const db = b - m;
  const dc = c - m;
  let sum = 0; // the terms other than the maximum itself
  if (da > -NEGLIGIBLE && da < 0) sum += Math.exp(da);
  if (db > -NEGLIGIBLE && db < 0) sum += Math.exp(db);
  if (dc > -NEGLIGIBLE && dc < 0) sum += Math.exp(dc);
  // Ties: a term equal to the maximum (d = 0) after the first contributes 1.
  const ties = (da === 0 ? 1 : 0) + (db === 0 ? 1 : 0) + (dc === 0 ? 1 : 0) - 1;
  sum += ties;
  return sum === 0 ? m : m + Math.log1p(sum);
}

function isPadded(targets: CtcInput['targets']): targets is PaddedTargets {
  return !Array.isArray(targets);
}
