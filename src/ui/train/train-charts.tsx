import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import { useApp } from '../../store/app-store';

function Chart({ id, title, series, percent }: { id: string; title: string; series: { name: string; points: [number, number][]; color: string }[]; percent?: boolean }) {
  const count = series.reduce((n, s) => n + s.points.length, 0);
  return (
    <figure className="chart" data-testid={`chart-${id}`} data-points={count}>
      <figcaption>{title}</figcaption>
      <LineChart width={420} height={170} margin={{ top: 5, right: 12, bottom: 5, left: 0 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="0" type="number" domain={['dataMin', 'dataMax']} allowDuplicatedCategory={false} tick={{ fontSize: 11 }} />
        <YAxis dataKey="1" type="number" domain={['auto', 'auto']} tick={{ fontSize: 11 }} width={52} tickFormatter={(v: number) => (percent ? `${Number((v * 100).toPrecision(3))}%` : Number(v.toPrecision(3)).toString())} />
        <Tooltip />
        {series.map((s) => (
          <Line key={s.name} name={s.name} data={s.points} dataKey="1" stroke={s.color} dot={s.points.length < 30} isAnimationActive={false} />
        ))}
      </LineChart>
    </figure>
  );
}

/** Training and validation loss, validation WER/CER, learning rate and throughput. */
export function TrainCharts() {
  const h = useApp((s) => s.history);
  return (
    <div className="charts">
      <Chart id="loss" title="Loss (CTC per target token)" series={[{ name: 'train', points: h.loss, color: '#3366cc' }, { name: 'validation', points: h.valLoss, color: '#dc3912' }]} />
      <Chart id="wer" title="Validation WER and CER" percent series={[{ name: 'WER', points: h.wer, color: '#109618' }, { name: 'CER', points: h.cer, color: '#ff9900' }]} />
      <Chart id="lr" title="Learning rate" series={[{ name: 'lr', points: h.lr, color: '#990099' }]} />
      <Chart id="throughput" title="Throughput (audio seconds per second)" series={[{ name: 'audio s/s', points: h.throughput, color: '#0099c6' }]} />
    </div>
  );
}
