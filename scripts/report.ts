import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ClaimResult, type NotAttempted, isNotAttempted } from '../lib/present/claims.js';
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
  goto(url: string): Promise<unknown>;
  waitForFunction(f: string, arg?: unknown, o?: { timeout?: number }): Promise<unknown>;
  addScriptTag(o: { path: string }): Promise<unknown>;
  evaluate<T, A>(f: (a: A) => T | Promise<T>, arg: A): Promise<T>;
}
interface BrowserLike {
  newPage(o?: { viewport?: { width: number; height: number } }): Promise<PageLike & { close(): Promise<void> }>;
  close(): Promise<void>;
}

/** One headless Chromium for a whole run (playwright-core driving the system browser). */
export async function launchBrowser(): Promise<BrowserLike> {
  const { chromium } = (await import('playwright-core')) as unknown as { chromium: { launch(o: unknown): Promise<BrowserLike> } };
  return chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS });
}

/**
 * Runs in the page on a drawn plotly graph `gd`: the bounding boxes of the figure title, axis titles, tick
 * labels, annotations (subplot titles, marker labels) and the legend, and every pair of them that overlaps
 * or leaves the canvas. Tick labels of one axis are not compared with each other (plotly spaces them).
 */
export const LAYOUT_PROBLEMS_IN_PAGE = `
  const root = gd.querySelector('.main-svg').getBoundingClientRect();
  const W = root.width, H = root.height;
  const items = [];
  const add = (el, kind, group) => {
    const b = el.getBoundingClientRect();
    if (b.width < 0.5 || b.height < 0.5) return;
    const text = (el.textContent || '').trim().slice(0, 40);
    items.push({ kind, group, text, x0: b.left - root.left, y0: b.top - root.top, x1: b.right - root.left, y1: b.bottom - root.top });
  };
  for (const g of gd.querySelectorAll('.infolayer g[class^="g-"]')) {
    const cls = [...g.classList].find((c) => /^g-.*title$/.test(c));
    if (!cls) continue;
    for (const t of g.querySelectorAll('text')) add(t, cls === 'g-gtitle' ? 'title' : 'axis title ' + cls.slice(2, -5), cls);
  }
  for (const t of gd.querySelectorAll('g[class$="tick"] > text')) {
    const cls = t.parentNode.getAttribute('class');
    add(t, 'tick label ' + cls.replace(/tick$/, ''), cls);
  }
  gd.querySelectorAll('.annotation').forEach((a, i) => add(a, 'annotation', 'annotation' + i));
  const legend = gd.querySelector('.legend .bg') || gd.querySelector('.legend');
  if (legend) add(legend, 'legend', 'legend');
  const problems = [];
  const name = (it) => it.kind + (it.text ? " '" + it.text + "'" : '');
  for (const it of items) {
    if (it.x0 < -1 || it.y0 < -1 || it.x1 > W + 1 || it.y1 > H + 1) problems.push(name(it) + ' leaves the canvas (' + [it.x0, it.y0, it.x1, it.y1].map(Math.round).join(', ') + ' in ' + W + 'x' + H + ')');
  }
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (a.group === b.group) continue;
      const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0), h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
      if (w > 1 && h > 1) problems.push(name(a) + ' overlaps ' + name(b));
    }
  }
  return { problems, checked: items.length };
`;

/** Runs in the page: draws the spec with plotly.js, checks its layout, and returns SVG and PNG data URLs. */
const RENDER_IN_PAGE = `return (async () => {
  const el = document.getElementById('fig');
  const width = Number(f.layout.width || 640), height = Number(f.layout.height || 440);
  const gd = await Plotly.newPlot(el, f.data, f.layout, { staticPlot: true });
  const layout = (() => { ${LAYOUT_PROBLEMS_IN_PAGE} })();
  const svg = await Plotly.toImage(gd, { format: 'svg', width, height });
  const png = await Plotly.toImage(gd, { format: 'png', width, height, scale: 2 });
  Plotly.purge(gd);
  return { svg, png, layout };
})();`;

/** What the layout check found in one figure. */
export interface LayoutCheck {
  problems: string[];
  /** Number of text elements and legends measured. */
  checked: number;
}

/**
 * Renders every saved figure spec (figures/<notebook>/<name>.json) to .svg and .png next to it, and writes
 * figures/layout-check.json: per figure, the titles, axis titles, tick labels, annotations and legends
 * that overlap each other or leave the canvas (LAYOUT_PROBLEMS_IN_PAGE), measured in Chromium.
 */
