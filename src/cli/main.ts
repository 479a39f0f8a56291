// npm run earshot -- <command> …   The command-line face of Earshot, on the same code paths as the app.
//
//   transcribe --model <dir> [--greedy] [--beam N] <audio files...>   prints "<file>\t<text>" per file
//   eval --model <dir> --manifest <manifest.jsonl> [--limit N] [--greedy] [--beam N]
//                                                 progress on stderr, one JSON object as the last stdout line
//   finetune --model <dir> --train <manifest.jsonl> [--val <manifest.jsonl>] --out <dir>
//            [--adapter lora|bottleneck|last-layers --rank N --alpha X --targets q,v --dim N --layers N]
//            [--steps N --lr X --batch-seconds S --seed N --no-augment --greedy --no-personal-lm]
//                                                 writes the fine-tuned model directory; last stdout line is JSON
import { parseArgs } from 'node:util';
import { adapterChoice, type AdapterChoice } from '../train/adapters';
import { runEval } from './eval';
import { finetune } from './finetune';
import { runTranscribe } from './transcribe';

const USAGE = `usage: npm run earshot -- <command> [options]
  transcribe --model <dir> [--greedy] [--beam N] <audio files...>
  eval --model <dir> --manifest <manifest.jsonl> [--limit N] [--greedy] [--beam N]
  finetune --model <dir> --train <manifest.jsonl> [--val <manifest.jsonl>] --out <dir>
           [--adapter lora|bottleneck|last-layers --rank N --alpha X --targets q,v --dim N --layers N]
           [--steps N --lr X --batch-seconds S --seed N --no-augment --greedy --no-personal-lm]
Decoding is the model's own (config.json "decoder", with lm.arpa if the model has one);
--greedy decodes without beam search or LM, --beam N changes the beam width. finetune mixes an LM of
the training transcripts into the model's LM (kept in the output's personal.txt) unless --no-personal-lm.`;

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
      adapter: { type: 'string', default: 'lora' },
      rank: { type: 'string', default: '8' },
      alpha: { type: 'string' },
      targets: { type: 'string', default: 'q,v,ff1' },
      dim: { type: 'string', default: '32' },
      layers: { type: 'string', default: '2' },
      steps: { type: 'string', default: '60' },
      lr: { type: 'string', default: '3e-3' },
      'batch-seconds': { type: 'string', default: '40' },
      seed: { type: 'string', default: '1' },
      'no-augment': { type: 'boolean', default: false },
      'no-personal-lm': { type: 'boolean', default: false },
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
  switch (command) {
    case 'transcribe':
      if (positionals.length === 0) throw new UsageError('give at least one audio file');
      return runTranscribe(need('model'), positionals, { threads, beam, greedy });
    case 'eval':
      return runEval(need('model'), need('manifest'), { threads, beam, greedy, limit: values.limit ? Number(values.limit) : undefined });
    case 'finetune': {
      let adapter: AdapterChoice;
      try {
        adapter = adapterChoice({ adapter: values.adapter!, rank: Number(values.rank), alpha: values.alpha ? Number(values.alpha) : undefined, targets: values.targets!, dim: Number(values.dim), layers: Number(values.layers) });
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const augment = !values['no-augment'];
      const result = await finetune({
        model: need('model'),
        train: need('train'),
        val: values.val,
        out: need('out'),
        adapter,
        steps: Number(values.steps),
        lr: Number(values.lr),
        batchSeconds: Number(values['batch-seconds']),
        seed: Number(values.seed),
        augment: { specAugment: augment, speed: false, noise: false },
        threads,
        greedy,
        personalLmShare: values['no-personal-lm'] ? 0 : undefined,
      });
      console.log(JSON.stringify(result));
      return 0;
    }
    default:
      throw new UsageError(command ? `unknown command '${command}'` : 'no command given');
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) console.error(`${e.message}\n${USAGE}`);
    else console.error(`error: ${(e as Error).message}`);
    process.exit(2);
  },
);
