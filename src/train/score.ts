// Scoring a model's transcripts against references for the Evaluate panel and the CLI: corpus
// WER/CER, each utterance's word alignment (substitutions, insertions, deletions) and the most
// frequent word errors. Text is normalized (normalizeText) on both sides before scoring.
import { cer, topWordErrors, wer, type EditOp, type TopErrors } from '../asr/wer';

export interface ScoredUtterance {
  id: string;
  ref: string;
  hyp: string;
  ops: EditOp[];
  wer: number;
}

export interface Score {
  wer: number;
  cer: number;
  words: number;
  utterances: ScoredUtterance[];
  top: TopErrors;
}

export function scoreTranscripts(items: readonly { id: string; ref: string; hyp: string }[], topN = 10): Score {
  const refs = items.map((i) => i.ref);
  const hyps = items.map((i) => i.hyp);
  const w = wer(refs, hyps);
  const c = cer(refs, hyps);
  return {
    wer: w.errorRate,
    cer: c.errorRate,
    words: w.refLength,
    utterances: items.map((it, k) => ({ ...it, ops: w.utterances[k].ops, wer: w.utterances[k].errorRate })),
    top: topWordErrors(w.utterances, topN),
  };
}
