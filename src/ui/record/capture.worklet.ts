// Runs on the audio thread: forwards the microphone's first channel in ~100 ms chunks (the
// context runs at 16 kHz, so the browser has already resampled). Buffers move, not copy.
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(name: string, ctor: new () => AudioWorkletProcessor): void;
declare const sampleRate: number;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly size = Math.round(sampleRate / 10);
  private chunk = new Float32Array(this.size);
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const input = inputs[0]?.[0];
    if (!input) return true;
    let i = 0;
    while (i < input.length) {
      const n = Math.min(input.length - i, this.size - this.filled);
      this.chunk.set(input.subarray(i, i + n), this.filled);
      this.filled += n;
      i += n;
      if (this.filled === this.size) {
        // the transfer detaches this.chunk (its length becomes 0): the next one is sized from `size`
        this.port.postMessage(this.chunk, [this.chunk.buffer]);
        this.chunk = new Float32Array(this.size);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor('earshot-capture', CaptureProcessor);
