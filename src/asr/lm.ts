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
  private uni: Float64Array = new Float64Array(0); // ln p(w)
  private backoff: Float64Array = new Float64Array(0); // ln γ(w) as a history
  // Stored n-grams in sorted arrays, not hash maps, so that reading a large file is a fill rather
  // than a million map insertions: the bigrams after v are biWord[biStart[v] … biStart[v + 1]),
  // sorted by id; the trigrams after the bigram j = (u v) are triWord[triStart[j] … triStart[j + 1]).
  private biStart: Int32Array = new Int32Array(1);
  private biWord: Int32Array = new Int32Array(0);
  private biProb: Float64Array = new Float64Array(0); // ln p(w | v)
  private biBackoff: Float64Array = new Float64Array(0); // ln γ(u v) as a history (0 when it stores no trigram)
  private triStart: Int32Array = new Int32Array(1);
  private triWord: Int32Array = new Int32Array(0);
  private triProb: Float64Array = new Float64Array(0); // ln p(w | u v)
  private size = 0;
  private maxOrder = 1;
  /**
   * The vocabulary's spelling trie, for pruning spellings that lead nowhere (built on first use):
   * node 0 is the empty spelling; the child of node n by character c is trie.get(n · A + letter(c)),
   * letters numbered over the vocabulary's A distinct characters (so keys stay small integers).
   * A beam search keeps each hypothesis' node and steps it one token at a time, instead of looking
   * up the whole spelling again.
   */
  private trie: { children: Map<number, number>; letters: Map<number, number>; best: Float64Array } | undefined;

  private constructor() {}

  get vocabularySize(): number {
    return this.words.length - 3; // <s>, </s> and <unk> are not words
  }

  /** The longest n-gram stored or usable: 1, 2 or 3. */
  get order(): number {
    return this.maxOrder;
  }

  get bigramCount(): number {
    return this.biWord.length;
  }

  get trigramCount(): number {
    return this.triWord.length;
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
    return spelling !== '' && this.spell(0, spelling) >= 0;
  }

  /** ln p(word) of the unigram level (what the look-ahead takes the maximum of). */
  unigramLogProb(word: number): number {
    return this.uni[word];
  }

  /**
   * LM look-ahead of a spelling-trie node (from spell()): the largest unigram ln p of the
   * vocabulary words that start with its spelling (−Infinity for −1). A word still being spelled
   * can carry it as an estimate of what completing it will score, so that half-spelled common
   * and rare words do not look alike to a beam search until their last letter.
   */
  lookahead(node: number): number {
    if (node < 0) return -Infinity;
    return (this.trie ??= this.buildTrie()).best[node];
  }

  /**
   * The trie node of a spelling continued by `text` from `node` (0: the empty spelling), or −1 when
   * no vocabulary word starts so (−1 stays −1).
   */
  spell(node: number, text: string): number {
    const { children, letters } = (this.trie ??= this.buildTrie());
    for (let i = 0; i < text.length && node >= 0; i++) {
      const letter = letters.get(text.charCodeAt(i));
      node = letter === undefined ? -1 : (children.get(node * letters.size + letter) ?? -1);
    }
    return node;
  }

  private buildTrie(): { children: Map<number, number>; letters: Map<number, number>; best: Float64Array } {
    const words = this.words.filter((w) => w !== BOS && w !== EOS && w !== UNK);
    const letters = new Map<number, number>();
    let chars = 0;
    for (const w of words) {
      chars += w.length;
      for (let i = 0; i < w.length; i++) if (!letters.has(w.charCodeAt(i))) letters.set(w.charCodeAt(i), letters.size);
    }
    const children = new Map<number, number>();
    const best = new Float64Array(chars + 1).fill(-Infinity); // at most one node per letter, plus the root
    let nodes = 1;
    for (const w of words) {
      const p = this.uni[this.ids.get(w)!];
      let node = 0;
      if (p > best[0]) best[0] = p;
      for (let i = 0; i < w.length; i++) {
        const key = node * letters.size + letters.get(w.charCodeAt(i))!;
        let next = children.get(key);
        if (next === undefined) children.set(key, (next = nodes++));
        node = next;
        if (p > best[node]) best[node] = p;
      }
    }
    return { children, letters, best: best.slice(0, nodes) };
  }

  /**
   * ln p(word | before prev): the trigram when stored, else the history's back-off weight plus the
   * bigram ln p(word | prev), which itself backs off to the unigram. `before` −1 (the start of a
   * transcript, where the history is <s> alone) or a model of order 2 uses the bigram.
   */
  logProb(prev: number, word: number, before = -1): number {
    if (before >= 0 && this.triWord.length > 0) {
      const j = this.bigramIndex(before, prev);
      if (j >= 0) {
        const t = search(this.triWord, this.triStart[j], this.triStart[j + 1], word);
        if (t >= 0) return this.triProb[t];
        return this.biBackoff[j] + this.bigramLogProb(prev, word);
      }
    }
    return this.bigramLogProb(prev, word);
  }

  private bigramLogProb(prev: number, word: number): number {
    const j = this.bigramIndex(prev, word);
    return j >= 0 ? this.biProb[j] : this.backoff[prev] + this.uni[word];
  }

  /** Index of the stored bigram (v w), or −1. */
  private bigramIndex(v: number, w: number): number {
    return search(this.biWord, this.biStart[v], this.biStart[v + 1], w);
  }

  /**
   * Stores n-grams given by key (v·size + w, (u·size + v)·size + w) in ascending order, with their
   * ln p; every trigram's (u v) must be among the bigrams. `missingBigram(i)` says why not.
   */
  private setNgrams(biKeys: Float64Array, biProb: Float64Array, triKeys: Float64Array, triProb: Float64Array, missingBigram: (i: number) => never): void {
    const n = this.size;
    this.biStart = new Int32Array(n + 1);
    this.biWord = new Int32Array(biKeys.length);
    this.biProb = biProb;
    this.biBackoff = new Float64Array(biKeys.length);
    for (let i = 0; i < biKeys.length; i++) {
      this.biStart[Math.floor(biKeys[i] / n) + 1]++;
      this.biWord[i] = biKeys[i] % n;
    }
    for (let v = 0; v < n; v++) this.biStart[v + 1] += this.biStart[v];
    this.triStart = new Int32Array(biKeys.length + 1);
    this.triWord = new Int32Array(triKeys.length);
    this.triProb = triProb;
    for (let i = 0; i < triKeys.length; i++) {
      const h = Math.floor(triKeys[i] / n);
      const j = this.bigramIndex(Math.floor(h / n), h % n);
      if (j < 0) missingBigram(i);
      this.triStart[j + 1]++;
      this.triWord[i] = triKeys[i] % n;
    }
    for (let j = 0; j < biKeys.length; j++) this.triStart[j + 1] += this.triStart[j];
  }

  /** setNgrams from maps key → ln p (any order). */
  private setNgramMaps(bi: Map<number, number>, tri: Map<number, number>): void {
    const sorted = (m: Map<number, number>) => {
      const keys = Float64Array.from(m.keys()).sort();
      return [keys, Float64Array.from(keys, (k) => m.get(k)!)] as const;
    };
    const [bk, bp] = sorted(bi);
    const [tk, tp] = sorted(tri);
    this.setNgrams(bk, bp, tk, tp, (i) => {
      throw new Error(`WordLm: trigram ${tk[i]} has no bigram for its history`);
    });
  }

  /** Calls f(v, w, j) for every stored bigram j = (v w), in order. */
  private forEachBigram(f: (v: number, w: number, j: number) => void): void {
    for (let v = 0; v < this.size; v++) for (let j = this.biStart[v]; j < this.biStart[v + 1]; j++) f(v, this.biWord[j], j);
  }

  /** Calls f(u, v, w, t) for every stored trigram t = (u v w), in order. */
  private forEachTrigram(f: (u: number, v: number, w: number, t: number) => void): void {
    if (!this.triWord.length) return;
    this.forEachBigram((u, v, j) => {
      for (let t = this.triStart[j]; t < this.triStart[j + 1]; t++) f(u, v, this.triWord[t], t);
    });
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
    const bi = new Map<number, number>();
    const tri = new Map<number, number>();
    for (const [key, lp] of full[2]) if ((raw[2].get(key) ?? 0) >= cutoff[2]) bi.set(key, lp);
    for (const [key, lp] of full[3]) {
      if ((raw[3].get(key) ?? 0) < cutoff[3]) continue;
      if (!bi.has(Math.floor(key / n)) || !bi.has(key % (n * n))) continue;
      tri.set(key, lp);
    }
    lm.setNgramMaps(bi, tri);
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
    this.forEachBigram((v, w, j) => {
      keptBi[v] += Math.exp(this.biProb[j]);
      keptUni[v] += Math.exp(this.uni[w]);
    });
    for (let v = 0; v < n; v++) this.backoff[v] = keptBi[v] > 0 ? backoffWeight(keptBi[v], keptUni[v]) : 0;
    this.forEachBigram((_, v, j) => {
      let kept = 0;
      let keptLower = 0;
      for (let t = this.triStart[j]; t < this.triStart[j + 1]; t++) {
        kept += Math.exp(this.triProb[t]);
        keptLower += Math.exp(this.bigramLogProb(v, this.triWord[t]));
      }
      this.biBackoff[j] = kept > 0 ? backoffWeight(kept, keptLower) : 0;
    });
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
    const id = models.map((m) => Int32Array.from(m.words, (w) => lm.ids.get(w)!)); // own id → mixed id
    // Keys in typed arrays, sorted once, rather than sets and maps: a base model has a few hundred
    // thousand n-grams, and this runs whenever a model with personal.txt is opened.
    const bigramKeys: number[] = [];
    const trigramKeys: number[] = [];
    models.forEach((m, k) => {
      m.forEachBigram((v, w) => bigramKeys.push(id[k][v] * n + id[k][w]));
      m.forEachTrigram((u, v, w) => trigramKeys.push((id[k][u] * n + id[k][v]) * n + id[k][w]));
    });
    const biKeys = uniqueSorted(bigramKeys);
    let triKeys = uniqueSorted(trigramKeys);
    if (triKeys.length) {
      // A bigram model's words after v get exact trigram entries under every stored history (u v)
      // too: backing off from (u v) would scale them by the other model's back-off weight there.
      for (const m of models) {
        if (m.maxOrder !== 2) continue;
        const k = models.indexOf(m);
        const after = new Map<number, number[]>();
        m.forEachBigram((v, w) => (after.get(id[k][v]) ?? after.set(id[k][v], []).get(id[k][v])!).push(id[k][w]));
        for (let i = 0; i < triKeys.length; i++) {
          const h = Math.floor(triKeys[i] / n);
          if (i > 0 && Math.floor(triKeys[i - 1] / n) === h) continue;
          for (const w of after.get(h % n) ?? []) trigramKeys.push(h * n + w);
        }
      }
      triKeys = uniqueSorted(trigramKeys);
    }
    const biProb = Float64Array.from(biKeys, (key) => Math.log(mixed(-1, Math.floor(key / n), key % n)));
    const triProb = Float64Array.from(triKeys, (key) => {
      const h = Math.floor(key / n);
      return Math.log(mixed(Math.floor(h / n), h % n, key % n));
    });
    lm.setNgrams(biKeys, biProb, triKeys, triProb, (i) => {
      throw new Error(`WordLm.mix: trigram ${triKeys[i]} has no bigram for its history`);
    });
    // Histories with no stored n-gram either side keep a back-off weight of 1: the mixed lower
    // order, which stands in for the mixture of the two backed-off distributions.
    lm.renormalize();
    return lm;
  }

  /** Writes the model as ARPA text (log10 probabilities). */
  toArpa(): string {
    const n = this.size;
    const top = this.maxOrder;
    const w = this.words;
    const counts = [n, this.bigramCount, this.trigramCount];
    const out: string[] = ['\\data\\', ...counts.slice(0, top).map((c, k) => `ngram ${k + 1}=${c}`), '', '\\1-grams:'];
    const f = (x: number) => (x === -Infinity ? '-99' : (x / LN10).toFixed(6));
    for (let v = 0; v < n; v++) out.push(top > 1 ? `${f(this.uni[v])}\t${w[v]}\t${f(this.backoff[v])}` : `${f(this.uni[v])}\t${w[v]}`);
    if (top >= 2) {
      out.push('', '\\2-grams:');
      this.forEachBigram((u, v, j) => {
        const line = `${f(this.biProb[j])}\t${w[u]} ${w[v]}`;
        out.push(top > 2 && this.triStart[j + 1] > this.triStart[j] ? `${line}\t${f(this.biBackoff[j])}` : line);
      });
    }
    if (top >= 3) {
      out.push('', '\\3-grams:');
      this.forEachTrigram((u, v, x, t) => out.push(`${f(this.triProb[t])}\t${w[u]} ${w[v]} ${w[x]}`));
    }
    out.push('', '\\end\\', '');
    return out.join('\n');
  }

  /**
   * Reads an ARPA file of order 1 to 3 (higher orders are refused). Every malformed line is an
   * error naming its line number. Written to be quick on a few hundred thousand lines (the app
   * reads lm.arpa whenever it opens a model): one pass, no regular expression per line, n-grams
   * straight into typed arrays, sorted only when the file's order is not this model's.
   */
  static fromArpa(text: string): WordLm {
    let section = 0; // 0: before \data\, -1: \data\, 1–3: n-grams, 4: after \end\
    const declared = [0, 0, 0, 0];
    const declaredAt = [0, 0, 0, 0];
    const found = [0, 0, 0, 0];
    const lm = new WordLm();
    const names: string[] = [];
    const uni: number[] = [];
    const back: number[] = [];
    let biKeys: Float64Array = new Float64Array(0);
    let biProb: Float64Array = new Float64Array(0);
    let biBack: Float64Array = new Float64Array(0);
    let triKeys: Float64Array = new Float64Array(0);
    let triProb: Float64Array = new Float64Array(0);
    let triLine: Int32Array = new Int32Array(0);
    let n = 0;
    let lineNo = 0;
    let [lastFirst, firstId, lastFirstOfPair, lastSecond, secondId] = ['', 0, '', '', 0];
    const fail = (why: string, at = lineNo): never => {
      throw new Error(`ARPA line ${at}: ${why}`);
    };
    const num = (s: string) => {
      const x = Number(s);
      if (s === '' || !Number.isFinite(x)) fail(`'${s}' is not a number`);
      return x <= -99 ? -Infinity : x * LN10;
    };
    const wordId = (w: string) => {
      const id = lm.ids.get(w);
      return id === undefined ? fail(`'${w}' has no unigram`) : id;
    };
    // The vocabulary is complete once the unigrams are read: keys of longer n-grams need its size.
    const closeVocabulary = () => {
      if (n) return;
      if (!names.length) throw new Error('ARPA: no \\1-grams: section');
      for (const special of [BOS, EOS, UNK]) {
        if (lm.ids.has(special)) continue;
        lm.ids.set(special, names.length);
        names.push(special);
        uni.push(Math.log(1e-10)); // specials the file lacks
        back.push(0);
      }
      lm.setVocabulary(names);
      n = lm.size;
      lm.uni.set(uni);
      lm.backoff.set(back);
    };
    let pos = 0;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      if (end < 0) end = text.length;
      let line = text.slice(pos, end);
      pos = end + 1;
      lineNo++;
      if (line.charCodeAt(line.length - 1) <= 32 || line.charCodeAt(0) <= 32) line = line.trim();
      if (!line) continue;
      if (line.charCodeAt(0) === 92 /* \ */) {
        if (line === '\\data\\') {
          section = -1;
          continue;
        }
        if (line === '\\end\\') {
          section = 4;
          continue;
        }
        const m = /^\\(\d+)-grams:$/.exec(line);
        if (!m) fail(`unknown section '${line}'`);
        const k = Number(m![1]);
        if (k < 1 || k > MAX_ORDER) fail(`only orders 1 to ${MAX_ORDER} (unigram to trigram) are supported, this one has ${k}-grams`);
        if (k > 1) closeVocabulary();
        section = k;
        lm.maxOrder = Math.max(lm.maxOrder, k);
        if (k === 2) [biKeys, biProb, biBack] = [new Float64Array(declared[2]), new Float64Array(declared[2]), new Float64Array(declared[2])];
        if (k === 3) [triKeys, triProb, triLine] = [new Float64Array(declared[3]), new Float64Array(declared[3]), new Int32Array(declared[3])];
        continue;
      }
      if (section === -1) {
        const m = /^ngram (\d+)\s*=\s*(\d+)$/.exec(line);
        if (!m) fail(`expected 'ngram N=count' in \\data\\, got '${line}'`);
        const k = Number(m![1]);
        if (k < 1 || k > MAX_ORDER) fail(`only orders 1 to ${MAX_ORDER} (unigram to trigram) are supported, this one has ${k}-grams`);
        if (Number(m![2]) > MAX_ARPA_NGRAMS) fail(`${m![2]} ${k}-grams is more than this app reads (${MAX_ARPA_NGRAMS.toLocaleString('en')}); prune the model`);
        declared[k] = Number(m![2]);
        declaredAt[k] = lineNo;
        continue;
      }
      if (section < 1 || section > MAX_ORDER) fail('data outside a section');
      const k = section;
      // prob <tab> words <tab> back-off, as KenLM and SRILM write it; any other whitespace too
      const tabbed = line.split('\t');
      let words = tabbed.length === 2 || tabbed.length === 3 ? tabbed[1].split(' ') : [];
      let prob = tabbed[0];
      let bo = tabbed[2];
      if (words.length !== k || words.includes('')) {
        const parts = line.split(/\s+/);
        if (parts.length !== k + 1 && parts.length !== k + 2) {
          fail(`a ${k}-gram needs a probability, ${k} word${k > 1 ? 's' : ''} and optionally a back-off weight, got ${parts.length} field${parts.length > 1 ? 's' : ''}`);
        }
        [prob, words, bo] = [parts[0], parts.slice(1, k + 1), parts[k + 1]];
      }
      const p = num(prob);
      const i = found[k]++;
      if (k > 1 && i >= declared[k]) fail(`more ${k}-grams than the ${declared[k]} that \\data\\ declares`);
      if (k === 1) {
        // a repeated unigram would silently shift every id after it
        if (lm.ids.has(words[0])) fail(`unigram '${words[0]}' appears twice`);
        lm.ids.set(words[0], names.length);
        names.push(words[0]);
        uni.push(p);
        back.push(bo === undefined ? 0 : num(bo));
        continue;
      }
      // n-grams come grouped by history: look its words up only when it changes
      if (words[0] !== lastFirst) [lastFirst, firstId] = [words[0], wordId(words[0])];
      if (k === 2) {
        biKeys[i] = firstId * n + wordId(words[1]);
        biProb[i] = p;
        biBack[i] = bo === undefined ? 0 : num(bo);
      } else {
        if (words[1] !== lastSecond || words[0] !== lastFirstOfPair) [lastFirstOfPair, lastSecond, secondId] = [words[0], words[1], wordId(words[1])];
        triKeys[i] = (firstId * n + secondId) * n + wordId(words[2]);
        triProb[i] = p;
        triLine[i] = lineNo;
      }
    }
    closeVocabulary();
    for (let k = 1; k <= MAX_ORDER; k++) {
      if (declaredAt[k] && declared[k] !== found[k]) throw new Error(`ARPA line ${declaredAt[k]}: \\data\\ declares ${declared[k]} ${k}-grams but the file has ${found[k]}`);
      if (!declaredAt[k] && found[k]) throw new Error(`ARPA: the file has ${k}-grams but \\data\\ does not declare them`);
    }
    // Files from other tools list n-grams in their own vocabulary order: sort them into this one's.
    [biKeys, biProb, biBack] = sortedByKey(biKeys, biProb, biBack);
    let triBy: Int32Array | undefined;
    [triKeys, triProb, triBy] = sortedByKey(triKeys, triProb, triLine);
    lm.setNgrams(biKeys, biProb, triKeys, triProb, (t) => {
      const h = Math.floor(triKeys[t] / n);
      return fail(`trigram '${lm.words[Math.floor(h / n)]} ${lm.words[h % n]} ${lm.words[triKeys[t] % n]}' has no bigram '${lm.words[Math.floor(h / n)]} ${lm.words[h % n]}'`, triBy![t]);
    });
    lm.biBackoff = biBack;
    for (let j = 0; j < biBack.length; j++) if (lm.triStart[j + 1] === lm.triStart[j]) biBack[j] = 0;
    return lm;
  }

  private setVocabulary(names: string[]): void {
    this.words.length = 0;
    this.size = names.length;
    const ready = this.ids.size === names.length; // fromArpa numbers the words as it reads them
    if (!ready) this.ids.clear();
    for (let i = 0; i < names.length; i++) {
      if (!ready) this.ids.set(names[i], i);
      this.words.push(names[i]);
    }
    this.uni = new Float64Array(this.size);
    this.backoff = new Float64Array(this.size);
  }
}

