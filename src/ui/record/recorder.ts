// Microphone capture at 16 kHz mono through an AudioWorklet, with a level (RMS) per 100 ms chunk
// and an automatic stop after a stretch of silence that follows speech.
import workletUrl from './capture.worklet.ts?worker&url';
import { concatSamples } from '../../audio/samples';

export const SAMPLE_RATE = 16000;

export interface RecorderOptions {
  onLevel?(rms: number): void;
  /** Each ~100 ms chunk of the take as it arrives (the recorder keeps it too: copy before transferring). */
  onChunk?(samples: Float32Array): void;
  /** Called once when silence after speech (or the length limit) ends the take. */
  onAutoStop?(): void;
  autoStop?: boolean;
  silenceMs?: number;
  maxSeconds?: number;
}

// RMS levels for full-scale ±1 audio: speech at a normal distance sits well above 0.02.
const SPEECH_RMS = 0.02;
const SILENCE_RMS = 0.008;

export class Recorder {
  private chunks: Float32Array[] = [];
  private samples = 0;
  private heardSpeech = false;
  private quietMs = 0;
  private stopped = false;

  private constructor(
    private readonly ctx: AudioContext,
    private readonly stream: MediaStream,
    private readonly o: RecorderOptions,
  ) {}

  static async start(o: RecorderOptions = {}): Promise<Recorder> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    const ctx = new AudioContext({ sampleRate: SAMPLE_RATE });
    await ctx.audioWorklet.addModule(workletUrl);
    const rec = new Recorder(ctx, stream, o);
    const node = new AudioWorkletNode(ctx, 'earshot-capture');
    node.port.onmessage = (e: MessageEvent<Float32Array>) => rec.onChunk(e.data);
    const mute = ctx.createGain();
    mute.gain.value = 0; // the graph must reach the destination to run; nothing is heard
    ctx.createMediaStreamSource(stream).connect(node).connect(mute).connect(ctx.destination);
    await ctx.resume();
    return rec;
  }

  private onChunk(x: Float32Array): void {
    if (this.stopped) return;
    this.chunks.push(x);
    this.samples += x.length;
    this.o.onChunk?.(x);
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
    const rms = Math.sqrt(sum / x.length);
    this.o.onLevel?.(rms);
    const ms = (x.length / SAMPLE_RATE) * 1000;
    if (rms > SPEECH_RMS) {
      this.heardSpeech = true;
      this.quietMs = 0;
    } else if (rms < SILENCE_RMS) this.quietMs += ms;
    const tooLong = this.samples >= (this.o.maxSeconds ?? 30) * SAMPLE_RATE;
    if (this.o.autoStop && ((this.heardSpeech && this.quietMs >= (this.o.silenceMs ?? 1200)) || tooLong)) this.o.onAutoStop?.();
  }

  get seconds(): number {
    return this.samples / SAMPLE_RATE;
  }

  /** Ends the take (no chunk arrives after this call) and returns its samples. */
  async stop(): Promise<Float32Array> {
    this.stopped = true;
    for (const t of this.stream.getTracks()) t.stop();
    await this.ctx.close();
    return concatSamples(this.chunks);
  }
}
