// Log-mel features of a take while it is being recorded: audio arrives in chunks, each row is
// computed as soon as every sample under its window is known, and at the end only the last few
// rows (whose windows reach past the end into `center`'s padding) and the normalisation are left.
// The result equals LogMelExtractor.compute on the whole clip: the same pre-emphasis sample by
// sample, the same row code (LogMelExtractor.rows), the same normalisation.
import { LogMelExtractor, frameCount, type Features, type FrontEndConfig } from './log-mel';

export class LogMelStream {
  readonly extractor: LogMelExtractor;
  private x: Float32Array; // the pre-emphasised signal so far (capacity grows by doubling)
  private n = 0;
  private last = 0; // the last raw sample, for pre-emphasis across chunks
  private data: Float32Array; // rows computed so far, frames × nMels (capacity grows by doubling)
  private done = 0; // rows 0 .. done − 1 are final
  private finished = false;

  /** `expectSeconds` sizes the buffers for a typical take; longer takes grow them. */
  constructor(cfg: FrontEndConfig | LogMelExtractor, expectSeconds = 10) {
    this.extractor = cfg instanceof LogMelExtractor ? cfg : new LogMelExtractor(cfg);
    const samples = Math.max(1, Math.ceil(expectSeconds * this.extractor.cfg.sampleRate));
    this.x = new Float32Array(samples);
    this.data = new Float32Array(Math.max(1, frameCount(samples, this.extractor.cfg)) * this.extractor.cfg.nMels);
  }

  /** Samples received so far. */
  get samples(): number {
    return this.n;
  }

  /** Rows already computed (the work left for `finish` is the rest). */
  get framesDone(): number {
    return this.done;
  }

  /** Appends mono samples at the config's rate and computes the rows they complete. */
  push(chunk: Float32Array): void {
    if (this.finished) throw new Error('LogMelStream: push after finish');
    const { preemphasis: a } = this.extractor.cfg;
    this.x = grow(this.x, this.n + chunk.length);
    const x = this.x;
    if (a > 0) {
      // y[0] = x[0], y[i] = x[i] − a·x[i−1]: as compute's pre-emphasis, sample by sample
      let prev = this.last;
      for (let i = 0; i < chunk.length; i++) {
        x[this.n + i] = this.n + i === 0 ? chunk[i] : chunk[i] - a * prev;
        prev = chunk[i];
      }
    } else x.set(chunk, this.n);
    if (chunk.length) this.last = chunk[chunk.length - 1];
    this.n += chunk.length;
    const ready = this.readyFrames();
    if (ready > this.done) {
      this.data = grow(this.data, ready * this.extractor.cfg.nMels);
      this.extractor.rows(this.x, this.n, this.done, ready, this.data);
      this.done = ready;
    }
  }

  /** The features of everything pushed: the remaining rows, then the normalisation. The stream ends here. */
  finish(): Features {
    if (this.finished) throw new Error('LogMelStream: finish called twice');
    this.finished = true;
    const { nMels } = this.extractor.cfg;
    const frames = frameCount(this.n, this.extractor.cfg);
    this.data = grow(this.data, frames * nMels);
    this.extractor.rows(this.x, this.n, this.done, frames, this.data);
    const data = this.data.length === frames * nMels ? this.data : this.data.slice(0, frames * nMels);
    this.extractor.normalize(data, frames);
    this.done = frames;
    return { data, frames, nMels };
  }

  /**
   * Rows whose values no later sample can change: the window lies within the samples received
   * (padding past the end waits for `finish`). Zero padding before the start is the same whatever
   * follows; reflect padding before the start mirrors samples 1 .. winLength/2, the same for any
   * length past 2·winLength (see reflectIndex in log-mel.ts).
   */
  private readyFrames(): number {
    const { hopLength, winLength, center, padMode } = this.extractor.cfg;
    const shift = this.extractor.shift;
    if (this.n < winLength || (center && padMode === 'reflect' && this.n < 2 * winLength)) return this.done;
    // the largest t with t·hop + shift + winLength ≤ n, plus one
    return Math.max(this.done, Math.floor((this.n - winLength - shift) / hopLength) + 1);
  }
}

/** `a` itself when it holds `need` values, else a copy in a buffer at least twice as long. */
function grow(a: Float32Array, need: number): Float32Array {
  if (need <= a.length) return a;
  const b = new Float32Array(Math.max(need, 2 * a.length));
  b.set(a);
  return b;
}
