// Learning-rate schedule: linear warmup to the peak, then a cosine decay to a floor
// (Loshchilov & Hutter 2017, "SGDR", without restarts; warmup as in Goyal et al. 2017). The
// floor keeps the last steps of a short fine-tune from being wasted at a learning rate of zero.

export interface LrSchedule {
  peakLr: number;
  /** Steps of linear warmup from peakLr / warmupSteps to peakLr. */
  warmupSteps: number;
  totalSteps: number;
  /** The learning rate at the end, as a fraction of the peak (default 0.05). */
  finalFraction?: number;
}

/** Learning rate for the update numbered `step` (0-based). */
export function lrAt(step: number, s: LrSchedule): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.peakLr * (step + 1)) / s.warmupSteps;
  const floor = s.finalFraction ?? 0.05;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const p = Math.min(1, Math.max(0, (step - s.warmupSteps) / decaySteps));
  return s.peakLr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