/** The distinct values, ascending. */
function uniqueSorted(values: number[]): Float64Array {
  const a = Float64Array.from(values).sort();
  let j = 0;
  for (let i = 0; i < a.length; i++) if (j === 0 || a[i] !== a[j - 1]) a[j++] = a[i];
  return a.slice(0, j);
}

/** Index of `x` in the ascending `a[from … to)`, or −1. */
function search(a: Int32Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const y = a[mid];
    if (y === x) return mid;
    if (y < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The arrays reordered by ascending key (returned as they are when already in order). */
function sortedByKey<T extends Float64Array | Int32Array>(keys: Float64Array, values: Float64Array, extra: T): [Float64Array, Float64Array, T] {
  let sorted = true;
  for (let i = 1; i < keys.length && sorted; i++) sorted = keys[i - 1] < keys[i];
  if (sorted) return [keys, values, extra];
  const order = Array.from(keys.keys()).sort((x, y) => keys[x] - keys[y]);
  for (let i = 1; i < order.length; i++) if (keys[order[i - 1]] === keys[order[i]]) throw new Error(`ARPA: an n-gram appears twice`);
  const pick = <A extends Float64Array | Int32Array>(a: A): A => {
    const out = new (a.constructor as { new (n: number): A })(a.length);
    order.forEach((from, to) => (out[to] = a[from]));
    return out;
  };
  return [pick(keys), pick(values), pick(extra)];
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
