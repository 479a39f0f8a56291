import { useState } from 'react';
import { useApp } from '../../store/app-store';
import { runEvaluation } from '../../store/eval-actions';
import { BUILTIN_BASE_ID } from '../../workers/asr-models';
import { pct } from '../format';
import { Alignment } from './alignment';
import { ModelOptions } from '../choices';

/** Base vs fine-tuned WER/CER on the validation split, per-utterance alignments, frequent errors. */
export function EvaluatePanel() {
  const models = useApp((s) => s.models);
  const run = useApp((s) => s.run);
  const datasetIds = useApp((s) => s.datasetIds);
  const status = useApp((s) => s.evalStatus);
  const progress = useApp((s) => s.evalProgress);
  const results = useApp((s) => s.evalResults);
  const message = useApp((s) => s.evalMessage);
  const current = useApp((s) => s.modelId);
  const fineTuned = models.filter((m) => m.source === 'fine-tuned');
  const [baseId, setBaseId] = useState<string>(current === BUILTIN_BASE_ID || !fineTuned.some((m) => m.id === current) ? current : BUILTIN_BASE_ID);
  const [tunedId, setTunedId] = useState<string | undefined>(run?.resultModelId ?? fineTuned[fineTuned.length - 1]?.id);
  const chosenTuned = tunedId ?? fineTuned[fineTuned.length - 1]?.id;
  const ids = [baseId, ...(chosenTuned ? [chosenTuned] : [])];
  const [base, tuned] = results;
  return (
    <section aria-labelledby="eval-heading">
      <h2 id="eval-heading">Evaluate</h2>
      <p data-testid="eval-explainer">
        Both models transcribe the validation split of the datasets chosen in the Train panel, one utterance at a time, each with its own decoding (named beside its scores). WER and CER
        are counted after text normalization: the same measurement as the validation metrics on a fine-tuned model's card.
      </p>
      <label>
        Base{' '}
        <select value={baseId} onChange={(e) => setBaseId(e.target.value)}>
          <ModelOptions models={models} />
        </select>
      </label>{' '}
      <label>
        Fine-tuned{' '}
        <select data-testid="eval-tuned" value={chosenTuned ?? ''} onChange={(e) => setTunedId(e.target.value)}>
          {fineTuned.length === 0 && <option value="">none yet — train first</option>}
          <ModelOptions models={fineTuned} />
        </select>
      </label>{' '}
      <button type="button" data-testid="eval-run" disabled={status === 'running' || datasetIds.length === 0} onClick={() => void runEvaluation(ids, datasetIds)}>
        Evaluate
      </button>
      {status === 'running' && progress && (
        <p>
          {progress.model}: {progress.done} / {progress.total}
        </p>
      )}
      {message && <p role="alert">{message}</p>}
      {results.length > 0 && (
        <>
          <table data-testid="eval-summary">
            <thead>
              <tr>
                <th>model</th>
                <th>WER</th>
                <th>CER</th>
                <th>words</th>
                <th>decoding</th>
              </tr>
            </thead>
            <tbody>
              {results.map((r) => (
                <tr key={r.modelId} data-testid="eval-row" data-wer={r.score.wer}>
                  <td>{r.name}</td>
                  <td>{pct(r.score.wer)}</td>
                  <td>{pct(r.score.cer)}</td>
                  <td>{r.score.words}</td>
                  <td>{r.decoding}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Most frequent word errors</h3>
          <div className="columns">
            {results.map((r) => (
              <div key={r.modelId}>
                <h4>{r.name}</h4>
                <ul>
                  {r.score.top.substitutions.map((p) => (
                    <li key={p.key}>
                      {p.ref} → {p.hyp} ×{p.count}
                    </li>
                  ))}
                  {r.score.top.deletions.map((u) => (
                    <li key={`d${u.unit}`}>
                      dropped “{u.unit}” ×{u.count}
                    </li>
                  ))}
                  {r.score.top.insertions.map((u) => (
                    <li key={`i${u.unit}`}>
                      inserted “{u.unit}” ×{u.count}
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </div>
          <h3>Per utterance</h3>
          <table className="utterances" data-testid="eval-utterances">
            <thead>
              <tr>
                <th>reference</th>
                {results.map((r) => (
                  <th key={r.modelId}>{r.name}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {(tuned ?? base).score.utterances.map((u, i) => (
                <tr key={u.id}>
                  <td>{u.ref}</td>
                  {results.map((r) => (
                    <td key={r.modelId}>
                      <Alignment ops={r.score.utterances[i].ops} /> <small>({pct(r.score.utterances[i].wer)})</small>
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
