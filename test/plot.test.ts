import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFigure } from '../lib/present/figure.js';
import { figureBundle } from '../lib/present/display.js';
import { finitePoints, heatmap, linePlot, loglogPlot, panels, withMarkers } from '../lib/present/plot.js';
import { figureToSvg } from '../lib/present/svg.js';

const xs = [10, 100, 1000];

test('figure specs are plain data with the expected axes, traces and names', () => {
  const f = loglogPlot({ title: 'ΔK', x: 'm', y: 'ΔK', series: [{ name: 'linear', x: xs, y: [1, 0.3, 0.1], band: [0.1, 0.05, 0.01] }], reference: { slope: -0.5 } });
  assert.equal((f.layout.xaxis as { type: string }).type, 'log');
  assert.equal((f.layout.yaxis as { type: string }).type, 'log');
  assert.equal(f.data.length, 3, 'band, curve, reference line');
  assert.match(String(f.data[1].name), /^linear \(slope -0\.5\d ± [\d.]+\)$/);
  assert.equal((f.data[2].line as { dash: string }).dash, 'dash');
  assert.deepEqual(JSON.parse(JSON.stringify(f)), f, 'JSON round trip');
  const p = panels('two', [f, linePlot({ title: 'b', x: { title: 't' }, y: { title: 'y' }, series: [{ name: 's', x: [0, 1], y: [1, 2] }] })]);
  assert.equal(p.data.filter((t) => t.xaxis === 'x2').length, 1);
  assert.ok(p.layout.xaxis2 && p.layout.yaxis2);
  const m = withMarkers(f, [{ x: 100, label: 'η_crit' }]);
  assert.equal((m.layout.shapes as unknown[]).length, 1);
  const h = heatmap({ title: 'AGOP', values: [1, 0, 0, 1], rows: 2, cols: 2 });
  assert.deepEqual(h.data[0].z, [[1, 0], [0, 1]]);
});

test('a corrupted spec gives a readable error, not a blank figure', () => {
  const ok = linePlot({ title: 't', x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'a', x: [1, 2], y: [1, 2] }] });
  assert.throws(() => checkFigure({ data: [], layout: {} }, 'empty'), /empty: has no traces/);
  assert.throws(() => checkFigure({ ...ok, data: [{ ...ok.data[0], y: [1, Number.NaN] }] }, 'nan'), /nan: trace 0 \('a'\) has a non-finite y value at index 1 \(x = 2\): NaN/);
  assert.throws(() => checkFigure({ ...ok, data: [{ ...ok.data[0], x: [], y: [] }] }, 'e'), /trace 0 \('a'\) is empty/);
  assert.throws(() => checkFigure({ ...ok, data: [{ ...ok.data[0], y: [1] }] }, 'len'), /has 2 x values but 1 y values/);
  assert.throws(() => checkFigure(null as never, 'nul'), /not a figure spec/);
});

test('the mime bundle carries plotly JSON, offline HTML with a static fallback, and SVG', () => {
  const f = linePlot({ title: 'curve', x: { title: 'x' }, y: { title: 'y', log: true }, series: [{ name: 'a', x: [1, 2, 3], y: [1, 10, 100] }] });
  const first = figureBundle(f, 'one');
  const second = figureBundle(f, 'two');
  assert.deepEqual(Object.keys(first).sort(), ['application/vnd.plotly.v1+json', 'image/svg+xml', 'text/html', 'text/plain']);
  const html1 = String(first['text/html']);
  const html2 = String(second['text/html']);
  assert.ok(html1.length > 1e6 && html1.includes('plotly.js v'), 'plotly.js inlined in the first figure');
  assert.ok(html2.length < 1e5, 'and only once per kernel session');
  assert.ok(!/<script[^>]*\ssrc=/.test(html1 + html2), 'no external script (plotly.js is inline)');
  assert.match(html2, /<img alt="two" src="data:image\/svg\+xml;base64,/);
  const svg = String(first['image/svg+xml']);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 1);
  assert.match(figureToSvg(f), /10\^2/, 'log ticks');
});

test('finitePoints keeps the finite points of a diverged curve and says where it stopped', () => {
  const r = finitePoints([0, 1, 2, 3, 4], [1, 0.5, Infinity, NaN, 2]);
  assert.deepEqual(r, { x: [0, 1, 4], y: [1, 0.5, 2], firstDropped: 2 });
  assert.deepEqual(finitePoints([0, 1], [3, 4]), { x: [0, 1], y: [3, 4], firstDropped: undefined });
  assert.throws(() => finitePoints([0, 1], [1]), /finitePoints: 2 x values and 1 y values; expected the same number/);
});

test('panels of heatmaps keep square cells on their own axes (scaleanchor names the panel\'s x axis)', () => {
  const h = (t: string) => heatmap({ title: t, values: [1, 2, 3, 4], rows: 2, cols: 2 });
  const fig = panels('four heatmaps', [h('a'), h('b'), h('c'), h('d')], { columns: 4 });
  const L = fig.layout as Record<string, { scaleanchor?: string }>;
  assert.equal(L.yaxis.scaleanchor, 'x');
  for (const k of [2, 3, 4]) assert.equal(L[`yaxis${k}`].scaleanchor, `x${k}`);
  const lines = panels('lines', [linePlot({ title: 'a', x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 's', x: [0, 1], y: [1, 2] }] })]);
  assert.equal((lines.layout as Record<string, { scaleanchor?: string }>).yaxis.scaleanchor, undefined);
});
