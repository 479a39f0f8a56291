import { setForeignDecoding } from '../../store/model-actions';
import type { ForeignCard } from '../../workers/foreign-models';

/** Greedy or beam search for a model from elsewhere (no word LM: its vocabulary is its own). */
export function ForeignDecodingChoice({ beamWidth }: { beamWidth: number }) {
  return (
    <select data-testid="foreign-decoding" aria-label="Decoding" value={beamWidth} onChange={(e) => void setForeignDecoding(Number(e.target.value))}>
      <option value={1}>greedy</option>
      <option value={8}>beam search, width 8</option>
      <option value={16}>beam search, width 16</option>
    </select>
  );
}

const PROJECTION_LABEL: Record<string, string> = {
  'attention.q': 'attention query',
  'attention.k': 'attention key',
  'attention.v': 'attention value',
  'attention.qkv': 'attention q/k/v (fused)',
  'attention.out': 'attention output',
  'ff.in': 'feed-forward in',
  'ff.out': 'feed-forward out',
  'conv.pointwise': 'pointwise convolution',
  'conv.residual': 'residual convolution',
  decoder: 'CTC decoder',
  other: 'other',
};

export const projectionLabel = (kind: string) => PROJECTION_LABEL[kind] ?? kind;

/** The rows of the model card that say what a model from elsewhere is: kind, files, vocabulary, front end, projections. */
export function ForeignRows({ c }: { c: ForeignCard }) {
  const v = c.vocabulary;
  const shown = v.tokens.slice(0, 60);
  return (
    <>
      <dt>Kind</dt>
      <dd data-testid="model-kind" data-kind={c.kind}>
        {c.kindLabel}
        {c.origin && <span className="hint"> — {c.origin}</span>}
      </dd>
      <dt>Model file</dt>
      <dd data-testid="model-onnx">
        <code>{c.onnx}</code>
        {c.precision !== 'full' && ` (${c.precision}; fine-tuning dequantises it to float)`}
        {c.leftOut.length > 0 && (
          <span className="hint">
            {' '}
            — not kept: {c.leftOut.map((p) => <code key={p}>{p} </code>)}(Earshot runs and fine-tunes one file)
          </span>
        )}
      </dd>
      <dt>Vocabulary</dt>
      <dd data-testid="model-vocab">
        {v.size} {v.kind === 'pieces' ? 'SentencePiece pieces' : 'tokens'} from <code>{v.file}</code>, blank <code>{v.blank}</code>: <code>{shown.join(' ')}</code>
        {v.size > shown.length && ' …'}
      </dd>
      <dt>Front end</dt>
      <dd data-testid="model-frontend">{c.frontEnd}</dd>
      <dt>Projections</dt>
      <dd data-testid="model-projections">
        {c.projections.length === 0
          ? 'none found (LoRA needs MatMul or Gemm layers with a constant weight)'
          : c.projections.map((p, i) => (
              <span key={p.kind} data-kind={p.kind} title={`e.g. ${p.example}`}>
                {i > 0 && ', '}
                {projectionLabel(p.kind)} × {p.count}
              </span>
            ))}
      </dd>
      <dt>Output</dt>
      <dd>{c.output === 'logProbs' ? 'CTC log-probabilities' : 'CTC logits'}</dd>
    </>
  );
}
