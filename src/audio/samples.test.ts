import { describe, expect, it } from 'vitest';
import { concatSamples } from './samples';

describe('concatSamples', () => {
  it('joins chunks in order, empty ones included', () => {
    const out = concatSamples([Float32Array.of(1, 2), new Float32Array(0), Float32Array.of(3)]);
    expect(Array.from(out)).toEqual([1, 2, 3]);
    expect(concatSamples([]).length).toBe(0);
  });
});
