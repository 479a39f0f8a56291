// Layout detection on the fixtures (src/foreign/fixtures, written by scripts/foreign/make-fixtures.py)
// and on variants made from them in memory, and every refusal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FRONTEND } from '../audio/log-mel';
import { buildAcousticModel, type ModelArch, type Weights } from '../asr/model';
import { writeModelDir } from '../asr/model-dir';
import { DEFAULT_VOCAB, formatTokens } from '../asr/vocab';
import { modelFilesFromDisk } from '../cli/foreign-source';
import { writeZip } from '../data/zip';
import { ForeignModelError, type ForeignModelErrorKind } from './errors';
import { fileSetFromBytes, fileSetFromZip, type ModelFileSet } from './files';
import { assertNoControlFlow, detectModelLayout, type DetectOptions } from './layout';
import { bytesSource, controlFlowNodes, readOnnxOutline } from './onnx-outline';
import { decodeModel, encodeModel, makeModel } from '../engine/onnx-proto';

const FIXTURES = join(__dirname, 'fixtures');
const enc = (s: string) => new TextEncoder().encode(s);

/** A fixture folder's files by path (starting at the folder's name, as a dropped folder). */
async function fixture(name: string): Promise<Map<string, Uint8Array>> {
  const { files } = await modelFilesFromDisk(join(FIXTURES, name));
  return new Map(await Promise.all([...files].map(async ([p, f]) => [p, await f.read()] as [string, Uint8Array])));
}

async function refusal(files: ModelFileSet | Map<string, Uint8Array>, options?: DetectOptions): Promise<ForeignModelError> {
  const set = [...files.values()][0] instanceof Uint8Array ? fileSetFromBytes(files as Map<string, Uint8Array>) : (files as ModelFileSet);
  const e = await detectModelLayout(set, options).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, 'detection should refuse').toBeInstanceOf(ForeignModelError);
  const err = e as ForeignModelError;
  // One sentence naming the file, shown by the app's import as is.
  expect(err.problems).toEqual([err.message]);
  expect(err.message).not.toContain('\n');
  expect(err.message.startsWith(err.file)).toBe(true);
  expect(err.message.endsWith('.')).toBe(true);
  return err;
}

function expectKind(e: ForeignModelError, kind: ForeignModelErrorKind, file: string, reason: RegExp) {
  expect({ kind: e.kind, file: e.file }).toEqual({ kind, file });
  expect(e.message).toMatch(reason);
}

// ------------------------------------------------------------------------------------------------
// Minimal protobuf writing for hand-made ONNX files (the engine's encoder cannot write subgraphs).

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const field = (n: number, payload: Uint8Array | number[] | string): number[] => {
  const b = typeof payload === 'string' ? [...enc(payload)] : [...payload];
  return [...varint(n * 8 + 2), ...varint(b.length), ...b];
};
const int = (n: number, v: number): number[] => [...varint(n * 8), ...varint(v)];
const dims = (shape: (number | string)[]) => shape.flatMap((d) => field(1, typeof d === 'number' ? int(1, d) : field(2, d)));
const valueInfo = (name: string, elem: number, shape: (number | string)[]) => [...field(1, name), ...field(2, field(1, [...int(1, elem), ...field(2, dims(shape))]))];
const entry = (k: string, v: string) => field(14, [...field(1, k), ...field(2, v)]);

