// npm run bench:data [-- --clips 1000 --seconds 1-3]
// Import throughput of a 1,000-clip dataset (a folder of clip.wav + clip.txt pairs, dropped onto
// the Data panel in headless Chromium through the browser's own drag-and-drop, decoded, checked and
// written to IndexedDB by the data worker), the main thread's long tasks during that import, and
// feature extraction speed (log-mel, × real time) in the worker, run from the panel's "Compute
// features" button. The app is the production build (vite build + vite preview, as `npm start`
// serves it) unless --dev is given. Also: the same clips dropped as one zip, and Node figures for
// the same import (in memory) and front end, for reference. Prints one JSON object on stdout.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FRONTEND, decodeMono, logMel } from '../src/audio';
import { importDataset } from '../src/data/import';
import { memoryFile } from '../src/data/vfile';
import { writeZip } from '../src/data/zip';
import { text, toneWav } from '../src/data/testing/sample-datasets';
import { launchChromium } from '../e2e/browser';
import { startDevServer } from '../e2e/server';
import { build, preview } from 'vite';

/** The app as users get it (production build on vite preview), or Vite's dev server. */
async function serveApp(dev: boolean, tmp: string): Promise<{ url: string; close(): Promise<void> }> {
  if (dev) {
    const { server, url } = await startDevServer();
    return { url, close: () => server.close() };
  }
  const outDir = join(tmp, 'dist');
  log('building the app (vite build)');
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview has no URL');
  return { url, close: () => server.close() };
}

