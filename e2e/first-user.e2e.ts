// Journey 4, what a first user hits (issue 13, items 2–5 and 8): model files that are not a model,
// a dataset with held-out eval.jsonl, a Latin-1 row and capitals, the import report after a
// reload, moving a whole speaker to another split, the model card's metrics against Evaluate's,
// the exported file's name, and no 404 on the way. Real IndexedDB, real audio, real ONNX.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, importTinyModel, openApp, shot, tab, type AppSession } from './app-harness';
import { tinyModelFiles } from './fixtures-app/fixtures';
import { writeZip } from '../src/data/zip';
import { toneWav } from '../src/data/testing/sample-datasets';
import { modelZip } from '../src/train/export';

let s: AppSession;
const notFound: string[] = [];
const WORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];
const utf8 = (t: string) => new TextEncoder().encode(t);
const latin1 = (t: string) => Uint8Array.from(t, (c) => c.charCodeAt(0));
const file = (name: string, bytes: Uint8Array, mimeType = 'application/octet-stream') => ({ name, mimeType, buffer: Buffer.from(bytes) });

/** NeMo: train.jsonl (speakers ann and bob, one row in capitals, one row in Latin-1) and eval.jsonl. */
function heldOutDatasetZip() {
  const entries: { path: string; bytes: Uint8Array }[] = [];
  const row = (i: number, text: string, speaker: string) => JSON.stringify({ audio_filepath: `clips/c${i}.wav`, text, speaker });
  const train: Uint8Array[] = [];
  for (let i = 0; i < 12; i++) {
    entries.push({ path: `clips/c${i}.wav`, bytes: toneWav(0.8 + 0.02 * (i % 5), i + 1) });
    const text = `${WORDS[i % 10]} ${WORDS[(i * 3 + 1) % 10]}`;
    train.push(utf8(row(i, i === 3 ? text.toUpperCase() : text, i % 2 ? 'ann' : 'bob') + '\n'));
  }
  train.push(latin1(row(12, 'café naïve', 'ann') + '\n'));
  entries.push({ path: 'clips/c12.wav', bytes: toneWav(0.9, 13) });
  const held = [];
  for (let i = 13; i < 15; i++) {
    entries.push({ path: `clips/c${i}.wav`, bytes: toneWav(0.85, i + 1) });
    held.push(row(i, `${WORDS[i % 10]} ${WORDS[(i + 2) % 10]}`, 'cy'));
  }
  entries.push({ path: 'train.jsonl', bytes: Buffer.concat(train) });
  entries.push({ path: 'eval.jsonl', bytes: utf8(held.join('\n') + '\n') });
  return file('mine.zip', writeZip(entries), 'application/zip');
}

function oneUtteranceZip() {
  return file('one.zip', writeZip([{ path: 'a.wav', bytes: toneWav(1, 99) }, { path: 'train.jsonl', bytes: utf8(JSON.stringify({ audio_filepath: 'a.wav', text: 'yes' }) + '\n') }]), 'application/zip');
}

async function importDataset(zip: ReturnType<typeof file>, name: string) {
  await tab(s.page, 'data');
  await s.page.getByTestId('drop-zone').locator('input[type=file]').first().setInputFiles(zip);
  await s.page.locator(`[data-testid=dataset][data-name=${name}]`).waitFor({ timeout: 120_000 });
}

beforeAll(async () => {
  s = await openApp();
  s.page.on('response', (r) => r.status() === 404 && notFound.push(r.url()));
  await s.page.reload();
  await s.page.getByRole('heading', { name: 'Earshot' }).waitFor();
});

afterAll(async () => {
  await closeApp(s);
});

