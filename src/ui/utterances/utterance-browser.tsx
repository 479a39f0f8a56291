import { useEffect, useMemo, useState } from 'react';
import type { Split, Utterance } from '../../data/model';
import { DataStore } from '../../data/storage';
import { deleteUtterance, setTranscript } from '../../store/utterance-edits';
import { refreshDatasets } from '../data/data-actions';
import { selectDatasets, useDataStore } from '../data/data-store';
import { SplitGroups } from './split-groups';
import { UtteranceRow } from './utterance-row';

let storePromise: Promise<DataStore> | undefined;
const store = () => (storePromise ??= DataStore.open());
const PAGE = 200;

/** One dataset's utterances: play, edit transcripts inline, change splits, filter, delete. */
export function UtteranceBrowser() {
  const datasets = useDataStore(selectDatasets);
  const [datasetId, setDatasetId] = useState<string>();
  const [utts, setUtts] = useState<Utterance[]>([]);
  const [split, setSplitFilter] = useState<Split | 'all'>('all');
  const [speaker, setSpeaker] = useState('all');
  const [query, setQuery] = useState('');
  const id = datasetId && datasets.some((d) => d.id === datasetId) ? datasetId : datasets[0]?.id;
  const dataset = datasets.find((d) => d.id === id);

  useEffect(() => {
    if (!id) return setUtts([]);
    let live = true;
    void store()
      .then((s) => s.listUtterances(id))
      .then((u) => live && setUtts(u));
    return () => {
      live = false;
    };
  }, [id, dataset?.utterances]);

  const speakers = useMemo(() => [...new Set(utts.map((u) => u.speaker).filter((s): s is string => !!s))].sort(), [utts]);
  const shown = utts.filter((u) => (split === 'all' || u.split === split) && (speaker === 'all' || u.speaker === speaker) && (!query || u.transcript.toLowerCase().includes(query.toLowerCase())));

  const replace = (u: Utterance) => setUtts((list) => list.map((x) => (x.id === u.id ? u : x)));
  const actions = {
    async edit(u: Utterance, transcript: string) {
      replace(await setTranscript(u.id, transcript));
    },
    async split(u: Utterance, s: Split) {
      await (await store()).setSplit(u.id, s);
      replace({ ...u, split: s, splitLocked: true });
    },
    async moveAll(ids: string[], s: Split) {
      await (await store()).setSplits(ids, s);
      const moved = new Set(ids);
      setUtts((list) => list.map((x) => (moved.has(x.id) ? { ...x, split: s, splitLocked: true } : x)));
    },
    async remove(u: Utterance) {
      await deleteUtterance(u.id);
      setUtts((list) => list.filter((x) => x.id !== u.id));
      await refreshDatasets();
    },
    audio: async (u: Utterance) => (await store()).getAudio(u.id),
  };

  if (datasets.length === 0) return null;
  return (
    <section aria-labelledby="utterances-heading" data-testid="utterance-browser">
      <h3 id="utterances-heading">Utterances</h3>
      <div className="filters">
        <label>
          Dataset{' '}
          <select data-testid="utterance-dataset" value={id} onChange={(e) => setDatasetId(e.target.value)}>
            {datasets.map((d) => (
              <option key={d.id} value={d.id}>
                {d.name}
              </option>
            ))}
          </select>
        </label>{' '}
        <label>
          Split{' '}
          <select value={split} onChange={(e) => setSplitFilter(e.target.value as Split | 'all')}>
            {['all', 'train', 'validation', 'test'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>{' '}
        <label>
          Speaker{' '}
          <select value={speaker} onChange={(e) => setSpeaker(e.target.value)}>
            <option value="all">all</option>
            {speakers.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>{' '}
        <label>
          Text contains <input type="search" data-testid="utterance-filter" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>{' '}
        <span>
          {shown.length} of {utts.length}
        </span>
      </div>
      <SplitGroups utts={utts} onMove={actions.moveAll} />
      <table className="utterances" data-testid="utterance-table">
        <thead>
          <tr>
            <th />
            <th>transcript</th>
            <th>split</th>
            <th>speaker</th>
            <th>seconds</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {shown.slice(0, PAGE).map((u) => (
            <UtteranceRow key={u.id} u={u} actions={actions} />
          ))}
        </tbody>
      </table>
      {shown.length > PAGE && <p>Showing the first {PAGE}; narrow the filters to see others.</p>}
    </section>
  );
}
