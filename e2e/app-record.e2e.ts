// Journey 2: record a take from Chromium's fake microphone (a WAV file), see the model's
// transcript, correct it (changed words highlighted), accept it, reload, and find the take both
// among the accepted takes and as an utterance of the "My recordings" dataset. Then keep
// fine-tuning as takes arrive, and see each round scored on the held-out takes, after a reload too.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, importTinyModel, openApp, shot, tab, type AppSession } from './app-harness';
import { fakeMicWav } from './fixtures-app/fixtures';

let s: AppSession;

/** Records about two seconds from the fake microphone, waits for the model's transcript, and accepts `text`. */
async function recordTake(page: Page, text: string): Promise<void> {
  await page.getByTestId('record-toggle').click();
  await page.waitForTimeout(2000);
  await page.getByTestId('record-toggle').click();
  const take = page.locator('[data-testid=take][data-status=pending]').first();
  await take.waitFor({ timeout: 30_000 });
  await expect.poll(() => take.getByTestId('take-hypothesis').innerText(), { timeout: 60_000 }).not.toBe('…');
  await take.getByTestId('take-text').fill(text);
  await take.getByTestId('take-accept').click();
  await expect.poll(() => page.locator('[data-testid=take][data-status=pending]').count(), { timeout: 30_000 }).toBe(0);
}

