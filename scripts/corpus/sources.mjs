// Text sources for the synthetic corpus, all shipped as Debian packages (see setup.sh / README).
//
//   austen   r-cran-janeaustenr   Jane Austen's six novels (1811-1817)    public domain text
//   moby     r-cran-tokenizers    Melville, Moby-Dick (1851)              public domain text
//   harvard  r-cran-stringr       720 Harvard/IEEE phonetic sentences     public domain (1969)
//   wordnet  wordnet-base         usage examples from WordNet 3.0 glosses WordNet 3.0 licence
//
// The R packages only wrap the texts; we run Rscript once to dump them to plain text files and
// read those from then on, so R is needed only when the cache is empty.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeSentence, splitSentences } from './normalize.mjs';

const WORDNET_DIR = '/usr/share/wordnet';

// One R script dumps all three R-packaged texts. Paragraph breaks are kept as blank lines
// because sentence splitting works per paragraph.
const R_DUMP = `
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
suppressMessages(library(janeaustenr))
b <- austen_books()
writeLines(as.character(b$text), file.path(dir, "austen.txt.part"), useBytes = TRUE)
data("mobydick", package = "tokenizers", envir = environment())
writeLines(mobydick, file.path(dir, "moby.txt.part"), useBytes = TRUE)
writeLines(stringr::sentences, file.path(dir, "harvard.txt.part"), useBytes = TRUE)
`;

function dumpRTexts(rawDir) {
  const names = ['austen', 'moby', 'harvard'];
  if (names.every((n) => existsSync(join(rawDir, `${n}.txt`)))) return;
  try {
    execFileSync('Rscript', ['-e', R_DUMP, rawDir], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new Error(
      `Could not dump the R-packaged texts (${err.message}).\n` +
        'Install them with: sudo bash scripts/corpus/setup.sh',
    );
  }
  for (const n of names) renameSync(join(rawDir, `${n}.txt.part`), join(rawDir, `${n}.txt`));
}

/** Paragraphs = runs of non-blank lines (Gutenberg hard-wraps lines inside a paragraph). */
function paragraphs(text) {
  return text.replace(/\r\n?/g, '\n').split(/\n\s*\n/);
}

/** Keep only the book between Project Gutenberg's START and END markers (licence text is not prose). */
function stripGutenbergBoilerplate(text) {
  const start = text.search(/\*\*\* ?START OF (THIS|THE) PROJECT GUTENBERG[^\n]*\n/);
  const end = text.search(/\*\*\* ?END OF (THIS|THE) PROJECT GUTENBERG/);
  if (start < 0 || end < 0) return text;
  return text.slice(text.indexOf('\n', start) + 1, end);
}

/** WordNet glosses look like `... | definition; "example one"; "example two"`. */
function wordnetExamples() {
  const out = [];
  for (const pos of ['noun', 'verb', 'adj', 'adv']) {
    const file = join(WORDNET_DIR, `data.${pos}`);
    if (!existsSync(file)) {
      throw new Error(`${file} is missing. Install it with: sudo bash scripts/corpus/setup.sh`);
    }
    for (const line of readFileSync(file, 'latin1').split('\n')) {
      if (line.startsWith('  ')) continue; // licence header
      const bar = line.indexOf(' | ');
      if (bar < 0) continue;
      for (const m of line.slice(bar + 3).matchAll(/"([^"]+)"/g)) out.push(m[1]);
    }
  }
  return out;
}

/**
 * Raw sentences of every source, not yet normalized: [{source, raw}].
 * rawDir caches the R dumps.
 */
export function rawSentences(rawDir) {
  mkdirSync(rawDir, { recursive: true });
  dumpRTexts(rawDir);
  const out = [];
  for (const source of ['austen', 'moby']) {
    const text = stripGutenbergBoilerplate(readFileSync(join(rawDir, `${source}.txt`), 'utf8'));
    for (const para of paragraphs(text)) {
      if (/project gutenberg/i.test(para)) continue; // "End of Project Gutenberg's ..." trailer
      for (const raw of splitSentences(para)) out.push({ source, raw });
    }
  }
  for (const raw of readFileSync(join(rawDir, 'harvard.txt'), 'utf8').split('\n')) {
    if (raw.trim()) out.push({ source: 'harvard', raw });
  }
  // Many WordNet examples are three-word noun phrases ("a tender glance"); we keep clauses of at
  // least four words so the source doesn't swamp the prose with fragments.
  for (const raw of wordnetExamples()) {
    if (raw.trim().split(/\s+/).length >= 4) out.push({ source: 'wordnet', raw });
  }
  return out;
}

// Evaluation sets whose transcripts must never be trained on. We only read them to remove any
// sentence of ours that happens to be identical (e.g. a classic novel line used in a test clip).
const EVAL_MANIFESTS = [
  'ljspeech_coqui', 'misc_samples', 'fsdd', 'speechocean762/dev', 'pocketsphinx_testdata',
  'speech_commands_v001_sample',
];

function evalTranscripts(speechDir) {
  const texts = new Set();
  for (const d of EVAL_MANIFESTS) {
    const f = join(speechDir, d, 'manifest.jsonl');
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const { text } = JSON.parse(line);
      const n = normalizeSentence(String(text));
      if (n) texts.add(n.text);
    }
  }
  return texts;
}

/** Small seeded PRNG (xorshift32 over a FNV-1a hash of the seed string): same seed, same order. */
export function seededRandom(seed) {
  let h = 0x811c9dc5;
  for (const ch of String(seed)) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  let x = h >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

/**
 * Build (or load) the frozen sentence list: normalized, deduplicated, shuffled with `seed`.
 * Frozen on purpose: utterance ids map to positions in this list, so rebuilding it would
 * re-pair already generated audio ids with different sentences (the audio's sidecar still holds
 * its own text, so manifests stay correct, but the mix would drift). Delete the file to rebuild.
 */
export function loadSentences({ textDir, seed, speechDir, log = console.log }) {
  const file = join(textDir, 'sentences.jsonl');
  if (existsSync(file)) {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  }
  mkdirSync(textDir, { recursive: true });
  const raws = rawSentences(join(textDir, 'raw'));
  const banned = evalTranscripts(speechDir);
  const seen = new Set();
  const kept = [];
  const stats = {};
  let evalHits = 0;
  for (const { source, raw } of raws) {
    const st = (stats[source] ??= { raw: 0, kept: 0 });
    st.raw++;
    const n = normalizeSentence(raw);
    if (!n || seen.has(n.text)) continue;
    seen.add(n.text);
    if (banned.has(n.text)) { evalHits++; continue; }
    st.kept++;
    kept.push({ source, speak: n.speak, text: n.text });
  }
  const rand = seededRandom(`sentences:${seed}`);
  for (let i = kept.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [kept[i], kept[j]] = [kept[j], kept[i]];
  }
  kept.forEach((s, i) => { s.id = `s${String(i).padStart(6, '0')}`; });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, kept.map((s) => JSON.stringify(s)).join('\n') + '\n');
  renameSync(tmp, file);
  for (const [src, st] of Object.entries(stats)) {
    log(`text: ${src}: ${st.raw} raw sentences -> ${st.kept} kept`);
  }
  log(`text: ${kept.length} unique sentences (${evalHits} removed as identical to eval transcripts)`);
  return kept;
}