/** The ONNX file with its metadata_props replaced (top-level fields 14 dropped, new ones appended). */
function withMetadata(onnx: Uint8Array, metadata: Record<string, string>): Uint8Array {
  const kept: Uint8Array[] = [];
  let pos = 0;
  const read = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = onnx[pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (pos < onnx.length) {
    const start = pos;
    const tag = read();
    const wire = tag & 7;
    if (wire === 0) read();
    else if (wire === 2) {
      const n = read();
      pos += n;
    }
    else pos += wire === 1 ? 8 : 4;
    if (Math.floor(tag / 8) !== 14) kept.push(onnx.subarray(start, pos));
  }
  kept.push(Uint8Array.from(Object.entries(metadata).flatMap(([k, v]) => entry(k, v))));
  const out = new Uint8Array(kept.reduce((n, k) => n + k.length, 0));
  let at = 0;
  for (const k of kept) {
    out.set(k, at);
    at += k.length;
  }
  return out;
}

const NEMO_META = { vocab_size: '4', normalize_type: 'per_feature', subsampling_factor: '4', model_type: 'EncDecCTCModelBPE', model_author: 'NeMo' };

/** A NeMo-looking model whose graph has an If node with a then_branch subgraph. */
function ifModel(): Uint8Array {
  const node = [...field(1, 'length'), ...field(2, 'logprobs'), ...field(3, 'pick'), ...field(4, 'If'), ...field(5, [...field(1, 'then_branch'), ...int(20, 5), ...field(6, field(2, 'then'))])];
  const graph = [...field(1, node), ...field(2, 'g'), ...field(11, valueInfo('audio_signal', 1, ['N', 80, 'T'])), ...field(11, valueInfo('length', 7, ['N'])), ...field(12, valueInfo('logprobs', 1, ['N', 'T', 4]))];
  return Uint8Array.from([...int(1, 8), ...field(7, graph), ...field(8, [...field(1, ''), ...int(2, 17)]), ...Object.entries(NEMO_META).flatMap(([k, v]) => entry(k, v))]);
}

const TINY: ModelArch = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 3, vocabSize: 29 };
function earshotDir() {
  const { g } = buildAcousticModel({ arch: TINY, seed: 3, batch: 1, frames: 32, masked: false });
  const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  return writeModelDir({ arch: TINY, weights, vocab: DEFAULT_VOCAB, card: '# tiny\n' });
}
const under = (folder: string, files: Record<string, Uint8Array>) => new Map(Object.entries(files).map(([p, b]) => [`${folder}/${p}`, b]));

// ------------------------------------------------------------------------------------------------

