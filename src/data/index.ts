/*
 * Datasets: formats in, validation, durable storage, splits and batches.
 *
 *   importDataset(files, opts) → { report, utterances }   one pipeline for every layout and zip
 *   DataStore (IndexedDB)                                  datasets, utterances, audio, feature cache
 *   assignSplits / makeBatches / collate                   speaker-aware splits, duration batches
 *   FeatureSource                                          cached log-mel + on-the-fly augmentation
 *   exportDatasetZip                                       back out as a zip with NeMo manifests
 *
 * Pure TypeScript over VirtualFile lists and typed arrays: the same code runs in the data worker
 * (src/workers/data.worker.ts), on the page, and in Node for the tests and the CLI.
 */
export { importDataset, decodeProbe, type AudioProbe, type ImportFile, type ImportOptions, type ImportProgress, type ImportResult } from './import';
export { detectFormat, FORMAT_NAMES, PARSERS, type FormatId, type FormatParser, type ParsedItem, type Split } from './formats';
export { DEFAULT_LIMITS, formatBytes, formatDuration, type ImportLimits } from './limits';
export { ISSUE_LABELS, SEVERITY, type ImportIssue, type ImportReport, type IssueKind, type Severity } from './report';
export { newId, sha256Hex, type Dataset, type NewUtterance, type Utterance } from './model';
export { DataStore, StorageQuotaError, configKey, featureKey, DB_NAME, type CachedFeatures, type StorageReport } from './storage';
export { assignSplits, shuffle, type SplitOptions } from './splits';
export { makeBatches, collate, batchTransferables, type Batch, type BatchItem, type BatchingOptions, type Example } from './batching';
export { FeatureSource, utteranceSamples, type AugmentConfig } from './features';
export { exportDatasetZip } from './export';
export { recordingUtterance, RecordingRejected } from './recording';
export { readZip, writeZip, blobChunks, type ZipContents, type ZipIssue } from './zip';
export { memoryFile, blobFile, sanitizePath, type VirtualFile } from './vfile';
