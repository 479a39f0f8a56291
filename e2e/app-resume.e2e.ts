// Journey 3: reload the tab in the middle of training; the app offers to resume from the last
// checkpoint, and the run continues from there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, importTinyModel, importToneDataset, openApp, shot, smallSettings, tab, type AppSession } from './app-harness';

let s: AppSession;

beforeAll(async () => {
  s = await openApp();
});

afterAll(async () => {
  await closeApp(s);
});

describe('journey 3: reload mid-training and resume', () => {
  it('resumes from the last checkpoint after a reload', async () => {
    const { page } = s;
    await importTinyModel(page);
    await importToneDataset(page);
    await smallSettings(page, { steps: 400, evalEvery: 0, checkpointEvery: 4 });
    // WebGPU on purpose (the measured choice here would be WASM): the second test loses the GPU
    await page.getByTestId('train-backend-choice').selectOption('webgpu');
    await page.getByTestId('train-start').click();
    const ckpt = page.getByTestId('checkpoint-step');
    await expect.poll(async () => Number((await ckpt.count()) ? await ckpt.innerText() : 0), { timeout: 300_000 }).toBeGreaterThanOrEqual(8);
    await shot(page, '3-training');

    await page.reload();
    await page.getByRole('heading', { name: 'Earshot' }).waitFor();
    const banner = page.getByTestId('resume-banner');
    await banner.waitFor({ timeout: 30_000 });
    await shot(page, '3-resume-offered');
    const from = Number(/checkpoint is step (\d+)/.exec(await banner.innerText())![1]);
    expect(from).toBeGreaterThanOrEqual(8);

    await page.getByTestId('resume-run').click();
    await tab(page, 'train');
    await page.locator('[data-testid=run-status][data-status=running]').waitFor({ timeout: 120_000 });
    await expect.poll(async () => Number(await page.getByTestId('run-step').innerText()), { timeout: 300_000 }).toBeGreaterThan(from + 2);
    // the chart kept the history up to the checkpoint and continues from it
    expect(Number(await page.getByTestId('chart-lr').getAttribute('data-points'))).toBeGreaterThan(from);
    await shot(page, '3-resumed');
    await page.getByTestId('train-stop').click();
    await page.locator('[data-testid=run-status][data-status=stopped]').waitFor({ timeout: 120_000 });
  });

  it('a lost GPU fails the step with its reason, keeps the checkpoint, and the run continues on WASM', async () => {
    const { page } = s;
    await tab(page, 'train');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid=run-status][data-status=running]').waitFor({ timeout: 120_000 });
    // a second run in the same worker still gets WebGPU (onnxruntime's own teardown of its device after
    // the first run is not mistaken for a loss)
    expect(await page.getByTestId('train-backend').innerText()).toMatch(/^Training on webgpu:/);
    const ckpt = page.getByTestId('checkpoint-step');
    await expect.poll(async () => Number((await ckpt.count()) ? await ckpt.innerText() : 0), { timeout: 300_000 }).toBeGreaterThanOrEqual(4);

    // a real device loss: the train worker's GPUDevice is destroyed (development builds only)
    await page.evaluate(() => (window as unknown as { earshotTest: { loseGpu(): Promise<void> } }).earshotTest.loseGpu());
    // the run stops, and the banner offers the checkpoint, with the reason
    const banner = page.getByTestId('resume-banner');
    await banner.waitFor({ timeout: 120_000 });
    expect(await banner.innerText()).toMatch(/stopped with an error/);
    expect(await banner.innerText()).toMatch(/The GPU failed at step \d+: the GPU device was lost .*Continue from the last checkpoint \(step \d+\) — on WASM/);
    const from = Number(/checkpoint is step (\d+)/.exec(await banner.innerText())![1]);
    expect(from).toBeGreaterThanOrEqual(4);
    await shot(page, '3-gpu-lost');

    await page.getByTestId('resume-run-wasm').click();
    await page.locator('[data-testid=run-status][data-status=running]').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('train-backend').innerText()).toMatch(/^Training on wasm:/);
    // the reason is the button just pressed, not the training settings (which say WebGPU)
    expect(await page.getByTestId('train-backend').innerText()).toMatch(/chosen when resuming \("Resume on WASM"\)/);
    await expect.poll(async () => Number(await page.getByTestId('run-step').innerText()), { timeout: 300_000 }).toBeGreaterThan(from + 2);
    await page.getByTestId('train-stop').click();
    await page.locator('[data-testid=run-status][data-status=stopped]').waitFor({ timeout: 120_000 });
    await shot(page, '3-continued-on-wasm');
  });
});