describe('the fixtures', () => {
  it('wav2vec2-tiny/ is the Hugging Face CTC layout: waveform front end, "<pad>" blank, logits', async () => {
    const d = await detectModelLayout(fileSetFromBytes(await fixture('wav2vec2-tiny')));
    expect(d.kind).toBe('hf-ctc');
    expect(d.root).toBe('wav2vec2-tiny');
    expect(d.onnx).toMatchObject({ path: 'wav2vec2-tiny/onnx/model.onnx', precision: 'full' });
    expect(d.onnxFiles.map((f) => [f.path, f.precision])).toEqual([
      ['wav2vec2-tiny/onnx/model.onnx', 'full'],
      ['wav2vec2-tiny/onnx/model_quantized.onnx', 'quantized'],
    ]);
    expect(d.frontEnd).toEqual({ kind: 'waveform', sampleRate: 16000, normalize: true });
    expect(d.blankId).toBe(0);
    expect(d.vocab).toMatchObject({ kind: 'characters', blankId: 0, wordDelimiter: '|', letterCase: 'upper', file: 'wav2vec2-tiny/vocab.json' });
    expect(d.vocab.pieces).toHaveLength(32);
    expect(d.inputs).toEqual([{ name: 'input_values', role: 'signal', elemType: 'float32', shape: ['batch_size', 'sequence_length'] }]);
    expect(d.output).toEqual({ name: 'logits', kind: 'logits', shape: ['batch_size', 'sequence_length', 32] });
    expect(d.timeReduction).toEqual({ kind: 'conv', kernels: [10, 3, 3, 3, 3, 2, 2], strides: [5, 2, 2, 2, 2, 2, 2] });
    expect(d.files).toMatchObject({ config: 'wav2vec2-tiny/config.json', vocabulary: 'wav2vec2-tiny/vocab.json', preprocessor: 'wav2vec2-tiny/preprocessor_config.json' });
    expect(d.provenance).toMatchObject({ layout: 'hf-ctc', modelType: 'wav2vec2', architectures: ['Wav2Vec2ForCTC'] });
  });

  it('wav2vec2-tiny/ gives the quantised file when asked, or a file by name', async () => {
    const files = fileSetFromBytes(await fixture('wav2vec2-tiny'));
    expect((await detectModelLayout(files, { precision: 'quantized' })).onnx).toMatchObject({ path: 'wav2vec2-tiny/onnx/model_quantized.onnx', precision: 'quantized', variant: 'quantized' });
    expect((await detectModelLayout(files, { onnx: 'onnx/model_quantized.onnx' })).onnx.path).toBe('wav2vec2-tiny/onnx/model_quantized.onnx');
    const e = await refusal(files, { onnx: 'onnx/model_fp16.onnx' });
    expectKind(e, 'no-model', 'onnx/model_fp16.onnx', /is not among the model's ONNX files/);
    // With only the quantised file, it is used whatever the preference.
    const m = await fixture('wav2vec2-tiny');
    m.delete('wav2vec2-tiny/onnx/model.onnx');
    expect((await detectModelLayout(fileSetFromBytes(m))).onnx.precision).toBe('quantized');
  });

  it('nemo-conformer-tiny/ is the sherpa-onnx NeMo CTC layout: log-mel from the metadata and input shape, <blk> last, log-probs', async () => {
    const d = await detectModelLayout(fileSetFromBytes(await fixture('nemo-conformer-tiny')));
    expect(d.kind).toBe('nemo-ctc');
    expect(d.onnx.path).toBe('nemo-conformer-tiny/model.onnx');
    expect(d.frontEnd).toEqual({ kind: 'log-mel', config: { ...DEFAULT_FRONTEND, nMels: 80, normalize: 'per_utterance' }, layout: 'mel-major' });
    expect(d.blankId).toBe(63);
    expect(d.vocab).toMatchObject({ kind: 'pieces', blankId: 63, letterCase: 'lower', file: 'nemo-conformer-tiny/tokens.txt' });
    expect(d.inputs.map((i) => [i.name, i.role, i.elemType])).toEqual([
      ['audio_signal', 'signal', 'float32'],
      ['length', 'length', 'int64'],
    ]);
    expect(d.inputs[0].shape[1]).toBe(80);
    expect(d.output).toMatchObject({ name: 'logprobs', kind: 'logProbs' });
    expect(d.timeReduction).toEqual({ kind: 'factor', factor: 4 });
    expect(d.provenance).toMatchObject({ layout: 'nemo-ctc', modelType: 'EncDecCTCModelBPE' });
    expect(d.outline.metadata).toMatchObject({ vocab_size: '64', normalize_type: 'per_feature', model_author: 'NeMo' });
  });

  it('an .onnx named on disk brings the files beside it; a zip of a folder reads as the folder', async () => {
    const disk = await modelFilesFromDisk(join(FIXTURES, 'nemo-conformer-tiny', 'model.onnx'));
    expect(disk.onnx).toBe('model.onnx');
    const d = await detectModelLayout(disk.files, { onnx: disk.onnx });
    expect([d.kind, d.root, d.onnx.path, d.vocab.file]).toEqual(['nemo-ctc', '', 'model.onnx', 'tokens.txt']);

    const zip = writeZip([...(await fixture('wav2vec2-tiny'))].map(([path, bytes]) => ({ path: `download/${path}`, bytes, compress: true })));
    const z = await detectModelLayout(await fileSetFromZip(zip));
    expect([z.kind, z.root, z.onnx.path]).toEqual(['hf-ctc', 'download/wav2vec2-tiny', 'download/wav2vec2-tiny/onnx/model.onnx']);
  });
});

describe('our own models', () => {
  it('a model directory is the earshot layout', async () => {
    const d = await detectModelLayout(fileSetFromBytes(under('mine', earshotDir())));
    expect(d.kind).toBe('earshot');
    expect(d.frontEnd).toEqual({ kind: 'log-mel', config: DEFAULT_FRONTEND, layout: 'time-major' });
    expect(d.vocab.vocab.tokens).toEqual(DEFAULT_VOCAB.tokens);
    expect(d.inputs.map((i) => i.name)).toEqual(['features']);
    expect(d.output).toMatchObject({ name: 'logits', kind: 'logits' });
  });

  it('our model.onnx with tokens.txt and no config.json is recognised by its earshot_config metadata', async () => {
    const dir = earshotDir();
    const d = await detectModelLayout(fileSetFromBytes({ 'exported.onnx': dir['model.onnx'], 'tokens.txt': dir['tokens.txt'] }));
    expect(d.kind).toBe('earshot-onnx');
    expect(d.frontEnd).toEqual({ kind: 'log-mel', config: DEFAULT_FRONTEND, layout: 'time-major' });
    expect(d.blankId).toBe(0);
  });

  it('an .onnx with earshot_frontend metadata (our model through torch.onnx.export) is recognised, features either way round', async () => {
    const model = decodeModel(earshotDir()['model.onnx']);
    // As scripts/foreign/export-earshot-torch.py writes it.
    const meta = { earshot_frontend: 'logmel-80', earshot_frontend_config: JSON.stringify(DEFAULT_FRONTEND), model_type: 'earshot-ctc', blank_id: '0', vocab_size: '29', subsampling_factor: '4' };
    const tokens = enc(formatTokens(DEFAULT_VOCAB));
    const detect = (onnx: Uint8Array) => detectModelLayout(fileSetFromBytes({ 'torch/model.onnx': onnx, 'torch/tokens.txt': tokens }));
    const d = await detect(encodeModel({ ...model, metadata: meta }));
    expect([d.kind, d.frontEnd.kind === 'log-mel' && d.frontEnd.layout, d.timeReduction]).toEqual(['earshot-onnx', 'time-major', { kind: 'factor', factor: 4 }]);
    expect(d.frontEnd.kind === 'log-mel' && d.frontEnd.config).toEqual(DEFAULT_FRONTEND);
    const g = { ...model.graph, inputs: model.graph.inputs.map((i) => ({ ...i, shape: ['batch', 80, 'time'] })) };
    const m = await detect(encodeModel({ ...model, graph: g, metadata: meta }));
    expect(m.frontEnd.kind === 'log-mel' && m.frontEnd.layout).toBe('mel-major');

    const refused = async (metadata: Record<string, string>) => refusal(fileSetFromBytes({ 'torch/model.onnx': encodeModel({ ...model, metadata }), 'torch/tokens.txt': tokens }));
    const bad = await refused({ ...meta, earshot_frontend_config: JSON.stringify({ ...DEFAULT_FRONTEND, nFft: 500 }) });
    expectKind(bad, 'unknown-front-end', 'torch/model.onnx', /earshot_frontend_config metadata that is not a front end Earshot can compute: .*power of two/);
    const { earshot_frontend_config: _, ...labelOnly } = meta;
    expectKind(await refused(labelOnly), 'unknown-front-end', 'torch/model.onnx', /names the front end "logmel-80" but carries no earshot_frontend_config/);
    expectKind(await refused({ ...meta, earshot_frontend: 'logmel-64' }), 'unknown-front-end', 'torch/model.onnx', /"logmel-64", which does not match/);
    expectKind(await refused({ ...meta, blank_id: '5' }), 'bad-vocabulary', 'torch/tokens.txt', /blank at id 0, but model\.onnx's metadata says blank_id 5/);
  });
});

describe('refusals: one sentence naming the file and the reason', () => {
  it('Whisper (an encoder–decoder model) is not supported yet', async () => {
    const files = new Map([
      ['whisper-tiny/config.json', enc(JSON.stringify({ model_type: 'whisper', architectures: ['WhisperForConditionalGeneration'], is_encoder_decoder: true }))],
      ['whisper-tiny/onnx/encoder_model.onnx', enc('not read')],
    ]);
    expectKind(await refusal(files), 'encoder-decoder', 'whisper-tiny/config.json', /Whisper model, an encoder–decoder model, which Earshot does not support yet/);
    const other = new Map([['s2t/config.json', enc(JSON.stringify({ model_type: 'speech_to_text', architectures: ['Speech2TextForConditionalGeneration'] }))]]);
    expectKind(await refusal(other), 'encoder-decoder', 's2t/config.json', /encoder–decoder model \(speech_to_text\)/);
    // Without config.json, the file names say it.
    const bare = new Map([
      ['w/encoder_model.onnx', enc('x')],
      ['w/decoder_model_merged.onnx', enc('x')],
    ]);
    expectKind(await refusal(bare), 'encoder-decoder', 'w', /separate encoder and decoder \.onnx files/);
    const transducer = new Map(['encoder', 'decoder', 'joiner'].map((p) => [`t/${p}-epoch-99.onnx`, enc('x')]));
    expectKind(await refusal(transducer), 'not-ctc', 't', /transducer/);
  });

  it('the whisper-tiny-encdec fixture is refused', async () => {
    const files = await fixture('whisper-tiny-encdec');
    const e = await refusal(files);
    expect(e.kind).toBe('encoder-decoder');
    expect(e.message).toMatch(/^whisper-tiny-encdec(\/config\.json)? .*encoder–decoder.*not support yet/);
  });

  it('a model without a CTC head', async () => {
    const m = await fixture('wav2vec2-tiny');
    const config = JSON.parse(new TextDecoder().decode(m.get('wav2vec2-tiny/config.json')));
    m.set('wav2vec2-tiny/config.json', enc(JSON.stringify({ ...config, architectures: ['Wav2Vec2ForSequenceClassification'] })));
    expectKind(await refusal(m), 'not-ctc', 'wav2vec2-tiny/config.json', /Wav2Vec2ForSequenceClassification model, which has no CTC head/);
  });

  it('a missing vocabulary', async () => {
    const w = await fixture('wav2vec2-tiny');
    w.delete('wav2vec2-tiny/vocab.json');
    expectKind(await refusal(w), 'missing-vocabulary', 'wav2vec2-tiny/vocab.json', /^wav2vec2-tiny\/vocab\.json is missing, so the model's output cannot be turned into text\.$/);
    const n = await fixture('nemo-conformer-tiny');
    n.delete('nemo-conformer-tiny/tokens.txt');
    expectKind(await refusal(n), 'missing-vocabulary', 'nemo-conformer-tiny/tokens.txt', /^nemo-conformer-tiny\/tokens\.txt is missing beside model\.onnx, so the model's output cannot be turned into text\.$/);
  });

  it('a vocabulary that does not fit the output', async () => {
    const w = await fixture('wav2vec2-tiny');
    const vocab = JSON.parse(new TextDecoder().decode(w.get('wav2vec2-tiny/vocab.json')));
    w.set('wav2vec2-tiny/vocab.json', enc(JSON.stringify({ ...vocab, '@': 32 })));
    expectKind(await refusal(w), 'bad-vocabulary', 'wav2vec2-tiny/vocab.json', /has 33 tokens, but model\.onnx gives 32 scores per frame/);
    const n = await fixture('nemo-conformer-tiny');
    n.set('nemo-conformer-tiny/tokens.txt', enc('a 0\nb 1\n'));
    expectKind(await refusal(n), 'bad-vocabulary', 'nemo-conformer-tiny/tokens.txt', /no blank token <blk>, and its 2 tokens are not one short of the model's 64 outputs/);
  });

  it('a front end it cannot identify', async () => {
    const w = await fixture('wav2vec2-tiny');
    w.delete('wav2vec2-tiny/preprocessor_config.json');
    expectKind(await refusal(w), 'unknown-front-end', 'wav2vec2-tiny/preprocessor_config.json', /is missing, so the input the model expects .* cannot be known/);
    w.set('wav2vec2-tiny/preprocessor_config.json', enc(JSON.stringify({ feature_extractor_type: 'SeamlessM4TFeatureExtractor', feature_size: 80, sampling_rate: 16000 })));
    expectKind(await refusal(w), 'unknown-front-end', 'wav2vec2-tiny/preprocessor_config.json', /SeamlessM4TFeatureExtractor/);

    const n = await fixture('nemo-conformer-tiny');
    const onnx = n.get('nemo-conformer-tiny/model.onnx')!;
    n.set('nemo-conformer-tiny/model.onnx', withMetadata(onnx, {}));
    expectKind(await refusal(n), 'unknown-front-end', 'nemo-conformer-tiny/model.onnx', /carries no metadata naming its front end/);
    n.set('nemo-conformer-tiny/model.onnx', withMetadata(onnx, { ...NEMO_META, vocab_size: '64', normalize_type: 'all_features' }));
    expectKind(await refusal(n), 'unknown-front-end', 'nemo-conformer-tiny/model.onnx', /normalisation "all_features"/);
    n.set('nemo-conformer-tiny/model.onnx', withMetadata(onnx, { ...NEMO_META, vocab_size: '64', is_giga_am: '1' }));
    expectKind(await refusal(n), 'unknown-front-end', 'nemo-conformer-tiny/model.onnx', /GigaAM/);
  });

  it('control flow in the graph (If, Loop, Scan)', async () => {
    const tokens = enc('a 0\nb 1\nc 2\n<blk> 3\n');
    const e = await refusal(new Map([['flow/model.onnx', ifModel()], ['flow/tokens.txt', tokens]]));
    expectKind(e, 'control-flow', 'flow/model.onnx', /^flow\/model\.onnx has control flow \(If "pick"\), which Earshot cannot train through/);
    // By op type too, with no subgraph attribute to see (as the engine's encoder writes it).
    const loop = encodeModel(
      makeModel(
        {
          name: 'g',
          nodes: [{ opType: 'Loop', domain: '', name: '', inputs: ['audio_signal'], outputs: ['logprobs'], attrs: {} }],
          inputs: [{ name: 'audio_signal', dtype: 'float32', shape: ['N', 80, 'T'] }],
          outputs: [{ name: 'logprobs', dtype: 'float32', shape: ['N', 'T', 4] }],
          initializers: [],
          valueInfo: [],
        },
        { metadata: NEMO_META },
      ),
    );
    expectKind(await refusal(new Map([['model.onnx', loop], ['tokens.txt', tokens]])), 'control-flow', 'model.onnx', /\(Loop\)/);
    // A real exporter's control flow: Optimum's merged Whisper decoder switches on use_cache_branch.
    const merged = await readOnnxOutline(new Uint8Array(readFileSync(join(FIXTURES, 'whisper-tiny-encdec', 'onnx', 'decoder_model_merged.onnx'))));
    expect(controlFlowNodes(merged).map((n) => n.opType)).toContain('If');
    expect(() => assertNoControlFlow(merged, 'decoder_model_merged.onnx')).toThrow(/^decoder_model_merged\.onnx has control flow \(If/);
  });

  it('a decoder graph handed over alone', async () => {
    const dec = encodeModel(
      makeModel(
        {
          name: 'g',
          nodes: [{ opType: 'Identity', domain: '', name: '', inputs: ['encoder_hidden_states'], outputs: ['logits'], attrs: {} }],
          inputs: [
            { name: 'input_ids', dtype: 'int64', shape: ['N', 'L'] },
            { name: 'encoder_hidden_states', dtype: 'float32', shape: ['N', 'T', 8] },
          ],
          outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', 'L', 8] }],
          initializers: [],
          valueInfo: [],
        },
        { metadata: NEMO_META },
      ),
    );
    expectKind(await refusal(new Map([['d/decoder.onnx', dec], ['d/tokens.txt', enc('a 0\n<blk> 1\n')]])), 'encoder-decoder', 'd/decoder.onnx', /takes "input_ids", an input of a sequence-to-sequence decoder/);
  });

  it('no model, two models, a broken file', async () => {
    expectKind(await refusal(new Map([['notes/readme.txt', enc('hi')]])), 'no-model', 'notes/readme.txt', /is not a model/);
    expectKind(await refusal(new Map([['a.txt', enc('hi')], ['b.wav', enc('x')]])), 'no-model', 'the chosen files', /hold no model/);
    const both = new Map([...(await fixture('wav2vec2-tiny')), ...(await fixture('nemo-conformer-tiny'))]);
    expectKind(await refusal(both), 'ambiguous', 'the chosen files', /more than one model \(wav2vec2-tiny\/, nemo-conformer-tiny\/\)/);
    // Both side by side inside one folder is fine: the shallowest model folder wins.
    const w = await fixture('wav2vec2-tiny');
    w.set('wav2vec2-tiny/config.json', enc('{"model_type": "wav2vec2",'));
    expectKind(await refusal(w), 'unreadable', 'wav2vec2-tiny/config.json', /is not valid JSON/);
    const n = await fixture('nemo-conformer-tiny');
    n.set('nemo-conformer-tiny/model.onnx', n.get('nemo-conformer-tiny/model.onnx')!.subarray(0, 5000));
    expectKind(await refusal(n), 'unreadable', 'nemo-conformer-tiny/model.onnx', /cannot be read as an ONNX model/);
    const two = new Map([['x/a.onnx', ifModel()], ['x/b.onnx', ifModel()], ['x/tokens.txt', enc('a 0\n<blk> 1\n')]]);
    expectKind(await refusal(two), 'ambiguous', 'x', /several ONNX files \(a\.onnx, b\.onnx\)/);
  });
});

describe('the ONNX outline', () => {
  it('matches the engine decoder on names, shapes, metadata and ops', async () => {
    const bytes = earshotDir()['model.onnx'];
    const full = decodeModel(bytes);
    const o = await readOnnxOutline(bytes);
    expect(o.metadata).toEqual(full.metadata);
    expect(o.opsets).toEqual(full.opsets);
    expect(o.inputs.map((i) => [i.name, i.elemType, i.shape])).toEqual(full.graph.inputs.map((i) => [i.name, i.dtype, i.shape]));
    expect(o.outputs.map((i) => [i.name, i.elemType, i.shape])).toEqual(full.graph.outputs.map((i) => [i.name, i.dtype, i.shape]));
    expect(o.nodes.map((n) => [n.opType, n.name, n.inputs, n.outputs])).toEqual(full.graph.nodes.map((n) => [n.opType, n.name, n.inputs, n.outputs]));
    expect(o.initializers.map((t) => [t.name, t.elemType, t.dims])).toEqual(full.graph.initializers.map((t) => [t.name, t.dtype, t.dims]));
    expect(controlFlowNodes(o)).toEqual([]);
  });

  it('reads the int8 weights of the quantised fixture without failing, and skips weights it does not need', async () => {
    const q = readFileSync(join(FIXTURES, 'wav2vec2-tiny', 'onnx', 'model_quantized.onnx'));
    const o = await readOnnxOutline(new Uint8Array(q));
    expect(o.initializers.some((t) => t.elemType === 'uint8' || t.elemType === 'int8')).toBe(true);
    // A 6 MB weight between the graph's head and its outputs: reads stay far below the file size.
    const big = makeModel(
      {
        name: 'g',
        nodes: [{ opType: 'MatMul', domain: '', name: 'mm', inputs: ['x', 'w'], outputs: ['y'], attrs: {} }],
        inputs: [{ name: 'x', dtype: 'float32', shape: [1, 1250] }],
        outputs: [{ name: 'y', dtype: 'float32', shape: [1, 1250] }],
        initializers: [{ name: 'w', dtype: 'float32', dims: [1250, 1250], data: new Float32Array(1250 * 1250) }],
        valueInfo: [],
      },
      { metadata: { note: 'after the weights' } },
    );
    const bytes = encodeModel(big);
    let read = 0;
    const src = bytesSource(bytes);
    const outline = await readOnnxOutline({ size: src.size, read: (o, n) => ((read += n), src.read(o, n)) });
    expect(outline.metadata).toEqual({ note: 'after the weights' });
    expect(outline.initializers).toEqual([{ name: 'w', elemType: 'float32', dims: [1250, 1250], external: false }]);
    expect(read).toBeLessThan(bytes.length / 2);
  });
});
