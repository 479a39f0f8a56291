// Choosing and importing the model the app transcribes with and fine-tunes. The model itself is
// loaded in the ASR worker; the store gets its card summary and the backend that runs it.
import { asrWorker } from '../workers/asr-client';
import { BUILTIN_BASE_ID } from '../workers/asr-models';
import type { FileRef } from '../workers/asr-protocol';
import { appDb } from '../workers/train-db';
import { useApp } from './app-store';
import { savedBackendPreference } from './backend-actions';

const CURRENT_KEY = 'earshot.modelId';

export async function refreshModels(): Promise<void> {
  const stored = await (await appDb()).getAll('models');
  const models = [
    { id: BUILTIN_BASE_ID, name: 'Base model (shipped with the app)', source: 'builtin' },
    ...stored.sort((a, b) => a.createdAt - b.createdAt).map((m) => ({ id: m.id, name: m.name, source: m.source })),
  ];
  useApp.setState({ models });
}

export async function selectModelId(id: string): Promise<boolean> {
  useApp.setState({ modelId: id, modelStatus: 'loading', modelMessages: [], model: undefined });
  try {
    const { summary, backend } = await asrWorker().load(id, useApp.getState().backendPreference);
    // A slower, earlier choice must not overwrite a later one.
    if (useApp.getState().modelId !== id) return false;
    useApp.setState({ model: summary, backend, modelStatus: 'ready' });
    localStorage.setItem(CURRENT_KEY, id);
    return true;
  } catch (e) {
    const err = e as Error;
    useApp.setState({ modelStatus: err.name === 'ModelMissingError' ? 'missing' : 'error', modelMessages: err.message.split('\n').filter(Boolean) });
    return false;
  }
}

/** The model chosen last time, or the shipped base model. */
export async function initModel(): Promise<void> {
  useApp.setState({ backendPreference: savedBackendPreference() });
  await refreshModels();
  const saved = localStorage.getItem(CURRENT_KEY);
  if (saved && saved !== BUILTIN_BASE_ID && useApp.getState().models.some((m) => m.id === saved)) {
    if (await selectModelId(saved)) return;
  }
  await selectModelId(BUILTIN_BASE_ID);
}

/**
 * Imports a model directory's files (or the zip Export produces) and makes it current. A refused
 * import leaves the app as it was (the current model, its status, what can be used) and only says why.
 */
export async function importModel(files: FileRef[]): Promise<void> {
  if (files.length === 0) return;
  // a folder is named by its name; loose files by their count
  const top = new Set(files.map((f) => (f.path.includes('/') ? f.path.split('/')[0] : '')));
  const what = files.length === 1 ? files[0].path : top.size === 1 && !top.has('') ? `the folder ${[...top][0]}` : `${files.length} files`;
  // 'loading' while the files are checked; a model still loading keeps its own status
  const before = useApp.getState().modelStatus;
  const status = (s: typeof before) => (before === 'loading' ? {} : { modelStatus: s });
  useApp.setState({ ...status('loading'), modelMessages: [`Checking ${what}…`] });
  const r = await asrWorker().importModel(files);
  if (!r.ok) {
    useApp.setState({ ...status(before), modelMessages: [`${what.replace(/^the/, 'The')} ${what.endsWith(' files') ? 'were' : 'was'} not imported; the current model is unchanged:`, ...r.problems] });
    return;
  }
  await refreshModels();
  await selectModelId(r.summary.id);
}

/** How the current model from elsewhere decodes: greedy (1) or a beam search of this width. */
export async function setForeignDecoding(beamWidth: number): Promise<void> {
  const id = useApp.getState().modelId;
  try {
    const summary = await asrWorker().setDecoding(id, beamWidth);
    if (useApp.getState().modelId === id) useApp.setState({ model: summary });
  } catch (e) {
    useApp.setState({ modelMessages: [`The decoding could not be changed: ${(e as Error).message}`] });
  }
}

/** Applies an adapter-only file to the current model; the result becomes a new, current model. A file that does not fit leaves the current model as it was, with the reason shown. */
/** A text file's sentences join the current model's personal LM; the result becomes the current model. */
export async function teachWords(file: FileRef): Promise<void> {
  const id = useApp.getState().modelId;
  useApp.setState({ modelMessages: [`Teaching the words of ${file.path}…`] });
  const r = await asrWorker().teachWords(id, file);
  if (!r.ok) {
    useApp.setState({ modelMessages: [`The words of ${file.path} could not be added:`, ...r.problems] });
    return;
  }
  await refreshModels();
  await selectModelId(r.summary.id);
}

export async function applyAdapter(file: FileRef): Promise<void> {
  const baseId = useApp.getState().modelId;
  useApp.setState({ modelMessages: [`Applying ${file.path}…`] });
  const r = await asrWorker().applyAdapter(baseId, file);
  if (!r.ok) {
    useApp.setState({ modelMessages: [`The adapter ${file.path} could not be applied:`, ...r.problems] });
    return;
  }
  await refreshModels();
  await selectModelId(r.summary.id);
}
