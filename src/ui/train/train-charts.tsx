import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useApp } from '../../store/app-store';
import { formatTick, stepRange, stepTicks, yAxisWidth } from './chart-axes';

interface ChartSeries {
  name: string;
  points: [number, number][];
  color: string;
}

/** Labels of about five evenly spaced y values, to size the axis for its widest one. */
function yLabels(series: ChartSeries[], percent?: boolean): string[] {
  const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  if (!ys.length) return ['0'];
  const lo = Math.min(...ys);
  const hi = Math.max(...ys);
  return [0, 1, 2, 3, 4].map((i) => formatTick(lo + ((hi - lo) * i) / 4, { percent }));
}

function Chart(p: { id: string; title: string; yTitle: string; series: ChartSeries[]; steps: [number, number]; ticks: number[]; percent?: boolean; empty: string }) {
  const count = p.series.reduce((n, s) => n + s.points.length, 0);
  const width = yAxisWidth(yLabels(p.series, p.percent));
  return (
    <figure className="chart" data-testid={`chart-${p.id}`} data-points={count} data-step-max={p.steps[1]}>
      <figcaption>{p.title}</figcaption>
      {count === 0 ? (
        <p className="chart-empty">{p.empty}</p>
      ) : (
        <ResponsiveContainer width="100%" height={200}>
          <LineChart margin={{ top: 4, right: 14, bottom: 16, left: 4 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis
              dataKey="0"
              type="number"
              domain={p.steps}
              ticks={p.ticks}
              allowDecimals={false}
              allowDuplicatedCategory={false}
              tick={{ fontSize: 11, fill: 'var(--text-muted)' }}
              label={{ value: 'step', position: 'insideBottom', offset: -10, fontSize: 11, fill: 'var(--text-muted)' }}
            />
            <YAxis
              dataKey="1"
              type="number"
              domain={['auto', 'auto']}
              width={width + 14}
              tick={{ fontSize: 11, fill: 'var(--text-muted)' }}
              tickFormatter={(v: number) => formatTick(v, { percent: p.percent })}
              label={{ value: p.yTitle, angle: -90, position: 'insideLeft', offset: 2, fontSize: 11, fill: 'var(--text-muted)', style: { textAnchor: 'middle' } }}
            />
            <Tooltip formatter={(v) => formatTick(Number(v), { percent: p.percent })} labelFormatter={(l) => `step ${l}`} />
            <Legend itemSorter={null} verticalAlign="top" height={22} iconType="plainline" wrapperStyle={{ fontSize: 12 }} />
            {p.series.map((s) => (
              <Line key={s.name} name={s.name} data={s.points} dataKey="1" stroke={s.color} strokeWidth={2} dot={s.points.length < 30} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}

/** Training and validation loss, validation WER/CER, learning rate and throughput, over one shared step range. */
export function TrainCharts() {
  const h = useApp((s) => s.history);
  const totalSteps = useApp((s) => s.run?.totalSteps ?? 0);
  const steps = stepRange([h.loss, h.valLoss, h.wer, h.cer, h.lr, h.throughput], totalSteps);
  const ticks = stepTicks(steps[1]);
  const common = { steps, ticks };
  const noSteps = 'Appears with the first training step.';
  const noEval = 'Appears when the first validation pass ends.';
  return (
    <div className="charts">
      <Chart {...common} id="loss" title="Loss (CTC per target token)" yTitle="loss" empty={noSteps} series={[{ name: 'train', points: h.loss, color: 'var(--series-1)' }, { name: 'validation', points: h.valLoss, color: 'var(--series-2)' }]} />
      <Chart {...common} id="wer" title="Validation WER and CER" yTitle="error rate" percent empty={noEval} series={[{ name: 'WER', points: h.wer, color: 'var(--series-3)' }, { name: 'CER', points: h.cer, color: 'var(--series-4)' }]} />
      <Chart {...common} id="lr" title="Learning rate" yTitle="learning rate" empty={noSteps} series={[{ name: 'learning rate', points: h.lr, color: 'var(--series-5)' }]} />
      <Chart {...common} id="throughput" title="Throughput" yTitle="audio s per s" empty={noSteps} series={[{ name: 'audio seconds per second', points: h.throughput, color: 'var(--series-6)' }]} />
    </div>
  );
}
