// Train/validation splits. With speakers known, whole speakers go to validation, so the
// validation WER measures generalization to unheard voices rather than to unheard sentences of the
// same voices. Without speakers (or with a single one), utterances are split at random. Both are
// deterministic from the seed, and independent of storage order.
import { mulberry32, type Random } from '../audio';
import type { Split, Utterance } from './model';

export interface SplitOptions {
  seed: number;
  /** Share of utterances for validation, e.g. 0.1. */
  validationFraction: number;
}

type SplitInput = Pick<Utterance, 'id' | 'audioHash' | 'source' | 'speaker' | 'split' | 'splitLocked'>;

/** Fisher–Yates shuffle in place. */
export function shuffle<T>(items: T[], rand: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * New split per utterance id. Locked utterances (set by hand) and 'test' utterances keep theirs,
 * and count toward the target. Returns how the split was made, for the UI to say.
 */
export function assignSplits(utterances: readonly SplitInput[], opts: SplitOptions): { splits: Map<string, Split>; bySpeaker: boolean } {
  const splits = new Map<string, Split>();
  const free: SplitInput[] = [];
  let lockedValidation = 0;
  for (const u of utterances) {
    if (u.splitLocked || u.split === 'test') {
      splits.set(u.id, u.split);
      if (u.split === 'validation') lockedValidation++;
    } else free.push(u);
  }
  const pool = utterances.filter((u) => u.split !== 'test').length;
  const target = Math.max(0, Math.round(opts.validationFraction * pool) - lockedValidation);
  const rand = mulberry32(opts.seed);
  // A stable order first, so the result depends on the seed and the data, not on storage order.
  const order = (a: SplitInput, b: SplitInput) => (a.audioHash + a.source < b.audioHash + b.source ? -1 : 1);
  const speakers = new Map<string, SplitInput[]>();
  for (const u of free) {
    if (u.speaker === undefined) continue;
    const list = speakers.get(u.speaker);
    if (list) list.push(u);
    else speakers.set(u.speaker, [u]);
  }
  const bySpeaker = speakers.size >= 2 && speakers.size === new Set(free.map((u) => u.speaker)).size;
  let validation = 0;
  if (bySpeaker) {
    // Take whole speakers in shuffled order until the target is reached; at least one speaker
    // always stays in training.
    const names = shuffle([...speakers.keys()].sort(), rand);
    for (const name of names.slice(0, -1)) {
      const group = speakers.get(name)!;
      const inValidation = validation < target && (validation === 0 || validation + group.length <= target * 1.5);
      for (const u of group) splits.set(u.id, inValidation ? 'validation' : 'train');
      if (inValidation) validation += group.length;
    }
    for (const u of speakers.get(names[names.length - 1])!) splits.set(u.id, 'train');
  } else {
    for (const u of shuffle([...free].sort(order), rand)) {
      splits.set(u.id, validation < target ? 'validation' : 'train');
      if (validation < target) validation++;
    }
  }
  return { splits, bySpeaker };
}

/** What assignSplits did, in a sentence for the import report. */
export function drawnSplitNote(splits: ReadonlyMap<string, Split>, bySpeaker: boolean, seed: number): string {
  const n = (s: Split) => [...splits.values()].filter((x) => x === s).length;
  const validation = n('validation');
  return (
    `No file names a validation split, so ${validation} of ${splits.size} utterances were drawn for validation ` +
    `${bySpeaker ? 'as whole speakers' : 'at random'} (seed ${seed})${n('test') ? `; ${n('test')} test utterances stay test` : ''}. ` +
    'A whole file or speaker can be moved to another split under Utterances.'
  );
}
