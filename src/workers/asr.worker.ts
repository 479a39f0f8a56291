/// <reference lib="webworker" />
// The ASR worker: model loading and validation, transcription of takes, evaluation and model
// export. Its own onnxruntime instance, apart from training's, on the backend measured fastest for
// the model (or the user's choice; backend-select.ts), and on WASM if a WebGPU session cannot be created.
import { expose, transfer } from 'comlink';
import { readModelDir, ModelDirError, type LoadedModel } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { fileStem } from '../data/file-name';
import { DataStore } from '../data/storage';
import type { BackendChoice } from '../runtime/backend-choice';
import type { Backend } from '../runtime/types';
import { writeZip } from '../data/zip';
import { decodeModel } from '../engine/onnx-proto';
import { ForeignModelError } from '../foreign/errors';
import { basename } from '../foreign/files';
import { ADAPTER_FILE } from '../foreign/foreign-model';
import { wasmBackend } from '../runtime/web';
import { adaptedModelDir } from '../train/adapters';
import { modelFilesFromUpload, modelZip } from '../train/export';
import { teachWords } from '../train/personal-lm';
import { BUILTIN_BASE_ID, loadModel, loadModelFiles, summarize, summarizeForeign, type ModelSummary } from './asr-models';
import type { AsrApi, ImportModelResult } from './asr-protocol';
import { backendFor, type BackendPreference } from './backend-select';
import { describeUpload, foreignCard, foreignDecoding, foreignTranscriber, foreignBackendSubject, inspectForTraining, isEarshotDirectory, keptFiles, openForeign, readUpload, type StoredForeign, type Upload } from './foreign-models';
import { nativeTranscriber, scoreOnValidation, validationUtterances, type TakeTranscription, type Transcriber } from './score-model';
import { appDb, type StoredModel } from './train-db';
import { concatSamples } from '../audio/samples';

interface Running {
  rec: Transcriber;
  backend: Backend;
  summary: ModelSummary;
  pref: BackendPreference;
}

const recognizers = new Map<string, Promise<Running>>();
/** The user's backend choice for transcription (the Model card's "Run on"); 'auto' = measured fastest. */
let preference: BackendPreference = 'auto';

/** A stored model from elsewhere, or undefined for our own (and the shipped base model). */
async function storedForeign(modelId: string): Promise<StoredModel | undefined> {
  if (modelId === BUILTIN_BASE_ID) return undefined;
  const m = await (await appDb()).get('models', modelId);
  return m?.foreign ? m : undefined;
}

/**
 * Makes the transcriber on the chosen backend and warms it up (the first run's cost lands at load,
 * not on the first take), falling back to WASM when WebGPU cannot create or run its session.
 */
async function onBackend(backend: Backend, choice: BackendChoice, create: (b: Backend) => Promise<Transcriber>): Promise<{ rec: Transcriber; backend: Backend }> {
  const make = async (b: Backend) => {
    const t = await create(b);
    try {
      await t.warmUp();
    } catch (e) {
      await t.release().catch(() => undefined);
      throw e;
    }
    return t;
  };
  const chosen: Backend = { ...backend, info: { ...backend.info, choice } };
  try {
    return { rec: await make(chosen), backend: chosen };
  } catch (e) {
    if (backend.info.name !== 'webgpu') throw e;
    const reason = `WebGPU could not run this model (${(e as Error).message})`;
    const wasm = wasmBackend({}, reason);
    const fallback: Backend = { ...wasm, info: { ...wasm.info, choice: { ...choice, chosen: 'wasm', reason } } };
    return { rec: await make(fallback), backend: fallback };
  }
}

async function createRunning(modelId: string, pref: BackendPreference, loaded?: { model: LoadedModel; summary: ModelSummary }): Promise<Running> {
  const foreign = loaded ? undefined : await storedForeign(modelId);
  if (foreign) {
    const stored = foreign.foreign!;
    const summary = summarizeForeign(modelId, foreign.name, foreign.source, stored, foreignCardText(foreign));
    const { backend, choice } = await backendFor(foreignBackendSubject(modelId, stored), pref);
    return { ...(await onBackend(backend, choice, async (b) => foreignTranscriber(await openForeign(stored, b), foreignDecoding(stored)))), summary, pref };
  }
  const { model, summary } = loaded ?? (await loadModel(modelId));
  const { backend, choice } = await backendFor({ onnx: model.onnx, nMels: model.config.arch.nMels }, pref);
  return { ...(await onBackend(backend, choice, async (b) => nativeTranscriber(await Recognizer.create(b, model)))), summary, pref };
}

/** The transcriber of a model (created once per backend preference); `loaded` saves reading our own model again when the caller just did. */
async function recognizer(modelId: string, loaded?: { model: LoadedModel; summary: ModelSummary }): Promise<Running> {
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
    r = createRunning(modelId, preference, loaded);
    recognizers.set(modelId, r);
    r.catch(() => recognizers.delete(modelId));
  }
  return r;
}

/** A take being recorded (startTake … finishTake): its audio so far, and its transcription when its model can stream. */
interface LiveTake {
  chunks: Float32Array[];
  running?: Running;
  stream?: TakeTranscription;
}
const liveTakes = new Map<string, LiveTake>();

/** The text the card's "Model card" shows for a model from elsewhere: what was fine-tuned, if it was. */
function foreignCardText(m: StoredModel): string {
  return m.foreign?.note ?? '';
}

