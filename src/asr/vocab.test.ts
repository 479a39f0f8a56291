import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VOCAB,
  decodeIds,
  encodeText,
  formatTokens,
  outOfVocab,
  parseTokens,
} from './vocab';

const REGENERATE =
  `npx tsx -e "import('./src/asr/vocab.ts').then(m=>process.stdout.write(` +
  `m.formatTokens(m.DEFAULT_VOCAB)))" > src/asr/tokens.txt`;

describe('DEFAULT_VOCAB', () => {
  it('is blank, space, apostrophe, a–z', () => {
    expect(DEFAULT_VOCAB.tokens.length).toBe(29);
    expect(DEFAULT_VOCAB.blankId).toBe(0);
    expect(DEFAULT_VOCAB.tokens.slice(0, 4)).toEqual(['<blk>', ' ', "'", 'a']);
    expect(DEFAULT_VOCAB.tokens[28]).toBe('z');
  });

  it('matches the committed tokens.txt', () => {
    const committed = readFileSync(new URL('./tokens.txt', import.meta.url), 'utf8');
    expect(committed, `tokens.txt is stale; regenerate with:\n${REGENERATE}`).toBe(
      formatTokens(DEFAULT_VOCAB),
    );
  });
});

describe('parseTokens / formatTokens', () => {
  it('round-trips', () => {
    const vocab = parseTokens(formatTokens(DEFAULT_VOCAB));
    expect(vocab.tokens).toEqual(DEFAULT_VOCAB.tokens);
    expect(vocab.blankId).toBe(0);
  });

  it('writes space as ▁ and accepts <space>, any line order and blank lines', () => {
    expect(formatTokens(DEFAULT_VOCAB).split('\n')[1]).toBe('▁ 1');
    const vocab = parseTokens('a 2\n\n<space> 1\r\n<blk> 0\n');
    expect(vocab.tokens).toEqual(['<blk>', ' ', 'a']);
    expect(vocab.ids.get(' ')).toBe(1);
  });

  it('allows the blank at an id other than 0', () => {
    expect(parseTokens('a 0\n<blk> 1\n').blankId).toBe(1);
  });

  it.each([
    ['<blk> 0\na\n', /line 2: expected "<token> <id>"/],
    ['<blk> 0\na 1 x\n', /line 2: expected/],
    ['<blk> 0\na -1\n', /line 2: expected/],
    ['<blk> 0\na 1\nb 1\n', /line 3: id 1 already used on line 2/],
    ['<blk> 0\na 1\na 2\n', /line 3: token "a" already defined on line 2/],
    ['<blk> 0\n▁ 1\n<space> 2\n', /line 3: token space .* already defined on line 2/],
    ['<blk> 0\na 2\n', /id 1 is missing \(largest id 2 on line 2\)/],
    ['a 0\nb 1\n', /no blank token <blk>/],
    ['\n\n', /no tokens/],
  ])('rejects %j', (text, error) => {
    expect(() => parseTokens(text)).toThrow(error);
  });
});

describe('encodeText / decodeIds / outOfVocab', () => {
  it('encodes characters to ids and back', () => {
    const ids = encodeText(DEFAULT_VOCAB, "don't stop");
    expect(Array.from(ids)).toEqual([6, 17, 16, 2, 22, 1, 21, 22, 17, 18]);
    expect(decodeIds(DEFAULT_VOCAB, ids)).toBe("don't stop");
  });

  it('encodes the empty string to no ids', () => {
    expect(encodeText(DEFAULT_VOCAB, '').length).toBe(0);
  });

  it('decodeIds drops blanks but keeps repeats', () => {
    expect(decodeIds(DEFAULT_VOCAB, [0, 3, 3, 0, 4])).toBe('aab');
    expect(() => decodeIds(DEFAULT_VOCAB, [3, 29])).toThrow(/id 29 at position 1/);
  });

  it('lists out-of-vocab characters once each, by code point', () => {
    expect(outOfVocab(DEFAULT_VOCAB, 'Héllo, wörld 😀!😀')).toEqual(['H', 'é', ',', 'ö', '😀', '!']);
    expect(outOfVocab(DEFAULT_VOCAB, 'fine')).toEqual([]);
  });

  it('encodeText names every character it cannot encode', () => {
    expect(() => encodeText(DEFAULT_VOCAB, 'café 42')).toThrow(
      /3 character\(s\) not in the vocab: "é" \(U\+00E9\), "4" \(U\+0034\), "2" \(U\+0032\)/,
    );
  });
});
