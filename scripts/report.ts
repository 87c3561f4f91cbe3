import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import type { ClaimResult } from '../lib/present/claims.js';
import type { Figure } from '../lib/present/figure.js';

const require = createRequire(import.meta.url);

/** Chromium flags for a closed network: no background connections, no sandbox (root). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** The system Chromium (Debian's `chromium`), or $CHROME_PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}); install it (Debian/Ubuntu: apt-get install chromium) or set CHROME_PATH`);
  return found;
}

export function plotlyPath(): string {
  return require.resolve('plotly.js-dist-min/plotly.min.js');
}

interface PageLike {
  setContent(html: string): Promise<unknown>;
  addScriptTag(o: { path: string }): Promise<unknown>;
  evaluate<T, A>(f: (a: A) => T | Promise<T>, arg: A): Promise<T>;
}
interface BrowserLike {
  newPage(): Promise<PageLike & { close(): Promise<void> }>;
  close(): Promise<void>;
}

/** One headless Chromium for a whole run (playwright-core driving the system browser). */
export async function launchBrowser(): Promise<BrowserLike> {
  const { chromium } = (await import('playwright-core')) as unknown as { chromium: { launch(o: unknown): Promise<BrowserLike> } };
  return chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS });
}

/** Runs in the page: draws the spec with plotly.js and returns SVG and PNG data URLs. */
const RENDER_IN_PAGE = `return (async () => {
  const el = document.getElementById('fig');
  const width = Number(f.layout.width || 640), height = Number(f.layout.height || 440);
  const gd = await Plotly.newPlot(el, f.data, f.layout, { staticPlot: true });
  const svg = await Plotly.toImage(gd, { format: 'svg', width, height });
  const png = await Plotly.toImage(gd, { format: 'png', width, height, scale: 2 });
  Plotly.purge(gd);
  return { svg, png };
})();`;

/** Renders every saved figure spec (figures/<notebook>/<name>.json) to .svg and .png next to it. */
export async function exportFigures(figuresDir: string, browser: BrowserLike, log: (l: string) => void = () => {}): Promise<string[]> {
  if (!existsSync(figuresDir)) return [];
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="fig"></div></body></html>');
  await page.addScriptTag({ path: plotlyPath() });
  const written: string[] = [];
  for (const nb of readdirSync(figuresDir).sort()) {
    const dir = join(figuresDir, nb);
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const fig = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Figure;
      const images = await page.evaluate<{ svg: string; png: string }, Figure>(
        new Function('f', RENDER_IN_PAGE) as (f: Figure) => Promise<{ svg: string; png: string }>,
        fig,
      );
      const stem = join(dir, file.replace(/\.json$/, ''));
      writeFileSync(`${stem}.svg`, decodeURIComponent(images.svg.replace(/^data:image\/svg\+xml,/, '')));
      writeFileSync(`${stem}.png`, Buffer.from(images.png.replace(/^data:image\/png;base64,/, ''), 'base64'));
      written.push(`${stem}.svg`, `${stem}.png`);
      log(`figure ${nb}/${basename(stem)}: svg, png`);
    }
  }
  await page.close();
  return written;
}

interface RunJson {
  updated?: string;
  notebooks: Record<string, { status: string; seconds: number; profile: string; backend?: string; output: string; claims?: ClaimResult[]; error?: string }>;
}

function esc(s: unknown): string {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(3) : v.toExponential(2);
}

function expected(c: ClaimResult): string {
  const { min, max } = c.expected;
  if (min !== undefined && max !== undefined) return `[${min}, ${max}]`;
  if (min !== undefined) return `≥ ${min}`;
  if (max !== undefined) return `≤ ${max}`;
  return '';
}

interface Row {
  notebook: string;
  paper: string;
  figure: string;
  plot?: string;
  claims: ClaimResult[];
}

/** Rows of the report: one per paper figure/table, in notebook order. */
export function reportRows(run: RunJson): Row[] {
  const rows: Row[] = [];
  for (const [notebook, e] of Object.entries(run.notebooks)) {
    for (const c of e.claims ?? []) {
      let row = rows.find((r) => r.notebook === notebook && r.paper === c.paper && r.figure === c.figure);
      if (!row) rows.push((row = { notebook, paper: c.paper, figure: c.figure, plot: c.plot, claims: [] }));
      row.plot ??= c.plot;
      row.claims.push(c);
    }
  }
  return rows;
}

/**
 * reproduction/report.html (figures drawn by plotly.js from their specs, offline; static PNG beside) and
 * reproduction/REPORT.md, one row per paper figure with its claim checks, and "N of M claims reproduced".
 */
