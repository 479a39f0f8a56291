// The user's override of the measured backend choice for transcription and evaluation (the Model
// card's "Run on"), kept across reloads.
import type { BackendPreference } from '../workers/backend-select';
import { useApp } from './app-store';
import { selectModelId } from './model-actions';

const KEY = 'earshot.backend';

export function savedBackendPreference(): BackendPreference {
  const v = localStorage.getItem(KEY);
  return v === 'webgpu' || v === 'wasm' ? v : 'auto';
}

/** Runs the current model on `pref` from now on (reloading it there). */
export async function setBackendPreference(pref: BackendPreference): Promise<void> {
  localStorage.setItem(KEY, pref);
  useApp.setState({ backendPreference: pref, backend: undefined });
  await selectModelId(useApp.getState().modelId);
}
