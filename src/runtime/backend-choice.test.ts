import { describe, expect, it } from 'vitest';
import { asCached, asUserChoice, cacheKey, chooseBackend } from './backend-choice';

describe('chooseBackend', () => {
  it('picks WASM when the software WebGPU adapter is far slower (headless Chromium, issue 13)', () => {
    const c = chooseBackend([{ name: 'wasm', ms: 31 }, { name: 'webgpu', ms: 2400 }], 1);
    expect(c.chosen).toBe('wasm');
    expect(c.how).toBe('measured');
    expect(c.reason).toBe('measured 77× faster than WebGPU on this model (WASM 31 ms, WebGPU 2.4 s per 1 s of audio)');
  });

  it('picks WebGPU when it is measured faster', () => {
    const c = chooseBackend([{ name: 'wasm', ms: 120 }, { name: 'webgpu', ms: 9 }], 1);
    expect(c.chosen).toBe('webgpu');
    expect(c.reason).toMatch(/^measured 13× faster than WASM/);
  });

  it('keeps WASM on a near tie (no shader compilation, no device loss)', () => {
    expect(chooseBackend([{ name: 'wasm', ms: 100 }, { name: 'webgpu', ms: 97 }], 1).chosen).toBe('wasm');
    expect(chooseBackend([{ name: 'wasm', ms: 100 }, { name: 'webgpu', ms: 90 }], 1).chosen).toBe('webgpu');
  });

  it('uses the one that ran when the other failed, and says so', () => {
    const c = chooseBackend([{ name: 'wasm', ms: 50 }, { name: 'webgpu', error: 'no adapter' }], 1);
    expect(c).toMatchObject({ chosen: 'wasm', how: 'only' });
    expect(c.reason).toContain('WebGPU failed (no adapter)');
    expect(() => chooseBackend([{ name: 'wasm', error: 'x' }], 1)).toThrow(/no backend could run the model/);
  });

  it('a cached measurement and a user override say what they are', () => {
    const m = chooseBackend([{ name: 'wasm', ms: 31 }, { name: 'webgpu', ms: 2400 }], 1);
    expect(asCached(m)).toMatchObject({ chosen: 'wasm', how: 'cached' });
    expect(asCached(m).reason).toMatch(/^measured earlier 77× faster/);
    const u = asUserChoice('webgpu', m);
    expect(u).toMatchObject({ chosen: 'webgpu', how: 'user' });
    expect(u.reason).toBe('chosen by you (measured: WASM 31 ms, WebGPU 2.4 s per 1 s of audio)');
  });

  it('the cache key changes with the model, the adapter and the thread count', () => {
    const rt = 'onnxruntime-web 1.23.2: wasm on the plain build, webgpu on the Asyncify build';
    const k = cacheKey({ modelSha256: 'ab', adapter: 'google swiftshader', threads: 2, runtime: rt });
    expect(cacheKey({ modelSha256: 'ac', adapter: 'google swiftshader', threads: 2, runtime: rt })).not.toBe(k);
    expect(cacheKey({ modelSha256: 'ab', adapter: 'nvidia ampere', threads: 2, runtime: rt })).not.toBe(k);
    expect(cacheKey({ modelSha256: 'ab', adapter: 'google swiftshader', threads: 4, runtime: rt })).not.toBe(k);
    // a choice measured on other onnxruntime-web builds is measured again
    expect(cacheKey({ modelSha256: 'ab', adapter: 'google swiftshader', threads: 2, runtime: 'onnxruntime-web 1.23.2: both on the Asyncify build' })).not.toBe(k);
    expect(cacheKey({ modelSha256: 'ab', adapter: undefined, threads: 2, runtime: rt })).toMatch(/no WebGPU/);
  });
});
