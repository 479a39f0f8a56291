// Types for normalize.mjs, so the vitest file (and tsc, which checks scripts/) can import it.
export declare function numberToWords(n: number): string;
export declare function yearToWords(n: number): string;
export declare function ordinalToWords(n: number): string;
export declare function expandAbbreviations(s: string): string;
export declare function toTranscript(s: string): string;
export declare const MIN_WORDS: number;
export declare const MAX_WORDS: number;
export declare function normalizeSentence(
  raw: string,
  opts?: { minWords?: number; maxWords?: number; spoken?: boolean },
): { speak: string; text: string } | null;
export declare function splitSentences(paragraph: string): string[];
