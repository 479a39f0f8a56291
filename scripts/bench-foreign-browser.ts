// Issue 12, item 5, in the browser: a base-size model from elsewhere imported, transcribing and
// fine-tuned with LoRA in headless Chromium on WASM, through the app itself (Model panel folder
// import, Evaluate, Train). Prints one JSON object: seconds for import + load, per transcription
// and per LoRA step, and memory after each phase — performance.measureUserAgentSpecificMemory()
// (page and workers: JS heaps and WebAssembly memories) and the peak resident size of Chromium's
// processes (sampled from /proc every 250 ms).
//
//   npx tsx scripts/bench-foreign-browser.ts <model folder> [--clips ../shared/speech/ljspeech_coqui] [--utterances 3] [--steps 3] [--batch-seconds 8] [--out result.json]
//
// The model folder is an Optimum-layout folder (config.json, vocab.json, preprocessor_config.json,
// onnx/model.onnx). No base-size weights are committed: make one with torchaudio, e.g.
// torchaudio.models.wav2vec2_base(aux_num_out=32) through torch.onnx.export (opset 14; see
// scripts/bench-foreign.ts), beside src/foreign/fixtures/wav2vec2-tiny's side files (its 32-token
// vocabulary fits aux_num_out=32). Clips come from a NeMo manifest folder (../shared/speech is read,
// never copied into the repository): `--utterances` held out for transcription, as many for training.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { writeZip } from '../src/data/zip';
import { launchChromium } from '../e2e/browser';
import { startDevServer } from '../e2e/server';

const args = process.argv.slice(2);
const folder = args[0];
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
if (!folder) throw new Error('usage: bench-foreign-browser.ts <model folder> [--clips dir] [--utterances n] [--steps n] [--batch-seconds s]');
const clipsDir = opt('clips', '../shared/speech/ljspeech_coqui');
const nUtts = Number(opt('utterances', '3'));
const steps = Number(opt('steps', '3'));
const batchSeconds = opt('batch-seconds', '8');
const MB = 2 ** 20;
const log = (what: string) => console.error(`${new Date().toISOString().slice(11, 19)} ${what}…`);

/** Resident bytes of a process and all its descendants (Linux /proc). */
function treeRss(root: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  const walk = (pid: number) => {
    try {
      total += Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
    } catch {
      return;
    }
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return total;
}

/** Peak RSS of the browser's process tree while `f` runs. */
async function phase<T>(pid: number, f: () => Promise<T>): Promise<{ value: T; seconds: number; peakRssMB: number }> {
  let peak = treeRss(pid);
  const timer = setInterval(() => (peak = Math.max(peak, treeRss(pid))), 250);
  const t0 = performance.now();
  try {
    const value = await f();
    return { value, seconds: (performance.now() - t0) / 1000, peakRssMB: Math.round(peak / MB) };
  } finally {
    clearInterval(timer);
  }
}

/** The page's and its workers' memory as Chromium attributes it (needs cross-origin isolation, which the app has). */
async function uaMemory(page: Page): Promise<Record<string, number> | string> {
  return page.evaluate(async () => {
    const p = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number; breakdown: { bytes: number; types: string[]; attribution: { scope?: string; url?: string }[] }[] }> };
    if (!p.measureUserAgentSpecificMemory) return 'performance.measureUserAgentSpecificMemory is not available';
    const m = await p.measureUserAgentSpecificMemory();
    const out: Record<string, number> = { totalMB: Math.round(m.bytes / 2 ** 20) };
    for (const b of m.breakdown) {
      if (!b.bytes) continue;
      const who = b.attribution.map((a) => a.scope ?? '').join('+') || 'shared';
      const key = `${who}:${b.types.join('+') || '?'}`;
      out[key] = (out[key] ?? 0) + Math.round(b.bytes / 2 ** 20);
    }
    return out;
  });
}

