// File inputs hand their files on and then empty themselves: an input that still shows the last
// file reads as if that file were pending, and the same file could not be chosen again (no change event).

/** The files an input holds, taken out of it (the input is cleared). */
export function takeFiles(input: HTMLInputElement): File[] {
  const files = Array.from(input.files ?? []);
  input.value = '';
  return files;
}
