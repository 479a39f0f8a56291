import type { Split, Utterance } from '../../data/model';
import { plural } from '../format';

const SPLITS: Split[] = ['train', 'validation', 'test'];
const MAX_GROUPS = 200;

interface Group {
  label: string;
  ids: string[];
  counts: Record<Split, number>;
}

function groups(utts: readonly Utterance[], key: (u: Utterance) => string | undefined, kind: string): Group[] {
  const out = new Map<string, Group>();
  for (const u of utts) {
    const k = key(u);
    if (k === undefined) continue;
    const g = out.get(k) ?? { label: `${kind} ${k}`, ids: [], counts: { train: 0, validation: 0, test: 0 } };
    g.ids.push(u.id);
    g.counts[u.split]++;
    out.set(k, g);
  }
  return [...out.values()].sort((a, b) => (a.label < b.label ? -1 : 1));
}

/**
 * The dataset's manifest files and speakers with where their utterances are: one choice moves a
 * whole file or speaker to a split (kept when the dataset is re-split), instead of row by row.
 */
export function SplitGroups({ utts, onMove }: { utts: readonly Utterance[]; onMove(ids: string[], split: Split): Promise<void> }) {
  const files = groups(utts, (u) => u.origin, 'file');
  const speakers = groups(utts, (u) => u.speaker, 'speaker');
  // one file or speaker is the whole dataset, and one transcript file per clip (audio + .txt pairs)
  // is no grouping: nothing to move together
  const useful = (g: Group[]) => g.length > 1 && g.length < utts.length && g.length <= MAX_GROUPS;
  const shown = [...(useful(files) ? files : []), ...(useful(speakers) ? speakers : [])];
  if (shown.length === 0) return null;
  return (
    <details className="split-groups" data-testid="split-groups" open={shown.length <= 12}>
      <summary>Splits by file and speaker</summary>
      <table>
        <thead>
          <tr>
            <th>file or speaker</th>
            <th>utterances</th>
            <th>move all to</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((g) => (
            <tr key={g.label} data-testid="split-group" data-group={g.label}>
              <td>{g.label}</td>
              <td>
                {SPLITS.filter((s) => g.counts[s] > 0)
                  .map((s) => `${g.counts[s]} ${s}`)
                  .join(', ')}
              </td>
              <td>
                <select aria-label={`Move all of ${g.label} to`} value="" onChange={(e) => e.target.value && void onMove(g.ids, e.target.value as Split)}>
                  <option value="">{plural(g.ids.length, 'utterance')} →</option>
                  {SPLITS.map((s) => (
                    <option key={s} value={s}>
                      {s}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
