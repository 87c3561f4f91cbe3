// The figure builders' layout, measured in Chromium (bounding boxes): titles, axis titles, tick labels,
// subplot titles, marker labels and legends neither overlap nor leave the canvas; one colour per series
// across panels; vertical markers and horizontal reference lines survive panels().
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Figure } from '../lib/present/figure.js';
import { heatmap, linePlot, loglogPlot, panels, withMarkers, withReferenceLines } from '../lib/present/plot.js';
import { checkReportLayout, exportFigures, launchBrowser, type LayoutCheck, writeReport } from '../scripts/report.js';
import { testOutput } from './browser-support.js';

const widths = [300, 1_000, 3_000, 10_000];
const decay = (c: number, p: number) => widths.map((m) => c * m ** p);
const series = (names: string[]) => names.map((name, i) => ({ name, x: widths, y: decay(1 + i, -0.5 + 0.1 * i), band: decay(0.1, -0.5) }));

/** Figures shaped like the notebooks' (long titles and legends, log axes, 2 x 2 panels, markers). */
function figures(): Record<string, Figure> {
  const steps = Array.from({ length: 50 }, (_, i) => i * 20);
  const curve = (name: string, k: number) => ({ name, x: steps, y: steps.map((t) => 1 - Math.exp(-t / (100 * k))), mode: 'lines' as const });
  const lr = [0.1, 0.3, 1, 3, 10];
  return {
    // Steps up to 10⁴ on a linear axis: ticks written out ("2000", not "0.2×10⁴").
    'line-steps': linePlot({ title: 'Loss over 10⁴ steps', x: { title: 'step t' }, y: { title: 'loss' }, series: [{ name: 'loss', x: [0, 2500, 5000, 7500, 10_000], y: [1, 0.5, 0.3, 0.2, 0.1] }] }),
    line: linePlot({ title: 'Training loss of a wide network (mean over 3 seeds)', x: { title: 'step t' }, y: { title: 'loss L(w_t)', log: true }, series: series(['a', 'b']) }),
    loglog: loglogPlot({ title: 'ΔK vs width', x: 'width m', y: 'ΔK', series: series(['linear output f', 'softmax(f)', 'swish(f)']), reference: { slope: -0.5, label: 'Θ(1/√m)' } }),
    'panels-2x2': panels('Paper 002, Table 1: Hessian norm and gradient norm vs width (at initialisation)', [
      loglogPlot({ title: '‖H‖ at initialisation', x: 'width m', y: '‖H‖', series: series(['linear-output', 'nonlinear-output', 'bottleneck']) }),
      loglogPlot({ title: '‖∇f‖² at initialisation', x: 'width m', y: '‖∇f‖²', series: series(['linear-output', 'nonlinear-output', 'bottleneck']) }),
      linePlot({ title: 'ΔK(t) at the largest width', x: { title: 'step t' }, y: { title: 'ΔK(t)' }, series: [curve('linear-output', 1), curve('bottleneck', 2)] }),
      withReferenceLines(linePlot({ title: 'ΔK(t), bottleneck', x: { title: 'step t' }, y: { title: 'ΔK(t)' }, series: [curve('bottleneck', 3)] }), [{ y: 0.5, label: 'half' }]),
    ], { columns: 2 }),
    'panels-markers': panels('Catapult: loss vs learning rate, with η_crit and η_max', [
      withMarkers(linePlot({ title: 'final loss', x: { title: 'learning rate η', log: true }, y: { title: 'loss', log: true }, series: [{ name: 'loss', x: lr, y: [1, 0.5, 0.2, 3, 100] }] }), [{ x: 0.5, label: 'η_crit' }, { x: 5, label: 'η_max' }]),
      withReferenceLines(withMarkers(linePlot({ title: 'top Hessian eigenvalue', x: { title: 'learning rate η', log: true }, y: { title: 'λ_max' }, series: [{ name: 'λ_max', x: lr, y: [20, 20, 19, 4, 2] }] }), [{ x: 0.5, label: 'η_crit' }]), [{ y: 4, label: '2/η level' }]),
    ]),
    // Heatmaps with their colour bars, 2 rows of 3 (003 Fig C.15 at the paper profile: the bars had left the canvas).
    'panels-heatmaps': panels('Thesis 003, Fig C.15: the AGOP on the first 10 coordinates after each catapult', Array.from({ length: 5 }, (_, k) =>
      heatmap({ title: `${k} catapults (step ${100 * k})`, values: Array.from({ length: 100 }, (_, i) => Math.sin(i * (k + 1)) * 1e-3), rows: 10, cols: 10, colorscale: 'Viridis' })), { columns: 3 }),
    // One panel: the figure is narrow, so a long title wraps instead of leaving the canvas (003 test-performance, paper profile).
    'panels-1-long-title': panels('Thesis 003, Fig B.6 (substitute tasks): best test accuracy vs learning rate', [
      linePlot({ title: '2-layer FC (ReLU), MNIST 0 vs 2, GD', x: { title: 'η / η_crit' }, y: { title: 'best test accuracy' }, series: series(['f (network)', 'f_lin', 'f_quad']) }),
    ], { columns: 1 }),
    'panels-3': panels('Paper 004, Figure 3: mean |cos| between neuron gradients of one layer (at initialisation)', [
      loglogPlot({ title: 'by width m', x: 'width m', y: 'mean |cos|', series: series(['layer 1', 'layer 2', 'layer 3']) }),
      loglogPlot({ title: 'by bottleneck width m_b', x: 'bottleneck width m_b', y: 'mean |cos|', series: series(['layer 1', 'layer 2 (after the bottleneck)', 'layer 3']) }),
      linePlot({ title: 'spread over seeds', x: { title: 'width m', log: true }, y: { title: 'std' }, series: series(['layer 1', 'layer 3']) }),
    ]),
  };
}

