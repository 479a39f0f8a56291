// A word bigram language model for CTC beam search (shallow fusion).
//
// Estimated from plain text with interpolated Kneser–Ney smoothing (one discount, D = 0.75):
//   p(w | v) = max(c(v w) − D, 0) / c(v) + λ(v) · p_cont(w),   λ(v) = D · N1+(v •) / c(v)
//   p_cont(w) = N1+(• w) / N1+(• •)   (how many different words precede w), interpolated with a
//   uniform share so that every word of the vocabulary has some probability.
// Stored and read as an ARPA file (the format KenLM, SRILM and pyctcdecode use), so an exported
// model's `lm.arpa` can be inspected or replaced with one built elsewhere. Scores are natural logs;
// ARPA's log10 values are converted on read and write.

import { normalizeText } from './text-normalize';

const LN10 = Math.log(10);
export const BOS = '<s>';
export const EOS = '</s>';
export const UNK = '<unk>';
/** The most n-grams of one order fromArpa reads: beyond, a model would not fit a browser tab's memory comfortably. */
export const MAX_ARPA_NGRAMS = 10_000_000;

export class WordLm {
  /** word → id; ids index the unigram arrays. */
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [];
  private readonly uni: number[] = []; // ln p(w)
  private readonly backoff: number[] = []; // ln λ(w) as a history
  private readonly bi = new Map<number, number>(); // key prev * size + w → ln p(w | prev)
  private size = 0;
  /** Every prefix of every vocabulary word, for pruning spellings that lead nowhere (built on first use). */
  private prefixes: Set<string> | undefined;

  private constructor() {}

  get vocabularySize(): number {
    return this.words.length - 3; // <s>, </s> and <unk> are not words
  }

  get bigramCount(): number {
    return this.bi.size;
  }

  /** Id of a word, or the id of <unk>. */
  id(word: string): number {
    return this.ids.get(word) ?? this.ids.get(UNK)!;
  }

  has(word: string): boolean {
    return word !== BOS && word !== EOS && word !== UNK && this.ids.has(word);
  }

  /** Whether some vocabulary word starts with (or is) this spelling. */
  isPrefix(spelling: string): boolean {
    if (!this.prefixes) {
      this.prefixes = new Set();
      for (const w of this.words) {
        if (w === BOS || w === EOS || w === UNK) continue;
        for (let k = 1; k <= w.length; k++) this.prefixes.add(w.slice(0, k));
      }
    }
    return this.prefixes.has(spelling);
  }

  /** ln p(word | prev), backing off to the unigram. */
  logProb(prev: number, word: number): number {
    const b = this.bi.get(prev * this.size + word);
    if (b !== undefined) return b;
    return this.backoff[prev] + this.uni[word];
  }

  /** ln p of a whole sentence (normalized words), with <s> and </s>. */
  sentenceLogProb(text: string): number {
    let prev = this.id(BOS);
    let total = 0;
    for (const w of normalizeText(text).split(' ').filter(Boolean)) {
      const id = this.id(w);
      total += this.logProb(prev, id);
      prev = id;
    }
    return total + this.logProb(prev, this.id(EOS));
  }

