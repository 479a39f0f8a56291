// A word n-gram language model (order 1 to 3) for CTC beam search (shallow fusion).
//
// Estimated from plain text with interpolated modified Kneser–Ney smoothing (Chen & Goodman 1998,
// "An Empirical Study of Smoothing Techniques for Language Modeling", section 3), as KenLM's lmplz
// does: for a history h of the order being estimated,
//   p(w | h) = max(c(h w) − D(c), 0) / c(h •) + γ(h) · p(w | h′),   γ(h) = (D₁N₁(h •) + D₂N₂(h •) + D₃₊N₃₊(h •)) / c(h •)
// where h′ drops h's oldest word, c is the raw count at the highest order and the continuation
// count N1+(• h w) (how many different words precede it) at lower orders — raw again for n-grams
// that start with <s>, which nothing can precede — and D₁, D₂, D₃₊ come from each order's counts of
// counts. The unigram level interpolates with the uniform distribution over every word that can
// follow (all but <s>).
// Pruned by count (an n-gram seen fewer times than its order's cut-off is not stored, and a trigram
// is only stored when both its bigrams are); the probability of what was pruned moves to the
// back-off, whose weight is recomputed so that every p(· | h) still sums to one.
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
/** The highest order this model reads, writes and estimates. */
export const MAX_ORDER = 3;
const ORDER_NAMES = ['', 'unigram', 'bigram', 'trigram'];

export interface WordLmOptions {
  /** 1, 2 or 3 (default 2). */
  order?: number;
  /** Words seen fewer times become <unk> (default 1). */
  minCount?: number;
  /** Bigrams seen fewer times are not stored (default 1). */
  bigramMinCount?: number;
  /** Trigrams seen fewer times are not stored (default 1). */
  trigramMinCount?: number;
}

export class WordLm {
  /** word → id; ids index the unigram arrays. */
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [];
  private readonly uni: number[] = []; // ln p(w)
  private readonly backoff: number[] = []; // ln γ(w) as a history
  private readonly bi = new Map<number, number>(); // key prev * size + w → ln p(w | prev)
  private readonly biBackoff = new Map<number, number>(); // key u * size + v → ln γ(u v) as a history (absent: 0)
  private readonly tri = new Map<number, number>(); // key (u * size + v) * size + w → ln p(w | u v)
  private size = 0;
  private maxOrder = 1;
  /** Every prefix of every vocabulary word, for pruning spellings that lead nowhere (built on first use). */
  private prefixes: Set<string> | undefined;

  private constructor() {}

  get vocabularySize(): number {
    return this.words.length - 3; // <s>, </s> and <unk> are not words
  }

  /** The longest n-gram stored or usable: 1, 2 or 3. */
  get order(): number {
    return this.maxOrder;
  }

  get bigramCount(): number {
    return this.bi.size;
  }

  get trigramCount(): number {
    return this.tri.size;
  }

