import { useApp } from '../../store/app-store';
import { applyAdapter, importModel, selectModelId, teachWords } from '../../store/model-actions';
import type { FileRef } from '../../workers/asr-protocol';
import { takeFiles } from '../file-input';
import { ModelCard } from './model-card';
import { modelFilesFromDrop } from './model-drop';
import { useState } from 'react';

const refs = (files: readonly File[]): FileRef[] => files.map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));

/** A single-file input that hands the file on and clears itself, so the same file can be chosen again. */
function OneFile(p: { label: string; testId: string; accept: string; onFile: (f: FileRef) => Promise<void> }) {
  return (
    <label>
      {p.label}{' '}
      <input
        data-testid={p.testId}
        type="file"
        accept={p.accept}
        onChange={(e) => {
          const [f] = takeFiles(e.target);
          if (f) void p.onFile({ path: f.name, file: f });
        }}
      />
    </label>
  );
}

/** The current model: its card, the backend running it, choosing another and importing one. */
export function ModelPanel() {
  const [over, setOver] = useState(false);
  const status = useApp((s) => s.modelStatus);
  const messages = useApp((s) => s.modelMessages);
  const modelId = useApp((s) => s.modelId);
  const models = useApp((s) => s.models);
  return (
    <section aria-labelledby="model-heading">
      <h2 id="model-heading">Model</h2>
      <label>
        Current model{' '}
        <select data-testid="model-select" value={modelId} onChange={(e) => void selectModelId(e.target.value)}>
          {models.map((m) => (
            <option key={m.id} value={m.id}>
              {m.name} {m.source !== 'builtin' ? `(${m.source})` : ''}
            </option>
          ))}
        </select>
      </label>
      <p data-testid="model-status" data-status={status}>
        {status === 'loading' && 'Loading the model…'}
        {status === 'missing' && 'No model is available yet.'}
        {status === 'error' && 'The model could not be loaded.'}
        {status === 'ready' && 'Ready.'}
      </p>
      {messages.length > 0 && (
        <ul role="alert" data-testid="model-messages" className="problems">
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
      <ModelCard />
      <fieldset
        data-testid="model-drop-zone"
        className={over ? 'drop-over' : undefined}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          void modelFilesFromDrop(e.dataTransfer).then(importModel);
        }}
      >
        <legend>Import a model</legend>
        <p>
          Choose or drop a model folder or its zip. Earshot reads its own model directories (and the zip Export produces), and CTC models from elsewhere: a Hugging Face / Optimum / Transformers.js
          folder (<code>config.json</code>, <code>vocab.json</code>, <code>preprocessor_config.json</code>, <code>onnx/model.onnx</code>) of wav2vec2, HuBERT, WavLM…, or a sherpa-onnx NeMo
          CTC model (<code>model.onnx</code> with <code>tokens.txt</code>). It is checked — encoder–decoder models such as Whisper are not supported yet — then kept in this browser.
        </p>
        <label>
          Files or zip <input data-testid="model-import-files" type="file" multiple accept=".zip,.onnx,.json,.txt,.md,.arpa" onChange={(e) => void importModel(refs(takeFiles(e.target)))} />
        </label>{' '}
        <label>
          Folder <input data-testid="model-import-folder" type="file" ref={(el) => el?.setAttribute('webkitdirectory', '')} onChange={(e) => void importModel(refs(takeFiles(e.target)))} />
        </label>
      </fieldset>
      <fieldset>
        <legend>Apply an adapter file</legend>
        <p>
          The small <code>.adapter.safetensors</code> file that Export saves. It is applied to the current model — the base model it was trained on, which is checked —
          and kept as a new model.
        </p>
        <OneFile label="Adapter file" testId="adapter-import-file" accept=".safetensors" onFile={applyAdapter} />
      </fieldset>
      <fieldset>
        <legend>Teach words from text</legend>
        <p>
          A text file, one sentence per line: names, jargon, phrases you say. They join the current model's language model (no audio needed), kept as a new model. The model keeps them in
          its <code>personal.txt</code>, so they travel with an exported model.
        </p>
        <OneFile label="Text file" testId="teach-words-file" accept=".txt,text/plain" onFile={teachWords} />
      </fieldset>
    </section>
  );
}

