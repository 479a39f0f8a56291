// Journey 5: how the app looks and reads — every panel at desktop and phone widths, light and dark
// (the system's choice), saved as screenshots in test-results/screenshots/; nothing overflows a
// 420 px wide screen; every control has a label and can be reached with the keyboard, with a
// visible focus ring.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, importTinyModel, importToneDataset, openApp, smallSettings, tab, type AppSession } from './app-harness';

const SHOTS = join(process.cwd(), 'test-results', 'screenshots');
const PANELS = ['model', 'data', 'record', 'train', 'evaluate', 'export'] as const;

let s: AppSession;

beforeAll(async () => {
  s = await openApp();
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await closeApp(s);
});

/** Visible controls without an accessible name (label, aria-label, aria-labelledby, title, or a button's text). */
function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, input, select, textarea')]
      .filter((el) => el.offsetParent !== null || el.getClientRects().length > 0)
      .filter((el) => {
        const labels = (el as HTMLInputElement).labels;
        const text = el.tagName === 'BUTTON' ? el.textContent?.trim() : '';
        return !(labels && labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.getAttribute('title') && !text;
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** How far the page is wider than the window (0 = no horizontal overflow), and the widest offenders. */
function overflow(page: Page): Promise<{ by: number; offenders: string[] }> {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const offenders = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.getBoundingClientRect().right > w + 1 && !el.closest('table.utterances, .recharts-wrapper'))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`);
    return { by: document.documentElement.scrollWidth - w, offenders };
  });
}

async function everyPanel(page: Page, suffix: string, check: (panel: string) => Promise<void>): Promise<void> {
  for (const p of PANELS) {
    await tab(page, p);
    await page.waitForTimeout(300); // charts size themselves to their box
    await page.screenshot({ path: join(SHOTS, `${p}-${suffix}.png`), fullPage: true });
    await check(p);
  }
}

describe('journey 5: look and feel', () => {
  it('every panel at desktop and phone widths, light and dark: labelled controls, no overflow at 420 px', async () => {
    const { page } = s;
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 240_000 });
    await importTinyModel(page);
    await importToneDataset(page);
    // a short run, so the Train panel has charts with points
    await smallSettings(page, { steps: 10, evalEvery: 5, checkpointEvery: 5 });
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid=run-status][data-status=finished]').waitFor({ timeout: 300_000 });

    await everyPanel(page, 'desktop', async (p) => expect(await unlabelled(page), `unlabelled controls in ${p}`).toEqual([]));

    await page.setViewportSize({ width: 420, height: 900 });
    await everyPanel(page, 'phone', async (p) => expect(await overflow(page), `panel ${p} at 420 px`).toEqual({ by: 0, offenders: [] }));
    // the utterance table scrolls inside its own box
    await tab(page, 'data');
    expect(await page.getByTestId('utterance-table').evaluate((t) => t.getBoundingClientRect().right)).toBeLessThanOrEqual(420);

    await page.emulateMedia({ colorScheme: 'dark' });
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const dark = await background();
    const lum = (rgb: string) => {
      const [r, g, b] = rgb.match(/\d+/g)!.map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    expect(lum(dark)).toBeLessThan(0.2);
    await everyPanel(page, 'phone-dark', async () => undefined);
    await page.setViewportSize({ width: 1200, height: 900 });
    await everyPanel(page, 'desktop-dark', async () => undefined);
    await page.emulateMedia({ colorScheme: 'light' });
    expect(lum(await background())).toBeGreaterThan(0.8);
  });

  it('the panels are reached with the keyboard, with a visible focus ring', async () => {
    const { page } = s;
    await tab(page, 'model');
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    const seen: string[] = [];
    for (let i = 0; i < 12 && !seen.includes('Train'); i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    expect(seen).toContain('Train');
    const ring = await page.evaluate(() => {
      const cs = getComputedStyle(document.activeElement!);
      return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
    });
    expect(ring.style).not.toBe('none');
    expect(ring.width).toBeGreaterThanOrEqual(2);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Train', level: 2 }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'keyboard-focus.png') });
  });
});
