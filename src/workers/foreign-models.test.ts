// Importing models from elsewhere as the app does it, on the fixtures: what a user's pick becomes
// (files kept under their paths in the model's folder), the refusals' sentences, the check that a
// model can be fine-tuned, the card, and transcription through the stored blobs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeMono } from '../audio/decode';
import { writeZip } from '../data/zip';
import { decodeModel } from '../engine/onnx-proto';
import { ForeignModelError } from '../foreign/errors';
import { nodeBackend } from '../runtime/node';
import { describeUpload, foreignCard, foreignTranscriber, inspectForTraining, isEarshotDirectory, keptFiles, openForeign, readUpload, type StoredForeign } from './foreign-models';

const FIXTURES = fileURLToPath(new URL('../foreign/fixtures/', import.meta.url));

/** A folder as <input webkitdirectory> hands it over: paths from the folder's name down. */
function folder(name: string): { path: string; file: Blob }[] {
  const out: { path: string; file: Blob }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const full = join(dir, e);
      if (statSync(full).isDirectory()) walk(full);
      else out.push({ path: relative(FIXTURES, full), file: new Blob([readFileSync(full)]) });
    }
  };
  walk(join(FIXTURES, name));
  return out;
}

async function refusal(p: Promise<unknown>): Promise<ForeignModelError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ForeignModelError);
  return e as ForeignModelError;
}

async function imported(refs: { path: string; file: Blob }[]): Promise<StoredForeign> {
  const u = await readUpload(refs);
  const d = await describeUpload(u);
  const onnx = new Uint8Array(await u.blobs.get(d.onnx.path)!.arrayBuffer());
  const files = keptFiles(u, d);
  return { kind: d.kind, files, onnx: d.onnx.path.slice(d.root ? d.root.length + 1 : 0), card: foreignCard(d, inspectForTraining(d, decodeModel(onnx)), onnx.length) };
}

