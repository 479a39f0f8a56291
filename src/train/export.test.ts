import { describe, expect, it } from 'vitest';
import { buildAcousticModel, type Weights } from '../asr/model';
import { WordLm } from '../asr/lm';
import { readModelDir, writeModelDir } from '../asr/model-dir';
import { Recognizer } from '../asr/recognizer';
import { DEFAULT_VOCAB, encodeText } from '../asr/vocab';
import { logMel, mulberry32 } from '../audio';
import { nodeBackend } from '../runtime/node';
import { adaptedModelDir, adapterChoice, adapterConfig, applyAdapterFile, baseFingerprint, encodeAdapterFile, trainableCount, trainableFor, type AdapterChoice } from './adapters';
import { CtcTrainer } from './ctc-trainer';
import { fineTunedModelDir, modelFilesFromZip, modelZip, type FineTuneRecord } from './export';

const ARCH = { nMels: 80, dModel: 16, heads: 2, blocks: 2, ffDim: 32, convKernel: 3, vocabSize: 29 };

function baseModel() {
  const { g } = buildAcousticModel({ arch: ARCH, seed: 11, batch: 1, frames: 64, masked: false });
  const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  // with a word LM, which every model derived from it must carry
  const lmArpa = new TextEncoder().encode(WordLm.fromTexts(['a b', 'b a b']).toArpa());
  return readModelDir(writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '# tiny\n', decoder: { beamWidth: 4, lmWeight: 0.5, wordBonus: 1 }, lmArpa }));
}

const record = (adapter: AdapterChoice): FineTuneRecord => ({
  baseModel: { name: 'tiny' },
  data: { datasets: ['d'], trainUtterances: 1, validationUtterances: 0, trainSeconds: 1 },
  training: { adapter, peakLr: 1e-2, warmupSteps: 0, steps: 3, skippedSteps: 0, batchSeconds: 1, augmentation: 'none', backend: 'node-cpu', minutes: 0 },
  metrics: {},
  createdAt: new Date(0).toISOString(),
});

