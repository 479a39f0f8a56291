// Journey 1: the backend is chosen by measuring it (WASM here: headless Chromium's WebGPU is a
// software adapter), import a model and a small dataset, train a few dozen steps, watch the charts and the validation WER, evaluate, export,
// re-import the export and check it transcribes exactly as the fine-tuned model does.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, importTinyModel, importToneDataset, openApp, shot, smallSettings, tab, type AppSession } from './app-harness';
import { OUT_DIR } from './fixtures-app/fixtures';

let s: AppSession;

/** Evaluates the model named `label` (the "base" column) against the fine-tuned one: every transcript the same. */
async function expectSameTranscriptsAsFineTuned(page: Page, label: string): Promise<void> {
  await tab(page, 'evaluate');
  await page.locator('select').first().selectOption({ label });
  await page.getByTestId('eval-run').click();
  await expect.poll(() => page.getByTestId('eval-row').count(), { timeout: 120_000 }).toBe(2);
  const rows = await page.getByTestId('eval-utterances').locator('tbody tr').all();
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) {
    const cells = await row.locator('td').allInnerTexts();
    expect(cells[1]).toBe(cells[2]);
  }
}

beforeAll(async () => {
  s = await openApp();
});

afterAll(async () => {
  await closeApp(s);
});

describe('journey 1: train, evaluate, export, re-import', () => {
  it('loads the shipped base model by default, says clearly when none is installed, and imports one', async () => {
    const { page } = s;
    const status = page.getByTestId('model-status');
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 240_000 });
    expect(Number((await page.getByTestId('model-parameters').innerText()).replace(/,/g, ''))).toBeGreaterThan(1_000_000);
    // the backend was chosen by timing the model on each: here WebGPU is the SwiftShader software
    // adapter, far slower than WASM, and the card says so
    const backend = page.getByTestId('model-backend');
    expect(await backend.getAttribute('data-backend')).toBe('wasm');
    expect(await backend.getAttribute('data-how')).toBe('measured');
    const measured = await backend.innerText();
    expect(measured).toMatch(/^WASM — .*measured [\d.]+× faster than WebGPU on this model \(WASM [\d.]+ m?s, WebGPU [\d.]+ m?s per 1 s of audio\)/);
    console.log(`journey 1: base model backend: ${measured}`);
    // its word LM (lm.arpa) was fetched and read: transcripts use beam search with it
    expect(await page.getByTestId('model-decoding').innerText()).toMatch(/^beam search, width \d+, word trigram LM \(\d+ words\)/);

    // the same app with public/models/base absent (its files answer 404)
    const bare = await page.context().newPage();
    await bare.route('**/models/base/**', (route) => route.fulfill({ status: 404, body: 'not found' }));
    await bare.goto(s.url);
    await bare.waitForFunction(() => document.querySelector('[data-testid=model-status]')?.getAttribute('data-status') !== 'loading', null, { timeout: 120_000 });
    expect(await bare.getByTestId('model-status').getAttribute('data-status')).toBe('missing');
    await expect.poll(() => bare.getByTestId('model-messages').innerText()).toMatch(/not installed/);
    await shot(bare, '1-model-missing');
    await bare.close();

    // training here uses a tiny model: the software WebGPU adapter is slow
    await importTinyModel(page);
    expect(await status.getAttribute('data-status')).toBe('ready');
    expect(await backend.getAttribute('data-backend')).toBe('wasm');
    console.log(`journey 1: tiny model backend: ${await backend.innerText()}`);
    expect(await page.getByTestId('model-vocab').innerText()).toMatch(/29 tokens/);
    expect(await page.getByTestId('model-decoding').innerText()).toBe('greedy');
    await shot(page, '1-model');

    // after a reload the measurement is not repeated: it was kept for this model and device
    await page.reload();
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    expect(await backend.getAttribute('data-backend')).toBe('wasm');
    expect(await backend.getAttribute('data-how')).toBe('cached');
    expect(await backend.innerText()).toMatch(/measured earlier [\d.]+× faster than WebGPU/);

    // the user can override it: the model then runs on WebGPU, and the card says whose choice it was
    const runOn = page.getByRole('combobox', { name: 'Run on' });
    await runOn.selectOption({ label: 'WebGPU' });
    await page.locator('[data-testid=model-backend][data-backend=webgpu]').waitFor({ timeout: 120_000 });
    expect(await backend.getAttribute('data-how')).toBe('user');
    expect(await page.getByTestId('model-backend-why').innerText()).toMatch(/^Why: chosen by you \(measured: WASM .*, WebGPU .*\)/);
    await shot(page, '1-model-backend-override');
    await runOn.selectOption({ label: 'the fastest here (measured)' });
    await page.locator('[data-testid=model-backend][data-backend=wasm]').waitFor({ timeout: 120_000 });
    expect(await backend.getAttribute('data-how')).toBe('cached');
  });

  it('imports a dataset and lists its utterances', async () => {
    const { page } = s;
    await importToneDataset(page);
    await expect.poll(() => page.getByTestId('utterance-row').count(), { timeout: 30_000 }).toBe(20);
    await shot(page, '1-data');
  });

  it('trains a few dozen steps with live charts and validation WER', async () => {
    const { page } = s;
    // choosing data measures a training step here; the default length is sized from it to end in
    // a few minutes, and the panel says how long the settings will take before the run starts
    await tab(page, 'train');
    await page.locator('[data-testid=train-dataset][data-name=tones]').check();
    const total = page.getByTestId('train-estimate-total');
    await total.waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('train-estimate').innerText()).toMatch(/Measured here on WASM: one step of [\d.]+ s of audio takes .*sized from the measurement/s);
    const sizedMinutes = /about (?:(\d+) min )?(\d+) s/.exec(await total.innerText());
    expect(sizedMinutes, await total.innerText()).not.toBeNull();
    expect(Number(sizedMinutes![1] ?? 0)).toBeLessThanOrEqual(3);
    // the tiny model steps in milliseconds, so 300 steps fit; the batch is sized to the little audio there is
    expect(Number(await page.getByTestId('train-length').inputValue())).toBeLessThanOrEqual(300);
    expect(await page.getByTestId('batch-seconds').inputValue()).not.toBe('40');
    console.log(`journey 1: ${(await page.getByTestId('train-estimate').innerText()).replace(/\n/g, ' ')}`);
    await shot(page, '1-train-estimate');
    await smallSettings(page, { steps: 30, evalEvery: 10, checkpointEvery: 10 });
    await expect.poll(() => page.getByTestId('train-estimate').innerText()).toMatch(/These settings will take about .*: 30 steps × ~.* \+ 4 validation passes\./);
    // before any step, the charts say when they will fill
    expect(await page.getByTestId('chart-wer').innerText()).toMatch(/Appears when the first validation pass ends/);
    // the base model's validation pass before step 1 is shown as its own progress (it is quick here,
    // so the page records whether it was ever shown)
    await page.evaluate(() => {
      const w = window as unknown as { sawValidation: string[] };
      w.sawValidation = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid=validation-progress]');
        if (el) w.sawValidation.push(el.textContent ?? '');
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid=run-status][data-status=running]').waitFor({ timeout: 120_000 });
    // training chose its backend from the same measurement
    expect(await page.getByTestId('train-backend').innerText()).toMatch(/^Training on wasm: .*measured (earlier )?[\d.]+× faster than WebGPU/);
    await page
      .locator('[data-testid=run-status][data-status=finished]')
      .waitFor({ timeout: 480_000 })
      .catch(async (e) => {
        await shot(page, '1-train-failed');
        throw new Error(`training did not finish: ${await page.getByTestId('run-status').innerText()}`, { cause: e });
      });
    const points = async (id: string) => Number(await page.getByTestId(`chart-${id}`).getAttribute('data-points'));
    expect(await points('loss')).toBeGreaterThanOrEqual(30);
    expect(await points('lr')).toBe(30);
    expect(await points('throughput')).toBe(30);
    expect(await points('wer')).toBe(2 * 4); // WER and CER at steps 0, 10, 20, 30
    await page.getByTestId('train-result').waitFor();
    const sawValidation = await page.evaluate(() => (window as unknown as { sawValidation: string[] }).sawValidation);
    expect(sawValidation.some((t) => /Scoring the base model on the validation split before training: \d+ of \d+ batches/.test(t))).toBe(true);

    // charts: legends, axis titles, whole-number step ticks over one shared range, y labels inside the chart
    const legend = async (id: string) => page.getByTestId(`chart-${id}`).locator('.recharts-legend-item-text').allInnerTexts();
    expect(await legend('loss')).toEqual(['train', 'validation']);
    expect(await legend('wer')).toEqual(['WER', 'CER']);
    const stepTicks: string[][] = [];
    for (const id of ['loss', 'wer', 'lr', 'throughput']) {
      const chart = page.getByTestId(`chart-${id}`);
      expect(await chart.getByText('step', { exact: true }).count()).toBe(1);
      const ticks = (await chart.locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()).map((t) => t.trim());
      expect(ticks.every((t) => /^\d+$/.test(t)), `chart ${id} step ticks: ${ticks.join(' ')}`).toBe(true);
      stepTicks.push(ticks);
      const clipped = await chart.evaluate((fig) => {
        const svg = fig.querySelector('.recharts-wrapper')!.getBoundingClientRect();
        const labels = [...fig.querySelectorAll('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value, .recharts-label')];
        if (labels.length < 4) return [`only ${labels.length} labels found`];
        return labels
          .map((t) => ({ text: t.textContent, r: t.getBoundingClientRect() }))
          .filter(({ r }) => r.left < svg.left - 0.5 || r.right > svg.right + 0.5)
          .map(({ text }) => text);
      });
      expect(clipped, `chart ${id}`).toEqual([]);
    }
    expect(stepTicks[0]).toEqual(['0', '10', '20', '30']);
    for (const t of stepTicks) expect(t).toEqual(stepTicks[0]);
    expect(await page.getByTestId('chart-wer').getByText('error rate').count()).toBe(1);
    const lrLabels = (await page.getByTestId('chart-lr').locator('.recharts-yAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents()).map((t) => t.trim());
    expect(lrLabels.length).toBeGreaterThan(2);
    expect(lrLabels.every((t) => /^(0|\d(\.\d+)?e-\d+)$/.test(t)), lrLabels.join(' ')).toBe(true);
    const elapsed = Number(await page.getByTestId('run-status').getAttribute('data-elapsed-ms'));
    console.log(`journey 1: 30 steps (batch 2 × 128 frames, d_model 32, 1 block) on WASM: ${(elapsed / 30).toFixed(0)} ms/step`);
    await shot(page, '1-train');
  });

  it('evaluates base and fine-tuned side by side', async () => {
    const { page } = s;
    await tab(page, 'evaluate');
    await page.getByTestId('eval-run').click();
    await expect.poll(() => page.getByTestId('eval-row').count(), { timeout: 120_000 }).toBe(2);
    await shot(page, '1-evaluate');
  });

  it('exports a zip and an adapter file, re-imports the zip, and it transcribes as the fine-tuned model does', async () => {
    const { page } = s;
    await tab(page, 'export');
    const [zipDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-zip').click()]);
    const zipPath = join(OUT_DIR, 'export.zip');
    await zipDownload.saveAs(zipPath);
    const [adapterDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-adapter').click()]);
    await adapterDownload.saveAs(join(OUT_DIR, 'adapter.safetensors'));
    await shot(page, '1-export');

    await tab(page, 'model');
    await page.getByTestId('model-import-files').setInputFiles({ name: 'reimported.zip', mimeType: 'application/zip', buffer: readFileSync(zipPath) });
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-testid=model-card] h3').innerText()).toBe('reimported');
    await expect.poll(() => page.getByTestId('model-metrics').innerText()).toMatch(/fine-tuned WER/);
    await shot(page, '1-model-reimported');

    // Evaluate the re-imported model ("base" column) against the fine-tuned one: same transcripts.
    await expectSameTranscriptsAsFineTuned(page, 'reimported');
    expect(s.errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
  });

  it('applies the exported adapter file to the model it was trained on, and refuses it on another', async () => {
    const { page } = s;
    const select = page.getByTestId('model-select');
    const ready = () => page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 240_000 });
    const adapter = { name: 'speaker.adapter.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(join(OUT_DIR, 'adapter.safetensors')) };
    await tab(page, 'model');

    // the shipped base model is not the one it was trained on: refused, with the reason, nothing changes
    await select.selectOption('builtin:base');
    await ready();
    await page.getByTestId('adapter-import-file').setInputFiles(adapter);
    await expect.poll(() => page.getByTestId('model-messages').innerText(), { timeout: 60_000 }).toMatch(/trained on another base model/);
    expect(await select.inputValue()).toBe('builtin:base');
    await shot(page, '1-adapter-refused');

    // the tiny model it was trained on: a new model that transcribes as the fine-tuned one does
    const tinyId = await select.locator('option', { hasText: 'Imported model' }).first().getAttribute('value');
    await select.selectOption(tinyId!);
    await ready();
    await page.getByTestId('adapter-import-file').setInputFiles(adapter);
    await expect.poll(() => page.locator('[data-testid=model-card] h3').innerText(), { timeout: 120_000 }).toMatch(/ \+ speaker\.adapter$/);
    await ready();
    const applied = await page.locator('[data-testid=model-card] h3').innerText();
    await shot(page, '1-adapter-applied');

    await expectSameTranscriptsAsFineTuned(page, applied);
  });
});
