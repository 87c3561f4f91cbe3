import { loglogFit } from '../stats/fit.js';
import { checkInt, checkOptions } from '../core/checks.js';
import type { AxisSpec, Figure, PlotSeries } from './figure.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

// Layout in pixels (plotly's defaults place a horizontal legend by a fraction of the plot height, which
// lands on the x-axis title of short plots, and subplot titles on the x-axis titles of the row above).
const PX = {
  left: 78, // y tick labels and y-axis title
  right: 24,
  top: 64, // figure title
  subplotTitle: 30, // a panel's title above it
  xAxisBlock: 62, // x tick labels and x-axis title below a plot area
  columnGap: 84, // the next panel's y tick labels and y-axis title
  legendRow: 24,
  colorbar: 58, // a heatmap's colour bar and its tick labels
};

/** Width a trace's plot area takes in its panel: square cells of a heatmap (scaleanchor) narrow it, drawn from the left. */
function drawnWidth(t: Record<string, unknown>, f: Figure, panelWidth: number, panelHeight: number): number {
  const z = t.z as unknown[][] | undefined;
  const square = (f.layout.yaxis as Record<string, unknown> | undefined)?.scaleanchor === 'x';
  if (!square || !z?.length || !z[0]?.length) return panelWidth;
  return Math.min(panelWidth, (panelHeight * z[0].length) / z.length);
}

/** Traces that draw a colour bar (plotly's default for these types unless showscale is false). */
function hasColorbar(t: Record<string, unknown>): boolean {
  return ['heatmap', 'contour', 'histogram2d', 'histogram2dcontour'].includes(String(t.type)) && t.showscale !== false;
}

// Plotly gives a linear axis whose range reaches 10⁴ one exponent for all its ticks (2000 as "0.2×10⁴"):
// minexponent 4 writes ranges below 10⁵ out in full (step counts up to 20 000).
function axis(a: AxisSpec): Record<string, unknown> {
  return { title: { text: a.title }, type: a.log ? 'log' : 'linear', exponentformat: 'power', ...(a.log ? {} : { minexponent: 4 }), showline: true, mirror: true, ticks: 'outside', automargin: false };
}

/** Legend entries plotly will draw: traces shown in the legend, one per name. */
function legendNames(data: Record<string, unknown>[]): string[] {
  return [...new Set(data.filter((t) => t.showlegend !== false && t.name !== undefined && t.type !== 'heatmap').map((t) => String(t.name)))];
}

/**
 * A horizontal legend below the x-axis block of a plot area `plotHeight` px tall, in a figure `width` px
 * wide: its layout and the height (px) it needs, estimated from the entries' text (12 px font).
 */
function legendBelow(names: string[], width: number, plotHeight: number): { legend: Record<string, unknown>; height: number } {
  if (names.length === 0) return { legend: {}, height: 0 };
  let rows = 1;
  let x = 0;
  for (const n of names) {
    const w = 46 + 7.2 * n.length;
    if (x > 0 && x + w > width - 20) {
      rows += 1;
      x = 0;
    }
    x += w;
  }
  return {
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: -PX.xAxisBlock / plotHeight, yanchor: 'top', yref: 'paper', font: { size: 12 } },
    height: rows * PX.legendRow + 18,
  };
}

/**
 * Curves (with optional bands, e.g. ± std over seeds) on linear or log axes.
 *
 * @param opts `title`; axes `x`, `y` (`{ title, log? }`); `series` (`{ name, x, y, band?, color?, dash?, mode? }`);
 *   optional `width` and `height` in px (640 x 440 by default; the legend adds its rows below)
 * @returns a plotly figure spec; draw it with {@link show}
 * @example
 * const steps = [0, 10, 20, 30];
 * const fig = linePlot({ title: 'loss', x: { title: 'step t' }, y: { title: 'loss', log: true }, series: [{ name: 'GD', x: steps, y: [1, 0.3, 0.1, 0.05] }] });
 */
