/// <reference lib="webworker" />
// The ASR worker: model loading and validation, transcription of takes, evaluation and model
// export. Its own onnxruntime instance, apart from training's, on the backend measured fastest for
// the model (or the user's choice; backend-select.ts), and on WASM if a WebGPU session cannot be created.
import { expose, transfer } from 'comlink';
import { readModelDir, ModelDirError, type LoadedModel } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { fileStem } from '../data/file-name';
import { DataStore } from '../data/storage';
import type { Backend } from '../runtime/types';
import { wasmBackend } from '../runtime/web';
import { adaptedModelDir } from '../train/adapters';
import { modelFilesFromUpload, modelZip } from '../train/export';
import { teachWords } from '../train/personal-lm';
import { loadModel, loadModelFiles, summarize, type ModelSummary } from './asr-models';
import type { AsrApi } from './asr-protocol';
import { backendFor, type BackendPreference } from './backend-select';
import { scoreOnValidation, validationUtterances } from './score-model';
import { appDb } from './train-db';

const recognizers = new Map<string, Promise<{ rec: Recognizer; backend: Backend; summary: ModelSummary; pref: BackendPreference }>>();
/** The user's backend choice for transcription (the Model card's "Run on"); 'auto' = measured fastest. */
let preference: BackendPreference = 'auto';

/** The recognizer of a model (created once per backend preference); `loaded` saves reading the model again when the caller just did. */
async function recognizer(modelId: string, loaded?: { model: LoadedModel; summary: ModelSummary }) {
  let r = recognizers.get(modelId);
  if (r) {
    const old = await r.catch(() => undefined);
    if (old && old.pref !== preference) {
      recognizers.delete(modelId);
      await old.rec.release().catch(() => undefined);
      r = undefined;
    }
  }
  if (!r) {
    const pref = preference;
    r = (async () => {
      const { model, summary } = loaded ?? (await loadModel(modelId));
      const { backend, choice } = await backendFor({ onnx: model.onnx, nMels: model.config.arch.nMels }, pref);
      const chosen: Backend = { ...backend, info: { ...backend.info, choice } };
      try {
        return { rec: await Recognizer.create(chosen, model), backend: chosen, summary, pref };
      } catch (e) {
        if (backend.info.name !== 'webgpu') throw e;
        const reason = `WebGPU could not run this model (${(e as Error).message})`;
        const wasm = wasmBackend({}, reason);
        const fallback: Backend = { ...wasm, info: { ...wasm.info, choice: { ...choice, chosen: 'wasm', reason } } };
        return { rec: await Recognizer.create(fallback, model), backend: fallback, summary, pref };
      }
    })();
    recognizers.set(modelId, r);
    r.catch(() => recognizers.delete(modelId));
  }
  return r;
}

const api: AsrApi = {
  async load(modelId, pref) {
    if (pref) preference = pref;
    const loaded = await loadModel(modelId);
    const { backend } = await recognizer(modelId, loaded);
    const { summary } = loaded;
    return { summary, backend: backend.info };
  },

  async importModel(refs, name) {
    try {
      const zip = refs.find((r) => r.path.toLowerCase().endsWith('.zip'));
      const files = await modelFilesFromUpload(await Promise.all((zip ? [zip] : refs).map(async (r) => ({ path: r.path, bytes: new Uint8Array(await r.file.arrayBuffer()) }))));
      const model = readModelDir(files);
      const id = crypto.randomUUID();
      const folder = refs[0]?.path.includes('/') ? refs[0].path.split('/')[0] : undefined;
      const title = name ?? (zip ? zip.path.split('/').pop()!.replace(/\.zip$/i, '') : folder) ?? `Imported model (${new Date().toLocaleString()})`;
      await (await appDb()).put('models', { id, name: title, source: 'imported', createdAt: Date.now(), files });
      return { ok: true, summary: summarize(id, title, 'imported', files, model) };
    } catch (e) {
      return { ok: false, problems: e instanceof ModelDirError ? e.problems : [(e as Error).message] };
    }
  },

  async applyAdapter(baseModelId, ref) {
    try {
      const { model: base, summary } = await loadModel(baseModelId);
      const adapterName = ref.path.split('/').pop()!;
      const files = adaptedModelDir(base, summary.name, adapterName, new Uint8Array(await ref.file.arrayBuffer()));
      const model = readModelDir(files);
      const id = crypto.randomUUID();
      const title = `${summary.name} + ${adapterName.replace(/\.safetensors$/i, '')}`;
      await (await appDb()).put('models', { id, name: title, source: 'imported', createdAt: Date.now(), files });
      return { ok: true, summary: summarize(id, title, 'imported', files, model) };
    } catch (e) {
      return { ok: false, problems: [(e as Error).message] };
    }
  },

  async teachWords(modelId, ref) {
    try {
      const { name: baseName, files } = await loadModelFiles(modelId);
      const name = ref.path.split('/').pop()!;
      const taught = teachWords(readModelDir(files), files, (await ref.file.text()).split(/\r?\n/));
      const m = readModelDir(taught);
      const id = crypto.randomUUID();
      const title = `${baseName} + words from ${name}`;
      await (await appDb()).put('models', { id, name: title, source: 'imported', createdAt: Date.now(), files: taught });
      return { ok: true, summary: summarize(id, title, 'imported', taught, m) };
    } catch (e) {
      return { ok: false, problems: [(e as Error).message] };
    }
  },

  async transcribe(modelId, samples) {
    const { rec } = await recognizer(modelId);
    const t0 = performance.now();
    const text = await rec.transcribeSamples(samples);
    return { text, ms: performance.now() - t0 };
  },

  async evaluate(modelIds, datasetIds, onProgress) {
    const store = await DataStore.open();
    const utts = await validationUtterances(store, datasetIds);
    const audio = new Map<string, Float32Array>();
    const out = [];
    for (const modelId of modelIds) {
      const {
        rec,
        summary: { name, decoding },
      } = await recognizer(modelId);
      const score = await scoreOnValidation(rec, store, utts, { audio, onProgress: (done, total) => onProgress?.({ model: name, done, total }) });
      out.push({ modelId, name, decoding, score });
    }
    store.close();
    return out;
  },

  async exportModel(modelId) {
    const m = await (await appDb()).get('models', modelId);
    if (!m) throw new Error(`model ${modelId} is not stored`);
    const zip = modelZip(m.files);
    return transfer({ zip, fileName: `${fileStem(m.name, 'model')}.zip`, adapter: m.adapter }, [zip.buffer as ArrayBuffer]);
  },
};

expose(api);
