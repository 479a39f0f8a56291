// Writes public/favicon.svg and public/favicon.ico (32×32 PNG inside an ICO) from one drawing:
// five sound bars on a rounded blue square. Run: node scripts/make-favicon.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 32;
const BG = [0x25, 0x63, 0xeb];
const FG = [0xff, 0xff, 0xff];
const RADIUS = 7;
// bars: x, width, height (centred vertically)
const BARS = [[6, 3, 8], [10.5, 3, 16], [15, 3, 22], [19.5, 3, 14], [24, 3, 6]];

const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${SIZE} ${SIZE}">
  <rect width="${SIZE}" height="${SIZE}" rx="${RADIUS}" fill="${hex(BG)}"/>
${BARS.map(([x, w, h]) => `  <rect x="${x}" y="${(SIZE - h) / 2}" width="${w}" height="${h}" rx="${w / 2}" fill="${hex(FG)}"/>`).join('\n')}
</svg>
`;
writeFileSync('public/favicon.svg', svg);

// Coverage of a pixel by the drawing, sampled 4×4 per pixel.
function inRoundedRect(px, py, x, y, w, h, r) {
  if (px < x || py < y || px > x + w || py > y + h) return false;
  const cx = Math.min(Math.max(px, x + r), x + w - r);
  const cy = Math.min(Math.max(py, y + r), y + h - r);
  return (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
}
const rows = [];
for (let y = 0; y < SIZE; y++) {
  const row = [0]; // PNG filter: none
  for (let x = 0; x < SIZE; x++) {
    let bg = 0;
    let fg = 0;
    for (let sy = 0; sy < 4; sy++)
      for (let sx = 0; sx < 4; sx++) {
        const px = x + (sx + 0.5) / 4;
        const py = y + (sy + 0.5) / 4;
        if (!inRoundedRect(px, py, 0, 0, SIZE, SIZE, RADIUS)) continue;
        if (BARS.some(([bx, w, h]) => inRoundedRect(px, py, bx, (SIZE - h) / 2, w, h, w / 2))) fg++;
        else bg++;
      }
    const a = bg + fg;
    const mix = (i) => (a ? Math.round((BG[i] * bg + FG[i] * fg) / a) : 0);
    row.push(mix(0), mix(1), mix(2), Math.round((255 * a) / 16));
  }
  rows.push(...row);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from(rows))), chunk('IEND', Buffer.alloc(0))]);

// ICO: header, one directory entry, the PNG (https://en.wikipedia.org/wiki/ICO_(file_format)).
const ico = Buffer.alloc(22);
ico.writeUInt16LE(0, 0);
ico.writeUInt16LE(1, 2);
ico.writeUInt16LE(1, 4);
ico.set([SIZE, SIZE, 0, 0], 6);
ico.writeUInt16LE(1, 10);
ico.writeUInt16LE(32, 12);
ico.writeUInt32LE(png.length, 14);
ico.writeUInt32LE(22, 18);
writeFileSync('public/favicon.ico', Buffer.concat([ico, png]));
console.log(`public/favicon.svg, public/favicon.ico (${22 + png.length} bytes)`);