export function linePlot(opts: { title: string; x: AxisSpec; y: AxisSpec; series: PlotSeries[]; width?: number; height?: number }): Figure {
  checkOptions('linePlot', 'options', opts);
  checkSeries('linePlot', opts.series);
  const data: Record<string, unknown>[] = [];
  opts.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    // A band needs a finite half-width everywhere (a single seed has no spread).
    if (s.band && s.band.every((v) => Number.isFinite(v))) {
      const upper = s.y.map((v, j) => v + (s.band as number[])[j]);
      const lower = s.y.map((v, j) => (opts.y.log ? Math.max(v - (s.band as number[])[j], v / 10) : v - (s.band as number[])[j]));
      data.push({ type: 'scatter', x: [...s.x, ...[...s.x].reverse()], y: [...upper, ...[...lower].reverse()], mode: 'lines', fill: 'toself', fillcolor: hexAlpha(color, 0.18), line: { width: 0 }, hoverinfo: 'skip', showlegend: false, name: `${s.name} band`, meta: { series: s.name, band: true, autoColor: !s.color } });
    }
    data.push({ type: 'scatter', name: s.name, x: s.x, y: s.y, mode: s.mode ?? 'lines+markers', line: { color, dash: s.dash ?? 'solid' }, marker: { color, size: 6 }, meta: { series: s.name, autoColor: !s.color } });
  });
  const width = opts.width ?? 640;
  const plotHeight = (opts.height ?? 440) - PX.top - PX.xAxisBlock;
  const { legend, height: legendHeight } = legendBelow(legendNames(data), width, plotHeight);
  return {
    data,
    layout: {
      title: { text: opts.title, x: 0.5, xanchor: 'center', y: 1 - 16 / (plotHeight + PX.top + PX.xAxisBlock + legendHeight), yanchor: 'top' },
      xaxis: axis(opts.x),
      yaxis: axis(opts.y),
      width,
      height: PX.top + plotHeight + PX.xAxisBlock + legendHeight,
      margin: { l: PX.left, r: PX.right, t: PX.top, b: PX.xAxisBlock + legendHeight, autoexpand: false },
      template: 'plotly_white',
      showlegend: legendNames(data).length > 0,
      legend,
    },
  };
}

function hexAlpha(hex: string, a: number): string {
  const v = parseInt(hex.slice(1), 16);
  return `rgba(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255}, ${a})`;
}

/** A dashed line C x^slope through (x0, y0), over [xmin, xmax] (e.g. the Θ(1/sqrt m_b) line of 002 Fig 2). */
export function slopeLine(name: string, slope: number, anchor: { x: number; y: number }, xRange: [number, number]): PlotSeries {
  const C = anchor.y / anchor.x ** slope;
  return { name, x: xRange, y: xRange.map((x) => C * x ** slope), dash: 'dash', mode: 'lines', color: '#555555' };
}

/**
 * Log-log plot whose legend carries each fitted slope with its 95% interval (see {@link loglogFit}).
 *
 * @param opts `title`; axis titles `x` and `y`; `series` as in {@link linePlot}; an optional `reference` slope
 *   line (`{ slope, label?, anchorSeries? }`) drawn through the first point of series `anchorSeries` (default 0)
 * @example
 * const m = [100, 1000, 10000];
 * const fig = loglogPlot({ title: 'ΔK vs width', x: 'width m', y: 'ΔK', series: [{ name: 'linear output', x: m, y: m.map((v) => v ** -0.5) }], reference: { slope: -0.5, label: 'Θ(1/√m)' } });
 */
export function loglogPlot(opts: { title: string; x: string; y: string; series: PlotSeries[]; reference?: { slope: number; label?: string; anchorSeries?: number } }): Figure {
  checkOptions('loglogPlot', 'options', opts);
  checkSeries('loglogPlot', opts.series);
  const anchor = opts.reference?.anchorSeries ?? 0;
  if (opts.reference && !(Number.isInteger(anchor) && anchor >= 0 && anchor < opts.series.length && opts.series[anchor].x.length > 0)) {
    throw new Error(`loglogPlot: reference.anchorSeries = ${anchor}; expected the index of a non-empty series (0..${opts.series.length - 1})`);
  }
  const withSlopes = opts.series.map((s) => {
    const ok = s.x.map((x, i) => x > 0 && s.y[i] > 0);
    if (ok.filter(Boolean).length < 2) return s;
    const fit = loglogFit(s.x.filter((_, i) => ok[i]), s.y.filter((_, i) => ok[i]));
    const half = (fit.slopeCI[1] - fit.slopeCI[0]) / 2;
    return { ...s, name: `${s.name} (slope ${fit.slope.toFixed(2)}${Number.isFinite(half) ? ` ± ${half.toFixed(2)}` : ''})` };
  });
  const series = [...withSlopes];
  if (opts.reference) {
    const base = opts.series[opts.reference.anchorSeries ?? 0];
    const xs = opts.series.flatMap((s) => s.x);
    series.push(slopeLine(opts.reference.label ?? `slope ${opts.reference.slope}`, opts.reference.slope, { x: base.x[0], y: base.y[0] }, [Math.min(...xs), Math.max(...xs)]));
  }
  return linePlot({ title: opts.title, x: { title: opts.x, log: true }, y: { title: opts.y, log: true }, series });
}