beforeAll(async () => {
  s = await openApp(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${fakeMicWav()}`]);
});

afterAll(async () => {
  await closeApp(s);
});

describe('journey 2: record, correct, accept, reload', () => {
  it('records a take, transcribes it, and stores the corrected text as training data', async () => {
    const { page } = s;
    // with a small word LM, so that the auto-train round below also learns the takes' words
    await importTinyModel(page, { lm: true });
    await tab(page, 'record');
    await page.getByTestId('record-toggle').click();
    await page.waitForTimeout(2500);
    await shot(page, '2-recording');
    await page.getByTestId('record-toggle').click();
    const take = page.locator('[data-testid=take][data-status=pending]').first();
    await take.waitFor({ timeout: 30_000 });
    await expect.poll(() => take.getByTestId('take-hypothesis').innerText(), { timeout: 60_000 }).not.toBe('…');
    // the transcript came (from the worker that computed the take's features while it was recorded), not a failure
    expect(await take.getByTestId('take-hypothesis').innerText()).not.toBe('(not transcribed)');
    expect(await page.getByText(/Transcription failed/).count()).toBe(0);
    await take.getByTestId('take-text').fill('hello earshot');
    await expect.poll(() => take.locator('mark.changed').count()).toBeGreaterThan(0);
    await shot(page, '2-record-correct');
    await take.getByTestId('take-accept').click();
    await page.locator('[data-testid=take][data-status=accepted]').waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Earshot' }).waitFor();
    await tab(page, 'record');
    const accepted = page.locator('[data-testid=take][data-status=accepted]');
    await expect.poll(() => accepted.count(), { timeout: 30_000 }).toBe(1);
    expect(await accepted.getByTestId('take-text').inputValue()).toBe('hello earshot');
    await shot(page, '2-record-after-reload');

    await tab(page, 'data');
    await page.locator('[data-testid=dataset][data-name="My recordings"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('utterance-dataset').selectOption({ label: 'My recordings' });
    const row = page.getByTestId('utterance-row').first();
    await row.waitFor();
    expect(await row.getByTestId('utterance-transcript').inputValue()).toBe('hello earshot');
    await shot(page, '2-data-recordings');
  });

  it('keeps fine-tuning as takes arrive: a round on "My recordings" after the next take, whose model then transcribes', async () => {
    const { page } = s;
    await tab(page, 'record');
    await page.getByTestId('auto-train-enabled').check();
    await page.getByTestId('auto-train-every').fill('1');
    await page.getByTestId('auto-train-steps').fill('4');
    await page.getByTestId('record-toggle').click();
    await page.waitForTimeout(2000);
    await page.getByTestId('record-toggle').click();
    const take = page.locator('[data-testid=take][data-status=pending]').first();
    await take.waitFor({ timeout: 30_000 });
    await expect.poll(() => take.getByTestId('take-hypothesis').innerText(), { timeout: 60_000 }).not.toBe('…');
    await take.getByTestId('take-text').fill('hello again');
    await take.getByTestId('take-accept').click();
    // the round trains on both takes; with no held-out take yet it cannot know the round's model helps,
    // so the current model stays (adoption needs 5 held-out takes) and the user may pick it themselves
    await expect.poll(() => page.getByTestId('auto-train-message').innerText(), { timeout: 300_000 }).toMatch(/^No held-out takes yet .*current model stays/);
    await shot(page, '2-record-auto-train');
    await tab(page, 'model');
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('model-select').locator('option:checked').innerText()).not.toMatch(/My recordings/);
    const roundModel = (await page.getByTestId('model-select').locator('option').allInnerTexts()).find((t) => /My recordings \(4 steps\)/.test(t));
    expect(roundModel).toBeDefined();
    await page.getByTestId('model-select').selectOption({ label: roundModel! });
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    const current = await page.getByTestId('model-select').locator('option:checked').innerText();
    expect(current).toMatch(/My recordings \(4 steps\)/);
    // it decodes with the base model's LM mixed with an LM of the takes' transcripts ("learn my words")
    await expect.poll(() => page.getByTestId('model-decoding').innerText(), { timeout: 60_000 }).toMatch(/word bigram LM .*, mixed with an LM of [12] personal transcripts \(20%\)/);
    // teach it two sentences from a text file: a new current model whose LM knows them too
    await page.getByTestId('teach-words-file').setInputFiles({ name: 'names.txt', mimeType: 'text/plain', buffer: Buffer.from('call siobhan\nsiobhan sat down\n') });
    await expect.poll(() => page.getByTestId('model-select').locator('option:checked').innerText(), { timeout: 60_000 }).toMatch(/\+ words from names\.txt/);
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    await expect.poll(() => page.getByTestId('model-decoding').innerText(), { timeout: 30_000 }).toMatch(/mixed with an LM of [34] personal transcripts/);
    // the setting survives a reload
    await page.reload();
    await page.getByRole('heading', { name: 'Earshot' }).waitFor();
    await tab(page, 'record');
    expect(await page.getByTestId('auto-train-enabled').isChecked()).toBe(true);
    expect(await page.getByTestId('auto-train-every').inputValue()).toBe('1');
  });

  it('shows what the rounds did on the held-out takes: a point per round, each take before and now, after a reload too', async () => {
    const { page } = s;
    await tab(page, 'record');
    // two takes are in and the last round started at two training takes; with rounds every three,
    // takes 3–6 bring the fifth take (held out) and a round on five training takes
    await page.getByTestId('auto-train-every').fill('3');
    for (const text of ['up down', 'left right', 'stop go', 'yes no']) await recordTake(page, text);
    const progress = page.getByTestId('progress');
    await expect.poll(() => progress.getByTestId('progress-chart-wer').getAttribute('data-points'), { timeout: 300_000 }).toBe('1');
    expect(await progress.getByTestId('progress-headline').innerText()).toMatch(/^After 6 takes, your model makes .*word errors .*the model you started from on your 1 held-out take: WER [\d.]+% → [\d.]+%, CER/);
    expect(await progress.getByTestId('progress-chart-cer').getAttribute('data-points')).toBe('1');
    const round = progress.getByTestId('progress-round').last();
    expect(await round.innerText()).toMatch(/\b6\b.*(adopted|not adopted: the model stayed)/s);
    // the held-out take (the fifth) with what the base model and the current model wrote, wrong words marked
    const row = progress.getByTestId('progress-take');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').nth(1).innerText()).toBe('stop go');
    for (const cell of ['progress-before', 'progress-now']) expect(await row.getByTestId(cell).innerText()).toMatch(/\(\d+\.\d%\)$/);

    await page.reload();
    await page.getByRole('heading', { name: 'Earshot' }).waitFor();
    await tab(page, 'record');
    await expect.poll(() => progress.getByTestId('progress-chart-wer').getAttribute('data-points'), { timeout: 30_000 }).toBe('1');
    await expect.poll(() => progress.getByTestId('progress-take').count(), { timeout: 30_000 }).toBe(1);
    expect(await progress.getByTestId('progress-take').locator('td').nth(1).innerText()).toBe('stop go');
    const shots = join(process.cwd(), 'test-results', 'screenshots');
    mkdirSync(shots, { recursive: true });
    for (const colorScheme of ['dark', 'light'] as const) {
      await page.emulateMedia({ colorScheme });
      await page.waitForTimeout(300); // charts size themselves to their box
      await progress.screenshot({ path: join(shots, `record-progress-${colorScheme}.png`) });
    }
    await shot(page, '2-record-progress');
    // on a phone the charts shrink and the tables scroll in their own box: the page does not widen
    await page.setViewportSize({ width: 420, height: 900 });
    // the charts resize themselves after a ResizeObserver tick: wait for the page to settle, then name what sticks out
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), { timeout: 10_000 }).toBeLessThanOrEqual(0).catch(() => {});
    // the elements that stick out name themselves (tag, class, test id, width, a bit of text)
    const overflowing = await page.evaluate(() => {
      const limit = document.documentElement.clientWidth;
      return [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > limit + 1 && e.getBoundingClientRect().width > 0)
        .filter((e) => !e.closest('table.utterances') || e.matches('table.utterances'))
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} [${e.getAttribute('data-testid') ?? ''}] ${Math.round(e.getBoundingClientRect().right)}px: ${(e.textContent ?? '').slice(0, 60)}`)
        .slice(0, 8);
    });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), overflowing.join('\n')).toBeLessThanOrEqual(0);
    await progress.screenshot({ path: join(shots, 'record-progress-phone.png') });
  });
});
