import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { launch, local, testOutput, watch } from './browser-support.js';
import { reproduce } from './kernel-support.js';
import { checkReportLayout } from '../scripts/report.js';

describe('reproduction report in a real browser', () => {
  const out = mkdtempSync(join(tmpdir(), 'tangent-report-'));
  const results = mkdtempSync(join(tmpdir(), 'tangent-report-results-'));
  after(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(results, { recursive: true, force: true });
  });

  test('quick run writes report.html, REPORT.md and static SVG/PNG figures; Chromium draws every figure offline', { timeout: 900_000 }, async () => {
    const r = await reproduce(['--only', '000,001', '--profile', 'quick', '--out', out], { ...process.env, TANGENT_RESULTS_DIR: results });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /report: (\d+) of \1 claims reproduced/);
    const md = readFileSync(join(out, 'REPORT.md'), 'utf8');
    assert.match(md, /\*\*(\d+) of \1 claims reproduced\.\*\*/);
    assert.match(md, /\| 000 \| Fig 1 \(b\)-\(d\) \|/);
    for (const nb of ['000_multilinearity', '001_dag_networks']) {
      const files = readdirSync(join(out, 'figures', nb));
      for (const spec of files.filter((f) => f.endsWith('.json'))) {
        for (const ext of ['svg', 'png']) assert.ok(files.includes(spec.replace(/json$/, ext)), `${nb}/${spec}: .${ext} exported`);
      }
      const png = readFileSync(join(out, 'figures', nb, files.find((f) => f.endsWith('.png')) as string));
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'PNG signature');
    }
    // Layout checked in Chromium on every exported figure (scripts/report.ts, LAYOUT_PROBLEMS_IN_PAGE).
    const layouts = JSON.parse(readFileSync(join(out, 'figures', 'layout-check.json'), 'utf8')) as Record<string, { problems: string[]; checked: number }>;
    const exported = ['000_multilinearity', '001_dag_networks'].flatMap((nb) => readdirSync(join(out, 'figures', nb)).filter((f) => f.endsWith('.json')).map((f) => `${nb}/${f.replace(/\.json$/, '')}`));
    assert.deepEqual(Object.keys(layouts).sort(), exported.sort(), 'every exported figure is layout-checked');
    for (const [name, l] of Object.entries(layouts)) assert.deepEqual(l.problems, [], `${name}: overlapping or clipped text`);
    assert.match(r.stdout, /^layout check \(Chromium\): (\d+) of \1 figure\(s\) without overlapping or clipped text$/m);
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1200 } });
      const w = await watch(page, local);
      await page.goto(pathToFileURL(join(out, 'report.html')).href);
      const figures = await page.locator('.fig').count();
      assert.ok(figures >= 4, `${figures} figure elements`);
      await page.waitForFunction(`document.querySelectorAll('.fig .main-svg').length >= ${figures}`, undefined, { timeout: 60_000 });
      const drawn = await page.evaluate<number>(`[...document.querySelectorAll('.fig')].filter((el) => el.querySelector('.main-svg .scatterlayer, .main-svg .heatmaplayer')).length`);
      assert.equal(drawn, figures, 'plotly drew every figure');
      assert.match(await page.evaluate<string>(`document.getElementById('summary').textContent`), /^(\d+) of \1 claims reproduced$/);
      await page.screenshot({ path: join(testOutput, 'report.png'), fullPage: true });
      // The page's own drawing of every figure (at its natural size, not scaled into a table cell) passes the same
      // layout check as the exported PNGs.
      const onPage = await checkReportLayout(join(out, 'report.html'), browser as unknown as Parameters<typeof checkReportLayout>[1], 1500);
      assert.equal(Object.keys(onPage).length, figures, 'every figure of the page checked');
      for (const [name, l] of Object.entries(onPage)) assert.deepEqual(l.problems, [], `${name} on report.html: overlapping or clipped text`);
      assert.deepEqual(w.consoleErrors, [], 'no console errors');
      assert.deepEqual(w.external, [], 'no request left the machine');
    } finally {
      await browser.close();
    }
    assert.ok(existsSync(join(testOutput, 'report.png')));
  });
});