export function writeReport(outDir: string): { html: string; md: string; passed: number; total: number } {
  const run = JSON.parse(readFileSync(join(outDir, 'run.json'), 'utf8')) as RunJson;
  const rows = reportRows(run);
  const all = rows.flatMap((r) => r.claims);
  const passed = all.filter((c) => c.pass).length;
  copyFileSync(plotlyPath(), join(outDir, 'plotly.min.js'));
  const specs: Record<string, Figure> = {};
  const figFile = (r: Row, ext: string) => (r.plot ? join('figures', r.notebook, `${r.plot}.${ext}`) : undefined);
  for (const r of rows) {
    const f = figFile(r, 'json');
    if (f && existsSync(join(outDir, f))) specs[`${r.notebook}/${r.plot}`] = JSON.parse(readFileSync(join(outDir, f), 'utf8')) as Figure;
  }
  const summary = `${passed} of ${all.length} claims reproduced`;
  const nbInfo = (nb: string) => run.notebooks[nb];
  const claimHtml = (c: ClaimResult) =>
    `<li class="${c.pass ? 'pass' : 'fail'}"><b>${c.pass ? 'PASS' : 'FAIL'}</b> ${esc(c.claim)}<br><span class="q">${esc(c.quantity)} = <b>${esc(fmt(c.measured))}</b>, expected ${esc(expected(c))}</span>${c.note ? `<br><span class="note">${esc(c.note)}</span>` : ''}</li>`;
  const rowHtml = rows
    .map((r, i) => {
      const e = nbInfo(r.notebook);
      const c0 = r.claims[0];
      const png = figFile(r, 'png');
      const key = `${r.notebook}/${r.plot}`;
      return `<tr><td>${esc(r.paper)}</td><td>${esc(r.figure)}</td><td><ul>${r.claims.map(claimHtml).join('')}</ul></td>
<td>${esc(c0.dataset ?? 'synthetic / as in the paper')}</td><td>${esc(e.profile)}</td><td>${esc(e.backend ?? c0.backend)}</td><td>${esc(c0.seeds ?? '')}</td><td>${esc(e.seconds)} s</td>
<td>${specs[key] ? `<div class="fig" id="fig${i}" data-key="${esc(key)}"></div>` : ''}${png && existsSync(join(outDir, png)) ? `<a href="${esc(png)}">png</a> · <a href="${esc(png.replace(/png$/, 'svg'))}">svg</a>` : ''} · <a href="${esc(e.output)}">notebook</a></td></tr>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>tangent-lab reproduction report</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:6px;vertical-align:top;font-size:13px}
li.pass b{color:#17803d}li.fail b{color:#c62828}ul{padding-left:16px;margin:0}.q{color:#444}.note{color:#777;font-size:12px}.fig{min-width:400px}.summary{font-size:18px;font-weight:600}</style>
<script src="plotly.min.js"></script></head><body>
<h1>tangent-lab: reproduction report</h1>
<p class="summary" id="summary">${esc(summary)}</p>
<p>Run ${esc(run.updated ?? '')}. Notebooks: ${Object.entries(run.notebooks).map(([n, e]) => `<a href="${esc(e.output)}">${esc(n)}</a> (${esc(e.status)}, ${esc(e.seconds)} s)`).join(', ')}.</p>
<table><thead><tr><th>paper</th><th>figure</th><th>claim checks</th><th>data</th><th>profile</th><th>backend</th><th>seeds</th><th>notebook time</th><th>figure</th></tr></thead><tbody>
${rowHtml}
</tbody></table>
<script>const SPECS=${JSON.stringify(specs).replace(/</g, '\\u003c')};
for (const el of document.querySelectorAll('.fig')) { const s = SPECS[el.dataset.key]; const w = s.layout.width || 640, h = s.layout.height || 440, k = Math.min(1, 760 / w); Plotly.newPlot(el, s.data, Object.assign({}, s.layout, { width: Math.round(w * k), height: Math.round(h * k) }), { displaylogo: false, responsive: false }); }</script>
</body></html>`;
  writeFileSync(join(outDir, 'report.html'), html);
  const md = [
    '# tangent-lab: reproduction report',
    '',
    `**${summary}.** Run ${run.updated ?? ''}; open \`report.html\` for interactive figures.`,
    '',
    '| paper | figure | claim checks | data | profile | backend | seeds | time | figure |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const e = nbInfo(r.notebook);
      const c0 = r.claims[0];
      const checks = r.claims.map((c) => `${c.pass ? '✅ PASS' : '❌ FAIL'} ${c.claim}: ${c.quantity} = ${fmt(c.measured)} (expected ${expected(c)})`).join('<br>');
      const png = figFile(r, 'png');
      return `| ${r.paper} | ${r.figure} | ${checks.replace(/\|/g, '\\|')} | ${c0.dataset ?? 'synthetic / as in the paper'} | ${e.profile} | ${(e.backend ?? c0.backend).replace(/\|/g, '\\|')} | ${c0.seeds ?? ''} | ${e.seconds} s | ${png && existsSync(join(outDir, png)) ? `![${r.plot}](${png})` : ''} [notebook](${e.output}) |`;
    }),
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'REPORT.md'), md);
  return { html: join(outDir, 'report.html'), md: join(outDir, 'REPORT.md'), passed, total: all.length };
}

