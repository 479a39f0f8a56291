/** Limits that keep one import from taking the tab down. Every one is reported by name when hit. */
export interface ImportLimits {
  /** Largest single file (audio, manifest or zip entry), bytes. */
  maxFileBytes: number;
  /** Largest import in total (all files, or all uncompressed zip entries), bytes. */
  maxImportBytes: number;
  /** Most files in one import. */
  maxFiles: number;
  /**
   * Largest uncompressed/compressed ratio for a zip entry. Speech audio barely compresses (WAV
   * ~1.1–3×) and text ~3–10×; a zip bomb reaches 1000×. Checked on entries over `ratioFloorBytes`.
   */
  maxZipRatio: number;
  /** Entries smaller than this are not held to maxZipRatio (a repetitive little manifest is fine). */
  ratioFloorBytes: number;
  /** Shortest and longest clip kept, seconds. */
  minDurationSec: number;
  maxDurationSec: number;
}

export const DEFAULT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  maxFileBytes: 200 * 2 ** 20,
  maxImportBytes: 2 * 2 ** 30,
  maxFiles: 200_000,
  maxZipRatio: 100,
  ratioFloorBytes: 2 ** 20,
  minDurationSec: 0.3,
  maxDurationSec: 30,
});

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** "42 s", "3.5 min", "2.1 h". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