describe('journey 4: what a first user hits', () => {
  it('a dataset with eval.jsonl, a Latin-1 row and capitals: held-out split named, bad bytes located, no case warnings', async () => {
    const { page } = s;
    await importTinyModel(page, { lm: true });
    await importDataset(heldOutDatasetZip(), 'mine');
    const report = page.locator('[data-testid=import-report][data-dataset=mine]');
    const text = await report.innerText();
    expect(text).toContain('mine/eval.jsonl → validation (2 utterances)');
    expect(text).toContain('mine/train.jsonl → train (12 utterances)');
    expect(text).toContain('Validation is what the data names as held out');
    const bad = report.getByTestId('issues-bad-encoding');
    expect(await bad.getAttribute('data-count')).toBe('1');
    expect(await bad.innerText()).toMatch(/mine\/train\.jsonl:13 line 13, byte \d+ \(offset \d+ in the file\): 0xE9 is not valid UTF-8 \(in Latin-1\/Windows-1252 that byte is "é"\)/);
    expect(await report.getByTestId('issues-normalized').count()).toBe(0);
    expect(await report.getByTestId('count-accepted').innerText()).toBe('14');

    await importDataset(oneUtteranceZip(), 'one');
    const one = page.locator('[data-testid=dataset][data-name=one]');
    expect(await one.innerText()).toMatch(/one · 1 utterance ·/);
    expect(await page.locator('[data-testid=dataset][data-name=mine]').innerText()).toMatch(/mine · 14 utterances ·/);
    // the pickers hand their files on and empty themselves
    expect(await page.getByTestId('drop-zone').locator('input[type=file]').first().inputValue()).toBe('');
    await shot(page, '4-held-out-import');
  });

  it('model files that are not a model are refused with the reason, and nothing else changes', async () => {
    const { page } = s;
    await tab(page, 'train');
    await page.locator('[data-testid=train-dataset][data-name=mine]').check();
    await tab(page, 'model');
    const card = page.locator('[data-testid=model-card] h3');
    const name = await card.innerText();
    const tiny = Object.fromEntries(tinyModelFiles(1, { lm: true }).map((f) => [f.name, new Uint8Array(f.buffer)]));
    const { 'tokens.txt': _gone, ...noTokens } = tiny;
    const picks: [ReturnType<typeof file>, RegExp][] = [
      [file('holiday.zip', writeZip([{ path: 'photos/readme.txt', bytes: utf8('hello') }]), 'application/zip'), /holiday\.zip is a zip but holds no model\.onnx/],
      [file('no-tokens.zip', modelZip(noTokens), 'application/zip'), /tokens\.txt is missing/],
      [file('model.onnx', tiny['model.onnx']), /model\.onnx alone is not a model Earshot can use: it needs .*config\.json.*tokens\.txt/],
      [file('renamed.zip', utf8('not a zip at all\n'.repeat(10)), 'application/zip'), /renamed\.zip is not a zip archive/],
    ];
    const input = page.getByTestId('model-import-files');
    for (const [pick, reason] of picks) {
      await input.setInputFiles(pick);
      const alert = page.getByRole('alert').filter({ hasText: `${pick.name} was not imported` });
      await alert.waitFor({ timeout: 60_000 });
      expect(await alert.innerText(), pick.name).toMatch(reason);
      expect(await page.getByTestId('model-status').getAttribute('data-status'), pick.name).toBe('ready');
      expect(await page.getByTestId('model-status').innerText()).toBe('Ready.');
      expect(await card.innerText()).toBe(name);
      expect(await input.inputValue()).toBe('');
    }
    await shot(page, '4-refused-import');
    await tab(page, 'record');
    expect(await page.getByRole('button', { name: '● Record' }).isEnabled()).toBe(true);
    await tab(page, 'train');
    expect(await page.getByRole('button', { name: 'Start training' }).isEnabled()).toBe(true);
  });

  it("the fine-tuned model's card shows the WER and CER Evaluate measures; Evaluate names the decoding; the export has a clean name", async () => {
    const { page } = s;
    await page.getByTestId('train-length').fill('4');
    await page.getByTestId('batch-seconds').fill('2.56');
    await page.getByTestId('eval-every').fill('0');
    await page.getByTestId('checkpoint-every').fill('0');
    await page.getByTestId('warmup').fill('1');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid=run-status][data-status=finished]').waitFor({ timeout: 480_000 });

    await tab(page, 'model');
    const select = page.getByTestId('model-select');
    const tuned = (await select.locator('option').allInnerTexts()).find((t) => /fine-tuned/.test(t))!;
    await select.selectOption({ label: tuned });
    await page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 120_000 });
    const metrics = await page.getByTestId('model-metrics').innerText();
    expect(metrics).toMatch(/on 2 validation utterances, decoded with beam search/);
    const [, baseWer, baseCer, tunedWer, tunedCer] = /base WER ([\d.]+%) \/ CER ([\d.]+%) → fine-tuned WER ([\d.]+%) \/ CER ([\d.]+%)/.exec(metrics)!;

    await tab(page, 'evaluate');
    expect(await page.getByTestId('eval-explainer').innerText()).not.toMatch(/greedy/i);
    const base = page.getByRole('combobox', { name: 'Base' });
    await base.selectOption({ label: (await base.locator('option').allInnerTexts()).find((t) => t.startsWith('Imported model'))! });
    await page.getByTestId('eval-tuned').selectOption({ label: tuned.replace(/\s*\(fine-tuned\)\s*$/, '') });
    await page.getByRole('region', { name: 'Evaluate' }).getByRole('button', { name: 'Evaluate', exact: true }).click();
    await expect.poll(() => page.getByTestId('eval-row').count(), { timeout: 240_000 }).toBe(2);
    const cells = async (i: number) => page.getByTestId('eval-row').nth(i).locator('td').allInnerTexts();
    const [b, t] = [await cells(0), await cells(1)];
    expect(b.slice(1, 3)).toEqual([baseWer, baseCer]);
    expect(t.slice(1, 3)).toEqual([tunedWer, tunedCer]);
    expect(t[4]).toMatch(/^beam search/);
    await shot(page, '4-card-equals-evaluate');

    await tab(page, 'export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-zip').click()]);
    expect(download.suggestedFilename()).toMatch(/^[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]\.zip$/);
    expect(download.suggestedFilename()).toMatch(/-4-steps\.zip$/);
  });

  it('a whole speaker moves split in one choice, and the import report is still there after a reload', async () => {
    const { page } = s;
    await tab(page, 'data');
    await page.getByTestId('utterance-dataset').selectOption({ label: 'mine' });
    const move = page.getByRole('combobox', { name: 'Move all of speaker bob to' });
    await move.selectOption('test');
    const bob = page.locator('[data-testid=split-group][data-group="speaker bob"]');
    await expect.poll(() => bob.innerText()).toMatch(/6 test/);

    await page.reload();
    await tab(page, 'data');
    const mine = page.locator('[data-testid=dataset][data-name=mine]');
    await mine.waitFor({ timeout: 60_000 });
    await mine.getByText('Import report').click();
    const kept = mine.getByTestId('dataset-report');
    expect(await kept.innerText()).toContain('mine/eval.jsonl → validation (2 utterances)');
    expect(await kept.getByTestId('issues-bad-encoding').getAttribute('data-count')).toBe('1');
    await page.getByTestId('utterance-dataset').selectOption({ label: 'mine' });
    await expect.poll(() => page.locator('[data-testid=split-group][data-group="speaker bob"]').innerText()).toMatch(/6 test/);
    await shot(page, '4-after-reload');
    // a favicon is there (the browser asks for /favicon.ico when a page names none)
    for (const icon of ['/favicon.ico', '/favicon.svg']) expect((await page.request.get(new URL(icon, s.url).href)).status(), icon).toBe(200);
    expect(await page.locator('link[rel=icon]').count()).toBeGreaterThan(0);
    expect(notFound.filter((u) => /favicon/.test(u))).toEqual([]);
  });
});
