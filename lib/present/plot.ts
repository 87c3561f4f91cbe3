import { loglogFit } from '../stats/fit.js';
import type { AxisSpec, Figure, PlotSeries } from './figure.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function axis(a: AxisSpec): Record<string, unknown> {
  return { title: { text: a.title }, type: a.log ? 'log' : 'linear', exponentformat: 'power', showline: true, mirror: true, ticks: 'outside' };
}

/** Curves (with optional bands) on linear or log axes. */
export function linePlot(opts: { title: string; x: AxisSpec; y: AxisSpec; series: PlotSeries[]; width?: number; height?: number }): Figure {
  const data: Record<string, unknown>[] = [];
  opts.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    // A band needs a finite half-width everywhere (a single seed has no spread).
    if (s.band && s.band.every((v) => Number.isFinite(v))) {
      const upper = s.y.map((v, j) => v + (s.band as number[])[j]);
      const lower = s.y.map((v, j) => (opts.y.log ? Math.max(v - (s.band as number[])[j], v / 10) : v - (s.band as number[])[j]));
      data.push({ type: 'scatter', x: [...s.x, ...[...s.x].reverse()], y: [...upper, ...[...lower].reverse()], mode: 'lines', fill: 'toself', fillcolor: hexAlpha(color, 0.18), line: { width: 0 }, hoverinfo: 'skip', showlegend: false, name: `${s.name} band` });
    }
    data.push({ type: 'scatter', name: s.name, x: s.x, y: s.y, mode: s.mode ?? 'lines+markers', line: { color, dash: s.dash ?? 'solid' }, marker: { color, size: 6 } });
  });
  return {
    data,
    layout: { title: { text: opts.title }, xaxis: axis(opts.x), yaxis: axis(opts.y), width: opts.width ?? 640, height: opts.height ?? 440, template: 'plotly_white', legend: { orientation: 'h', y: -0.2 } },
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

/** Log-log plot whose legend carries each fitted slope with its 95% interval. */
export function loglogPlot(opts: { title: string; x: string; y: string; series: PlotSeries[]; reference?: { slope: number; label?: string; anchorSeries?: number } }): Figure {
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

/** Vertical marker lines, e.g. eta_crit and eta_max on a learning-rate axis. */
export function withMarkers(fig: Figure, markers: { x: number; label: string; color?: string }[]): Figure {
  const shapes = markers.map((m) => ({ type: 'line', xref: 'x', yref: 'paper', x0: m.x, x1: m.x, y0: 0, y1: 1, line: { dash: 'dot', color: m.color ?? '#444', width: 1.5 } }));
  const annotations = markers.map((m) => ({ x: m.x, y: 1, xref: 'x', yref: 'paper', text: m.label, showarrow: false, yanchor: 'bottom', font: { size: 11 } }));
  return { data: fig.data, layout: { ...fig.layout, shapes: [...((fig.layout.shapes as unknown[]) ?? []), ...shapes], annotations: [...((fig.layout.annotations as unknown[]) ?? []), ...annotations] } };
}

/** Heatmap of a matrix (e.g. an AGOP), row-major values. */
export function heatmap(opts: { title: string; values: ArrayLike<number>; rows: number; cols: number; colorscale?: string }): Figure {
  const z = Array.from({ length: opts.rows }, (_, r) => Array.from({ length: opts.cols }, (_, c) => opts.values[r * opts.cols + c]));
  return { data: [{ type: 'heatmap', z, colorscale: opts.colorscale ?? 'RdBu', reversescale: true, zmid: 0 }], layout: { title: { text: opts.title }, yaxis: { autorange: 'reversed', scaleanchor: 'x' }, width: 520, height: 480 } };
}

/** Side-by-side panels mirroring a paper figure's (a), (b), ...; each panel keeps its axes. */
export function panels(title: string, figs: Figure[], { columns = figs.length, labels }: { columns?: number; labels?: string[] } = {}): Figure {
  const rows = Math.ceil(figs.length / columns);
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = { title: { text: title }, width: 420 * columns, height: 380 * rows + 80, template: 'plotly_white', showlegend: true, legend: { orientation: 'h', y: -0.12 }, annotations: [] as unknown[] };
  const gap = 0.08;
  figs.forEach((f, i) => {
    const k = i + 1;
    const r = Math.floor(i / columns);
    const c = i % columns;
    const xa = k === 1 ? 'x' : `x${k}`;
    const ya = k === 1 ? 'y' : `y${k}`;
    for (const t of f.data) data.push({ ...t, xaxis: xa, yaxis: ya, legendgroup: `p${k}` });
    const w = (1 - gap * (columns - 1)) / columns;
    const h = (1 - gap * (rows - 1)) / rows;
    const fx = f.layout.xaxis as Record<string, unknown>;
    const fy = f.layout.yaxis as Record<string, unknown>;
    layout[k === 1 ? 'xaxis' : `xaxis${k}`] = { ...fx, domain: [c * (w + gap), c * (w + gap) + w], anchor: ya };
    layout[k === 1 ? 'yaxis' : `yaxis${k}`] = { ...fy, domain: [1 - (r + 1) * h - r * gap, 1 - r * (h + gap)], anchor: xa };
    const label = labels?.[i] ?? `(${String.fromCharCode(97 + i)}) ${(f.layout.title as { text?: string })?.text ?? ''}`;
    (layout.annotations as unknown[]).push({ text: label, x: c * (w + gap) + w / 2, y: 1 - r * (h + gap), xref: 'paper', yref: 'paper', showarrow: false, yanchor: 'bottom', font: { size: 13 } });
  });
  return { data, layout };
}
