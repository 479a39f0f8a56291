// npm run earshot -- <command> …   The command-line face of Earshot, on the same code paths as the app.
//
// --model is our own model directory, or a model from elsewhere (src/foreign/layout.ts): a folder,
// a zip or an .onnx of a Hugging Face / Optimum CTC export, a sherpa-onnx NeMo CTC model, or our
// model after another exporter. A model Earshot cannot use is refused in one sentence (exit 1).
//
//   transcribe --model <m> [--greedy] [--beam N] [--lm <dir|.arpa>] <audio files...>   prints "<file>\t<text>" per file
//   eval --model <m> --manifest <manifest.jsonl> [--limit N] [--greedy] [--beam N] [--lm <dir|.arpa>]
//                                                 progress on stderr, one JSON object as the last stdout line
//   finetune --model <m> --train <manifest.jsonl> [--val <manifest.jsonl>] --out <dir> [--seed N --greedy] [recipe flags]
//                                                 writes the fine-tuned model (an imported one in its own
//                                                 layout, LoRA merged) and the adapter; last stdout line is JSON
//   personalize --model <dir> --manifest <manifest.jsonl> [--speakers a,b] [--sizes 5,10,20,50,100,200] [--test N]
//               [--seed N --greedy --holdout-every K] [recipe flags]
//                                                 per-speaker learning curves; progress on stderr, JSON last
// Recipe flags (src/cli/recipe-flags.ts) override the one default recipe (src/train/recipe.ts).
import { parseArgs } from 'node:util';
import { ForeignModelError } from '../foreign/errors';
import { runEval } from './eval';
import { finetune } from './finetune';
import { finetuneForeign } from './finetune-foreign';
import { openModel } from './open-model';
import { DEFAULT_SIZES, personalize } from './personalize';
import { RECIPE_OPTIONS, RECIPE_USAGE, recipeFromFlags } from './recipe-flags';
import { runTranscribe } from './transcribe';

const USAGE = `usage: npm run earshot -- <command> [options]
  transcribe --model <m> [--greedy] [--beam N] [--lm <dir|.arpa>] [--precision full|quantized] <audio files...>
  eval --model <m> --manifest <manifest.jsonl> [--limit N] [--greedy] [--beam N] [--lm <dir|.arpa>] [--precision full|quantized]
  finetune --model <m> --train <manifest.jsonl> [--val <manifest.jsonl>] --out <dir> [--seed N --greedy]
           ${RECIPE_USAGE}
  personalize --model <dir> --manifest <manifest.jsonl> [--speakers a,b] [--sizes 5,10,20,50,100,200] [--test N]
           [--seed N --greedy --holdout-every K (0: train on all n, always adopt)] [recipe flags as finetune]
Without recipe flags, finetune and personalize run the default recipe (src/train/recipe.ts), the
app's Train defaults; steps grow with the number of training utterances unless --steps fixes them.
Decoding is the model's own (config.json "decoder", with lm.arpa if the model has one);
--greedy decodes without beam search or LM, --beam N changes the beam width. finetune mixes an LM of
the training transcripts into the model's LM (kept in the output's personal.txt) unless --no-personal-lm.
<m> is an Earshot model directory, or a folder, zip or .onnx of an imported CTC model (Hugging Face /
Optimum wav2vec2-style, sherpa-onnx NeMo CTC, Earshot after torch.onnx.export). Imported models decode
greedily unless --beam N or --lm (an Earshot model directory's lm.arpa and decoder settings, or an .arpa
file; character vocabularies only); finetune trains LoRA with the recipe's rank, alpha, targets, lr,
steps and batch seconds, and writes --out in the model's own layout with adapter.safetensors.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      manifest: { type: 'string' },
      limit: { type: 'string' },
      beam: { type: 'string' },
      greedy: { type: 'boolean', default: false },
      threads: { type: 'string' },
      train: { type: 'string' },
      val: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      speakers: { type: 'string' },
      sizes: { type: 'string' },
      test: { type: 'string' },
      lm: { type: 'string' },
      precision: { type: 'string' },
      ...RECIPE_OPTIONS,
    },
  });
  const need = (name: 'model' | 'manifest' | 'train' | 'out') => {
    const v = values[name];
    if (!v) throw new UsageError(`--${name} is required`);
    return v;
  };
  const threads = values.threads ? Number(values.threads) : undefined;
  const beam = values.beam ? Number(values.beam) : undefined;
  if (beam !== undefined && !(Number.isInteger(beam) && beam >= 1)) throw new UsageError(`--beam must be a positive integer, not '${values.beam}'`);
  const greedy = values.greedy!;
  const precision = values.precision as 'full' | 'quantized' | undefined;
  if (precision !== undefined && precision !== 'full' && precision !== 'quantized') throw new UsageError(`--precision is full or quantized, not '${values.precision}'`);
  const decodeFlags = { threads, beam, greedy, lm: values.lm, precision };
  switch (command) {
    case 'transcribe':
      if (positionals.length === 0) throw new UsageError('give at least one audio file');
      return runTranscribe(need('model'), positionals, decodeFlags);
    case 'eval':
      return runEval(need('model'), need('manifest'), { ...decodeFlags, limit: values.limit ? Number(values.limit) : undefined });
    case 'finetune': {
      const { recipe, steps } = recipeOrUsage(values);
      const [model, train, out, seed] = [need('model'), need('train'), need('out'), Number(values.seed)];
      const opened = await openModel(model, { threads, precision });
      const result =
        opened.kind === 'native'
          ? await finetune({ model, train, val: values.val, out, recipe, steps, seed, threads, greedy }, opened.model)
          : await finetuneForeign({ model: opened.model, modelPath: model, train, val: values.val, out, recipe, steps, seed, log: (m) => process.stderr.write(`[finetune] ${m}\n`) });
      console.log(JSON.stringify(result));
      return 0;
    }
    case 'personalize': {
      const { recipe, steps } = recipeOrUsage(values);
      const ints = (name: string, v: string) => {
        const xs = v.split(',').map((x) => Number(x.trim()));
        if (!xs.length || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new UsageError(`--${name} takes positive integers separated by commas, not '${v}'`);
        return xs;
      };
      const result = await personalize({
        model: need('model'),
        manifest: need('manifest'),
        speakers: values.speakers?.split(',').map((x) => x.trim()).filter(Boolean),
        sizes: values.sizes ? ints('sizes', values.sizes) : DEFAULT_SIZES,
        test: values.test ? ints('test', values.test)[0] : undefined,
        recipe,
        steps,
        seed: Number(values.seed),
        threads,
        greedy,
        log: (m) => process.stderr.write(`[personalize] ${m}\n`),
      });
      console.log(JSON.stringify(result));
      return 0;
    }
    default:
      throw new UsageError(command ? `unknown command '${command}'` : 'no command given');
  }
}

class UsageError extends Error {}

function recipeOrUsage(values: Parameters<typeof recipeFromFlags>[0]) {
  try {
    return recipeFromFlags(values);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ForeignModelError) {
      // a refusal: the one sentence naming the file and the reason
      console.error(e.message);
      process.exit(1);
    }
    if (e instanceof UsageError) console.error(`${e.message}\n${USAGE}`);
    else console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
