// The Data panel in a real Chromium: a folder and a zip are dropped onto the page through the
// browser's own drag-and-drop (CDP Input.dispatchDragEvent with file paths, which is what an OS
// drop produces: the page sees DataTransfer items with directory entries), the reports list every
// planted fault, and after a reload the datasets are still in IndexedDB. Then a shrunken quota
// shows the storage-full message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium } from './browser';
import { startDevServer } from './server';
import { hfSample, nemoSample, text, type SampleDataset } from '../src/data/testing/sample-datasets';
import { writeZip } from '../src/data/zip';
import { SEVERITY, type IssueKind } from '../src/data/report';

let server: ViteDevServer;
let browser: Browser;
let page: Page;
let root: string;
let url: string;
const folder = hfSample(); // dropped as the folder "hf"
const zipped = nemoSample(); // dropped inside nemo-upload.zip, with a path-traversal entry added

async function writeFolder(sample: SampleDataset): Promise<string> {
  for (const f of sample.files) {
    const path = join(root, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, await f.read());
  }
  return join(root, sample.files[0].path.split('/')[0]);
}

async function writeZipFile(sample: SampleDataset): Promise<string> {
  const entries = await Promise.all(sample.files.map(async (f) => ({ path: f.path, bytes: await f.read() })));
  entries.push({ path: '../../evil.sh', bytes: text('rm -rf ~') });
  const path = join(root, 'nemo-upload.zip');
  writeFileSync(path, writeZip(entries));
  return path;
}

/** The app shell may put the Data panel behind a tab; open it when there is one. */
async function openDataPanel() {
  await page.locator('[data-testid="drop-zone"], [data-testid="tab-data"]').first().waitFor({ timeout: 120_000 });
  const tab = page.getByTestId('tab-data');
  if (await tab.count()) await tab.click();
  await page.getByTestId('drop-zone').waitFor({ timeout: 60_000 });
}

/** A drop of real files and folders, as the OS would deliver it, at the drop zone's centre. */
async function dropPaths(paths: string[]) {
  const box = (await page.getByTestId('drop-zone').boundingBox())!;
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
  await cdp.detach();
}

function rejectedCount(counts: Partial<Record<IssueKind, number>>): number {
  return Object.entries(counts).reduce((s, [k, n]) => s + (SEVERITY[k as IssueKind] === 'rejected' ? n! : 0), 0);
}

