/** Container/codec families that `decodeAudio` recognises from magic bytes. */
export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg-opus' | 'webm-opus';

/**
 * Why a decode failed, for code that wants to react (e.g. the UI says "this file is cut short"
 * rather than "this is not audio"). The message carries the human detail.
 */
export type AudioDecodeErrorKind =
  | 'not-audio' // magic bytes match no audio container we know
  | 'unsupported' // a real audio file, in an encoding we do not decode (AAC, Vorbis, A-law WAV, ...)
  | 'truncated' // the file ends before its own headers say it should
  | 'corrupt' // headers or payload are self-contradictory, or the codec library rejected frames
  | 'empty'; // well-formed but holds no samples

export class AudioDecodeError extends Error {
  override readonly name = 'AudioDecodeError';
  constructor(
    readonly kind: AudioDecodeErrorKind,
    message: string,
    readonly format: AudioFormat | 'unknown' = 'unknown',
  ) {
    super(message);
  }
}
