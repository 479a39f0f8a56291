// `npm start` as a user gets it: the production build served by `vite preview` with its
// cross-origin-isolation and CSP headers loads the shipped base model from public/models/base and
// runs it, and the page makes no request to any other origin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';

let server: PreviewServer;
let browser: Browser;
let url: string;
let outDir: string | undefined;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'earshot-dist-'));
  await build({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile: 'vite.config.ts', logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  url = server.resolvedUrls!.local[0];
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

describe('production build', () => {
  it('serves the app cross-origin isolated under its CSP, loads the shipped base model, and talks to nobody else', async () => {
    const page = await browser.newPage();
    const origin = new URL(url).origin;
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) foreign.push(r.url());
    });
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    const res = await page.goto(url);
    expect(res!.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(res!.headers()['content-security-policy']).toMatch(/default-src 'self'/);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.getByRole('heading', { name: 'Earshot' }).waitFor();
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 240_000 });
    const backend = await page.getByTestId('model-backend').getAttribute('data-backend');
    expect(['webgpu', 'wasm']).toContain(backend);
    expect(Number((await page.getByTestId('model-parameters').innerText()).replace(/,/g, ''))).toBeGreaterThan(1_000_000);
    expect(foreign).toEqual([]);
    expect(errors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([]);
  });
});
