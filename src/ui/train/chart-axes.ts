// Axes of the training charts: one step range shared by every chart, whole-number step ticks, and
// y labels short enough to fit their axis (7.5e-4 rather than a clipped ".00075").

type Series = readonly (readonly [number, number])[];

/** The step range every chart shows: from 0 to the run's last step (or the last plotted one, if later). */
export function stepRange(series: readonly Series[], totalSteps: number): [number, number] {
  let max = Math.max(1, totalSteps);
  for (const s of series) for (const [step] of s) if (step > max) max = step;
  return [0, max];
}

/** Whole-number ticks at a 1-2-5 spacing from 0 to `max`, at most `count` of them (max itself included). */
export function stepTicks(max: number, count = 6): number[] {
  const top = Math.max(1, Math.ceil(max));
  const raw = top / Math.max(1, count - 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  const spacing = Math.max(1, [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p);
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += spacing) ticks.push(t);
  // the last step is labelled unless a tick already sits close to it
  if (ticks[ticks.length - 1] !== top) {
    if (top - ticks[ticks.length - 1] < spacing / 2) ticks.pop();
    ticks.push(top);
  }
  return ticks;
}

/** A y tick label of at most about 6 characters: percentages, plain numbers, or exponent form for the very small and very large. */
export function formatTick(v: number, o: { percent?: boolean } = {}): string {
  if (!Number.isFinite(v)) return '';
  if (o.percent) return `${Number((v * 100).toPrecision(3))}%`;
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 0.01 || a >= 100_000) return v.toExponential(1).replace(/\.0e/, 'e').replace('e+', 'e');
  return String(Number(v.toPrecision(3)));
}

/** Pixels the y axis needs for its widest label (11 px system font, about 6.5 px per character). */
export function yAxisWidth(labels: readonly string[], fontPx = 11): number {
  const chars = Math.max(1, ...labels.map((l) => l.length));
  return Math.ceil(chars * fontPx * 0.6 + 10);
}
