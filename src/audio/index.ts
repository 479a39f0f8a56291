/*
 * The audio front end: decode → mono → resample → log-mel, plus training augmentation.
 * Pure functions over typed arrays: no DOM-only API (workers have no AudioContext) and no Node
 * import, so the same code runs in the browser's training worker, the CLI and the tests.
 */
export { decodeAudio, decodeMono, toMono, type DecodedAudio } from './decode';
export { AudioDecodeError, type AudioDecodeErrorKind, type AudioFormat } from './errors';
export { sniffFormat } from './sniff';
export { encodeWav16 } from './wav';
export { resample } from './resample';
export { RealFft } from './fft';
export { hzToMel, melToHz, melFilterBank, type MelScale } from './mel';
export {
  DEFAULT_FRONTEND,
  LogMelExtractor,
  frameCount,
  logMel,
  validateFrontEndConfig,
  type Features,
  type FrontEndConfig,
} from './log-mel';
export { LogMelStream } from './log-mel-stream';
export { concatSamples } from './samples';
export { addNoise, specAugment, speedPerturb, type NoiseOptions, type SpecAugmentConfig } from './augment';
export { gaussian, mulberry32, randInt, type Random } from './random';