  /** "bigram", "trigram"… */
  get orderName(): string {
    return ORDER_NAMES[this.maxOrder];
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

  /**
   * ln p(word | before prev): the trigram when stored, else the history's back-off weight plus the
   * bigram ln p(word | prev), which itself backs off to the unigram. `before` −1 (the start of a
   * transcript, where the history is <s> alone) or a model of order 2 uses the bigram.
   */
  logProb(prev: number, word: number, before = -1): number {
    if (before >= 0 && this.tri.size > 0) {
      const history = before * this.size + prev;
      const t = this.tri.get(history * this.size + word);
      if (t !== undefined) return t;
      return (this.biBackoff.get(history) ?? 0) + this.bigramLogProb(prev, word);
    }
    return this.bigramLogProb(prev, word);
  }

  private bigramLogProb(prev: number, word: number): number {
    const b = this.bi.get(prev * this.size + word);
    if (b !== undefined) return b;
    return this.backoff[prev] + this.uni[word];
  }

  /** ln p of a whole sentence (normalized words), with <s> and </s>. */
  sentenceLogProb(text: string): number {
    let before = -1;
    let prev = this.id(BOS);
    let total = 0;
    for (const w of [...normalizeText(text).split(' ').filter(Boolean), EOS]) {
      const id = this.id(w);
      total += this.logProb(prev, id, before);
      before = prev;
      prev = id;
    }
    return total;
  }

  /**
   * Estimates the model from sentences (normalized here) by interpolated modified Kneser–Ney,
   * pruned by count (see WordLmOptions and the comment at the top of this file).
   */
  static fromTexts(texts: Iterable<string>, o: WordLmOptions = {}): WordLm {
    const order = o.order ?? 2;
    if (!(Number.isInteger(order) && order >= 1 && order <= MAX_ORDER)) throw new Error(`WordLm: order must be 1, 2 or 3, got ${order}`);
    const minCount = o.minCount ?? 1;
    const cutoff = [1, 1, o.bigramMinCount ?? 1, o.trigramMinCount ?? 1];
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
    if (order === 3 && n ** 3 > Number.MAX_SAFE_INTEGER) throw new Error(`WordLm: ${n} words is too many for a trigram model (at most 208,000)`);

    // Raw counts of every order's n-grams, keyed like the model's maps (ids 0 = <s>, 1 = </s>).
    const raw: Map<number, number>[] = [new Map(), new Map(), new Map(), new Map()];
    const add = (m: Map<number, number>, k: number) => m.set(k, (m.get(k) ?? 0) + 1);
    for (const ws of sentences) {
      const ids = [0, ...ws.map((x) => index.get(x) ?? 2), 1];
      for (let i = 1; i < ids.length; i++) {
        add(raw[1], ids[i]);
        if (order >= 2) add(raw[2], ids[i - 1] * n + ids[i]);
        if (order >= 3 && i >= 2) add(raw[3], (ids[i - 2] * n + ids[i - 1]) * n + ids[i]);
      }
    }
    // The counts each order is estimated from: raw at the top order and for n-grams that start
    // with <s>; otherwise the continuation count, the number of different words seen before it.
    const kn: Map<number, number>[] = [new Map(), new Map(), new Map(), new Map()];
    kn[order] = raw[order];
    for (let k = order - 1; k >= 1; k--) {
      const span = n ** k;
      for (const key of raw[k + 1].keys()) add(kn[k], key % span); // drop the oldest word
      if (k >= 2) for (const [key, c] of raw[k]) if (Math.floor(key / n ** (k - 1)) === 0) kn[k].set(key, c);
    }
    const discounts = kn.map((m) => (m.size ? modifiedKnDiscounts(m) : [0, 0, 0, 0]));

    const lm = new WordLm();
    lm.setVocabulary(names);
    lm.maxOrder = order;
    // ln p at the order below, for the interpolation (computed on the full, unpruned model)
    const full: Map<number, number>[] = [new Map(), new Map(), new Map(), new Map()];
    // unigrams: interpolated with the uniform distribution over the n − 1 words that can follow
    {
      const D = discounts[1];
      let total = 0;
      let gammaMass = 0;
      for (const c of kn[1].values()) {
        total += c;
        gammaMass += D[Math.min(c, 3)];
      }
      const uniform = gammaMass / total / (n - 1);
      for (let w = 0; w < n; w++) {
        const c = kn[1].get(w) ?? 0;
        lm.uni[w] = w === 0 ? -Infinity : Math.log(Math.max(c - D[Math.min(c, 3)], 0) / total + uniform);
      }
    }
    const lowerLogProb = (k: number, key: number): number => {
      // ln p(w | h′) of the full model at order k (key without h's oldest word)
      if (k === 1) return lm.uni[key];
      return full[k].get(key) ?? (histGamma[k].get(Math.floor(key / n)) ?? 0) + lowerLogProb(k - 1, key % n ** (k - 1));
    };
    const histGamma: Map<number, number>[] = [new Map(), new Map(), new Map(), new Map()]; // ln γ(h) of the full model
    for (let k = 2; k <= order; k++) {
      const D = discounts[k];
      // per history: c(h •) and Σ D(c) over its followers
      const total = new Map<number, number>();
      const gammaMass = new Map<number, number>();
      for (const [key, c] of kn[k]) {
        const h = Math.floor(key / n);
        total.set(h, (total.get(h) ?? 0) + c);
        gammaMass.set(h, (gammaMass.get(h) ?? 0) + D[Math.min(c, 3)]);
      }
      for (const [h, t] of total) histGamma[k].set(h, Math.log(gammaMass.get(h)! / t));
      for (const [key, c] of kn[k]) {
        // the top order feeds no other: only what will be stored is computed
        if (k === order && c < cutoff[k]) continue;
        const h = Math.floor(key / n);
        const p = Math.max(c - D[Math.min(c, 3)], 0) / total.get(h)! + Math.exp(histGamma[k].get(h)! + lowerLogProb(k - 1, key % n ** (k - 1)));
        full[k].set(key, Math.log(p));
      }
    }
    // What is stored: n-grams at or above their cut-off (raw count), trigrams only with both bigrams.
    for (const [key, lp] of full[2]) if ((raw[2].get(key) ?? 0) >= cutoff[2]) lm.bi.set(key, lp);
    for (const [key, lp] of full[3]) {
      if ((raw[3].get(key) ?? 0) < cutoff[3]) continue;
      if (!lm.bi.has(Math.floor(key / n)) || !lm.bi.has(key % (n * n))) continue;
      lm.tri.set(key, lp);
    }
    lm.renormalize();
    return lm;
  }

  /**
   * Sets every back-off weight so that each history's distribution sums to one over the n-grams
   * this model stores: γ(h) = (1 − Σ p(w | h)) / (1 − Σ p(w | h′)), both sums over the stored w.
   */
  private renormalize(): void {
    const n = this.size;
    const keptBi = new Float64Array(n);
    const keptUni = new Float64Array(n);
    for (const [key, lp] of this.bi) {
      const v = Math.floor(key / n);
      keptBi[v] += Math.exp(lp);
      keptUni[v] += Math.exp(this.uni[key % n]);
    }
    for (let v = 0; v < n; v++) this.backoff[v] = keptBi[v] > 0 ? backoffWeight(keptBi[v], keptUni[v]) : 0;
    const keptTri = new Map<number, number>();
    const keptLower = new Map<number, number>();
    for (const [key, lp] of this.tri) {
      const h = Math.floor(key / n);
      keptTri.set(h, (keptTri.get(h) ?? 0) + Math.exp(lp));
      keptLower.set(h, (keptLower.get(h) ?? 0) + Math.exp(this.bigramLogProb(h % n, key % n)));
    }
    this.biBackoff.clear();
    for (const [h, kept] of keptTri) this.biBackoff.set(h, backoffWeight(kept, keptLower.get(h)!));
  }

  /**
   * The linear mixture (1 − share)·p_a + share·p_b as a new back-off model over both vocabularies
   * and of the higher of the two orders, e.g. a base model with a small model of the user's own
   * transcripts. An n-gram either side stores gets its exact mixed probability; other words back
   * off to the mixed lower order with a weight that keeps every p(· | h) summing to one (the usual
   * static mixing of back-off models).
   */
  static mix(a: WordLm, b: WordLm, share: number): WordLm {
    if (!(share >= 0 && share <= 1)) throw new Error(`WordLm.mix: share must be in [0, 1], got ${share}`);
    const names = [BOS, EOS, UNK, ...[...new Set([...a.words, ...b.words])].filter((w) => w !== BOS && w !== EOS && w !== UNK).sort()];
    const lm = new WordLm();
    lm.setVocabulary(names);
    lm.maxOrder = Math.max(a.maxOrder, b.maxOrder);
    const n = names.length;
    const models = [a, b];
    const weights = [1 - share, share];
    // per model: mixed id → its own id (<unk> for the words it lacks)
    const own = models.map((m) => Int32Array.from(names, (w) => m.ids.get(w) ?? m.ids.get(UNK)!));
    // A model's <unk> mass stands for all the words it does not know, so it is split evenly
    // between them, which keeps the mixture normalized.
    const lacking = models.map((m) => names.filter((w) => !m.ids.has(w)).length + 1);
    const knows = models.map((m) => Uint8Array.from(names, (w) => (m.ids.has(w) && w !== UNK ? 1 : 0)));
    const share1 = (k: number, w: number, lp: number) => (w === 0 ? 0 : knows[k][w] ? Math.exp(lp) : Math.exp(lp) / lacking[k]);
    /** p(w | before prev) of the mixture's two models, history ids in the mixed vocabulary (−1: none). */
    const mixed = (before: number, prev: number, w: number): number => {
      let p = 0;
      for (let k = 0; k < 2; k++) {
        const m = models[k];
        const map = own[k];
        const lp = prev < 0 ? m.uni[map[w]] : m.logProb(map[prev], map[w], before < 0 ? -1 : map[before]);
        p += weights[k] * share1(k, w, lp);
      }
      return p;
    };
    const uniMix = names.map((_, w) => mixed(-1, -1, w));
    const uniSum = uniMix.reduce((s, x) => s + x, 0);
    for (let w = 0; w < n; w++) lm.uni[w] = uniMix[w] > 0 ? Math.log(uniMix[w] / uniSum) : -Infinity;
    // The n-grams either model stores, in mixed ids: bigram keys, then trigram keys.
    const stored = (order: 2 | 3): Set<number> => {
      const keys = new Set<number>();
      for (const m of models) {
        const map = order === 2 ? m.bi : m.tri;
        for (const key of map.keys()) {
          const w = lm.ids.get(m.words[key % m.size])!;
          const h = Math.floor(key / m.size);
          const v = lm.ids.get(m.words[h % m.size])!;
          keys.add(order === 2 ? v * n + w : (lm.ids.get(m.words[Math.floor(h / m.size)])! * n + v) * n + w);
        }
      }
      return keys;
    };
    for (const key of stored(2)) lm.bi.set(key, Math.log(mixed(-1, Math.floor(key / n), key % n)));
    const trigrams = stored(3);
    if (trigrams.size) {
      // A bigram model's words after v get exact trigram entries under every stored history (u v)
      // too: backing off from (u v) would scale them by the other model's back-off weight there.
      const histories = new Set([...trigrams].map((key) => Math.floor(key / n)));
      for (const m of models) {
        if (m.maxOrder !== 2) continue;
        const after = new Map<number, number[]>();
        for (const key of m.bi.keys()) {
          const v = lm.ids.get(m.words[Math.floor(key / m.size)])!;
          (after.get(v) ?? after.set(v, []).get(v)!).push(lm.ids.get(m.words[key % m.size])!);
        }
        for (const h of histories) for (const w of after.get(h % n) ?? []) trigrams.add(h * n + w);
      }
    }
    for (const key of trigrams) {
      const h = Math.floor(key / n);
      lm.tri.set(key, Math.log(mixed(Math.floor(h / n), h % n, key % n)));
    }
    // Histories with no stored n-gram either side keep a back-off weight of 1: the mixed lower
    // order, which stands in for the mixture of the two backed-off distributions.
    lm.renormalize();
    return lm;
  }

  /** Writes the model as ARPA text (log10 probabilities). */
  toArpa(): string {
    const n = this.size;
    const top = this.maxOrder;
    const counts = [this.words.length, this.bi.size, this.tri.size];
    const out: string[] = ['\\data\\', ...counts.slice(0, top).map((c, k) => `ngram ${k + 1}=${c}`), '', '\\1-grams:'];
    const f = (x: number) => (x === -Infinity ? '-99' : (x / LN10).toFixed(6));
    for (let w = 0; w < n; w++) out.push(top > 1 ? `${f(this.uni[w])}\t${this.words[w]}\t${f(this.backoff[w])}` : `${f(this.uni[w])}\t${this.words[w]}`);
    if (top >= 2) {
      out.push('', '\\2-grams:');
      for (const k of [...this.bi.keys()].sort((x, y) => x - y)) {
        const words = `${this.words[Math.floor(k / n)]} ${this.words[k % n]}`;
        const bo = top > 2 ? this.biBackoff.get(k) : undefined;
        out.push(bo === undefined ? `${f(this.bi.get(k)!)}\t${words}` : `${f(this.bi.get(k)!)}\t${words}\t${f(bo)}`);
      }
    }
    if (top >= 3) {
      out.push('', '\\3-grams:');
      for (const k of [...this.tri.keys()].sort((x, y) => x - y)) {
        const h = Math.floor(k / n);
        out.push(`${f(this.tri.get(k)!)}\t${this.words[Math.floor(h / n)]} ${this.words[h % n]} ${this.words[k % n]}`);
      }
    }
    out.push('', '\\end\\', '');
    return out.join('\n');
  }

  /**
   * Reads an ARPA file of order 1 to 3 (higher orders are refused). Every malformed line is an
   * error naming its line number.
   */
  static fromArpa(text: string): WordLm {
    const lines = text.split(/\r?\n/);
    let section = 0; // 0: before \data\, -1: \data\, 1–3: n-grams, 4: after \end\
    const declared: number[] = [0, 0, 0, 0];
    const declaredAt: number[] = [0, 0, 0, 0];
    const found: number[] = [0, 0, 0, 0];
    const lm = new WordLm();
    const names: string[] = [];
    const uni: number[] = [];
    const back: number[] = [];
    let n = 0;
    const fail = (i: number, why: string): never => {
      throw new Error(`ARPA line ${i + 1}: ${why}`);
    };
    const num = (s: string, i: number) => {
      const x = Number(s);
      if (s === '' || !Number.isFinite(x)) fail(i, `'${s}' is not a number`);
      return x <= -99 ? -Infinity : x * LN10;
    };
    const wordId = (w: string, i: number) => {
      const id = lm.ids.get(w);
      if (id === undefined) fail(i, `'${w}' has no unigram`);
      return id!;
    };
    // The vocabulary is complete once the unigrams are read: keys of longer n-grams need its size.
    const closeVocabulary = () => {
      if (n) return;
      if (!names.length) throw new Error('ARPA: no \\1-grams: section');
      const all = [...names];
      for (const special of [BOS, EOS, UNK]) if (!lm.ids.has(special) && !all.includes(special)) all.push(special);
      lm.setVocabulary(all);
      n = lm.size;
      for (let w = 0; w < n; w++) {
        lm.uni[w] = w < uni.length ? uni[w] : Math.log(1e-10); // specials the file lacks
        lm.backoff[w] = w < back.length ? back[w] : 0;
      }
    };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      if (line === '\\data\\') {
        section = -1;
        continue;
      }
      if (line === '\\end\\') {
        section = 4;
        continue;
      }
      if (line.charCodeAt(0) === 92 /* \ */) {
        const m = /^\\(\d+)-grams:$/.exec(line);
        if (!m) fail(i, `unknown section '${line}'`);
        const k = Number(m![1]);
        if (k < 1 || k > MAX_ORDER) fail(i, `only orders 1 to ${MAX_ORDER} (unigram to trigram) are supported, this one has ${k}-grams`);
        if (k > 1) closeVocabulary();
        section = k;
        lm.maxOrder = Math.max(lm.maxOrder, k);
        continue;
      }
      if (section === -1) {
        const m = /^ngram (\d+)\s*=\s*(\d+)$/.exec(line);
        if (!m) fail(i, `expected 'ngram N=count' in \\data\\, got '${line}'`);
        const k = Number(m![1]);
        if (k < 1 || k > MAX_ORDER) fail(i, `only orders 1 to ${MAX_ORDER} (unigram to trigram) are supported, this one has ${k}-grams`);
        if (Number(m![2]) > MAX_ARPA_NGRAMS) fail(i, `${m![2]} ${k}-grams is more than this app reads (${MAX_ARPA_NGRAMS.toLocaleString('en')}); prune the model`);
        declared[k] = Number(m![2]);
        declaredAt[k] = i + 1;
        continue;
      }
      if (section < 1 || section > MAX_ORDER) fail(i, 'data outside a section');
      const parts = line.split(/\s+/);
      const k = section;
      // prob, k words, and a back-off weight for all but the highest order
      if (parts.length !== k + 1 && parts.length !== k + 2) fail(i, `a ${k}-gram needs a probability, ${k} word${k > 1 ? 's' : ''} and optionally a back-off weight, got ${parts.length} field${parts.length > 1 ? 's' : ''}`);
      const p = num(parts[0], i);
      const bo = parts.length === k + 2 ? num(parts[k + 1], i) : 0;
      found[k]++;
      if (k === 1) {
        // a repeated unigram would silently shift every id after it
        if (lm.ids.has(parts[1])) fail(i, `unigram '${parts[1]}' appears twice`);
        lm.ids.set(parts[1], names.length);
        names.push(parts[1]);
        uni.push(p);
        back.push(bo);
      } else if (k === 2) {
        const key = wordId(parts[1], i) * n + wordId(parts[2], i);
        lm.bi.set(key, p);
        if (parts.length === 4 && bo !== 0) lm.biBackoff.set(key, bo);
      } else {
        lm.tri.set((wordId(parts[1], i) * n + wordId(parts[2], i)) * n + wordId(parts[3], i), p);
      }
    }
    closeVocabulary();
    for (let k = 1; k <= MAX_ORDER; k++) {
      if (declaredAt[k] && declared[k] !== found[k]) throw new Error(`ARPA line ${declaredAt[k]}: \\data\\ declares ${declared[k]} ${k}-grams but the file has ${found[k]}`);
      if (!declaredAt[k] && found[k]) throw new Error(`ARPA: the file has ${k}-grams but \\data\\ does not declare them`);
    }
    lm.prefixes = undefined;
    return lm;
  }

