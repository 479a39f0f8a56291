/*
 * The virtual file list every importer works on: a folder dropped in the browser, the entries of a
 * zip, or files written by a Node test all become `VirtualFile`s, so format detection and parsing
 * never touch the DOM or the file system.
 */

export interface VirtualFile {
  /** Sanitized, '/'-separated, relative (no leading '/', no '.' or '..' segments). */
  path: string;
  size: number;
  read(): Promise<Uint8Array>;
}

/** A VirtualFile over bytes already in memory (zip entries, tests). */
export function memoryFile(path: string, bytes: Uint8Array): VirtualFile {
  return { path, size: bytes.byteLength, read: async () => bytes };
}

/** A VirtualFile over a Blob/File (browser, worker); reading is deferred until needed. */
export function blobFile(path: string, blob: Blob): VirtualFile {
  return { path, size: blob.size, read: async () => new Uint8Array(await blob.arrayBuffer()) };
}

export type PathVerdict = { ok: true; path: string } | { ok: false; reason: string };

// Windows reserves these names in every folder; a zip made elsewhere can still carry them.
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i;

/**
 * Turns a path from a zip entry or a dropped folder into a safe relative path, or says why it is
 * refused. Refused: anything that climbs out of the root (`..` — the "zip slip" attack), absolute
 * paths and drive letters, NUL and other control characters. Backslashes are read as separators
 * (zips written on Windows), and `.` and empty segments are dropped.
 */
export function sanitizePath(raw: string): PathVerdict {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(raw)) return { ok: false, reason: 'contains control characters' };
  const unified = raw.replace(/\\/g, '/');
  if (/^[a-zA-Z]:/.test(unified)) return { ok: false, reason: 'is an absolute Windows path (drive letter)' };
  if (unified.startsWith('//')) return { ok: false, reason: 'is a network (UNC) path' };
  const parts: string[] = [];
  for (const segment of unified.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return { ok: false, reason: 'climbs out of the dataset folder ("..")' };
    if (RESERVED.test(segment)) return { ok: false, reason: `uses the reserved name "${segment}"` };
    if (segment.length > 255) return { ok: false, reason: 'has a name longer than 255 characters' };
    parts.push(segment);
  }
  if (parts.length === 0) return { ok: false, reason: 'is empty' };
  return { ok: true, path: parts.join('/') };
}

export function basename(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

export function dirname(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** `name` without its last extension: `a/b/c.trans.txt` → `c.trans`. */
export function stem(path: string): string {
  const b = basename(path);
  const i = b.lastIndexOf('.');
  return i <= 0 ? b : b.slice(0, i);
}

export function extension(path: string): string {
  const b = basename(path);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i + 1).toLowerCase();
}

/**
 * Resolves `ref` (as written in a manifest) against the manifest's folder. Returns undefined when
 * it climbs out of the import. Absolute references are kept relative to the import root, since a
 * manifest written on another machine cannot point into this one.
 */
export function resolveRelative(baseDir: string, ref: string): string | undefined {
  const unified = ref.replace(/\\/g, '/');
  const absolute = unified.startsWith('/') || /^[a-zA-Z]:\//.test(unified);
  const parts = absolute ? [] : baseDir.split('/').filter(Boolean);
  for (const segment of unified.replace(/^[a-zA-Z]:/, '').split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(segment);
  }
  return parts.join('/');
}

const AUDIO_EXTENSIONS = new Set(['wav', 'wave', 'flac', 'mp3', 'ogg', 'opus', 'oga', 'webm', 'weba', 'm4a', 'aac', 'mp4']);

/** Whether the file name says audio. Content decides in the end (decodeAudio sniffs magic bytes). */
export function looksLikeAudio(path: string): boolean {
  return AUDIO_EXTENSIONS.has(extension(path));
}

/** Files the OS leaves in folders and zips that nobody means to import. */
export function isSystemFile(path: string): boolean {
  const b = basename(path);
  return path.split('/').includes('__MACOSX') || b === '.DS_Store' || b === 'Thumbs.db' || b === 'desktop.ini' || b.startsWith('._');
}

/**
 * An index over the file list for lookups by exact path, then by a path that matches a suffix
 * (a manifest written with absolute paths on another machine: `/data/ds/wavs/a.wav` → `wavs/a.wav`).
 */
export class FileIndex {
  private readonly byPath = new Map<string, VirtualFile>();
  private readonly byBase = new Map<string, VirtualFile[]>();

  constructor(readonly files: readonly VirtualFile[]) {
    for (const f of files) {
      this.byPath.set(f.path, f);
      const b = basename(f.path);
      const list = this.byBase.get(b);
      if (list) list.push(f);
      else this.byBase.set(b, [f]);
    }
  }

  get(path: string): VirtualFile | undefined {
    return this.byPath.get(path);
  }

  /** Exact path first; otherwise the unique file whose path is the longest suffix match of `ref`. */
  find(baseDir: string, ref: string): VirtualFile | undefined {
    const resolved = resolveRelative(baseDir, ref);
    if (resolved !== undefined) {
      const hit = this.byPath.get(resolved);
      if (hit) return hit;
    }
    const wanted = ref.replace(/\\/g, '/').split('/').filter((s) => s && s !== '.' && s !== '..');
    const candidates = this.byBase.get(wanted[wanted.length - 1] ?? '') ?? [];
    let best: VirtualFile | undefined;
    let bestScore = 0;
    let tie = false;
    for (const c of candidates) {
      const have = c.path.split('/');
      let k = 0;
      while (k < have.length && k < wanted.length && have[have.length - 1 - k] === wanted[wanted.length - 1 - k]) k++;
      if (k > bestScore) [best, bestScore, tie] = [c, k, false];
      else if (k === bestScore) tie = true;
    }
    return tie ? undefined : best;
  }
}
