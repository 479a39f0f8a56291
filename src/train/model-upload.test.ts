// What a user may pick in "Import a model", and the message each wrong choice gets.
import { describe, expect, it } from 'vitest';
import { buildAcousticModel, type Weights } from '../asr/model';
import { readModelDir, writeModelDir } from '../asr/model-dir';
import { DEFAULT_VOCAB } from '../asr/vocab';
import { writeZip } from '../data/zip';
import { modelFilesFromUpload, modelZip } from './export';

const ARCH = { nMels: 80, dModel: 16, heads: 2, blocks: 1, ffDim: 32, convKernel: 3, vocabSize: 29 };

function modelDir() {
  const { g } = buildAcousticModel({ arch: ARCH, seed: 3, batch: 1, frames: 32, masked: false });
  const weights: Weights = new Map([...g.params].map(([n, p]) => [n, p.init.data as Float32Array]));
  return writeModelDir({ arch: ARCH, weights, vocab: DEFAULT_VOCAB, card: '# tiny\n' });
}

const pick = (files: Record<string, Uint8Array>) => Object.entries(files).map(([path, bytes]) => ({ path, bytes }));

describe('importing a model from the files a user picks', () => {
  it('takes an Export zip or a whole directory', async () => {
    const dir = modelDir();
    expect(readModelDir(await modelFilesFromUpload([{ path: 'mine.zip', bytes: modelZip(dir) }])).config.arch).toEqual(ARCH);
    expect(readModelDir(await modelFilesFromUpload(pick(dir))).config.arch).toEqual(ARCH);
  });

  it('a lone .onnx file is told what else a model needs, not that model.onnx is missing', async () => {
    const onnx = modelDir()['model.onnx'];
    for (const path of ['model.onnx', 'my-asr.onnx']) {
      const e = await modelFilesFromUpload([{ path, bytes: onnx }]).catch((x: Error) => x);
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toContain(`${path} alone is not a model`);
      expect((e as Error).message).toMatch(/config\.json.*tokens\.txt/);
      expect((e as Error).message).not.toMatch(/model\.onnx is missing/);
    }
  });

  it('an .onnx under another name beside config.json and tokens.txt is the model', async () => {
    const { 'model.onnx': onnx, ...rest } = modelDir();
    const files = await modelFilesFromUpload(pick({ ...rest, 'exported.onnx': onnx }));
    expect(readModelDir(files).config.arch).toEqual(ARCH);
  });

  it('bytes that are not a zip are called that; a zip of something else says it holds no model', async () => {
    const notZip = new TextEncoder().encode('this is a text file renamed to .zip\n'.repeat(20));
    await expect(modelFilesFromUpload([{ path: 'photos.zip', bytes: notZip }])).rejects.toThrow(/photos\.zip is not a zip archive/);
    const other = writeZip([{ path: 'holiday/readme.txt', bytes: new TextEncoder().encode('hi') }]);
    await expect(modelFilesFromUpload([{ path: 'holiday.zip', bytes: other }])).rejects.toThrow(/holiday\.zip is a zip but holds no model\.onnx/);
  });

  it('an export without tokens.txt names the missing file', async () => {
    const { 'tokens.txt': _gone, ...rest } = modelDir();
    const files = await modelFilesFromUpload([{ path: 'cut.zip', bytes: modelZip(rest) }]);
    expect(() => readModelDir(files)).toThrow(/tokens\.txt is missing/);
  });
});