  private setVocabulary(names: string[]): void {
    this.ids.clear();
    this.size = names.length;
    for (const [i, w] of names.entries()) {
      this.ids.set(w, i);
      this.words.push(w);
      this.uni.push(0);
      this.backoff.push(0);
    }
  }
}

/** ln γ: the mass a history leaves to the order below, over the mass the order below has there. */
function backoffWeight(kept: number, keptLower: number): number {
  return Math.log(Math.max(1 - kept, 1e-12) / Math.max(1 - keptLower, 1e-12));
}

/**
 * D₁, D₂, D₃₊ of modified Kneser–Ney from the counts of counts n₁…n₄ (Chen & Goodman 1998, eq. 26):
 * Y = n₁ / (n₁ + 2n₂), D_c = c − (c + 1) Y n_{c+1} / n_c. Index 0 is unused (count 0 is no n-gram).
 * Tiny corpora can lack some count of counts; a discount that comes out of (0, c) falls back to
 * the usual 0.5 / 1 / 1.5.
 */
function modifiedKnDiscounts(counts: Map<number, number>): number[] {
  const nc = [0, 0, 0, 0, 0];
  for (const c of counts.values()) if (c <= 4) nc[c]++;
  const y = nc[1] / (nc[1] + 2 * nc[2]);
  const fallback = [0, 0.5, 1, 1.5];
  const d = [0];
  for (let c = 1; c <= 3; c++) {
    const x = c - ((c + 1) * y * nc[c + 1]) / nc[c];
    d.push(Number.isFinite(x) && x > 0 && x < c ? x : fallback[c]);
  }
  return d;
}