/** Series of equal-length x and y (a mismatch drew a curve with missing points). */
function checkSeries(fn: string, series: unknown): void {
  if (!Array.isArray(series)) throw new Error(`${fn}: series = ${String(series)}; expected an array of { name, x, y }`);
  series.forEach((s: Partial<PlotSeries>, i) => {
    if (!s || typeof s !== 'object' || !s.x || !s.y || typeof s.x.length !== 'number' || typeof s.y.length !== 'number') throw new Error(`${fn}: series[${i}] = ${JSON.stringify(s)}; expected { name, x, y } with arrays x and y`);
    if (s.x.length !== s.y.length) throw new Error(`${fn}: series[${i}] ('${s.name}') has ${s.x.length} x values and ${s.y.length} y values; expected the same number`);
  });
}

/** A figure spec as the plot functions return it. */
function checkFigure(fn: string, fig: unknown): asserts fig is Figure {
  const f = fig as Partial<Figure> | null;
  if (!f || typeof f !== 'object' || !Array.isArray(f.data) || !f.layout || typeof f.layout !== 'object') throw new Error(`${fn}: fig = ${f === null || typeof f !== 'object' ? String(f) : 'an object'}; expected a figure ({ data, layout }) from linePlot, loglogPlot, ...`);
}

/** Position on an axis for an annotation: plotly takes log10 of the value on a log axis (shapes take the value). */
function annotationCoord(fig: Figure, axisKey: 'xaxis' | 'yaxis', v: number): number {
  return (fig.layout[axisKey] as { type?: string } | undefined)?.type === 'log' ? Math.log10(v) : v;
}

/**
 * The points of a curve whose y is finite: a diverged run's loss ends in Infinity or NaN, which a plot cannot
 * draw (and `show` rejects). Returns the kept x and y and the first x dropped (undefined if none), for a label.
 *
 * @param x the x values
 * @param y the y values, as many as `x`
 * @returns the points with a finite y, and the x of the first point left out (e.g. the step a run diverged)
 * @example
 * const { x, y, firstDropped } = finitePoints([0, 1, 2, 3], [1, 0.5, Infinity, NaN]);   // firstDropped = 2
 */
export function finitePoints(x: ArrayLike<number>, y: ArrayLike<number>): { x: number[]; y: number[]; firstDropped?: number } {
  if (x.length !== y.length) throw new Error(`finitePoints: ${x.length} x values and ${y.length} y values; expected the same number`);
  const out = { x: [] as number[], y: [] as number[], firstDropped: undefined as number | undefined };
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(y[i])) {
      out.x.push(x[i]);
      out.y.push(y[i]);
    } else out.firstDropped ??= x[i];
  }
  return out;
}

/**
 * Vertical marker lines, e.g. eta_crit and eta_max on a learning-rate axis, labelled inside the top of the
 * plot (not above it, where a panel's title goes). Kept by `panels()`.
 *
 * @param fig the figure to mark
 * @param markers an x position (in data units, also on a log axis), a label and an optional colour each
 * @returns a new figure; `fig` is not changed
 * @example
 * const lr = [0.1, 0.5, 1, 2];
 * const fig = withMarkers(linePlot({ title: 'final loss', x: { title: 'η', log: true }, y: { title: 'loss' }, series: [{ name: 'loss', x: lr, y: [1, 0.2, 0.1, 5] }] }), [{ x: 1.2, label: 'η_crit' }]);
 */
