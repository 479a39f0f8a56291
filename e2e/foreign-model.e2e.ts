// Journey 5: bring your own model (issue 12). Import the wav2vec2-tiny fixture folder (Optimum
// layout) through the folder picker, see its card, transcribe a clip with it (Evaluate: the clip
// it was trained on comes out as torch transcribes it), fine-tune a few LoRA steps on a tiny
// dataset, export, check the zip keeps the layout's file names with the adapter beside them, and
// re-import it: the re-imported model transcribes exactly as the fine-tuned one. A Whisper folder
// is refused with one sentence and the current model stays loaded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip, writeZip } from '../src/data/zip';
import { toneWav } from '../src/data/testing/sample-datasets';
import { fileSetFromBytes } from '../src/foreign/files';
import { detectModelLayout } from '../src/foreign/layout';
import { closeApp, openApp, shot, tab, type AppSession } from './app-harness';
import { OUT_DIR } from './fixtures-app/fixtures';

const FIXTURES = join(process.cwd(), 'src/foreign/fixtures');
const utf8 = (t: string) => new TextEncoder().encode(t);

/** Training clips: tones with words; held out: the fixture's vowel clip (what the model was trained on). */
function vowelsDatasetZip() {
  const vowels = readFileSync(join(FIXTURES, 'audio/synthetic-vowels.wav'));
  const entries: { path: string; bytes: Uint8Array }[] = [{ path: 'vowels.wav', bytes: new Uint8Array(vowels) }];
  const rows: string[] = [];
  ['yes no', 'up down', 'no up', 'down yes', 'on off', 'go stop'].forEach((text, i) => {
    entries.push({ path: `t${i}.wav`, bytes: toneWav(0.9, i + 1) });
    rows.push(JSON.stringify({ audio_filepath: `t${i}.wav`, text }));
  });
  entries.push({ path: 'train.jsonl', bytes: utf8(rows.join('\n') + '\n') });
  entries.push({ path: 'eval.jsonl', bytes: utf8(JSON.stringify({ audio_filepath: 'vowels.wav', text: 'a e i o' }) + '\n') });
  return { name: 'vowels.zip', mimeType: 'application/zip', buffer: Buffer.from(writeZip(entries)) };
}

let s: AppSession;
const ready = (page: Page) => page.locator('[data-testid=model-status][data-status=ready]').waitFor({ timeout: 240_000 });
const cardName = (page: Page) => page.locator('[data-testid=model-card] h3').innerText();

async function evaluateAgainstFineTuned(page: Page, baseLabel: string): Promise<string[][]> {
  await tab(page, 'evaluate');
  await page.locator('select').first().selectOption({ label: baseLabel });
  await page.getByTestId('eval-run').click();
  await expect.poll(() => page.getByTestId('eval-row').count(), { timeout: 240_000 }).toBe(2);
  const rows = await page.getByTestId('eval-utterances').locator('tbody tr').all();
  return Promise.all(rows.map((r) => r.locator('td').allInnerTexts()));
}

beforeAll(async () => {
  s = await openApp();
  await s.page.waitForFunction(() => document.querySelector('[data-testid=model-status]')?.getAttribute('data-status') !== 'loading', null, { timeout: 240_000 });
});

afterAll(async () => {
  await closeApp(s);
});