export async function exportFigures(figuresDir: string, browser: BrowserLike, log: (l: string) => void = () => {}): Promise<string[]> {
  if (!existsSync(figuresDir)) return [];
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html><body><div id="fig"></div></body></html>');
  await page.addScriptTag({ path: plotlyPath() });
  const written: string[] = [];
  const layouts: Record<string, LayoutCheck> = {};
  for (const nb of readdirSync(figuresDir).sort()) {
    const dir = join(figuresDir, nb);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const fig = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Figure;
      const images = await page.evaluate<{ svg: string; png: string; layout: LayoutCheck }, Figure>(
        new Function('f', RENDER_IN_PAGE) as (f: Figure) => Promise<{ svg: string; png: string; layout: LayoutCheck }>,
        fig,
      );
      layouts[`${nb}/${file.replace(/\.json$/, '')}`] = images.layout;
      if (images.layout.problems.length > 0) log(`figure ${nb}/${file}: layout: ${images.layout.problems.join('; ')}`);
      const stem = join(dir, file.replace(/\.json$/, ''));
      writeFileSync(`${stem}.svg`, decodeURIComponent(images.svg.replace(/^data:image\/svg\+xml,/, '')));
      writeFileSync(`${stem}.png`, Buffer.from(images.png.replace(/^data:image\/png;base64,/, ''), 'base64'));
      written.push(`${stem}.svg`, `${stem}.png`);
      log(`figure ${nb}/${basename(stem)}: svg, png`);
    }
  }
  await page.close();
  writeFileSync(join(figuresDir, 'layout-check.json'), `${JSON.stringify(layouts, null, 2)}\n`);
  return written;
}

/**
 * The layout check (LAYOUT_PROBLEMS_IN_PAGE) on every figure of a written report.html as a browser window
 * `viewportWidth` px wide draws it: the report's own sizing, not the exported PNG's, is what a reader sees.
 * Keyed by the figure's `<notebook>/<plot>`.
 */
export async function checkReportLayout(reportHtml: string, browser: BrowserLike, viewportWidth = 1500): Promise<Record<string, LayoutCheck>> {
  const page = await browser.newPage({ viewport: { width: viewportWidth, height: 1000 } });
  try {
    await page.goto(pathToFileURL(reportHtml).href);
    await page.waitForFunction(`[...document.querySelectorAll('.fig')].every((el) => el.querySelector('.main-svg'))`, undefined, { timeout: 60_000 });
    return await page.evaluate<Record<string, LayoutCheck>, null>(
      new Function(`const out = {};
        for (const gd of document.querySelectorAll('.fig')) out[gd.dataset.key] = (() => { ${LAYOUT_PROBLEMS_IN_PAGE} })();
        return out;`) as () => Record<string, LayoutCheck>,
      null,
    );
  } finally {
    await page.close();
  }
}

/** Per notebook: stored results computed and reused, in total and per code fingerprint (scripts/run_notebooks.py). */
interface StoreCounts {
  computed: number;
  reused: number;
  fingerprints?: Record<string, { computed: number; reused: number; tasks: string[] }>;
}

interface RunJson {
  updated?: string;
  notebooks: Record<string, { status: string; seconds: number; profile: string; backend?: string; output: string; claims?: (ClaimResult | NotAttempted)[]; error?: string; store?: StoreCounts; parameters?: Record<string, unknown> }>;
}

/** `3 computed, 9 reused · code 1a2b3c4d (fig1Run, fig2Run)`, or '' for a notebook that used no stored results. */
export function storeText(s: StoreCounts | undefined): string {
  if (!s || s.computed + s.reused === 0) return '';
  const fps = Object.entries(s.fingerprints ?? {}).map(([fp, f]) => `${fp.replace(/^sha256:/, '').slice(0, 8)} (${f.tasks.join(', ')})`);
  return `${s.computed} computed, ${s.reused} reused${fps.length ? ` · code ${fps.join('; ')}` : ''}`;
}