export function withMarkers(fig: Figure, markers: { x: number; label: string; color?: string }[]): Figure {
  checkFigure('withMarkers', fig);
  if (!Array.isArray(markers) || markers.some((m) => !m || !Number.isFinite(m.x))) throw new Error(`withMarkers: markers = ${JSON.stringify(markers)}; expected an array of { x, label } with finite x`);
  const shapes = markers.map((m) => ({ type: 'line', xref: 'x', yref: 'paper', x0: m.x, x1: m.x, y0: 0, y1: 1, line: { dash: 'dot', color: m.color ?? '#444', width: 1.5 } }));
  const annotations = markers.map((m) => ({ x: annotationCoord(fig, 'xaxis', m.x), y: 1, xref: 'x', yref: 'paper', text: m.label, showarrow: false, xanchor: 'left', yanchor: 'top', xshift: 3, yshift: -2, bgcolor: 'rgba(255,255,255,0.8)', font: { size: 11, color: m.color ?? '#444' } }));
  return { data: fig.data, layout: { ...fig.layout, shapes: [...((fig.layout.shapes as unknown[]) ?? []), ...shapes], annotations: [...((fig.layout.annotations as unknown[]) ?? []), ...annotations] } };
}

/**
 * Horizontal reference lines, e.g. a loss level or the value a quantity should reach, labelled at the right
 * end inside the plot. Kept by `panels()`.
 *
 * @param fig the figure
 * @param lines a y position (data units), a label, an optional colour and dash each
 * @returns a new figure; `fig` is not changed
 * @example
 * const fig = withReferenceLines(linePlot({ title: 'ΔK', x: { title: 'width' }, y: { title: 'ΔK' }, series: [{ name: 'softmax', x: [10, 100], y: [1.1, 0.9] }] }), [{ y: 1, label: 'Ω(1) level' }]);
 */
export function withReferenceLines(fig: Figure, lines: { y: number; label: string; color?: string; dash?: 'dash' | 'dot' | 'solid' }[]): Figure {
  checkFigure('withReferenceLines', fig);
  if (!Array.isArray(lines) || lines.some((l) => !l || !Number.isFinite(l.y))) throw new Error(`withReferenceLines: lines = ${JSON.stringify(lines)}; expected an array of { y, label } with finite y`);
  const shapes = lines.map((l) => ({ type: 'line', xref: 'paper', yref: 'y', x0: 0, x1: 1, y0: l.y, y1: l.y, line: { dash: l.dash ?? 'dash', color: l.color ?? '#666', width: 1.5 } }));
  const annotations = lines.map((l) => ({ x: 1, y: annotationCoord(fig, 'yaxis', l.y), xref: 'paper', yref: 'y', text: l.label, showarrow: false, xanchor: 'right', yanchor: 'bottom', xshift: -4, bgcolor: 'rgba(255,255,255,0.8)', font: { size: 11, color: l.color ?? '#666' } }));
  return { data: fig.data, layout: { ...fig.layout, shapes: [...((fig.layout.shapes as unknown[]) ?? []), ...shapes], annotations: [...((fig.layout.annotations as unknown[]) ?? []), ...annotations] } };
}

/**
 * Heatmap of a matrix (e.g. an AGOP), row-major values, rows top to bottom.
 *
 * @param opts `title`; `values` (rows x cols numbers, row-major); `rows`; `cols`; optional plotly `colorscale`
 *   (default 'RdBu', centred at 0)
 * @example
 * const fig = heatmap({ title: 'AGOP', values: [1, 0.2, 0.2, 0.5], rows: 2, cols: 2 });
 */
export function heatmap(opts: { title: string; values: ArrayLike<number>; rows: number; cols: number; colorscale?: string }): Figure {
  checkOptions('heatmap', 'options', opts);
  checkInt('heatmap', 'rows', opts.rows, 1);
  checkInt('heatmap', 'cols', opts.cols, 1);
  if (opts.values?.length !== opts.rows * opts.cols) throw new Error(`heatmap: values has ${opts.values?.length} entries; expected rows × cols = ${opts.rows * opts.cols}`);
  const z = Array.from({ length: opts.rows }, (_, r) => Array.from({ length: opts.cols }, (_, c) => opts.values[r * opts.cols + c]));
  return { data: [{ type: 'heatmap', z, colorscale: opts.colorscale ?? 'RdBu', reversescale: true, zmid: 0 }], layout: { title: { text: opts.title }, xaxis: { zeroline: false, showgrid: false, constrain: 'domain', constraintoward: 'left' }, yaxis: { autorange: 'reversed', scaleanchor: 'x', zeroline: false, showgrid: false, constrain: 'domain' }, width: 520, height: 480 } };
}