function datasetZip(): { name: string; mimeType: string; buffer: Buffer; heldOutSeconds: number } {
  const rows = readFileSync(join(clipsDir, 'manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { audio_filepath: string; text: string; duration: number });
  // clips of 2–6 s: long enough to be speech, short enough for a few steps on two cores
  const picked = rows.filter((r) => r.duration >= 2 && r.duration <= 6).slice(0, 2 * nUtts);
  const entries = picked.map((r) => ({ path: basename(r.audio_filepath), bytes: new Uint8Array(readFileSync(join(clipsDir, r.audio_filepath))) }));
  const line = (r: (typeof picked)[number]) => JSON.stringify({ audio_filepath: basename(r.audio_filepath), text: r.text, duration: r.duration });
  const enc = (t: string) => new TextEncoder().encode(t);
  entries.push({ path: 'train.jsonl', bytes: enc(picked.slice(nUtts).map(line).join('\n') + '\n') });
  entries.push({ path: 'eval.jsonl', bytes: enc(picked.slice(0, nUtts).map(line).join('\n') + '\n') });
  return { name: 'bench.zip', mimeType: 'application/zip', buffer: Buffer.from(writeZip(entries)), heldOutSeconds: picked.slice(0, nUtts).reduce((s, r) => s + r.duration, 0) };
}

async function main() {
  const { server, url } = await startDevServer();
  const browser = await launchChromium(['--enable-blink-features=ForceEagerMeasureMemory']);
  const pid = (browser as unknown as { process?: () => { pid?: number } }).process?.()?.pid;
  const page = await (await browser.newContext({ viewport: { width: 1200, height: 900 }, acceptDownloads: true })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const result: Record<string, unknown> = { model: folder, date: new Date().toISOString(), backend: 'wasm', note: 'the app also holds its shipped base model (loaded at start, part of idle)' };
  const rssRoot = pid ?? process.pid;
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.querySelector('[data-testid=model-status]')?.getAttribute('data-status') !== 'loading', null, { timeout: 300_000 });
    await page.getByTestId('tab-model').click();
    // WASM for transcription and training: headless Chromium's WebGPU is a software adapter (a
    // measurement of it on a base-size model would take minutes and decide nothing)
    await page.getByTestId('backend-preference').selectOption('wasm');
    await page.waitForFunction(() => document.querySelector('[data-testid=model-status]')?.getAttribute('data-status') !== 'loading', null, { timeout: 300_000 });
    result.idle = { rssMB: Math.round(treeRss(rssRoot) / MB), memory: await uaMemory(page) };

    const name = basename(folder.replace(/\/+$/, ''));
    log('import and load');
    const imported = await phase(rssRoot, async () => {
      await page.getByTestId('model-import-folder').setInputFiles(folder);
      await page.waitForFunction((n) => document.querySelector('[data-testid=model-card] h3')?.textContent === n && document.querySelector('[data-testid=model-status]')?.getAttribute('data-status') === 'ready', name, { timeout: 1_800_000, polling: 500 });
    });
    const messages = await page.getByTestId('model-messages').innerText().catch(() => '');
    if (messages) throw new Error(`import: ${messages}`);
    result.importAndLoad = { seconds: imported.seconds, peakRssMB: imported.peakRssMB, memoryAfter: await uaMemory(page), parameters: await page.getByTestId('model-parameters').innerText(), runsOn: await page.getByTestId('model-backend').innerText() };

    log('dataset');
    const zip = datasetZip();
    await page.getByTestId('tab-data').click();
    await page.getByTestId('drop-zone').locator('input[type=file]').first().setInputFiles(zip);
    await page.locator('[data-testid=dataset][data-name=bench]').waitFor({ timeout: 300_000 });
    // Train panel: choosing the dataset starts the panel's own step measurement (a trainer built,
    // a warm-up step, a timed step, a validation pass); it is waited for before Evaluate so the
    // two do not share the cores
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-backend-choice').selectOption('wasm');
    log('step measurement');
    const measured = await phase(rssRoot, async () => {
      await page.locator('[data-testid=train-dataset][data-name=bench]').check();
      await page.getByTestId('train-estimate-total').waitFor({ timeout: 1_800_000 });
      return page.getByTestId('train-estimate').innerText();
    });
    result.stepMeasurement = { text: measured.value.replace(/\n/g, ' '), seconds: measured.seconds, peakRssMB: measured.peakRssMB, memoryAfter: await uaMemory(page) };

    // Evaluate: each held-out clip transcribed alone by the ASR worker
    await page.getByTestId('tab-evaluate').click();
    await page.locator('select').first().selectOption({ label: name });
    log('transcription');
    const evaluated = await phase(rssRoot, async () => {
      await page.getByTestId('eval-run').click();
      await page.getByTestId('eval-row').first().waitFor({ timeout: 1_800_000 });
    });
    result.transcription = {
      utterances: nUtts,
      audioSeconds: zip.heldOutSeconds,
      secondsPerTranscription: evaluated.seconds / nUtts,
      realTimeFactor: evaluated.seconds / zip.heldOutSeconds,
      peakRssMB: evaluated.peakRssMB,
      memoryAfter: await uaMemory(page),
      note: 'includes decoding the FLAC and the front end; random weights, so the transcripts are noise',
    };

    // a run of `steps` LoRA steps on attention q and v
    await page.getByTestId('tab-train').click();
    log('training');
    await page.getByTestId('train-length').fill(String(steps));
    await page.getByTestId('batch-seconds').fill(batchSeconds);
    await page.getByTestId('eval-every').fill('0');
    await page.getByTestId('checkpoint-every').fill('0');
    await page.getByTestId('warmup').fill('1');
    const trained = await phase(rssRoot, async () => {
      await page.getByTestId('train-start').click();
      await page.waitForFunction(() => ['finished', 'failed', 'diverged'].includes(document.querySelector('[data-testid=run-status]')?.getAttribute('data-status') ?? ''), null, { timeout: 3_600_000, polling: 1000 });
    });
    const runStatus = page.getByTestId('run-status');
    const elapsedMs = Number(await runStatus.getAttribute('data-elapsed-ms'));
    result.training = {
      status: await runStatus.getAttribute('data-status'),
      message: (await runStatus.innerText()).replace(/\n/g, ' '),
      steps,
      batchSeconds: Number(batchSeconds),
      secondsPerStep: elapsedMs / 1000 / steps,
      runSeconds: trained.seconds,
      peakRssMB: trained.peakRssMB,
      memoryAfter: await uaMemory(page),
      note: 'runSeconds adds trainer creation, the validation passes before and after, the merge, the export in the source layout, and scoring both models on the held-out clips',
    };

    // Export: the fine-tuned model's zip in the layout it came in (built in the ASR worker)
    log('export');
    await page.getByTestId('tab-export').click();
    const exported = await phase(rssRoot, async () => {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 1_800_000 }), page.getByTestId('export-zip').click()]);
      return (await download.createReadStream()).readableLength >= 0 ? download.suggestedFilename() : '';
    });
    result.export = { seconds: exported.seconds, peakRssMB: exported.peakRssMB, file: exported.value, message: await page.getByTestId('export-message').innerText() };
  } finally {
    result.errors = errors;
    console.log(JSON.stringify(result, null, 2));
    const out = opt('out', '');
    if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    await browser.close();
    await server.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
