// Turns `earshot personalize` JSON (one or more files, e.g. one per data set) into an SVG: the
// relative WER change against the number of adaptation utterances n, one line per speaker, with
// the mean over all speakers and its bootstrap 95% interval (recomputed over the speakers of all
// files together), and the mean with held-out adoption. Prints that combined summary per n as one
// JSON object on stdout.
//
//   npx tsx scripts/plot-personalization.ts scripts/results/personalize-*.json --out scripts/results/personalization-curves.svg [--title "…"]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarizeChanges, type ChangeSummary } from '../src/cli/personalize-stats';

interface SizeRow {
  n: number;
  wer_before: number;
  wer_after: number;
  wer_adopted: number;
  relative_wer_change: number | null;
  own_vocab: { wer_before: number | null; wer_after: number | null };
  train_seconds: number;
}
interface Run {
  manifest: string;
  model_step?: number | null;
  decoding: string;
  seed: number;
  per_speaker: { speaker: string; sizes: SizeRow[] }[];
}

const { values: a, positionals: files } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, title: { type: 'string' } } });
if (!files.length || !a.out) {
  console.error('usage: npx tsx scripts/plot-personalization.ts <personalize.json>... --out <file.svg> [--title T]');
  process.exit(2);
}
const lastJsonLine = (text: string) => JSON.parse(text.trim().split('\n').pop()!) as Run;
const runs = files.map((f) => lastJsonLine(readFileSync(f, 'utf8')));
const setName = (r: Run) => r.manifest.replace(/\/manifest\.jsonl$/, '').replace(/^.*speech\//, '');
const speakers = runs.flatMap((r) => r.per_speaker.map((s) => ({ label: `${setName(r)} ${s.speaker}`, sizes: s.sizes })));
const sizes = [...new Set(speakers.flatMap((s) => s.sizes.map((r) => r.n)))].sort((x, y) => x - y);
const seed = runs[0].seed;
const at = (n: number) => speakers.flatMap((s) => s.sizes.filter((r) => r.n === n));
const summary = sizes.map((n) => {
  const rs = at(n);
  const own = rs.filter((r) => r.own_vocab.wer_before !== null && r.own_vocab.wer_after !== null).map((r) => ({ before: r.own_vocab.wer_before!, after: r.own_vocab.wer_after! }));
  return {
    n,
    raw: summarizeChanges(rs.map((r) => ({ before: r.wer_before, after: r.wer_after })), seed),
    with_adoption: summarizeChanges(rs.map((r) => ({ before: r.wer_before, after: r.wer_adopted })), seed),
    own_vocab: summarizeChanges(own, seed),
    mean_train_seconds: rs.reduce((s, r) => s + r.train_seconds, 0) / rs.length,
  };
});

// --- the plot: x is log n, y is relative WER change in percent (down is better)
const W = 760, H = 440, L = 70, R = 220, T = 50, B = 60, PAD = 24;
const xs = (n: number) => L + PAD + ((Math.log(n) - Math.log(sizes[0])) / Math.max(1e-9, Math.log(sizes.at(-1)!) - Math.log(sizes[0]))) * (W - L - R - 2 * PAD);
const values = [0, ...speakers.flatMap((s) => s.sizes.map((r) => r.relative_wer_change ?? 0)), ...summary.flatMap((s) => (s.raw ? s.raw.ci95 : []))];
const step = 5;
const yMin = Math.floor((100 * Math.min(...values)) / step) * step - step;
const yMax = Math.ceil((100 * Math.max(...values)) / step) * step + step;
const ys = (rel: number) => T + ((yMax - 100 * rel) / (yMax - yMin)) * (H - T - B);
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#d62728'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const el: string[] = [];
const line = (pts: [number, number][], attrs: string) => `<polyline fill="none" ${attrs} points="${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`;
for (let v = yMin; v <= yMax; v += step) {
  el.push(`<line x1="${L}" x2="${W - R}" y1="${ys(v / 100)}" y2="${ys(v / 100)}" stroke="${v === 0 ? '#444' : '#e5e5e5'}" stroke-width="${v === 0 ? 1.2 : 1}"/>`);
  el.push(`<text x="${L - 8}" y="${ys(v / 100) + 4}" text-anchor="end">${v > 0 ? '+' : ''}${v}%</text>`);
}
// the mean at each n is over the speakers who have that many utterances: say how many
for (const n of sizes) el.push(`<text x="${xs(n)}" y="${H - B + 16}" text-anchor="middle">${n}</text><text x="${xs(n)}" y="${H - B + 29}" text-anchor="middle" font-size="10" fill="#666">${at(n).length} spk</text>`);
// the mean's interval as a band, then the speakers, then the means on top
const band = summary.filter((s) => s.raw);
if (band.length > 1) el.push(`<polygon fill="#000" fill-opacity="0.08" points="${[...band.map((s) => [xs(s.n), ys(s.raw!.ci95[1])]), ...band.reverse().map((s) => [xs(s.n), ys(s.raw!.ci95[0])])].map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`);
for (const s of summary) if (s.raw) el.push(`<line x1="${xs(s.n)}" x2="${xs(s.n)}" y1="${ys(s.raw.ci95[0])}" y2="${ys(s.raw.ci95[1])}" stroke="#000" stroke-width="1.5"/>`);
const legend: [string, string][] = [];
speakers.forEach((s, i) => {
  const c = COLORS[i % COLORS.length];
  const pts = s.sizes.filter((r) => r.relative_wer_change !== null).map((r) => [xs(r.n), ys(r.relative_wer_change!)] as [number, number]);
  el.push(line(pts, `stroke="${c}" stroke-width="1.5" stroke-opacity="0.85"`));
  for (const [x, y] of pts) el.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${c}"/>`);
  legend.push([c, s.label]);
});
const meanPts = summary.filter((s) => s.raw).map((s) => [xs(s.n), ys(s.raw!.mean_relative_change)] as [number, number]);
el.push(line(meanPts, 'stroke="#000" stroke-width="3"'));
const adoptPts = summary.filter((s) => s.with_adoption).map((s) => [xs(s.n), ys(s.with_adoption!.mean_relative_change)] as [number, number]);
el.push(line(adoptPts, 'stroke="#000" stroke-width="2" stroke-dasharray="6 4"'));
legend.push(['#000', 'mean (band: 95% CI)'], ['dash', 'mean with adoption']);
legend.forEach(([c, label], i) => {
  const y = T + 10 + i * 20;
  el.push(c === 'dash' ? `<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${y}" y2="${y}" stroke="#000" stroke-width="2" stroke-dasharray="6 4"/>` : `<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${y}" y2="${y}" stroke="${c}" stroke-width="${c === '#000' ? 3 : 2}"/>`);
  el.push(`<text x="${W - R + 46}" y="${y + 4}">${esc(label)}</text>`);
});
const step0 = runs[0].model_step;
const title = a.title ?? `Relative WER change after adapting on a speaker's first n utterances${step0 ? ` (base model step ${step0})` : ''}`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>
<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">adaptation utterances n (log scale)</text>
<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">relative WER change (lower is better)</text>
<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>
${el.join('\n')}
</svg>
`;
writeFileSync(a.out, svg);
console.error(`wrote ${a.out}: ${speakers.length} speakers, sizes ${sizes.join(', ')}`);
console.log(JSON.stringify({ files, speakers: speakers.map((s) => s.label), decoding: runs.map((r) => r.decoding), by_n: summary satisfies { raw: ChangeSummary | null }[] }));
