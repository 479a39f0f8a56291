// Why a model from elsewhere cannot be imported, as one sentence naming the file and the reason.
// The app's import path shows `problems` (the same field ModelDirError has) and keeps the current
// model; code can branch on `kind`.

export type ForeignModelErrorKind =
  | 'no-model' // nothing in the files looks like a model
  | 'ambiguous' // more than one model, and no way to tell which was meant
  | 'unreadable' // a file is not what its name says (bad JSON, not ONNX)
  | 'encoder-decoder' // Whisper and other sequence-to-sequence models
  | 'not-ctc' // a model without a CTC head (transducer, classifier, …)
  | 'missing-vocabulary'
  | 'bad-vocabulary' // present but unusable: no blank, does not fit the output, …
  | 'unknown-front-end'
  | 'control-flow' // If / Loop / Scan in the graph
  | 'unsupported-graph'; // inputs or outputs the app cannot feed or read

export class ForeignModelError extends Error {
  override readonly name = 'ForeignModelError';

  constructor(
    readonly kind: ForeignModelErrorKind,
    /** The file the reason is about (as the user named it), or the folder. */
    readonly file: string,
    /** The reason, a clause that follows the file name: "is an encoder–decoder model …". */
    readonly reason: string,
  ) {
    super(`${file} ${reason}`.replace(/\s*\.?$/, '.'));
  }

  /** As ModelDirError's, so the app's import path shows it the same way. */
  get problems(): string[] {
    return [this.message];
  }
}
