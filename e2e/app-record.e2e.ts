// Journey 2: record a take from Chromium's fake microphone (a WAV file), see the model's
// transcript, correct it (changed words highlighted), accept it, reload, and find the take both
// among the accepted takes and as an utterance of the "My recordings" dataset.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, importTinyModel, openApp, shot, tab, type AppSession } from './app-harness';
import { fakeMicWav } from './fixtures-app/fixtures';

let s: AppSession;

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
    // the round trains on both takes, then (no validation take yet) its model becomes the current one
    await expect.poll(() => page.getByTestId('auto-train-message').innerText(), { timeout: 300_000 }).toMatch(/adapted model/);
    await shot(page, '2-record-auto-train');
    await tab(page, 'model');
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    const current = await page.getByTestId('model-select').locator('option:checked').innerText();
    expect(current).toMatch(/My recordings \(4 steps\)/);
    // it decodes with the base model's LM mixed with an LM of the takes' transcripts ("learn my words")
    expect(await page.getByTestId('model-decoding').innerText()).toMatch(/word bigram LM .*, mixed with an LM of [12] personal transcripts \(20%\)/);
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
});