const { values: args } = parseArgs({
  options: {
    clips: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '1-3' },
    // Vite's dev server instead of the production build (faster to start, slower to run).
    dev: { type: 'boolean', default: false },
  },
});
const clips = Number(args.clips);
const [minS, maxS] = args.seconds!.split('-').map(Number);
const log = (m: string) => process.stderr.write(`[bench:data] ${m}\n`);
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
async function until(ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const t = performance.now();
  while (!(await ok())) {
    if (performance.now() - t > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// The dataset: durations spread evenly over [minS, maxS], lower-case words only so that every
// transcript is already in the vocabulary (the report stays empty; the bench measures the pipeline).
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
const files: Record<string, Uint8Array> = {};
let audioSeconds = 0;
for (let i = 0; i < clips; i++) {
  const seconds = minS + ((maxS - minS) * ((i * 7) % clips)) / Math.max(1, clips - 1);
  audioSeconds += seconds;
  const name = `clip-${String(i).padStart(5, '0')}`;
  files[`${name}.wav`] = toneWav(seconds, i % 400);
  files[`${name}.txt`] = text(`${WORDS[i % 10]} ${WORDS[(i * 3) % 10]} ${WORDS[(i * 7) % 10]}`);
}
const fileCount = Object.keys(files).length;
const totalBytes = Object.values(files).reduce((s, b) => s + b.byteLength, 0);
const result: Record<string, unknown> = {
  dataset: { clips, files: fileCount, audio_seconds: round(audioSeconds), megabytes: round(totalBytes / 2 ** 20), format: 'pairs (16 kHz 16-bit WAV + .txt)' },
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model },
};

// --- Node, for reference: the same import pipeline without storage, and the front end alone.
{
  const vfiles = Object.entries(files).map(([p, b]) => memoryFile(`bench/${p}`, b));
  const t = performance.now();
  const { report } = await importDataset(vfiles);
  const s = (performance.now() - t) / 1000;
  if (report.accepted !== clips) throw new Error(`node import accepted ${report.accepted} of ${clips}`);
  const sample = await decodeMono(files['clip-00000.wav']);
  const reps = 20;
  const tf = performance.now();
  for (let i = 0; i < reps; i++) logMel(sample, DEFAULT_FRONTEND);
  const featureS = (performance.now() - tf) / 1000;
  result.node = {
    import: { seconds: round(s, 2), files_per_s: round(fileCount / s), audio_seconds_per_s: round(audioSeconds / s) },
    log_mel_x_real_time: round((reps * sample.length) / 16000 / featureS),
  };
  log(`node: ${JSON.stringify(result.node)}`);
}

// --- Chromium: drop the folder on the Data panel.
const root = mkdtempSync(join(tmpdir(), 'earshot-bench-'));
const dir = join(root, 'bench-1000');
mkdirSync(dir);
for (const [p, b] of Object.entries(files)) writeFileSync(join(dir, p), b);
const warmDir = join(root, 'warmup');
mkdirSync(warmDir);
writeFileSync(join(warmDir, 'a.wav'), toneWav(1, 1));
writeFileSync(join(warmDir, 'a.txt'), text('warm up'));

const served = await serveApp(args.dev!, root);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => log(`page error: ${e.message}`));
  page.on('console', (m) => m.type() !== 'debug' && log(`console ${m.type()}: ${m.text()}`));
  await page.goto(served.url);
  // The app shell may put the Data panel behind a tab.
  await page.locator('[data-testid="drop-zone"], [data-testid="tab-data"]').first().waitFor({ timeout: 120_000 });
  if (await page.getByTestId('tab-data').count()) await page.getByTestId('tab-data').click();
  await page.getByTestId('drop-zone').waitFor({ timeout: 60_000 });
  const cdp = await page.context().newCDPSession(page);
  const drop = async (path: string) => {
    const box = (await page.getByTestId('drop-zone').boundingBox())!;
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const data = { items: [], files: [path], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  };
  const datasets = () => page.locator('[data-testid="dataset"]').count();

  // Warm-up: loads the worker and its modules from the dev server, so they are not timed.
  await drop(warmDir);
  await page.locator('[data-testid="dataset"]').first().waitFor({ timeout: 300_000 }).catch(async (e) => { log(await page.locator('body').innerText()); throw e; });

  await page.evaluate(`(() => {
    window.__longTasks = [];
    window.__frames = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask' });
    // Long animation frames say which script a long task ran (https://w3c.github.io/long-animation-frames/).
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.duration > 50) window.__frames.push({ ms: Math.round(e.duration), scripts: e.scripts.map((x) => x.invoker + ' ' + x.sourceURL.split('/').pop() + ' ' + Math.round(x.duration) + 'ms') });
    }).observe({ type: 'long-animation-frame' });
  })()`);
  // The observer must see a long task when there is one, or "no long tasks" means nothing.
  // (Run from a timer: code evaluated through the DevTools protocol is not a task of its own.)
  await page.evaluate(`setTimeout(() => { const t = performance.now(); while (performance.now() - t < 80); }, 0)`);
  // Polled from here: the app's CSP forbids the string evaluation waitForFunction uses.
  await until(async () => ((await page.evaluate('window.__longTasks.length')) as number) > 0, 10_000);
  await page.evaluate('window.__longTasks = []; window.__frames = []');
  log(`dropping ${fileCount} files (${round(audioSeconds)} s of audio)`);
  const t0 = performance.now();
  await drop(dir);
  await until(async () => (await datasets()) === 2, 590_000);
  const wallS = (performance.now() - t0) / 1000;
  const longTasks = (await page.evaluate('window.__longTasks')) as number[];
  const longFrames = (await page.evaluate('window.__frames')) as { ms: number; scripts: string[] }[];
  const reportEl = page.locator('[data-testid="import-report"]');
  const workerMs = Number(await reportEl.getAttribute('data-elapsed-ms'));
  const timings = JSON.parse((await reportEl.getAttribute('data-timings')) ?? '{}') as Record<string, number>;
  const accepted = Number(await page.locator('[data-testid="import-report"] [data-testid="count-accepted"]').textContent());
  if (accepted !== clips || (await datasets()) !== 2) throw new Error(`browser import accepted ${accepted} of ${clips}`);
  result.browser_import = {
    seconds: round(wallS, 2),
    files_per_s: round(fileCount / wallS),
    audio_seconds_per_s: round(audioSeconds / wallS),
    worker_pipeline_seconds: round(workerMs / 1000, 2),
    worker_breakdown_seconds: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k.replace(/Ms$/, ''), round(v / 1000, 2)])),
    main_thread_long_tasks: { count: longTasks.length, max_ms: round(Math.max(0, ...longTasks)), over_50ms: longTasks.filter((d) => d > 50).length, frames_over_50ms: longFrames },
    measured: 'drop event to dataset listed (folder walk, decode, validate, hash, IndexedDB writes, split)',
  };
  log(`browser import: ${JSON.stringify(result.browser_import)}`);

  // The same clips as one zip (stored, as audio barely deflates): read by fflate in the worker.
  const zipPath = join(root, 'bench-zip.zip');
  writeFileSync(zipPath, writeZip(Object.entries(files).map(([p, bytes]) => ({ path: `bench-zip/${p}`, bytes, compress: p.endsWith('.txt') }))));
  const tz = performance.now();
  await drop(zipPath);
  await until(async () => (await datasets()) === 3, 590_000);
  const zipS = (performance.now() - tz) / 1000;
  const zipAccepted = Number(await page.locator('[data-testid="import-report"] [data-testid="count-accepted"]').textContent());
  if (zipAccepted !== clips) throw new Error(`zip import accepted ${zipAccepted} of ${clips}`);
  result.browser_zip_import = { seconds: round(zipS, 2), files_per_s: round(fileCount / zipS), audio_seconds_per_s: round(audioSeconds / zipS) };
  log(`browser zip import: ${JSON.stringify(result.browser_zip_import)}`);

  // Feature extraction in the worker, twice: computed, then from the IndexedDB cache.
  const row = page.locator('[data-testid="dataset"][data-name="bench-1000"]');
  const features = async () => {
    await row.getByRole('button', { name: 'Compute features' }).click();
    const result = row.getByTestId('features-result');
    await until(async () => (await result.count()) > 0 && (await row.getByRole('button', { name: 'Compute features' }).isEnabled()), 590_000);
    const attr = async (n: string) => Number(await result.getAttribute(n));
    return { rtf: await attr('data-rtf'), hits: await attr('data-hits'), wallMs: await attr('data-wall-ms') };
  };
  const first = await features();
  const second = await features();
  result.worker_features = {
    config: '80-bin log-mel, 25 ms / 10 ms (DEFAULT_FRONTEND); per utterance: IndexedDB read, decode, resample, log-mel, IndexedDB write',
    x_real_time: round(first.rtf),
    seconds: round(first.wallMs / 1000, 2),
    cached_pass_seconds: round(second.wallMs / 1000, 2),
    cached_pass_hits: second.hits,
  };
  log(`worker features: ${JSON.stringify(result.worker_features)}`);
} finally {
  await browser.close();
  await served.close();
  rmSync(root, { recursive: true, force: true });
}

process.stdout.write(JSON.stringify(result, null, 2) + '\n');