/** The series a trace belongs to, for one colour per series across panels (loglogPlot's slope suffix dropped). */
function seriesKey(t: Record<string, unknown>): string | undefined {
  const meta = t.meta as { series?: string; autoColor?: boolean } | undefined;
  if (!meta?.autoColor || meta.series === undefined) return undefined;
  return meta.series.replace(/ \(slope [^)]*\)$/, '');
}

/** A panel's reference (`x`, `paper`, `y domain`) moved onto the panel's axes `xa`/`ya`. */
function panelRef(ref: unknown, axisLetter: 'x' | 'y', own: string): string {
  if (ref === undefined || ref === 'paper') return `${own} domain`;
  if (ref === axisLetter) return own;
  if (ref === `${axisLetter} domain`) return `${own} domain`;
  return String(ref);
}

/** Width of a title character (17 px font, generous) and the height of a wrapped title line, in px. */
const TITLE_CHAR_PX = 9.5;
const TITLE_LINE_PX = 22;

/** Greedy word wrap to at most `maxChars` per line (a longer word gets a line of its own). */
function wrapWords(text: string, maxChars: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > maxChars) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/**
 * Panels mirroring a paper figure's (a), (b), ...: each keeps its axes, its title above it (clear of the
 * x-axis title of the row above), its vertical markers and reference lines; one legend below everything;
 * a series name keeps one colour in every panel.
 *
 * @param title the figure's title (wrapped to its width)
 * @param figs the panels, left to right and top to bottom, each built by {@link linePlot}, {@link loglogPlot}, ...
 * @param layout `columns` (default: all in one row); `labels` (default '(a)', '(b)', ...); `panelWidth` and
 *   `panelHeight` in px (360 x 270)
 * @example
 * const a = linePlot({ title: 'loss', x: { title: 't' }, y: { title: 'loss' }, series: [{ name: 'run', x: [0, 1], y: [1, 0.5] }] });
 * const b = linePlot({ title: 'kernel', x: { title: 't' }, y: { title: '‖K‖' }, series: [{ name: 'run', x: [0, 1], y: [3, 2] }] });
 * const fig = panels('Two panels', [a, b], { columns: 2 });   // show(fig, 'my-figure') in a notebook
 */