/** `-p` overrides of a notebook's parameters (run.json), as `name=value, …`, or '' when there are none. */
export function parametersText(p: Record<string, unknown> | undefined): string {
  return Object.entries(p ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ');
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
  /** Panels of this figure the notebook does not attempt, with the reason. */
  skipped: NotAttempted[];
}

/** Rows of the report: one per paper figure/table, in notebook order (not-attempted panels in their figure's row). */
export function reportRows(run: RunJson): Row[] {
  const rows: Row[] = [];
  for (const [notebook, e] of Object.entries(run.notebooks)) {
    for (const c of e.claims ?? []) {
      let row = rows.find((r) => r.notebook === notebook && r.paper === c.paper && r.figure === c.figure);
      if (!row) rows.push((row = { notebook, paper: c.paper, figure: c.figure, plot: 'plot' in c ? c.plot : undefined, claims: [], skipped: [] }));
      if (isNotAttempted(c as { kind?: string })) {
        row.skipped.push(c as NotAttempted);
        continue;
      }
      const claim = c as ClaimResult;
      row.plot ??= claim.plot;
      row.claims.push(claim);
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
  const skippedHtml = (k: NotAttempted) => `<li class="skip"><b>NOT ATTEMPTED</b> ${esc(k.what)}<br><span class="note">${esc(k.reason)}</span></li>`;
  const rowHtml = rows
    .map((r, i) => {
      const e = nbInfo(r.notebook);
      const c0: Partial<ClaimResult> = r.claims[0] ?? {};
      const png = figFile(r, 'png');
      const key = `${r.notebook}/${r.plot}`;
      return `<tr><td>${esc(r.paper)}</td><td>${esc(r.figure)}</td><td><ul>${r.claims.map(claimHtml).join('')}${r.skipped.map(skippedHtml).join('')}</ul></td>
<td>${esc(c0.dataset ?? (r.claims.length ? 'synthetic / as in the paper' : '—'))}</td><td>${esc(e.profile)}${e.parameters ? `<br>-p ${esc(parametersText(e.parameters))}` : ''}</td><td>${esc(e.backend ?? c0.backend ?? '')}</td><td>${esc(c0.seeds ?? '')}</td><td>${esc(e.seconds)} s</td><td>${esc(storeText(e.store))}</td>
<td>${png && existsSync(join(outDir, png)) ? `<a href="${esc(png)}">png</a> · <a href="${esc(png.replace(/png$/, 'svg'))}">svg</a> · ` : ''}<a href="${esc(e.output)}">notebook</a></td></tr>${
        // The figure at its own pixel size in a row of its own (scrolling sideways when the window is narrower):
        // its margins are fixed pixels, so drawing it smaller put subplot titles on the axis titles above them.
        specs[key] ? `\n<tr class="figrow"><td colspan="10"><div class="figwrap"><div class="fig" id="fig${i}" data-key="${esc(key)}"></div></div></td></tr>` : ''
      }`;
    })
    .join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>tangent-lab reproduction report</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:6px;vertical-align:top;font-size:13px}
li.pass b{color:#17803d}li.fail b{color:#c62828}li.skip b{color:#777}ul{padding-left:16px;margin:0}.q{color:#444}.note{color:#777;font-size:12px}.figwrap{overflow-x:auto;max-width:calc(100vw - 64px)}.figrow td{border-top:none}.summary{font-size:18px;font-weight:600}</style>
<script src="plotly.min.js"></script></head><body>
<h1>tangent-lab: reproduction report</h1>
<p class="summary" id="summary">${esc(summary)}</p>
<p>Run ${esc(run.updated ?? '')}. Notebooks: ${Object.entries(run.notebooks).map(([n, e]) => `<a href="${esc(e.output)}">${esc(n)}</a> (${esc(e.status)}, ${esc(e.seconds)} s${e.parameters ? `, parameters: <code class="params">${esc(parametersText(e.parameters))}</code>` : ''}${storeText(e.store) ? `; results ${esc(storeText(e.store))}` : ''})`).join(', ')}.</p>
<table><thead><tr><th>paper</th><th>figure</th><th>claim checks</th><th>data</th><th>profile</th><th>backend</th><th>seeds</th><th>notebook time</th><th>stored results</th><th>figure</th></tr></thead><tbody>
${rowHtml}
</tbody></table>
<script>const SPECS=${JSON.stringify(specs).replace(/</g, '\\u003c')};
for (const el of document.querySelectorAll('.fig')) { const s = SPECS[el.dataset.key]; Plotly.newPlot(el, s.data, Object.assign({}, s.layout, { width: s.layout.width || 640, height: s.layout.height || 440 }), { displaylogo: false, responsive: false }); }</script>
</body></html>`;
  writeFileSync(join(outDir, 'report.html'), html);
  const md = [
    '# tangent-lab: reproduction report',
    '',
    `**${summary}.** Run ${run.updated ?? ''}; open \`report.html\` for interactive figures.`,
    '',
    ...Object.entries(run.notebooks).filter(([, e]) => e.parameters).map(([n, e]) => `- ${n} ran with parameters \`${parametersText(e.parameters)}\``),
    ...(Object.values(run.notebooks).some((e) => e.parameters) ? [''] : []),
    '| paper | figure | claim checks | data | profile | backend | seeds | time | stored results | figure |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const e = nbInfo(r.notebook);
      const c0: Partial<ClaimResult> = r.claims[0] ?? {};
      const checks = [
        ...r.claims.map((c) => `${c.pass ? '✅ PASS' : '❌ FAIL'} ${c.claim}: ${c.quantity} = ${fmt(c.measured)} (expected ${expected(c)})`),
        ...r.skipped.map((k) => `⏭ NOT ATTEMPTED ${k.what}: ${k.reason}`),
      ].join('<br>');
      const png = figFile(r, 'png');
      return `| ${r.paper} | ${r.figure} | ${checks.replace(/\|/g, '\\|')} | ${c0.dataset ?? (r.claims.length ? 'synthetic / as in the paper' : '—')} | ${e.profile}${e.parameters ? ` (-p ${parametersText(e.parameters).replace(/\|/g, '\\|')})` : ''} | ${(e.backend ?? c0.backend ?? '').replace(/\|/g, '\\|')} | ${c0.seeds ?? ''} | ${e.seconds} s | ${storeText(e.store).replace(/\|/g, '\\|')} | ${png && existsSync(join(outDir, png)) ? `![${r.plot}](${png})` : ''} [notebook](${e.output}) |`;
    }),
    '',
  ].join('\n');
  writeFileSync(join(outDir, 'REPORT.md'), md);
  return { html: join(outDir, 'report.html'), md: join(outDir, 'REPORT.md'), passed, total: all.length };
}