/**
 * A model from elsewhere in the files picked: described, checked for fine-tuning, its files kept
 * as blobs (the ONNX file is read here, in the worker, for the check; the page never holds it).
 */
async function importForeign(u: Upload, name: string | undefined): Promise<ImportModelResult> {
  const d = await describeUpload(u);
  const onnx = await u.set.get(d.onnx.path)!.read();
  const card = foreignCard(d, inspectForTraining(d, decodeModel(onnx)), onnx.length);
  const stored: StoredForeign = { kind: d.kind, files: keptFiles(u, d), onnx: card.onnx, card };
  const id = crypto.randomUUID();
  const title = name ?? (u.zip ? u.zip.replace(/\.zip$/i, '') : d.root ? d.root.split('/').pop()! : fileStem(basename(d.onnx.path), 'model'));
  await (await appDb()).put('models', { id, name: title, source: 'imported', createdAt: Date.now(), files: {}, foreign: stored });
  return { ok: true, summary: summarizeForeign(id, title, 'imported', stored) };
}

const api: AsrApi = {
  async load(modelId, pref) {
    if (pref) preference = pref;
    const loaded = (await storedForeign(modelId)) ? undefined : await loadModel(modelId);
    const { backend, summary } = await recognizer(modelId, loaded);
    return { summary, backend: backend.info };
  },

  async importModel(refs, name) {
    try {
      const upload = await readUpload(refs);
      if (!(await isEarshotDirectory(upload))) return await importForeign(upload, name);
      const zip = refs.find((r) => r.path.toLowerCase().endsWith('.zip'));
      const files = await modelFilesFromUpload(await Promise.all((zip ? [zip] : refs).map(async (r) => ({ path: r.path, bytes: new Uint8Array(await r.file.arrayBuffer()) }))));
      const model = readModelDir(files);
      const id = crypto.randomUUID();
      const folder = refs[0]?.path.includes('/') ? refs[0].path.split('/')[0] : undefined;
      const title = name ?? (zip ? zip.path.split('/').pop()!.replace(/\.zip$/i, '') : folder) ?? `Imported model (${new Date().toLocaleString()})`;
      await (await appDb()).put('models', { id, name: title, source: 'imported', createdAt: Date.now(), files });
      return { ok: true, summary: summarize(id, title, 'imported', files, model) };
    } catch (e) {
      return { ok: false, problems: e instanceof ModelDirError || e instanceof ForeignModelError ? e.problems : [(e as Error).message] };
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

  async startTake(takeId, modelId) {
    // registered before the wait, so chunks that arrive while the model loads are kept
    const live: LiveTake = { chunks: [] };
    liveTakes.set(takeId, live);
    const running = await recognizer(modelId);
    if (liveTakes.get(takeId) !== live) return; // finished or dropped meanwhile
    live.running = running;
    live.stream = running.rec.startTake?.();
    for (const c of live.chunks) live.stream?.push(c);
  },

  async pushTake(takeId, samples) {
    const live = liveTakes.get(takeId);
    if (!live) return;
    live.chunks.push(samples);
    live.stream?.push(samples);
  },

  async finishTake(takeId, modelId) {
    const t0 = performance.now();
    const live = liveTakes.get(takeId);
    liveTakes.delete(takeId);
    if (!live) throw new Error(`take ${takeId} was not started`);
    const running = await recognizer(modelId);
    // the stream belongs to the transcriber the take started with; another model (or the same one
    // made again for another backend) transcribes the whole take
    const text = live.stream && live.running === running ? await live.stream.finish() : await running.rec.transcribeSamples(concatSamples(live.chunks));
    return { text, ms: performance.now() - t0 };
  },

  async dropTake(takeId) {
    liveTakes.delete(takeId);
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

  async setDecoding(modelId, beamWidth) {
    const db = await appDb();
    const m = await db.get('models', modelId);
    if (!m?.foreign) throw new Error('the decoding of our own models is set in their config.json');
    await db.put('models', { ...m, foreign: { ...m.foreign, decoding: { beamWidth: Math.max(1, Math.round(beamWidth)) } } });
    // the transcriber decodes as it was made: the next call makes it again
    const old = recognizers.get(modelId);
    recognizers.delete(modelId);
    await (await old?.catch(() => undefined))?.rec.release().catch(() => undefined);
    return (await recognizer(modelId)).summary;
  },

  async exportModel(modelId) {
    const m = await (await appDb()).get('models', modelId);
    if (!m) throw new Error(`model ${modelId} is not stored`);
    if (m.foreign) {
      // the layout it came in, under one folder, with the adapter file beside the model's own files
      const folder = fileStem(m.name, 'model');
      const entries: { path: string; bytes: Uint8Array; compress?: boolean }[] = await Promise.all(Object.entries(m.foreign.files).map(async ([path, blob]) => ({ path: `${folder}/${path}`, bytes: new Uint8Array(await blob.arrayBuffer()), compress: !/\.onnx$/i.test(path) })));
      if (m.adapter) entries.push({ path: `${folder}/${ADAPTER_FILE}`, bytes: m.adapter, compress: false });
      const zip = writeZip(entries);
      return transfer({ zip, fileName: `${folder}.zip`, adapter: m.adapter }, [zip.buffer as ArrayBuffer]);
    }
    const zip = modelZip(m.files);
    return transfer({ zip, fileName: `${fileStem(m.name, 'model')}.zip`, adapter: m.adapter }, [zip.buffer as ArrayBuffer]);
  },
};

expose(api);

