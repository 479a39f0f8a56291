// Shared steps of the app journeys: open the app in Chromium, import the tiny model and a dataset,
// take screenshots into test-results/app/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium } from './browser';
import { OUT_DIR, tinyModelFiles, toneDatasetZip } from './fixtures-app/fixtures';
import { startDevServer } from './server';

export interface AppSession {
  server: ViteDevServer;
  browser: Browser;
  page: Page;
  url: string;
  errors: string[];
}

export async function openApp(extraArgs: string[] = []): Promise<AppSession> {
  const { server, url } = await startDevServer();
  const browser = await launchChromium(extraArgs);
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push(m.text());
      console.error('[page]', m.text());
    }
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.getByRole('heading', { name: 'Earshot' }).waitFor();
  return { server, browser, page, url, errors };
}

export async function closeApp(s: AppSession | undefined): Promise<void> {
  await s?.browser.close();
  await s?.server.close();
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  await page.screenshot({ path: join(OUT_DIR, `${name}.png`), fullPage: true });
}

export async function tab(page: Page, id: string): Promise<void> {
  await page.getByTestId(`tab-${id}`).click();
}

export async function importTinyModel(page: Page, o: { lm?: boolean } = {}): Promise<void> {
  await tab(page, 'model');
  await page.getByTestId('model-import-files').setInputFiles(tinyModelFiles(1, o));
  await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
}

export async function importToneDataset(page: Page): Promise<void> {
  await tab(page, 'data');
  await page.getByTestId('drop-zone').locator('input[type=file]').first().setInputFiles(toneDatasetZip());
  await page.locator('[data-testid=dataset][data-name=tones]').waitFor({ timeout: 120_000 });
}

/** Small, fast settings: a few dozen steps of LoRA on the tiny model. */
export async function smallSettings(page: Page, o: { steps: number; evalEvery: number; checkpointEvery: number }): Promise<void> {
  await tab(page, 'train');
  await page.locator('[data-testid=train-dataset][data-name=tones]').check();
  await page.getByTestId('train-length').fill(String(o.steps));
  await page.getByTestId('batch-seconds').fill('2.56');
  await page.getByTestId('eval-every').fill(String(o.evalEvery));
  await page.getByTestId('checkpoint-every').fill(String(o.checkpointEvery));
  await page.getByTestId('warmup').fill('3');
  await page.getByTestId('peak-lr').fill('0.005');
}
