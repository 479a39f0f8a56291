// Names for files the app saves (model and dataset exports): readable, and safe on every OS.

/**
 * A file name from a display name: "Base model + nemo-0024 (10 steps)" → "Base-model-nemo-0024-10-steps".
 * Accents are dropped, every run of other characters becomes one hyphen, none lead or trail, and
 * the result stays under 100 characters; `fallback` when nothing is left.
 */
export function fileStem(name: string, fallback: string): string {
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const stem = ascii.replace(/[^A-Za-z0-9._]+/g, '-').replace(/[-._]*-[-._]*/g, '-').replace(/^[-._]+|[-._]+$/g, '').slice(0, 100).replace(/[-._]+$/, '');
  return stem || fallback;
}
