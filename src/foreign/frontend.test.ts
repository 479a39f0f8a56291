// Front ends on known signals. The comparison with independent numpy / torchaudio numbers is in
// frontend-reference.test.ts.
import { describe, expect, it } from 'vitest';
import { LogMelExtractor } from '../audio/log-mel';
import { ForeignModelError } from './errors';
import { describeFrontEnd, FrontEndRunner, nemoLogMel, normalizeWaveform } from './frontend';

const RATE = 16000;
const sine = (hz: number, seconds: number, amplitude = 0.5, offset = 0) =>
  Float32Array.from({ length: Math.round(RATE * seconds) }, (_, i) => offset + amplitude * Math.sin((2 * Math.PI * hz * i) / RATE));

describe('waveform front end (wav2vec2 normalisation)', () => {
  it('gives zero mean and unit population variance, computed in float64', () => {
    const x = sine(440, 0.3, 0.2, 0.05);
    const y = normalizeWaveform(x);
    let mean = 0;
    for (const v of x) mean += v;
    mean /= x.length;
    let v2 = 0;
    for (const v of x) v2 += (v - mean) ** 2;
    const scale = 1 / Math.sqrt(v2 / x.length + 1e-7);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(y[i] - (x[i] - mean) * scale));
    expect(worst).toBeLessThan(1e-6);
    const m = y.reduce((a, b) => a + b, 0) / y.length;
    const v = y.reduce((a, b) => a + (b - m) ** 2, 0) / y.length;
    expect(Math.abs(m)).toBeLessThan(1e-6);
    expect(v).toBeCloseTo(1, 4);
  });

  it('maps a constant signal to zeros (the 1e-7 guard) and an empty one to nothing', () => {
    expect([...normalizeWaveform(new Float32Array(100).fill(0.3))].every((v) => Math.abs(v) < 1e-6)).toBe(true);
    expect(normalizeWaveform(new Float32Array(0)).length).toBe(0);
  });

  it('passes the waveform through unchanged without do_normalize', () => {
    const x = sine(100, 0.01);
    const out = new FrontEndRunner({ kind: 'waveform', sampleRate: RATE, normalize: false }).compute(x);
    expect(out.dims).toEqual([x.length]);
    expect([...out.data]).toEqual([...x]);
  });
});

describe("NeMo's log-mel front end", () => {
  it('is the default log-mel with the model\'s number of mels and normalisation', () => {
    const c = nemoLogMel(64, 'per_feature');
    expect(c).toMatchObject({ nMels: 64, nFft: 512, winLength: 400, hopLength: 160, preemphasis: 0.97, periodicWindow: false, center: true, padMode: 'constant', logGuard: 'add', logFloor: 2 ** -24, melScale: 'slaney', melNorm: 'slaney', normalize: 'per_utterance', fMax: 8000 });
    expect(nemoLogMel(80, '').normalize).toBe('none');
    expect(nemoLogMel(80, 'NA').normalize).toBe('none');
  });

  it('frames every 10 ms with centred windows, and lays features out as the model takes them', () => {
    const x = sine(1000, 0.5);
    const cfg = nemoLogMel(80, 'per_feature');
    const timeMajor = new FrontEndRunner({ kind: 'log-mel', config: cfg, layout: 'time-major' }).compute(x);
    const melMajor = new FrontEndRunner({ kind: 'log-mel', config: cfg, layout: 'mel-major' }).compute(x);
    const frames = 1 + Math.floor(x.length / 160);
    expect(timeMajor.dims).toEqual([frames, 80]);
    expect(melMajor.dims).toEqual([80, frames]);
    for (const [t, m] of [[0, 0], [3, 17], [frames - 1, 79]]) expect(melMajor.data[m * frames + t]).toBe(timeMajor.data[t * 80 + m]);
  });

  it('puts a 1 kHz tone in the mel bin centred nearest 1 kHz', () => {
    const cfg = nemoLogMel(80, '');
    const { data, dims } = new FrontEndRunner({ kind: 'log-mel', config: cfg, layout: 'time-major' }).compute(sine(1000, 0.5));
    const centres = new LogMelExtractor(cfg).melCenters();
    const nearest = centres.reduce((best, c, i) => (Math.abs(c - 1000) < Math.abs(centres[best] - 1000) ? i : best), 0);
    const t = Math.floor(dims[0] / 2);
    const row = Array.from(data.subarray(t * 80, t * 80 + 80));
    expect(row.indexOf(Math.max(...row))).toBe(nearest);
  });

  it('normalises each mel channel to mean 0 and (n − 1) standard deviation 1 (less the 1e-5 guard)', () => {
    const x = Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i * 0.05) * (1 + (i % 97) / 97) * 0.3);
    const { data, dims } = new FrontEndRunner({ kind: 'log-mel', config: nemoLogMel(80, 'per_feature'), layout: 'mel-major' }).compute(x);
    const [mels, frames] = dims;
    for (const m of [0, 40, mels - 1]) {
      const row = data.subarray(m * frames, (m + 1) * frames);
      const mean = row.reduce((a, b) => a + b, 0) / frames;
      const sd = Math.sqrt(row.reduce((a, b) => a + (b - mean) ** 2, 0) / (frames - 1));
      expect(Math.abs(mean)).toBeLessThan(1e-5);
      expect(sd).toBeCloseTo(1, 3);
    }
  });

  it('refuses a normalisation it does not compute and a mel count the FFT cannot resolve, naming the file', () => {
    expect(() => nemoLogMel(80, 'all_features', 'nemo/model.onnx')).toThrow(ForeignModelError);
    expect(() => nemoLogMel(80, 'all_features', 'nemo/model.onnx')).toThrow(/^nemo\/model\.onnx asks for NeMo feature normalisation "all_features"/);
    expect(() => nemoLogMel(400, 'per_feature')).toThrow(/model\.onnx takes 400 mel bins, which NeMo's front end cannot make/);
  });

  it('describes itself in one line', () => {
    expect(describeFrontEnd({ kind: 'waveform', sampleRate: RATE, normalize: true })).toBe('raw 16 kHz waveform, normalised per utterance');
    expect(describeFrontEnd({ kind: 'log-mel', config: nemoLogMel(80, 'per_feature'), layout: 'mel-major' })).toBe(
      '80 log-mel bins (400-sample window, hop 160, 512-point FFT, pre-emphasis 0.97, normalised per feature), mels × frames',
    );
  });
});
