import type { EditOp } from '../../asr/wer';

/** Reference vs hypothesis, word by word: substitutions, insertions and deletions marked. */
export function Alignment({ ops }: { ops: EditOp[] }) {
  return (
    <span className="alignment">
      {ops.map((o, i) => {
        if (o.op === 'equal') return <span key={i}>{o.ref} </span>;
        if (o.op === 'sub')
          return (
            <span key={i} className="op-sub" title={`substitution: "${o.ref}" heard as "${o.hyp}"`}>
              <del>{o.ref}</del>
              <ins>{o.hyp}</ins>{' '}
            </span>
          );
        if (o.op === 'del')
          return (
            <del key={i} className="op-del" title="deletion: said but not transcribed">
              {o.ref}{' '}
            </del>
          );
        return (
          <ins key={i} className="op-ins" title="insertion: transcribed but not said">
            {o.hyp}{' '}
          </ins>
        );
      })}
    </span>
  );
}