async function reportCounts(name: string) {
  const section = page.locator(`[data-testid="import-report"][data-dataset="${name}"]`);
  const num = async (id: string) => Number(await section.getByTestId(id).textContent());
  const counts: Record<string, number> = {};
  for (const d of await section.locator('details').all()) {
    const kind = (await d.getAttribute('data-testid'))!.replace(/^issues-/, '');
    counts[kind] = Number(await d.getAttribute('data-count'));
  }
  return { accepted: await num('count-accepted'), rejected: await num('count-rejected'), counts, text: await section.textContent() };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-drop-'));
  ({ server, url } = await startDevServer());
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error('[page]', m.text()));
  page.on('pageerror', (e) => console.error('[page]', e.message));
  await page.goto(url);
  await openDataPanel();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('dataset import in the browser', () => {
  it('drops a folder and a zip, reports every planted fault, and keeps the datasets across a reload', async () => {
    const folderPath = await writeFolder(folder);
    const zipPath = await writeZipFile(zipped);
    await dropPaths([folderPath, zipPath]);

    // Two reports, then the list shows both datasets (the list refreshes when the imports end).
    await page.locator('[data-testid="dataset"]').nth(1).waitFor({ timeout: 240_000 });
    const hf = await reportCounts('hf');
    expect(hf.counts, hf.text!).toEqual(folder.expect.counts);
    expect(hf.accepted).toBe(folder.expect.accepted);
    expect(hf.rejected).toBe(rejectedCount(folder.expect.counts));
    expect(hf.text).toContain('Hugging Face audiofolder');
    expect(hf.text).toMatch(/hf\/truncated\.wav.*truncated WAV/);
    expect(hf.text).toMatch(/hf\/metadata\.csv:4.*has 2 columns, the header has 3/);
    expect(hf.text).toContain('"日" (U+65E5)');

    const zipExpect = { ...zipped.expect.counts, 'unsafe-path': 1 };
    const nemo = await reportCounts('nemo-upload');
    expect(nemo.counts, nemo.text!).toEqual(zipExpect);
    expect(nemo.accepted).toBe(zipped.expect.accepted);
    expect(nemo.text).toContain('NeMo manifest');
    expect(nemo.text).toMatch(/nemo-upload\.zip: \.\.\/\.\.\/evil\.sh.*climbs out/);
    expect(nemo.text).toMatch(/train_manifest\.json:3.*not valid JSON/);

    await page.reload();
    await openDataPanel();
    await page.locator('[data-testid="dataset"]').nth(1).waitFor({ timeout: 60_000 });
    const listed = await page.locator('[data-testid="dataset"]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-name'), Number(e.getAttribute('data-utterances'))]));
    expect(listed).toEqual([['hf', folder.expect.accepted], ['nemo-upload', zipped.expect.accepted]]);

    // Re-split the audiofolder dataset (two known speakers) half and half: one whole speaker each.
    const hfRow = page.locator('[data-testid="dataset"][data-name="hf"]');
    await hfRow.getByLabel('validation share, percent').fill('50');
    await hfRow.getByRole('button', { name: 'Re-split' }).click();
    expect(await hfRow.getByTestId('split-outcome').textContent()).toBe(' 1 train / 1 validation, whole speakers');

    // Straight from IndexedDB: every utterance has its audio, and the audio still decodes.
    // The check runs as a string: Vitest rewrites import() inside test functions, and these
    // modules must come from Vite's dev server into the page itself.
    const stored = await page.evaluate(`(async () => {
      const { DataStore } = await import('/src/data/storage.ts');
      const { decodeAudio } = await import('/src/audio/index.ts');
      const db = await DataStore.open();
      const out = [];
      for (const ds of await db.listDatasets()) {
        let seconds = 0;
        const utts = await db.listUtterances(ds.id);
        for (const u of utts) {
          const audio = await decodeAudio(await db.getAudio(u.id));
          seconds += audio.channels[0].length / audio.sampleRate;
        }
        out.push({ name: ds.name, texts: utts.map((u) => u.text).sort(), seconds: Math.round(seconds * 10) / 10 });
      }
      return out;
    })()`);
    expect(stored).toEqual([
      { name: 'hf', texts: ['hello world', 'second clip with punctuation'], seconds: 2 },
      { name: 'nemo-upload', texts: ['a segment of a longer file', 'hello world', 'second clip with punctuation'], seconds: 1 + 1.2 + 3 },
    ]);
  });

  it('a full disk is reported with what is used, and nothing half-imported stays', async () => {
    // Chromium lets DevTools shrink an origin's quota, but only storage opened after the override
    // sees it: so this runs on a second origin (localhost instead of 127.0.0.1) with empty storage.
    // navigator.storage.estimate() keeps reporting the real quota, so the message shows that.
    const other = new URL(url);
    other.hostname = 'localhost';
    const origin = other.origin;
    const fresh = await browser.newPage();
    const cdp = await fresh.context().newCDPSession(fresh);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 16 * 1024 });
    const main = page;
    page = fresh;
    try {
      await page.goto(origin);
      await openDataPanel();
      await dropPaths([join(root, 'hf')]);
      const error = page.getByTestId('data-error');
      await error.waitFor({ timeout: 120_000 });
      expect(await error.textContent()).toMatch(/^Storage is full: \d+ (B|KiB) of [\d.]+ [KMG]iB used\./);
      expect(await page.locator('[data-testid="dataset"]').count()).toBe(0);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin });
      await cdp.detach();
      page = main;
      await fresh.close();
    }
  });
});
