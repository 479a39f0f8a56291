import { useState } from 'react';
import type { Dataset } from '../../data/model';
import { resplitDataset } from './data-actions';
import { selectBusy, useDataStore } from './data-store';

/**
 * Re-draws a dataset's train/validation split from a seed and a share. Whole speakers go to
 * validation when speakers are known; splits set by hand on single utterances are kept.
 */
export function SplitControls({ dataset }: { dataset: Dataset }) {
  const busy = useDataStore(selectBusy);
  const [percent, setPercent] = useState(Math.round(dataset.validationFraction * 100));
  const [seed, setSeed] = useState(dataset.splitSeed);
  const [outcome, setOutcome] = useState<string>();
  const apply = async () => {
    const r = await resplitDataset(dataset.id, seed, percent / 100);
    if (r) setOutcome(`${r.train} train / ${r.validation} validation${r.bySpeaker ? ', whole speakers' : ', at random'}`);
  };
  return (
    <span className="split-controls">
      validation{' '}
      <input type="number" min={0} max={50} value={percent} onChange={(e) => setPercent(Number(e.target.value))} style={{ width: '3.5em' }} aria-label="validation share, percent" />% · seed{' '}
      <input type="number" value={seed} onChange={(e) => setSeed(Number(e.target.value))} style={{ width: '4em' }} aria-label="split seed" />{' '}
      <button type="button" disabled={busy} onClick={() => void apply()}>
        Re-split
      </button>
      {outcome && <span data-testid="split-outcome"> {outcome}</span>}
    </span>
  );
}
