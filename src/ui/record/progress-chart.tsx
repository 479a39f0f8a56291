import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { progressSeries, type RoundPoint } from '../../store/progress';
import { formatTick, stepTicks, yAxisWidth } from '../train/chart-axes';

const AXIS_TEXT = { fontSize: 11, fill: 'var(--text-muted)' };

/**
 * One held-out error rate over the takes recorded, a point per round: the base model (dashed) and
 * the model current after each round; a round that was not adopted rings the current model's
 * point (it stayed) and marks what the round's own model scored. Styled as the Train panel's charts.
 */
export function ProgressChart({ points, metric }: { points: RoundPoint[]; metric: 'wer' | 'cer' }) {
  const s = progressSeries(points, metric);
  const name = metric.toUpperCase();
  const maxTakes = Math.max(1, ...points.map((p) => p.takes));
  const ys = [...s.base, ...s.current, ...s.turnedDown].map((p) => p[1]);
  const top = Math.max(0, ...ys);
  const width = yAxisWidth([0, 1, 2, 3, 4].map((i) => formatTick((top * i) / 4, { percent: true })));
  return (
    <figure className="chart" data-testid={`progress-chart-${metric}`} data-points={s.current.length} data-kept={s.kept.length}>
      <figcaption>Held-out {name} as your takes accumulate</figcaption>
      {s.current.length === 0 ? (
        <p className="chart-empty">Appears after the first round with held-out takes (every fifth take).</p>
      ) : (
        <ResponsiveContainer width="100%" height={220}>
          <LineChart margin={{ top: 4, right: 14, bottom: 16, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis
              dataKey="0"
              type="number"
              domain={[0, maxTakes]}
              ticks={stepTicks(maxTakes)}
              padding={{ right: 12 }}
              allowDecimals={false}
              allowDuplicatedCategory={false}
              tick={AXIS_TEXT}
              label={{ value: 'takes recorded', position: 'insideBottom', offset: -10, ...AXIS_TEXT }}
            />
            <YAxis
              dataKey="1"
              type="number"
              domain={[0, 'auto']}
              width={width + 14}
              tick={AXIS_TEXT}
              tickFormatter={(v: number) => formatTick(v, { percent: true })}
              label={{ value: `held-out ${name}`, angle: -90, position: 'insideLeft', offset: 2, ...AXIS_TEXT, style: { textAnchor: 'middle' } }}
            />
            <Tooltip formatter={(v) => formatTick(Number(v), { percent: true })} labelFormatter={(l) => `after ${l} takes`} />
            <Legend itemSorter={null} verticalAlign="top" height={s.kept.length ? 40 : 22} wrapperStyle={{ fontSize: 12 }} />
            <Line name="base model" data={s.base} dataKey="1" legendType="plainline" stroke="var(--series-2)" strokeWidth={2} strokeDasharray="5 4" dot={{ strokeDasharray: 'none' }} isAnimationActive={false} />
            <Line name="your model" data={s.current} dataKey="1" legendType="plainline" stroke="var(--series-3)" strokeWidth={2} isAnimationActive={false} />
            {s.kept.length > 0 && (
              <Line name="round not adopted: model kept" data={s.kept} dataKey="1" stroke="var(--warn)" strokeWidth={0} legendType="circle" activeDot={false} dot={{ r: 7, fill: 'none', stroke: 'var(--warn)', strokeWidth: 2 }} isAnimationActive={false} />
            )}
            {s.turnedDown.length > 0 && (
              <Line name="that round's model" data={s.turnedDown} dataKey="1" stroke="var(--warn)" strokeWidth={0} legendType="cross" dot={{ symbol: 'cross', r: 5, fill: 'var(--warn)', stroke: 'none' }} isAnimationActive={false} />
            )}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