export function panels(title: string, figs: Figure[], { columns = figs?.length, labels, panelWidth = 360, panelHeight = 270 }: { columns?: number; labels?: string[]; panelWidth?: number; panelHeight?: number } = {}): Figure {
  if (!Array.isArray(figs) || figs.length === 0) throw new Error(`panels: figs = ${Array.isArray(figs) ? '[]' : String(figs)}; expected a non-empty array of figures`);
  figs.forEach((f, i) => checkFigure(`panels: figs[${i}]`, f));
  checkInt('panels', 'columns', columns, 1);
  const rows = Math.ceil(figs.length / columns);
  // Colour bars (heatmaps) sit right of their own panel: room for each beside the next panel's axis labels.
  const bar = figs.some((f) => f.data.some(hasColorbar)) ? PX.colorbar : 0;
  const gap = PX.columnGap + bar;
  const right = PX.right + bar;
  const width = PX.left + right + columns * panelWidth + (columns - 1) * gap;
  const rowGap = PX.xAxisBlock + PX.subplotTitle;
  const plotW = width - PX.left - right;
  const plotH = rows * panelHeight + (rows - 1) * rowGap;
  const colors = new Map<string, string>();
  const colorOf = (key: string) => {
    if (!colors.has(key)) colors.set(key, PALETTE[colors.size % PALETTE.length]);
    return colors.get(key) as string;
  };
  const data: Record<string, unknown>[] = [];
  const shapes: unknown[] = [];
  const annotations: unknown[] = [];
  const layout: Record<string, unknown> = {};
  const shown = new Set<string>();
  figs.forEach((f, i) => {
    const k = i + 1;
    const r = Math.floor(i / columns);
    const c = i % columns;
    const xa = k === 1 ? 'x' : `x${k}`;
    const ya = k === 1 ? 'y' : `y${k}`;
    for (const t of f.data) {
      const key = seriesKey(t);
      const trace: Record<string, unknown> = { ...t, xaxis: xa, yaxis: ya };
      if (key !== undefined) {
        const color = colorOf(key);
        if ((t.meta as { band?: boolean }).band) trace.fillcolor = hexAlpha(color, 0.18);
        else trace.line = { ...(t.line as object), color };
        if (t.marker) trace.marker = { ...(t.marker as object), color };
      }
      // One legend entry per name: later panels' traces of a name already listed join its group.
      const name = t.name === undefined ? undefined : String(t.name);
      if (name !== undefined && t.showlegend !== false) {
        trace.legendgroup = name;
        if (shown.has(name)) trace.showlegend = false;
        shown.add(name);
      }
      data.push(trace);
    }
    const x0 = (c * (panelWidth + gap)) / plotW;
    const yTop = 1 - (r * (panelHeight + rowGap)) / plotH;
    for (const t of data.slice(data.length - f.data.length)) {
      if (hasColorbar(t)) t.colorbar = { thickness: 12, ...(t.colorbar as object), x: x0 + (drawnWidth(t, f, panelWidth, panelHeight) + 6) / plotW, xanchor: 'left', xref: 'paper', y: yTop - panelHeight / plotH / 2, yanchor: 'middle', len: panelHeight / plotH, lenmode: 'fraction', outlinewidth: 0 };
    }
    const fx = f.layout.xaxis as Record<string, unknown>;
    const fy = f.layout.yaxis as Record<string, unknown>;
    // A panel's own axes: scaleanchor (square heatmap cells) must name this panel's x axis, not the first one's.
    layout[k === 1 ? 'xaxis' : `xaxis${k}`] = { ...fx, domain: [x0, x0 + panelWidth / plotW], anchor: ya };
    layout[k === 1 ? 'yaxis' : `yaxis${k}`] = { ...fy, domain: [yTop - panelHeight / plotH, yTop], anchor: xa, ...(fy?.scaleanchor ? { scaleanchor: xa } : {}) };
    const label = labels?.[i] ?? `(${String.fromCharCode(97 + i)}) ${(f.layout.title as { text?: string })?.text ?? ''}`;
    const drawn = Math.max(...f.data.map((t) => drawnWidth(t, f, panelWidth, panelHeight)), 0) || panelWidth;
    annotations.push({ text: label, x: x0 + drawn / plotW / 2, y: yTop, xref: 'paper', yref: 'paper', showarrow: false, xanchor: 'center', yanchor: 'bottom', yshift: 6, font: { size: 13 } });
    for (const sh of (f.layout.shapes as Record<string, unknown>[] | undefined) ?? []) {
      shapes.push({ ...sh, xref: panelRef(sh.xref, 'x', xa), yref: panelRef(sh.yref, 'y', ya) });
    }
    for (const an of (f.layout.annotations as Record<string, unknown>[] | undefined) ?? []) {
      annotations.push({ ...an, xref: panelRef(an.xref, 'x', xa), yref: panelRef(an.yref, 'y', ya) });
    }
  });
  const { legend, height: legendHeight } = legendBelow(legendNames(data), width, plotH);
  const titleLines = wrapWords(title, Math.floor((width - 24) / TITLE_CHAR_PX));
  const titleExtra = (titleLines.length - 1) * TITLE_LINE_PX;
  const height = PX.top + titleExtra + PX.subplotTitle + plotH + PX.xAxisBlock + legendHeight;
  Object.assign(layout, {
    title: { text: titleLines.join('<br>'), x: 0.5, xanchor: 'center', y: 1 - 16 / height, yanchor: 'top' },
    width,
    height,
    margin: { l: PX.left, r: right, t: PX.top + titleExtra + PX.subplotTitle, b: PX.xAxisBlock + legendHeight, autoexpand: false },
    template: 'plotly_white',
    showlegend: legendNames(data).length > 0,
    legend,
    shapes,
    annotations,
  });
  return { data, layout };
}
