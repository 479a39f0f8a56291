// npm run earshot -- <command> …   The command-line face of Earshot, on the same code paths as the app.
//
//   transcribe --model <dir> <audio files...>     prints "<file>\t<text>" per file
//   eval --model <dir> --manifest <manifest.jsonl> [--limit N] [--beam N]
//                                                 progress on stderr, one JSON object as the last stdout line
import { parseArgs } from 'node:util';
import { runEval } from './eval';
import { runTranscribe } from './transcribe';

const USAGE = `usage: npm run earshot -- <command> [options]
  transcribe --model <dir> <audio files...>
  eval --model <dir> --manifest <manifest.jsonl> [--limit N] [--beam N]`;

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
      threads: { type: 'string' },
    },
  });
  const need = (name: 'model' | 'manifest') => {
    const v = values[name];
    if (!v) throw new UsageError(`--${name} is required`);
    return v;
  };
  const threads = values.threads ? Number(values.threads) : undefined;
  const beam = values.beam ? Number(values.beam) : 1;
  switch (command) {
    case 'transcribe':
      if (positionals.length === 0) throw new UsageError('give at least one audio file');
      return runTranscribe(need('model'), positionals, { threads, beam });
    case 'eval':
      return runEval(need('model'), need('manifest'), { threads, beam, limit: values.limit ? Number(values.limit) : undefined });
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
