import { describe, expect, it } from 'vitest';
import { fileStem } from './file-name';

describe('fileStem', () => {
  it.each([
    ['Base model + nemo-0024 (10 steps)', 'Base-model-nemo-0024-10-steps'],
    ['Base model + tones, mine (300 steps)', 'Base-model-tones-mine-300-steps'],
    ['  café — naïve  ', 'cafe-naive'],
    ['my_data.v2', 'my_data.v2'],
    ['../../etc/passwd', 'etc-passwd'],
    ['日本', 'model'],
    ['', 'model'],
  ])('%j → %j', (name, stem) => expect(fileStem(name, 'model')).toBe(stem));

  it('stays short', () => expect(fileStem('word '.repeat(60), 'x').length).toBeLessThanOrEqual(100));
});
