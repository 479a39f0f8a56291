import { useEffect, useState } from 'react';
import type { Split, Utterance } from '../../data/model';
import { PlayButton } from './play-button';

export interface RowActions {
  edit(u: Utterance, transcript: string): Promise<void>;
  split(u: Utterance, s: Split): Promise<void>;
  remove(u: Utterance): Promise<void>;
  audio(u: Utterance): Promise<Uint8Array>;
}

export function UtteranceRow({ u, actions }: { u: Utterance; actions: RowActions }) {
  const [text, setText] = useState(u.transcript);
  useEffect(() => setText(u.transcript), [u.transcript]);
  const commit = () => text !== u.transcript && void actions.edit(u, text);
  return (
    <tr data-testid="utterance-row" data-id={u.id} data-source={u.source}>
      <td>
        <PlayButton load={() => actions.audio(u)} offset={u.offset} duration={u.duration} />
      </td>
      <td>
        <input
          className="transcript"
          data-testid="utterance-transcript"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onBlur={commit}
          onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
          aria-label="transcript"
        />
      </td>
      <td>
        <select value={u.split} onChange={(e) => void actions.split(u, e.target.value as Split)} aria-label="split">
          <option>train</option>
          <option>validation</option>
          <option>test</option>
        </select>
      </td>
      <td>{u.speaker ?? ''}</td>
      <td>{u.duration.toFixed(1)}</td>
      <td>
        <button type="button" data-testid="utterance-delete" onClick={() => void actions.remove(u)}>
          Delete
        </button>
      </td>
    </tr>
  );
}
