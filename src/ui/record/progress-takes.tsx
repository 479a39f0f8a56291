import { useEffect, useMemo, useState } from 'react';
import { alignWords } from '../../asr/wer';
import { useApp } from '../../store/app-store';
import { wordChanges, type WordCount } from '../../store/progress';
import { roundTranscripts } from '../../store/progress-actions';
import { takeAudio } from '../../store/record-actions';
import type { ProgressRound } from '../../workers/train-db';
import { Alignment } from '../evaluate/alignment';
import { pct, plural } from '../format';
import { PlayButton } from '../utterances/play-button';

function Words({ testId, title, words, missed }: { testId: string; title: string; words: WordCount[]; missed?: boolean }) {
  if (words.length === 0) return null;
  return (
    <p data-testid={testId}>
      {title}{' '}
      {words.map((w) => (
        <span key={w.word} className={missed ? 'word-chip missed' : 'word-chip'}>
          {w.word}
          {w.count > 1 && <small> ×{w.count}</small>}
        </span>
      ))}
    </p>
  );
}

/** One model's transcript of a take, its wrong words marked as in Evaluate, and its WER. */
function Heard({ said, hyp }: { said: string; hyp: string }) {
  const a = alignWords(said, hyp);
  return (
    <>
      <Alignment ops={a.ops} /> <small className="muted">({pct(a.errorRate)})</small>
    </>
  );
}

/**
 * A round's held-out takes, before (the base model) and now (the model current after the round),
 * and the words now right that the base missed; transcripts are read from IndexedDB, not the store.
 */
export function ProgressTakes({ roundId, baseName, currentName }: { roundId: string; baseName: string; currentName: string }) {
  const [rows, setRows] = useState<ProgressRound['transcripts'] | undefined>();
  const takes = useApp((s) => s.takes);
  useEffect(() => {
    let live = true;
    void roundTranscripts(roundId).then((t) => live && setRows(t));
    return () => {
      live = false;
    };
  }, [roundId]);
  const changes = useMemo(() => wordChanges(rows ?? []), [rows]);
  if (!rows) return null;
  const takeOf = new Map(takes.filter((t) => t.utteranceId).map((t) => [t.utteranceId!, t.id]));
  return (
    <div data-testid="progress-takes">
      {changes.nowRight.length === 0 && changes.nowMissed.length === 0 && <p className="muted">No word is right now that was missed before, or the other way round.</p>}
      <Words testId="progress-now-right" title="Now right, missed before:" words={changes.nowRight} />
      <Words testId="progress-now-missed" title="Now missed, right before:" words={changes.nowMissed} missed />
      <details open={rows.length <= 8}>
        <summary>{plural(rows.length, 'held-out take')}, before and now</summary>
        <table className="utterances">
          <thead>
            <tr>
              <th aria-label="play" />
              <th>said</th>
              <th>
                before <small className="muted">{baseName}</small>
              </th>
              <th>
                now <small className="muted">{currentName}</small>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => {
              const takeId = takeOf.get(r.utteranceId);
              return (
                <tr key={r.utteranceId} data-testid="progress-take">
                  <td>{takeId && <PlayButton load={async () => (await takeAudio(takeId)) ?? new Uint8Array()} />}</td>
                  <td>{r.ref}</td>
                  <td data-testid="progress-before">
                    <Heard said={r.ref} hyp={r.base} />
                  </td>
                  <td data-testid="progress-now">
                    <Heard said={r.ref} hyp={r.current} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </details>
    </div>
  );
}