describe('figure layout in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tangent-layout-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('no overlapping or clipped text in line, log-log and panel figures', { timeout: 120_000 }, async () => {
    const figs = figures();
    mkdirSync(join(dir, 'figures', 'lib'), { recursive: true });
    for (const [name, f] of Object.entries(figs)) writeFileSync(join(dir, 'figures', 'lib', `${name}.json`), JSON.stringify(f));
    const browser = await launchBrowser();
    try {
      await exportFigures(join(dir, 'figures'), browser);
    } finally {
      await browser.close();
    }
    mkdirSync(join(testOutput, 'figure-layout'), { recursive: true });
    for (const name of Object.keys(figs)) writeFileSync(join(testOutput, 'figure-layout', `${name}.png`), readFileSync(join(dir, 'figures', 'lib', `${name}.png`)));
    const checks = JSON.parse(readFileSync(join(dir, 'figures', 'layout-check.json'), 'utf8')) as Record<string, LayoutCheck>;
    assert.deepEqual(Object.keys(checks).sort(), Object.keys(figs).map((n) => `lib/${n}`).sort());
    for (const [name, c] of Object.entries(checks)) {
      assert.ok(c.checked > 10, `${name}: only ${c.checked} elements measured`);
      assert.deepEqual(c.problems, [], `${name}: layout problems`);
    }
    const svg = readFileSync(join(dir, 'figures', 'lib', 'line-steps.svg'), 'utf8');
    const xticks = [...svg.matchAll(/<g class="xtick">\s*<text[^>]*>(.*?)<\/text>/g)].map((m) => m[1].replace(/<[^>]+>/g, ''));
    assert.ok(xticks.length >= 3, `line-steps: x tick labels ${JSON.stringify(xticks)}`);
    for (const t of xticks) assert.match(t, /^\d+(,\d{3})*$/, `line-steps: x tick label ${JSON.stringify(t)}; expected a whole number written out (all: ${JSON.stringify(xticks)})`);
  });

  test('the report page draws every figure without overlapping or clipped text in a 1500 px window', { timeout: 120_000 }, async () => {
    // report.html draws the figures from their specs at the report's own size, not the PNG's: the same check there.
    const out = join(dir, 'report');
    const figs = figures();
    mkdirSync(join(out, 'figures', 'lib'), { recursive: true });
    for (const [name, f] of Object.entries(figs)) writeFileSync(join(out, 'figures', 'lib', `${name}.json`), JSON.stringify(f));
    const claims = Object.keys(figs).map((name) => ({ id: name, paper: '000', figure: `Fig ${name}`, claim: 'a claim', quantity: 'q', measured: 1, expected: { min: 0 }, pass: true, profile: 'quick', backend: 'cpu', plot: name }));
    writeFileSync(join(out, 'run.json'), JSON.stringify({ notebooks: { lib: { status: 'ok', seconds: 1, profile: 'quick', backend: 'cpu', output: 'notebooks/lib.ipynb', claims } } }));
    const { html } = writeReport(out);
    const browser = await launchBrowser();
    let checks: Record<string, LayoutCheck>;
    try {
      checks = await checkReportLayout(html, browser, 1500);
    } finally {
      await browser.close();
    }
    assert.deepEqual(Object.keys(checks).sort(), Object.keys(figs).map((n) => `lib/${n}`).sort(), 'every figure drawn in the report');
    for (const [name, c] of Object.entries(checks)) {
      assert.ok(c.checked > 10, `${name}: only ${c.checked} elements measured`);
      assert.deepEqual(c.problems, [], `${name}: layout problems on the report page`);
    }
  });

  test('the check finds overlaps: a legend placed on the x-axis title, a title off the canvas', { timeout: 120_000 }, async () => {
    const base = linePlot({ title: 'a title', x: { title: 'x axis title' }, y: { title: 'y' }, series: series(['a']) });
    const bad = { ...base, layout: { ...base.layout, legend: { orientation: 'h', x: 0.3, y: -0.12, yanchor: 'top' }, title: { text: 'a title far too long for this narrow figure, so it runs off both sides of the canvas', x: 0.5, xanchor: 'center' }, width: 300 } };
    mkdirSync(join(dir, 'bad', 'x'), { recursive: true });
    writeFileSync(join(dir, 'bad', 'x', 'bad.json'), JSON.stringify(bad));
    const browser = await launchBrowser();
    try {
      await exportFigures(join(dir, 'bad'), browser);
    } finally {
      await browser.close();
    }
    const problems = (JSON.parse(readFileSync(join(dir, 'bad', 'layout-check.json'), 'utf8')) as Record<string, LayoutCheck>)['x/bad'].problems.join('\n');
    assert.match(problems, /^axis title x 'x axis title' overlaps legend$/m);
    assert.match(problems, /^title 'a title far too long.*' leaves the canvas/m);
  });

  test('panels: one colour per series name in every panel, one legend entry per name, markers and reference lines kept', () => {
    const p = figures()['panels-2x2'];
    const colorOf = new Map<string, Set<string>>();
    for (const t of p.data) {
      const key = String(t.name).replace(/ \(slope [^)]*\)$/, '').replace(/ band$/, '');
      const c = t.fill === 'toself' ? String(t.fillcolor) : String((t.line as { color: string }).color);
      const norm = c.startsWith('rgba') ? c : c;
      if (t.fill !== 'toself') colorOf.set(key, (colorOf.get(key) ?? new Set()).add(norm));
    }
    for (const [name, set] of colorOf) assert.equal(set.size, 1, `${name} drawn in ${[...set].join(', ')}`);
    assert.equal(colorOf.get('linear-output')?.values().next().value, colorOf.get('linear-output')?.values().next().value);
    assert.notEqual([...(colorOf.get('linear-output') ?? [])][0], [...(colorOf.get('bottleneck') ?? [])][0]);
    const legendNames = p.data.filter((t) => t.showlegend !== false).map((t) => String(t.name));
    assert.equal(new Set(legendNames).size, legendNames.length, 'each legend entry once');
    const m = figures()['panels-markers'];
    const shapes = m.layout.shapes as { xref: string; yref: string; x0: number; y0: number }[];
    assert.deepEqual(shapes.map((s) => [s.xref, s.yref]), [['x', 'y domain'], ['x', 'y domain'], ['x2', 'y2 domain'], ['x2 domain', 'y2']]);
    const labels = (m.layout.annotations as { text: string; xref: string; x: number }[]).filter((a) => /η|level/.test(a.text));
    assert.deepEqual(labels.map((a) => [a.text, a.xref]), [['η_crit', 'x'], ['η_max', 'x'], ['η_crit', 'x2'], ['2/η level', 'x2 domain']]);
    assert.ok(Math.abs(labels[0].x - Math.log10(0.5)) < 1e-12, 'annotation on a log axis at log10(x)');
  });
});