  /**
   * Estimates the model from sentences (normalized here). Words seen fewer than `minCount` times
   * (default 1) become <unk>; bigrams seen fewer than `bigramMinCount` times (default 1) are pruned
   * into the backoff; `discount` is D (default 0.75).
   */
  static fromTexts(texts: Iterable<string>, o: { minCount?: number; discount?: number; bigramMinCount?: number } = {}): WordLm {
    const minCount = o.minCount ?? 1;
    const bigramMinCount = o.bigramMinCount ?? 1;
    const D = o.discount ?? 0.75;
    const sentences: string[][] = [];
    const counts = new Map<string, number>();
    for (const t of texts) {
      const ws = normalizeText(t).split(' ').filter(Boolean);
      if (!ws.length) continue;
      sentences.push(ws);
      for (const w of ws) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const vocab = [...counts.entries()].filter(([, c]) => c >= minCount).map(([w]) => w).sort();
    const names = [BOS, EOS, UNK, ...vocab];
    const index = new Map(names.map((w, i) => [w, i]));
    const n = names.length;
    const bigrams = new Map<number, number>(); // prev * n + w → count
    for (const ws of sentences) {
      let prev = 0;
      for (const w of [...ws.map((x) => index.get(x) ?? 2), 1]) {
        const k = prev * n + w;
        bigrams.set(k, (bigrams.get(k) ?? 0) + 1);
        prev = w;
      }
    }
    const histCount = new Float64Array(n); // c(v •)
    const histTypes = new Float64Array(n); // N1+(v •)
    const contTypes = new Float64Array(n); // N1+(• w)
    for (const [k, c] of bigrams) {
      const v = Math.floor(k / n);
      const w = k % n;
      histCount[v] += c;
      histTypes[v]++;
      contTypes[w]++;
    }
    // continuation unigram over every word that can follow (all but <s>), with a uniform floor
    const followers = n - 1;
    const totalTypes = contTypes.reduce((s, x) => s + x, 0);
    const floorShare = 0.5 / followers;
    const uni = names.map((_, w) => (w === 0 ? -Infinity : Math.log(0.5 * (contTypes[w] / totalTypes) + floorShare)));
    const lm = new WordLm();
    lm.setVocabulary(names);
    for (let w = 0; w < n; w++) lm.uni[w] = uni[w];
    // Bigrams seen fewer than bigramMinCount times are not stored; their probability moves to the
    // backoff, whose weight is then recomputed so that every p(· | v) still sums to one.
    const keptMass = new Float64Array(n); // Σ p(w | v) over stored bigrams
    const keptUni = new Float64Array(n); // Σ p_uni(w) over the same w
    for (const [k, c] of bigrams) {
      if (c < bigramMinCount) continue;
      const v = Math.floor(k / n);
      const w = k % n;
      const p = Math.max(c - D, 0) / histCount[v] + ((D * histTypes[v]) / histCount[v]) * Math.exp(uni[w]);
      lm.bi.set(k, Math.log(p));
      keptMass[v] += p;
      keptUni[v] += Math.exp(uni[w]);
    }
    for (let v = 0; v < n; v++) if (histCount[v] > 0) lm.backoff[v] = Math.log(Math.max(1 - keptMass[v], 1e-12) / Math.max(1 - keptUni[v], 1e-12));
    return lm;
  }

  /**
   * The linear mixture (1 − share)·p_a + share·p_b as a new bigram model over both vocabularies,
   * e.g. a base model with a small model of the user's own transcripts. A bigram either side
   * stores gets its exact mixed probability; other pairs back off to the mixed unigram with a
   * weight that keeps every p(· | v) summing to one (the usual static mixing of back-off models).
   */
  static mix(a: WordLm, b: WordLm, share: number): WordLm {
    if (!(share >= 0 && share <= 1)) throw new Error(`WordLm.mix: share must be in [0, 1], got ${share}`);
    const names = [BOS, EOS, UNK, ...[...new Set([...a.words, ...b.words])].filter((w) => w !== BOS && w !== EOS && w !== UNK).sort()];
    const lm = new WordLm();
    lm.setVocabulary(names);
    const n = names.length;
    // p(w | v) of one model for words of the joint vocabulary (its <unk> share for words it lacks:
    // a model's <unk> mass stands for all the words it does not know, so it is split evenly
    // between them, which keeps the mixture normalized)
    const unknownIn = (m: WordLm) => names.filter((w) => !m.ids.has(w)).length;
    const lacking = [unknownIn(a), unknownIn(b)];
    const prob = (m: WordLm, k: number, v: string, w: string): number => {
      const vi = m.ids.get(v) ?? m.ids.get(UNK)!;
      const wi = m.ids.get(w);
      if (w === BOS) return 0;
      if (wi !== undefined && w !== UNK) return Math.exp(m.logProb(vi, wi));
      return Math.exp(m.logProb(vi, m.ids.get(UNK)!)) / (lacking[k] + 1);
    };
    const uniOf = (m: WordLm, k: number, w: string): number => {
      const wi = m.ids.get(w);
      if (w === BOS) return 0;
      if (wi !== undefined && w !== UNK) return Math.exp(m.uni[wi]);
      return Math.exp(m.uni[m.ids.get(UNK)!]) / (lacking[k] + 1);
    };
    const uniMix = names.map((w) => (1 - share) * uniOf(a, 0, w) + share * uniOf(b, 1, w));
    const uniSum = uniMix.reduce((s, x) => s + x, 0);
    for (let w = 0; w < n; w++) lm.uni[w] = uniMix[w] > 0 ? Math.log(uniMix[w] / uniSum) : -Infinity;
    // histories → the words either model stores a bigram for
    const seen = new Map<number, Set<number>>();
    for (const m of [a, b]) {
      for (const k of m.bi.keys()) {
        const v = lm.ids.get(m.words[Math.floor(k / m.size)])!;
        const w = lm.ids.get(m.words[k % m.size])!;
        let set = seen.get(v);
        if (!set) seen.set(v, (set = new Set()));
        set.add(w);
      }
    }
    for (let v = 0; v < n; v++) {
      const set = seen.get(v);
      if (!set) {
        // no stored bigram either side: the mixture of the two backed-off distributions, which
        // is the mixed unigram only approximately; keep its total by a plain back-off of weight 1
        lm.backoff[v] = 0;
        continue;
      }
      let kept = 0;
      let keptUni = 0;
      for (const w of set) {
        const p = (1 - share) * prob(a, 0, names[v], names[w]) + share * prob(b, 1, names[v], names[w]);
        lm.bi.set(v * n + w, Math.log(p));
        kept += p;
        keptUni += Math.exp(lm.uni[w]);
      }
      lm.backoff[v] = Math.log(Math.max(1 - kept, 1e-12) / Math.max(1 - keptUni, 1e-12));
    }
    return lm;
  }

  /** Writes the model as ARPA text (log10 probabilities). */
  toArpa(): string {
    const out: string[] = ['\\data\\', `ngram 1=${this.words.length}`, `ngram 2=${this.bi.size}`, '', '\\1-grams:'];
    const f = (x: number) => (x === -Infinity ? '-99' : (x / LN10).toFixed(6));
    for (let w = 0; w < this.words.length; w++) out.push(`${f(this.uni[w])}\t${this.words[w]}\t${f(this.backoff[w])}`);
    out.push('', '\\2-grams:');
    const keys = [...this.bi.keys()].sort((a, b) => a - b);
    for (const k of keys) out.push(`${f(this.bi.get(k)!)}\t${this.words[Math.floor(k / this.size)]} ${this.words[k % this.size]}`);
    out.push('', '\\end\\', '');
    return out.join('\n');
  }

  /** Reads an ARPA file of order 1 or 2 (higher orders are refused with a clear error). */
  static fromArpa(text: string): WordLm {
    const lines = text.split(/\r?\n/);
    let section = '';
    const unigrams: [string, number, number][] = [];
    const bigrams: [string, string, number][] = [];
    for (const [i, raw] of lines.entries()) {
      const line = raw.trim();
      if (!line) continue;
      if (line === '\\data\\' || line === '\\end\\') {
        section = line;
        continue;
      }
      const m = /^\\(\d)-grams:$/.exec(line);
      if (m) {
        section = m[1];
        if (Number(m[1]) > 2) throw new Error(`ARPA line ${i + 1}: only unigram and bigram models are supported, this one has ${m[1]}-grams`);
        continue;
      }
      if (section === '\\data\\') {
        const order = /^ngram (\d+)=\s*(\d+)/.exec(line);
        if (order && Number(order[1]) > 2) throw new Error(`ARPA line ${i + 1}: only unigram and bigram models are supported, this one has ${order[1]}-grams`);
        if (order && Number(order[2]) > MAX_ARPA_NGRAMS) throw new Error(`ARPA line ${i + 1}: ${order[2]} ${order[1]}-grams is more than this app reads (${MAX_ARPA_NGRAMS.toLocaleString('en')}); prune the model`);
        continue;
      }
      const parts = line.split(/\s+/);
      const num = (s: string) => {
        const x = Number(s);
        if (!Number.isFinite(x)) throw new Error(`ARPA line ${i + 1}: '${s}' is not a number`);
        return x * LN10;
      };
      if (section === '1') {
        if (parts.length < 2) throw new Error(`ARPA line ${i + 1}: a unigram needs a probability and a word`);
        unigrams.push([parts[1], num(parts[0]), parts.length > 2 ? num(parts[2]) : 0]);
      } else if (section === '2') {
        if (parts.length < 3) throw new Error(`ARPA line ${i + 1}: a bigram needs a probability and two words`);
        bigrams.push([parts[1], parts[2], num(parts[0])]);
      } else if (section !== '\\end\\') {
        throw new Error(`ARPA line ${i + 1}: data outside a section`);
      }
    }
    if (!unigrams.length) throw new Error('ARPA: no \\1-grams: section');
    const names = unigrams.map((u) => u[0]);
    for (const special of [BOS, EOS, UNK]) if (!names.includes(special)) names.push(special);
    const lm = new WordLm();
    lm.setVocabulary(names);
    lm.uni.fill(Math.log(1e-10), 0, names.length); // specials the file lacks
    lm.backoff.fill(0, 0, names.length);
    for (const [w, p, b] of unigrams) {
      const id = lm.ids.get(w)!;
      lm.uni[id] = p <= -99 * LN10 ? -Infinity : p;
      lm.backoff[id] = b;
    }
    for (const [v, w, p] of bigrams) {
      const a = lm.ids.get(v);
      const b = lm.ids.get(w);
      if (a === undefined || b === undefined) throw new Error(`ARPA: bigram '${v} ${w}' uses a word with no unigram`);
      lm.bi.set(a * lm.size + b, p);
    }
    return lm;
  }

  private setVocabulary(names: string[]): void {
    this.size = names.length;
    for (const [i, w] of names.entries()) {
      this.ids.set(w, i);
      this.words.push(w);
      this.uni.push(0);
      this.backoff.push(0);
    }
  }
}
