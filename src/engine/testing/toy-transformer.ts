// A small two-block Transformer encoder with a toy MSE loss: the same model the reference encoder
// defines, shrunk so a software WebGPU adapter can train it in a test.
import { buildReferenceProblem, REFERENCE_FULL, type ReferenceProblem } from './reference-encoder';

export const TOY_CONFIG = { ...REFERENCE_FULL, batch: 2, time: 8, blocks: 2, dModel: 32, heads: 2, dFF: 64, dOut: 8, keyBias: false };

export function buildToyProblem(train?: Parameters<typeof buildReferenceProblem>[1]): ReferenceProblem {
  return buildReferenceProblem(TOY_CONFIG, train);
}