describe('journey 5: bring your own model', () => {
  it('imports a wav2vec2 folder in the Optimum layout; the card names its kind, vocabulary, front end and projections', async () => {
    const { page } = s;
    await tab(page, 'model');
    await page.getByTestId('model-import-folder').setInputFiles(join(FIXTURES, 'wav2vec2-tiny'));
    await expect.poll(() => cardName(page), { timeout: 240_000 }).toBe('wav2vec2-tiny');
    await ready(page);
    expect(await page.getByTestId('model-kind').getAttribute('data-kind')).toBe('hf-ctc');
    expect(await page.getByTestId('model-kind').innerText()).toMatch(/^wav2vec2 \(Hugging Face \/ Optimum layout\)/);
    expect(await page.getByTestId('model-onnx').innerText()).toMatch(/^onnx\/model\.onnx — not kept: onnx\/model_quantized\.onnx/);
    expect(await page.getByTestId('model-vocab').innerText()).toMatch(/^32 tokens from vocab\.json, blank <pad>: <pad> <s> <\/s> <unk> \| E T A/);
    expect(await page.getByTestId('model-frontend').innerText()).toMatch(/^raw 16 kHz waveform, normalised per utterance/);
    const kinds = await page.getByTestId('model-projections').locator('[data-kind]').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
    expect(kinds).toEqual(['attention.q', 'attention.k', 'attention.v', 'attention.out', 'ff.in', 'ff.out', 'other']);
    expect(await page.getByTestId('model-decoding').innerText()).toBe('greedy');
    // greedy or beam search, kept with the model
    await page.getByTestId('foreign-decoding').selectOption('8');
    await expect.poll(() => page.getByTestId('model-decoding').innerText(), { timeout: 120_000 }).toBe('beam search, width 8, no LM');
    await page.getByTestId('foreign-decoding').selectOption('1');
    await expect.poll(() => page.getByTestId('model-decoding').innerText(), { timeout: 120_000 }).toBe('greedy');
    console.log(`journey 5: ${await page.getByTestId('model-backend').innerText()}`);
    await shot(page, '5-foreign-model');
  });

  it('refuses a Whisper folder with one sentence and keeps the model loaded', async () => {
    const { page } = s;
    await page.getByTestId('model-import-folder').setInputFiles(join(FIXTURES, 'whisper-tiny-encdec'));
    const alert = page.getByRole('alert').filter({ hasText: 'was not imported' });
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.innerText()).toMatch(/whisper-tiny-encdec\/config\.json describes a Whisper model, an encoder–decoder model, which Earshot does not support yet/);
    expect(await page.getByTestId('model-status').getAttribute('data-status')).toBe('ready');
    expect(await cardName(page)).toBe('wav2vec2-tiny');
    await shot(page, '5-whisper-refused');
  });

  it('transcribes the clip the model knows, fine-tunes a few LoRA steps on the projections picked, and stores the result', async () => {
    const { page } = s;
    await tab(page, 'data');
    await page.getByTestId('drop-zone').locator('input[type=file]').first().setInputFiles(vowelsDatasetZip());
    await page.locator('[data-testid=dataset][data-name=vowels]').waitFor({ timeout: 120_000 });

    await tab(page, 'train');
    await page.locator('[data-testid=train-dataset][data-name=vowels]').check();
    // the LoRA targets are the projection kinds the import found; attention q and v by default
    const projection = (kind: string) => page.locator(`[data-testid=lora-projection][data-kind="${kind}"]`);
    expect(await page.getByTestId('lora-projection').count()).toBe(7);
    expect(await projection('attention.q').isChecked()).toBe(true);
    expect(await projection('attention.v').isChecked()).toBe(true);
    expect(await projection('ff.in').isChecked()).toBe(false);
    await projection('ff.in').check();
    // the step measurement ran on the imported model
    await page.getByTestId('train-estimate-total').waitFor({ timeout: 240_000 });
    await page.getByTestId('train-length').fill('6');
    await page.getByTestId('batch-seconds').fill('5.12');
    await page.getByTestId('eval-every').fill('0');
    await page.getByTestId('checkpoint-every').fill('3');
    await page.getByTestId('warmup').fill('1');
    await page.getByTestId('peak-lr').fill('0.003');
    await page.getByTestId('train-start').click();
    await page
      .locator('[data-testid=run-status][data-status=finished]')
      .waitFor({ timeout: 480_000 })
      .catch(async (e) => {
        await shot(page, '5-train-failed');
        throw new Error(`training did not finish: ${await page.getByTestId('run-status').innerText()}`, { cause: e });
      });
    await page.getByTestId('train-result').waitFor();
    expect(Number(await page.getByTestId('chart-loss').getAttribute('data-points'))).toBeGreaterThanOrEqual(6);
    const elapsed = Number(await page.getByTestId('run-status').getAttribute('data-elapsed-ms'));
    console.log(`journey 5: 6 LoRA steps of wav2vec2-tiny: ${(elapsed / 6).toFixed(0)} ms/step`);
    await shot(page, '5-train');

    // Evaluate transcribes the held-out clip with both models; the imported one as torch does
    const rows = await evaluateAgainstFineTuned(page, 'wav2vec2-tiny');
    expect(rows).toHaveLength(1);
    expect(rows[0][0]).toBe('a e i o');
    expect(await page.getByTestId('eval-row').first().getAttribute('data-wer')).toBe('0');
    expect((await page.getByTestId('eval-summary').innerText()).match(/greedy/g)?.length).toBe(2);
    await shot(page, '5-evaluate');
  });

  it('exports the layout it came in with the adapter, and the export imports again and transcribes as the fine-tuned model', async () => {
    const { page } = s;
    await tab(page, 'export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-zip').click()]);
    const zipPath = join(OUT_DIR, 'foreign-export.zip');
    await download.saveAs(zipPath);
    const bytes = new Uint8Array(readFileSync(zipPath));
    const { files } = await readZip(bytes);
    const paths = files.map((f) => f.path).sort();
    const folder = paths[0].split('/')[0];
    expect(paths.map((p) => p.slice(folder.length + 1))).toEqual(['adapter.safetensors', 'config.json', 'onnx/model.onnx', 'preprocessor_config.json', 'special_tokens_map.json', 'tokenizer_config.json', 'vocab.json']);
    // what Transformers.js would find: the same layout, detected as before
    const unpacked = fileSetFromBytes(await Promise.all(files.map(async (f) => [f.path, await f.read()] as [string, Uint8Array])));
    const d = await detectModelLayout(unpacked);
    expect([d.kind, d.onnx.path, d.vocab.pieces.length]).toEqual(['hf-ctc', `${folder}/onnx/model.onnx`, 32]);

    await tab(page, 'model');
    await page.getByTestId('model-import-files').setInputFiles({ name: 'reimported.zip', mimeType: 'application/zip', buffer: Buffer.from(bytes) });
    await expect.poll(() => cardName(page), { timeout: 240_000 }).toBe('reimported');
    await ready(page);
    expect(await page.getByTestId('model-kind').getAttribute('data-kind')).toBe('hf-ctc');
    await shot(page, '5-reimported');
    const rows = await evaluateAgainstFineTuned(page, 'reimported');
    for (const cells of rows) expect(cells[1]).toBe(cells[2]);
    // onnxruntime's own warnings (which nodes run on the CPU under WebGPU) are logged as errors
    expect(s.errors.filter((e) => !/\[W:onnxruntime:/.test(e))).toEqual([]);
  });
});
