import { useState } from 'react';
import { alignWords } from '../../asr/wer';
import type { TakeView } from '../../store/app-store';
import { acceptTake, discardTake, takeAudio } from '../../store/record-actions';
import { PlayButton } from '../utterances/play-button';

/** The corrected text against the model's transcript: changed and added words marked, dropped ones struck. */
function Changes({ hyp, text }: { hyp: string; text: string }) {
  const { ops } = alignWords(hyp, text);
  if (ops.every((o) => o.op === 'equal')) return <span className="muted">no changes</span>;
  return (
    <span data-testid="take-changes">
      {ops.map((o, i) =>
        o.op === 'equal' ? (
          <span key={i}>{o.hyp} </span>
        ) : o.op === 'del' ? (
          <del key={i} className="op-del">
            {o.ref}{' '}
          </del>
        ) : (
          <mark key={i} className="changed">
            {o.hyp}{' '}
          </mark>
        ),
      )}
    </span>
  );
}

export function TakeCard({ take }: { take: TakeView }) {
  const [text, setText] = useState<string | undefined>();
  const value = text ?? take.transcript ?? take.prompt ?? take.hypothesis ?? '';
  const accepted = take.status === 'accepted';
  return (
    <li className="take" data-testid="take" data-status={take.status} data-id={take.id}>
      <PlayButton load={async () => (await takeAudio(take.id)) ?? new Uint8Array()} />{' '}
      <small>
        {new Date(take.createdAt).toLocaleTimeString()} · {take.duration.toFixed(1)} s
      </small>
      <div>
        Model heard: <q data-testid="take-hypothesis">{take.transcribing ? '…' : (take.hypothesis ?? '(not transcribed)')}</q>
      </div>
      {take.prompt && <div className="muted">Prompt: {take.prompt}</div>}
      <input className="transcript" data-testid="take-text" value={value} disabled={accepted} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && void acceptTake(take.id, value)} aria-label="what was said" />
      <div>
        <Changes hyp={take.hypothesis ?? ''} text={value} />
      </div>
      {accepted ? (
        <span data-testid="take-accepted">✓ in the training data</span>
      ) : (
        <>
          <button type="button" data-testid="take-accept" onClick={() => void acceptTake(take.id, value)}>
            Accept
          </button>{' '}
          <button type="button" onClick={() => void discardTake(take.id)}>
            Discard
          </button>
        </>
      )}
    </li>
  );
}
