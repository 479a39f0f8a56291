import { useMemo } from 'react';
import { useApp } from '../../store/app-store';
import { currentLineage, progressSummary, type ProgressSummary, type RoundPoint } from '../../store/progress';
import { pct, plural } from '../format';
import { ProgressChart } from './progress-chart';
import { ProgressTakes } from './progress-takes';

function Headline({ s, baseName }: { s: ProgressSummary; baseName: string }) {
  const change = Math.round(100 * Math.abs(s.fewerErrors));
  const base = <span title={baseName}>the model you started from</span>;
  const verdict =
    change === 0 ? (
      <>as many word errors as {base}</>
    ) : s.fewerErrors > 0 ? (
      <>
        <strong>{change}% fewer word errors</strong> than {base}
      </>
    ) : (
      <>
        {change}% more word errors than {base}
      </>
    );
  return (
    <p className="progress-headline" data-testid="progress-headline">
      After {plural(s.takes, 'take')}, your model makes {verdict} on your {plural(s.heldOut, 'held-out take')}: WER {pct(s.base.wer)} → {pct(s.current.wer)}, CER {pct(s.base.cer)} →{' '}
      {pct(s.current.cer)}.
    </p>
  );
}

/** Every round of the picture: its takes, both models' held-out WER, and whether its model was adopted. */
function Rounds({ points }: { points: RoundPoint[] }) {
  return (
    <details open={points.length <= 6}>
      <summary>{plural(points.length, 'round')}</summary>
      <table className="utterances">
        <thead>
          <tr>
            <th>round</th>
            <th>takes</th>
            <th>base WER</th>
            <th>your WER</th>
            <th>outcome</th>
          </tr>
        </thead>
        <tbody>
          {points.map((p, i) => (
            <tr key={p.id} data-testid="progress-round" data-adopted={p.adopted}>
              <td>{i + 1}</td>
              <td>{p.takes}</td>
              <td>{pct(p.base?.wer)}</td>
              <td>{pct(p.current?.wer)}</td>
              <td>
                {p.adopted ? 'adopted' : <span className="kept">not adopted: the model stayed{p.turnedDown && ` (the round's model scored ${pct(p.turnedDown.wer)})`}</span>}
                {p.unscored && <span className="muted"> · {p.unscored}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/**
 * Whether the app is learning the user's voice: each round of training as takes arrive, scored on
 * the held-out takes (every fifth, never trained on) with the base model the rounds began from.
 */
export function ProgressSection() {
  const all = useApp((s) => s.progress);
  const scoring = useApp((s) => s.progressScoring);
  const models = useApp((s) => s.models);
  const points = useMemo(() => currentLineage(all), [all]);
  const summary = progressSummary(points);
  const latest = [...points].reverse().find((p) => p.base && p.current);
  const nameOf = (id: string) => models.find((m) => m.id === id)?.name ?? 'a model no longer stored';
  return (
    <section className="progress" aria-labelledby="progress-heading" data-testid="progress" data-rounds={points.length}>
      <h3 id="progress-heading">Learning your voice</h3>
      {points.length === 0 ? (
        <p className="muted">
          Each round of fine-tuning as takes arrive adds a point here: how the base model and your model do on your held-out takes (every fifth take, never trained on).
        </p>
      ) : summary ? (
        <Headline s={summary} baseName={nameOf(points[0].baseModelId)} />
      ) : null}
      {scoring && <p className="muted">Scoring your held-out takes with the base model and your model…</p>}
      {points.length > 0 && (
        <>
          <div className="charts">
            <ProgressChart points={points} metric="wer" />
            <ProgressChart points={points} metric="cer" />
          </div>
          <Rounds points={points} />
        </>
      )}
      {latest && <ProgressTakes roundId={latest.id} baseName={nameOf(latest.baseModelId)} currentName={nameOf(latest.currentModelId)} />}
    </section>
  );
}
