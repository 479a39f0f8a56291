import { useState } from 'react';
import { useApp } from '../../store/app-store';
import { asrWorker } from '../../workers/asr-client';
import { download } from '../format';
import { ModelOptions } from '../choices';

/** Downloads a fine-tuned model as a zip (merged model directory) and its adapter-only file. */
export function ExportPanel() {
  const all = useApp((s) => s.models);
  const models = all.filter((m) => m.source === 'fine-tuned');
  const [chosen, setChosen] = useState<string | undefined>();
  const [message, setMessage] = useState<string>();
  const id = chosen ?? models[models.length - 1]?.id;
  const exportZip = async (adapterOnly: boolean) => {
    if (!id) return;
    setMessage('Packaging…');
    try {
      const { zip, fileName, adapter } = await asrWorker().exportModel(id);
      if (adapterOnly) {
        if (!adapter) throw new Error('this model has no adapter file');
        download(adapter, fileName.replace(/\.zip$/, '.adapter.safetensors'));
        setMessage(`Saved the adapter (${(adapter.byteLength / 1024).toFixed(0)} KiB).`);
      } else {
        download(zip, fileName, 'application/zip');
        setMessage(`Saved ${fileName} (${(zip.byteLength / 2 ** 20).toFixed(1)} MiB).`);
      }
    } catch (e) {
      setMessage(`Export failed: ${(e as Error).message}`);
    }
  };
  return (
    <section aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <p>
        The zip holds a model directory — <code>model.onnx</code> (adapters merged into the weights; runs in any onnxruntime), <code>config.json</code>, <code>tokens.txt</code>, the base model's word language model <code>lm.arpa</code> if it has one, and a model card recording the base model, the data, the
        training settings and the before/after metrics. Import it back in the Model panel. The adapter-only file is the small delta for sharing with someone who has the same base model.
      </p>
      <p>
        A model fine-tuned from one made elsewhere is exported in the layout it came in — the same file names (a Hugging Face folder with <code>onnx/model.onnx</code>, or sherpa-onnx's{' '}
        <code>model.onnx</code> with <code>tokens.txt</code>), the fine-tuned model in place of the original's — so Transformers.js or sherpa-onnx load it back, with{' '}
        <code>adapter.safetensors</code> (the LoRA adapter alone) beside it.
      </p>
      {models.length === 0 ? (
        <p>No fine-tuned model yet: train one first.</p>
      ) : (
        <>
          <label>
            Model to export{' '}
            <select data-testid="export-model" value={id} onChange={(e) => setChosen(e.target.value)}>
              <ModelOptions models={models} />
            </select>
          </label>{' '}
          <button type="button" data-testid="export-zip" onClick={() => void exportZip(false)}>
            Download model zip
          </button>{' '}
          <button type="button" data-testid="export-adapter" onClick={() => void exportZip(true)}>
            Download adapter only
          </button>
        </>
      )}
      {message && <p data-testid="export-message">{message}</p>}
    </section>
  );
}
