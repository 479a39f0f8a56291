// Vitest global setup for the unit and browser suites: every test run gets a temp folder of its
// own (TMPDIR, which os.tmpdir() reads, and which the worker processes, the CLI processes the tests
// start and Chromium inherit). A test that leaves an `earshot-*` folder behind fails the run,
// naming it; the folder is removed either way, so `npm test` leaves nothing in the system temp dir.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The leftovers of a test run in `dir`: folders and files the tests named `earshot-*`. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => n.startsWith('earshot-')).sort();
}

export default function setup(): () => void {
  const outer = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'earshot-test-run-'));
  process.env.TMPDIR = dir;
  return () => {
    const left = leftovers(dir);
    rmSync(dir, { recursive: true, force: true });
    if (outer === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outer;
    if (left.length) {
      // vitest reports an error thrown here but still exits 0: fail the run explicitly
      process.exitCode = 1;
      throw new Error(`tests left ${left.join(', ')} in the temp dir: remove them in afterAll`);
    }
  };
}
