import { formatBytes } from '../../data/limits';
import type { Metrics } from '../../train/export';
import { useApp } from '../../store/app-store';
import { pct } from '../format';
import { BackendLine } from './backend-line';
import { ForeignDecodingChoice, ForeignRows } from './foreign-card';

/** Size, parameters, vocabulary, metrics of the current model, and the backend that runs it. */
export function ModelCard() {
  const model = useApp((s) => s.model);
  if (!model) return null;
  const m = model.metrics as { base?: Metrics; fineTuned?: Metrics } | undefined;
  return (
    <article className="card" data-testid="model-card" data-foreign={model.foreign?.kind}>
      <h3>{model.name}</h3>
      <dl>
        <dt>Size</dt>
        <dd data-testid="model-size">{formatBytes(model.bytes)}</dd>
        <dt>Parameters</dt>
        <dd data-testid="model-parameters">{model.parameters.toLocaleString('en')}</dd>
        {model.foreign ? (
          <ForeignRows c={model.foreign} />
        ) : (
          model.arch && (
            <>
              <dt>Architecture</dt>
              <dd>
                {model.arch.blocks} blocks × d_model {model.arch.dModel}, {model.arch.heads} heads, {model.arch.nMels} mel bins; adapters: {model.adapters}
              </dd>
            </>
          )
        )}
        <dt>Decoding</dt>
        <dd>
          <span data-testid="model-decoding">{model.decoding}</span>
          {model.foreign && (
            <>
              {' '}
              <ForeignDecodingChoice beamWidth={model.beamWidth ?? 1} />
            </>
          )}
        </dd>
        {!model.foreign && (
          <>
            <dt>Vocabulary</dt>
            <dd data-testid="model-vocab">
              {model.vocabulary.length} tokens: <code>{model.vocabulary.join(' ')}</code>
            </dd>
          </>
        )}
        {m && (
          <>
            <dt>Validation metrics</dt>
            <dd data-testid="model-metrics">
              base WER {pct(m.base?.wer)} / CER {pct(m.base?.cer)} → fine-tuned WER {pct(m.fineTuned?.wer)} / CER {pct(m.fineTuned?.cer)}
              {m.fineTuned?.decoding && (
                <>
                  {' '}
                  on {m.fineTuned.utterances} validation utterances, decoded with {m.fineTuned.decoding}
                  {m.base?.decoding && m.base.decoding !== m.fineTuned.decoding ? ` (base: ${m.base.decoding})` : ''}
                </>
              )}
            </dd>
          </>
        )}
        <dt>Runs on</dt>
        <dd>
          <BackendLine />
        </dd>
      </dl>
      {model.card && (
        <details>
          <summary>Model card</summary>
          <pre className="model-card-text">{model.card}</pre>
        </details>
      )}
    </article>
  );
}