describe('importing a model from elsewhere', () => {
  it('a wav2vec2 folder in the Optimum layout keeps its paths; the card names kind, vocabulary, front end and projections', async () => {
    const stored = await imported(folder('wav2vec2-tiny'));
    expect(Object.keys(stored.files).sort()).toEqual(['config.json', 'onnx/model.onnx', 'preprocessor_config.json', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json']);
    expect(stored.onnx).toBe('onnx/model.onnx');
    const c = stored.card;
    expect(c.kindLabel).toBe('wav2vec2 (Hugging Face / Optimum layout)');
    expect(c.leftOut).toEqual(['onnx/model_quantized.onnx']);
    expect(c.vocabulary).toMatchObject({ kind: 'characters', size: 32, blank: '<pad>', file: 'vocab.json' });
    expect(c.frontEnd).toMatch(/^raw 16 kHz waveform, normalised per utterance/);
    expect(c.projections.map((p) => `${p.kind} ${p.count}`)).toEqual(['attention.q 2', 'attention.k 2', 'attention.v 2', 'attention.out 2', 'ff.in 2', 'ff.out 2', 'other 2']);
    expect(c.parameters).toBeGreaterThan(10_000);
  });

  it('the same folder as a zip, and a NeMo .onnx with its tokens.txt', async () => {
    const refs = folder('wav2vec2-tiny');
    const zip = writeZip(await Promise.all(refs.map(async (r) => ({ path: r.path, bytes: new Uint8Array(await r.file.arrayBuffer()) }))));
    const fromZip = await imported([{ path: 'w2v.zip', file: new Blob([zip as BlobPart]) }]);
    expect(Object.keys(fromZip.files)).toContain('onnx/model.onnx');
    const nemo = await imported(folder('nemo-conformer-tiny').map((r) => ({ ...r, path: r.path.split('/').pop()! })));
    expect(nemo.card.kindLabel).toMatch(/^NeMo .*\(sherpa-onnx NeMo layout\)$/);
    expect(nemo.card.frontEnd).toMatch(/^80 log-mel bins/);
    expect(nemo.card.vocabulary.kind).toBe('pieces');
    expect(nemo.card.projections.some((p) => p.kind === 'attention.q')).toBe(true);
  });

  it('refusals: Whisper, a lone .onnx, a zip without a model, a missing vocabulary; our own directory is told apart', async () => {
    const whisper = await refusal(imported(folder('whisper-tiny-encdec')));
    expect(whisper.message).toMatch(/^whisper-tiny-encdec\/config\.json describes a Whisper model, an encoder–decoder model, which Earshot does not support yet/);
    const lone = await refusal(imported([{ path: 'model.onnx', file: new Blob([readFileSync(join(FIXTURES, 'nemo-conformer-tiny/model.onnx'))]) }]));
    expect(lone.message).toMatch(/^model\.onnx alone is not a model Earshot can use: it needs .*config\.json.*tokens\.txt/);
    const empty = await refusal(imported([{ path: 'holiday.zip', file: new Blob([writeZip([{ path: 'a/readme.txt', bytes: new Uint8Array(3) }]) as BlobPart]) }]));
    expect(empty.message).toMatch(/^holiday\.zip is a zip but holds no model\.onnx/);
    const noVocab = await refusal(imported(folder('wav2vec2-tiny').filter((r) => !r.path.endsWith('vocab.json'))));
    expect(noVocab.message).toBe("wav2vec2-tiny/vocab.json is missing, so the model's output cannot be turned into text.");
    await expect(readUpload([{ path: 'x.zip', file: new Blob(['not a zip'.repeat(9)]) }])).rejects.toThrow(/^x\.zip is not a zip archive/);
    const ours = await readUpload([{ path: 'm/config.json', file: new Blob([JSON.stringify({ format: 'earshot-ctc' })]) }]);
    expect(await isEarshotDirectory(ours)).toBe(true);
    expect(await isEarshotDirectory(await readUpload(folder('wav2vec2-tiny')))).toBe(false);
  });

  it('a graph with an op Earshot cannot train through is refused at import with the file and the node', async () => {
    const u = await readUpload(folder('nemo-conformer-tiny').map((r) => ({ ...r, path: r.path.split('/').pop()! })));
    const d = await describeUpload(u);
    const model = decodeModel(await u.set.get(d.onnx.path)!.read());
    model.graph.nodes.find((n) => n.opType === 'Relu')!.opType = 'Softplus';
    const e = (() => {
      try {
        inspectForTraining(d, model);
      } catch (x) {
        return x as ForeignModelError;
      }
    })();
    expect(e).toBeInstanceOf(ForeignModelError);
    expect(e!.message).toMatch(/^model\.onnx cannot be made into a static training graph: node '[^']*Relu' \(Softplus\): operator Softplus is not supported\.$/);
  });

  it('stored blobs open again and transcribe the fixture clip as torch does', async () => {
    const stored = await imported(folder('wav2vec2-tiny'));
    const rec = foreignTranscriber(await openForeign(stored, nodeBackend({ threads: 1 })));
    const samples = await decodeMono(new Uint8Array(readFileSync(join(FIXTURES, 'audio/synthetic-vowels.wav'))), 16000);
    const ref = JSON.parse(readFileSync(join(FIXTURES, 'reference-outputs.json'), 'utf8')) as { clips: Record<string, { source: string }>; models: Record<string, { clips: Record<string, { greedy: string }> }> };
    const clip = Object.keys(ref.clips).find((k) => ref.clips[k].source.endsWith('synthetic-vowels.wav'))!;
    expect(await rec.transcribeSamples(samples)).toBe(ref.models['wav2vec2-tiny/onnx/model.onnx'].clips[clip].greedy.toLowerCase());
    expect(rec.canWrite("a e i o don't")).toBe(true);
    expect(rec.canWrite('жук')).toBe(false);
    await rec.release();
  });
});
