// Records a 440 Hz tone with Chromium's MediaRecorder into WebM/Opus: the exact container the app
// gets from a microphone (live-streaming layout: Segment and Clusters of unknown size, SimpleBlocks).
// Called by scripts/make-audio-fixtures.sh; usage: node scripts/make-audio-fixtures.mjs <out.webm>
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const outPath = process.argv[2];
if (!outPath) throw new Error('usage: node scripts/make-audio-fixtures.mjs <out.webm>');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-background-networking'],
});
try {
  const page = await browser.newPage();
  const base64 = await page.evaluate(async () => {
    // An oscillator routed into a MediaStream stands in for the microphone: same encoder, same muxer.
    const ctx = new AudioContext({ sampleRate: 48000 });
    await ctx.resume();
    const osc = new OscillatorNode(ctx, { frequency: 440 });
    const gain = new GainNode(ctx, { gain: 0.5 });
    const dest = new MediaStreamAudioDestinationNode(ctx, { channelCount: 1 });
    osc.connect(gain).connect(dest);
    osc.start();
    const rec = new MediaRecorder(dest.stream, { mimeType: 'audio/webm;codecs=opus', audioBitsPerSecond: 24000 });
    const chunks = [];
    rec.ondataavailable = (e) => chunks.push(e.data);
    const stopped = new Promise((resolve) => (rec.onstop = resolve));
    rec.start();
    await new Promise((r) => setTimeout(r, 600));
    rec.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  });
  writeFileSync(outPath, Buffer.from(base64, 'base64'));
} finally {
  await browser.close();
}
