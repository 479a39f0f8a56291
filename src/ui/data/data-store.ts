// The Data panel's state: datasets (metadata only), the running import's progress, the last
// report and storage use. No audio or features here: those stay in IndexedDB and the worker.
import { create } from 'zustand';
import type { Dataset } from '../../data/model';
import type { ImportReport } from '../../data/report';
import type { StorageReport } from '../../data/storage';

export interface JobProgress {
  label: string;
  phase: string;
  done: number;
  total: number;
  audioSeconds: number;
  elapsedMs: number;
}

export interface DataState {
  datasets: Dataset[];
  progress?: JobProgress;
  /** Reports of the last drop, one per group. */
  reports: ImportReport[];
  error?: string;
  storage?: StorageReport;
  busy: boolean;
  /** Outcome of the last "compute features" run, per dataset id. */
  features: Record<string, FeatureSummary>;
}

export interface FeatureSummary {
  utterances: number;
  audioSeconds: number;
  cacheHits: number;
  /** Seconds of audio per second of compute, for the utterances not already cached. */
  realTimeFactor: number;
  wallMs: number;
}

export const useDataStore = create<DataState>(() => ({ datasets: [], reports: [], busy: false, features: {} }));

export const selectDatasets = (s: DataState) => s.datasets;
export const selectProgress = (s: DataState) => s.progress;
export const selectReports = (s: DataState) => s.reports;
export const selectError = (s: DataState) => s.error;
export const selectStorage = (s: DataState) => s.storage;
export const selectBusy = (s: DataState) => s.busy;
export const selectFeatures = (s: DataState) => s.features;
