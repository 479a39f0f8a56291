// Detection, front end, vocabulary and decoder together: each fixture model is described by
// detectModelLayout, fed by our front end, run by plain onnxruntime-node, and decoded by our greedy
// decoder; frame argmaxes, frame counts and transcripts must equal torch's (reference-outputs.json,
// written by scripts/foreign/make-fixtures.py from its own numpy front ends).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { beamSearch, greedyDecode } from '../asr/decode';
import { decodeMono } from '../audio/decode';
import { modelFilesFromDisk } from '../cli/foreign-source';
import { FrontEndRunner } from './frontend';
import { detectModelLayout, outputFrames, type ModelDescription } from './layout';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

interface Reference {
  clips: Record<string, { source: string; text: string; samples: number }>;
  models: Record<string, { clips: Record<string, { shape: number[]; argmax: number[]; greedy: string }> }>;
}
const present = existsSync(`${FIXTURES}reference-outputs.json`);
const ref: Reference | undefined = present ? JSON.parse(readFileSync(`${FIXTURES}reference-outputs.json`, 'utf8')) : undefined;
// the Citrinet-style fixture's references (its own script, the same clips)
if (ref && existsSync(`${FIXTURES}citrinet-reference-outputs.json`)) Object.assign(ref.models, (JSON.parse(readFileSync(`${FIXTURES}citrinet-reference-outputs.json`, 'utf8')) as Reference).models);

async function samplesOf(source: string): Promise<Float32Array | undefined> {
  const path = source.startsWith('shared/') ? `${SHARED}${source.slice('shared/'.length)}` : `${REPO}${source}`;
  return existsSync(path) ? decodeMono(new Uint8Array(readFileSync(path)), 16000) : undefined;
}

/** Runs the described model on one utterance; returns scores [T, V] as the model gives them. */
async function run(d: ModelDescription, onnx: Uint8Array, samples: Float32Array): Promise<{ scores: Float32Array; frames: number }> {
  const input = new FrontEndRunner(d.frontEnd).compute(samples);
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of d.inputs) {
    if (i.role === 'signal') feeds[i.name] = new ort.Tensor('float32', input.data, [1, ...input.dims]);
    else if (i.role === 'length') feeds[i.name] = new ort.Tensor('int64', BigInt64Array.from([BigInt(input.length)]), [1]);
    else feeds[i.name] = new ort.Tensor('int64', new BigInt64Array(input.length).fill(1n), [1, input.length]);
  }
  const session = await ort.InferenceSession.create(onnx, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = (await session.run(feeds, [d.output.name]))[d.output.name];
    expect(outputFrames(d.timeReduction, input.length)).toBe(out.dims[1]);
    return { scores: out.data as Float32Array, frames: Number(out.dims[1]) };
  } finally {
    await session.release();
  }
}

describe.skipIf(!present)('fixture models transcribe as torch does', () => {
  for (const [model, expected] of Object.entries(ref?.models ?? {})) {
    it(model, async (ctx) => {
      const folder = model.split('/')[0];
      const { files } = await modelFilesFromDisk(`${FIXTURES}${folder}`);
      const d = await detectModelLayout(files, { onnx: model });
      const onnx = await files.get(d.onnx.path)!.read();
      let checked = 0;
      for (const [clipId, want] of Object.entries(expected.clips)) {
        const samples = await samplesOf(ref!.clips[clipId].source);
        if (!samples) continue; // the shared corpus is not here
        const { scores, frames } = await run(d, onnx, samples);
        const V = d.vocab.pieces.length;
        expect([1, frames, V]).toEqual(want.shape);
        const argmax = Array.from({ length: frames }, (_, t) => {
          let best = 0;
          for (let v = 1; v < V; v++) if (scores[t * V + v] > scores[t * V + best]) best = v;
          return best;
        });
        // The quantised model is run by onnxruntime here and emulated in torch there: a frame
        // whose best two tokens are within rounding may differ; the transcript may not.
        if (d.onnx.precision === 'full') expect(argmax, clipId).toEqual(want.argmax);
        const greedy = greedyDecode(scores, d.vocab.vocab, d.output.kind).text;
        expect(greedy, clipId).toBe(want.greedy.toLowerCase());
        expect(beamSearch(scores, d.vocab.vocab, { kind: d.output.kind, beamWidth: 4 })[0].text, clipId).toBe(greedy);
        checked++;
      }
      if (checked === 0) ctx.skip('no clip of this model is here');
    });
  }
});