describe('export', () => {
  it('trainable sets: LoRA, bottleneck and last layers', () => {
    const lora = trainableFor({ kind: 'lora', rank: 2, alpha: 4, targets: ['q'] }, ARCH);
    expect(lora('encoder.0.attn.q.lora_a')).toBe(true);
    expect(lora('encoder.0.attn.q.weight')).toBe(false);
    const last = trainableFor({ kind: 'last-layers', layers: 1 }, ARCH);
    expect(['encoder.1.ff.ff1.weight', 'head.weight', 'final_norm.bias'].every(last)).toBe(true);
    expect(last('encoder.0.ff.ff1.weight')).toBe(false);
    expect(trainableCount({ kind: 'lora', rank: 2, alpha: 4, targets: ['q', 'v'] }, ARCH)).toBe(2 * 2 * (16 * 2 + 2 * 16)) // blocks × targets × (A + B);
  });

  for (const choice of [{ kind: 'lora', rank: 2, alpha: 4, targets: ['q', 'v', 'ff1'] }, { kind: 'bottleneck', dim: 4 }] as AdapterChoice[]) {
    it(`a ${choice.kind} fine-tune exports merged, re-imports from the zip and reproduces the trained model's output`, async () => {
      const base = baseModel();
      const backend = nodeBackend({ threads: 1 });
      const rand = mulberry32(2);
      const samples = Float32Array.from({ length: 16000 }, () => rand() - 0.5);
      const f = logMel(samples);
      const frames = f.frames;
      const trainer = await CtcTrainer.create(backend, { arch: ARCH, adapters: adapterConfig(choice), weights: base.weights, trainable: trainableFor(choice, ARCH), optimizer: { kind: 'adamw' }, seed: 3 }, { batch: 1, frames });
      const batch = { features: f.data, batch: 1, frames, lengths: [frames], targets: [encodeText(DEFAULT_VOCAB, 'ab')] };
      for (let i = 0; i < 3; i++) await trainer.step(batch, 1e-2);
      const trained = await trainer.weights();
      const want = (await trainer.logits(batch)).data as Float32Array;
      await trainer.dispose();

      const files = fineTunedModelDir(base, trained, choice, record(choice));
      const adapterFile = encodeAdapterFile({ weights: trained, choice, arch: ARCH, baseModel: 'tiny' });
      const zip = modelZip(files, { 'adapter.safetensors': adapterFile });
      const back = readModelDir(await modelFilesFromZip(zip));
      expect(back.card).toMatch(/fine-tuned with Earshot/);
      expect(back.config.decoder).toEqual(base.config.decoder);
      expect(back.lmArpa).toEqual(base.lmArpa);
      expect(back.decoding.lm?.model.has('b')).toBe(true);
      const rec = await Recognizer.create(backend, back);
      const got = (await rec.logits(samples)).data;
      await rec.release();
      expect(got.length).toBe(want.length);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
      expect(maxDiff).toBeLessThan(1e-3);
      // the adapter-only file applied to the base gives the same weights as the export
      const applied = applyAdapterFile(base, adapterFile);
      for (const [name, w] of back.weights) {
        const a = applied.weights.get(name)!;
        for (let i = 0; i < w.length; i += 7) expect(Math.abs(a[i] - w[i])).toBeLessThan(1e-6);
      }
    });
  }

  it('an adapter file applies only to the base model it was trained on, and says so when not', () => {
    const base = baseModel();
    const choice: AdapterChoice = { kind: 'lora', rank: 2, alpha: 4, targets: ['q'] };
    const { g } = buildAcousticModel({ arch: ARCH, adapters: adapterConfig(choice), weights: base.weights, seed: 5, batch: 1, frames: 64, masked: false });
    const trained: Weights = new Map([...g.params].map(([n, p]) => [n, Float32Array.from(p.init.data as Float32Array, (v) => (n.includes('lora_b') ? 0.01 : v))]));
    const file = encodeAdapterFile({ weights: trained, choice, arch: ARCH, baseModel: 'tiny' });

    // the right base: a model directory whose card names both, and whose weights carry the merged delta
    const dir = readModelDir(adaptedModelDir(base, 'tiny', 'speaker.adapter.safetensors', file));
    expect(dir.card).toMatch(/^# tiny \+ speaker\.adapter\.safetensors/);
    expect(dir.lmArpa).toEqual(base.lmArpa);
    expect(dir.decoding.lm?.weight).toBe(0.5);
    const q = 'encoder.0.attn.q.weight';
    expect(dir.weights.get(q)![0]).not.toBeCloseTo(base.weights.get(q)![0], 6);
    expect(dir.weights.get('head.weight')).toEqual(base.weights.get('head.weight'));

    // another base model (one weight nudged): refused, naming the base the file was trained on
    const other = baseModel();
    other.weights.get('encoder.1.ff.ff2.weight')![3] += 1e-3;
    expect(baseFingerprint(other.weights, choice, ARCH)).not.toBe(baseFingerprint(base.weights, choice, ARCH));
    expect(() => applyAdapterFile(other, file)).toThrow(/trained on another base model \("tiny"/);
    // a file that is not an adapter at all
    expect(() => applyAdapterFile(base, new Uint8Array([1, 2, 3]))).toThrow(/not an Earshot adapter file/);
  });

  it('adapter choices from command-line words, with unknown kinds and targets refused', () => {
    const flags = { rank: 4, targets: 'q,v', dim: 16, layers: 2 };
    expect(adapterChoice({ adapter: 'lora', ...flags })).toEqual({ kind: 'lora', rank: 4, alpha: 8, targets: ['q', 'v'] });
    expect(adapterChoice({ adapter: 'lora', ...flags, alpha: 3 })).toMatchObject({ alpha: 3 });
    expect(adapterChoice({ adapter: 'bottleneck', ...flags })).toEqual({ kind: 'bottleneck', dim: 16 });
    expect(adapterChoice({ adapter: 'last-layers', ...flags })).toEqual({ kind: 'last-layers', layers: 2 });
    expect(() => adapterChoice({ adapter: 'prefix', ...flags })).toThrow(/--adapter must be lora, bottleneck or last-layers, not 'prefix'/);
    expect(() => adapterChoice({ adapter: 'lora', ...flags, targets: 'q,attn' })).toThrow(/--targets takes .*not 'q,attn'/);
  });
});
