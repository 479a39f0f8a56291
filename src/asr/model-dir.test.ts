import { describe, expect, it } from 'vitest';
import { buildAcousticModel, type ModelArch, type Weights } from './model';
import { ModelDirError, readModelDir, writeModelDir } from './model-dir';
import { WordLm } from './lm';
import { DEFAULT_VOCAB } from './vocab';

const TINY: ModelArch = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 5, vocabSize: 29 };

function files() {
  const m = buildAcousticModel({ arch: TINY, batch: 1, frames: 32, masked: false });
  const weights: Weights = new Map([...m.g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  return { weights, files: writeModelDir({ arch: TINY, weights, vocab: DEFAULT_VOCAB, card: '# tiny\n', provenance: { note: 'test' } }) };
}

function problems(f: Record<string, Uint8Array | undefined>): string[] {
  try {
    readModelDir(f);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelDirError);
    return (e as ModelDirError).problems;
  }
  return [];
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('model directory', () => {
  it('round-trips: config, vocabulary, weights and card', () => {
    const { weights, files: f } = files();
    const m = readModelDir(f);
    expect(m.config.arch).toEqual(TINY);
    expect(m.config.provenance).toEqual({ note: 'test' });
    expect(m.vocab.tokens).toEqual(DEFAULT_VOCAB.tokens);
    expect(m.card).toBe('# tiny\n');
    for (const [n, w] of weights) expect(Array.from(m.weights.get(n)!), n).toEqual(Array.from(w));
  });

  it('says precisely what is wrong', () => {
    const { files: f } = files();
    expect(problems({ ...f, 'model.onnx': undefined })).toEqual(['model.onnx is missing']);
    expect(problems({ ...f, 'config.json': enc('{') })[0]).toMatch(/config.json is not valid JSON/);
    const cfg = JSON.parse(new TextDecoder().decode(f['config.json']));
    expect(problems({ ...f, 'config.json': enc(JSON.stringify({ ...cfg, arch: { ...cfg.arch, dModel: -1 } })) })).toContain('config.json: arch.dModel must be a positive integer');
    expect(problems({ ...f, 'config.json': enc(JSON.stringify({ ...cfg, format: 'other' })) })[0]).toMatch(/format is "other"/);
    expect(problems({ ...f, 'tokens.txt': enc('<blk> 0\na 2\n') })[0]).toMatch(/tokens.txt/);
    expect(problems({ ...f, 'model.onnx': f['model.onnx'].subarray(0, 100) })[0]).toMatch(/model.onnx cannot be read/);
    // a model file for another architecture
    const other = writeModelDir({ arch: { ...TINY, dModel: 8, heads: 2 }, weights: new Map([...buildAcousticModel({ arch: { ...TINY, dModel: 8 }, batch: 1, frames: 32, masked: false }).g.params].map(([n, p]) => [n, p.init.data as Float32Array])), vocab: DEFAULT_VOCAB, card: '' });
    expect(problems({ ...f, 'model.onnx': other['model.onnx'] }).some((p) => /has \d+ values, the architecture needs/.test(p))).toBe(true);
  });

  it('carries a word LM: lm.arpa plus config.json decoder make the decoding; problems are named', () => {
    const { weights } = files();
    const arpa = enc(WordLm.fromTexts(['the cat sat', 'a dog']).toArpa());
    const decoder = { beamWidth: 12, lmWeight: 0.5, wordBonus: 1.5 };
    const f = writeModelDir({ arch: TINY, weights, vocab: DEFAULT_VOCAB, card: '', decoder, lmArpa: arpa });
    expect(f['lm.arpa']).toBe(arpa);
    const m = readModelDir(f);
    expect(m.config.decoder).toEqual(decoder);
    expect(m.decoding.beamWidth).toBe(12);
    expect(m.decoding.lm?.weight).toBe(0.5);
    expect(m.decoding.lm?.wordBonus).toBe(1.5);
    expect(m.decoding.lm?.model.has('cat')).toBe(true);
    expect(m.lmArpa).toBe(arpa);
    // without a decoder entry, or without an LM file, a model decodes greedily
    expect(readModelDir(files().files).decoding).toEqual({ beamWidth: 1 });
    expect(readModelDir({ ...files().files, 'lm.arpa': arpa }).decoding).toEqual({ beamWidth: 1 });
    expect(problems({ ...f, 'lm.arpa': undefined })).toEqual(['config.json: decoder.lmWeight is set but lm.arpa is missing']);
    expect(problems({ ...f, 'lm.arpa': enc('\\data\\\nngram 4=4\n') })[0]).toMatch(/^lm.arpa: ARPA line 2: only orders 1 to 3/);
    expect(problems({ ...f, 'config.json': enc(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(f['config.json'])), decoder: { ...decoder, unkCharCost: -1 } })) })[0]).toMatch(/unkCharCost must be a number ≥ 0/);
    const cfg = JSON.parse(new TextDecoder().decode(f['config.json']));
    expect(problems({ ...f, 'config.json': enc(JSON.stringify({ ...cfg, decoder: { ...decoder, beamWidth: 0 } })) })[0]).toMatch(/decoder.beamWidth must be an integer/);
    expect(problems({ ...f, 'config.json': enc(JSON.stringify({ ...cfg, decoder: { ...decoder, lmLookahead: 'yes' } })) })[0]).toMatch(/decoder.lmLookahead must be true or false/);
    // look-ahead is off unless config.json asks for it
    expect(m.decoding.lm?.lookahead).toBeUndefined();
    const ahead = readModelDir({ ...f, 'config.json': enc(JSON.stringify({ ...cfg, decoder: { ...decoder, lmLookahead: true } })) });
    expect(ahead.decoding.lm?.lookahead).toBe(true);
  });

  it('mixes personal.txt into the LM when the decoder gives it a share', () => {
    const { weights } = files();
    const arpa = enc(WordLm.fromTexts(['the cat sat', 'a dog']).toArpa());
    const decoder = { beamWidth: 8, lmWeight: 0.5, wordBonus: 1, personalShare: 0.2 };
    const f = writeModelDir({ arch: TINY, weights, vocab: DEFAULT_VOCAB, card: '', decoder, lmArpa: arpa, personalTexts: ['call  Siobhan', 'siobhan sat'] });
    expect(new TextDecoder().decode(f['personal.txt'])).toBe('call Siobhan\nsiobhan sat\n');
    const m = readModelDir(f);
    expect(m.personalTexts).toEqual(['call Siobhan', 'siobhan sat']);
    expect(m.decoding.lm?.model.has('siobhan')).toBe(true);
    expect(m.decoding.lm?.model.has('cat')).toBe(true);
    // without a share, personal.txt is kept but not used
    const off = readModelDir({ ...f, 'config.json': enc(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(f['config.json'])), decoder: { ...decoder, personalShare: 0 } })) });
    expect(off.decoding.lm?.model.has('siobhan')).toBe(false);
    expect(problems({ ...f, 'config.json': enc(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(f['config.json'])), decoder: { ...decoder, personalShare: 2 } })) })[0]).toMatch(/personalShare must be a number from 0 to 1/);
  });
});
