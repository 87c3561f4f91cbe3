import type { Figure } from './figure.js';

/**
 * A small static SVG rendering of the figure specs lib/plot builds (scatter lines, markers, bands, log/linear
 * axes, subplots, heatmaps, titles, legend), for where plotly.js cannot run: the fallback image of a notebook
 * output on GitHub or in nbconvert HTML without JavaScript. Not a general plotly renderer.
 */
type Trace = Record<string, unknown>;
type Axis = { type?: string; title?: { text?: string }; domain?: number[]; autorange?: unknown };

const esc = (s: unknown) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (v: number) => (Math.abs(v) < 1e-9 ? '0' : Number(v.toPrecision(4)).toString());

function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function tickLabel(v: number, log: boolean): string {
  if (log) {
    const e = Math.round(v);
    return e === 0 ? '1' : e === 1 ? '10' : `10^${e}`;
  }
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : num(v);
}

function values(t: Trace, key: 'x' | 'y'): (number | null)[] {
  return ((t[key] as unknown[]) ?? []).map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null));
}

export function figureToSvg(fig: Figure): string {
  const L = fig.layout as Record<string, unknown>;
  const W = Number(L.width ?? 640);
  const legendItems = fig.data.filter((t) => t.showlegend !== false && t.name && t.type !== 'heatmap');
  const perRow = Math.max(1, Math.floor((W - 40) / 210));
  const legendH = Math.ceil(legendItems.length / perRow) * 16 + (legendItems.length ? 10 : 0);
  const H = Number(L.height ?? 440) + legendH;
  const m = { l: 64, r: 16, t: 56, b: 52 + legendH };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const parts: string[] = [];
  const title = (L.title as { text?: string })?.text;
  if (title) parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`);

  const axisKeys = new Set(fig.data.map((t) => `${(t.xaxis as string) ?? 'x'}|${(t.yaxis as string) ?? 'y'}`));
  for (const key of axisKeys) {
    const [xa, ya] = key.split('|');
    const xl = (L[xa === 'x' ? 'xaxis' : `xaxis${xa.slice(1)}`] ?? {}) as Axis;
    const yl = (L[ya === 'y' ? 'yaxis' : `yaxis${ya.slice(1)}`] ?? {}) as Axis;
    const traces = fig.data.filter((t) => ((t.xaxis as string) ?? 'x') === xa && ((t.yaxis as string) ?? 'y') === ya);
    const xd = xl.domain ?? [0, 1];
    const yd = yl.domain ?? [0, 1];
    const box = { x0: m.l + xd[0] * pw + (xd[0] > 0 ? 40 : 0), x1: m.l + xd[1] * pw, y0: m.t + (1 - yd[1]) * ph + (yd[1] < 1 ? 24 : 0), y1: m.t + (1 - yd[0]) * ph - (yd[0] > 0 ? 36 : 0) };
    const heat = traces.find((t) => t.type === 'heatmap');
    if (heat) {
      parts.push(heatmapSvg(heat, box));
      continue;
    }
    const xlog = xl.type === 'log';
    const ylog = yl.type === 'log';
    const tx = (v: number) => (xlog ? Math.log10(v) : v);
    const ty = (v: number) => (ylog ? Math.log10(v) : v);
    const xs = traces.flatMap((t) => values(t, 'x')).filter((v): v is number => v !== null && (!xlog || v > 0)).map(tx);
    const ys = traces.flatMap((t) => values(t, 'y')).filter((v): v is number => v !== null && (!ylog || v > 0)).map(ty);
    if (!xs.length || !ys.length) continue;
    let [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
    let [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
    const padX = (xmax - xmin || 1) * 0.04;
    const padY = (ymax - ymin || 1) * 0.06;
    [xmin, xmax, ymin, ymax] = [xmin - padX, xmax + padX, ymin - padY, ymax + padY];
    const px = (v: number) => box.x0 + ((tx(v) - xmin) / (xmax - xmin)) * (box.x1 - box.x0);
    const py = (v: number) => box.y1 - ((ty(v) - ymin) / (ymax - ymin)) * (box.y1 - box.y0);
    parts.push(`<rect x="${box.x0}" y="${box.y0}" width="${box.x1 - box.x0}" height="${box.y1 - box.y0}" fill="white" stroke="#444"/>`);
    const ticks = (lo: number, hi: number, log: boolean) => (log ? Array.from({ length: Math.floor(hi) - Math.ceil(lo) + 1 }, (_, i) => Math.ceil(lo) + i) : niceTicks(lo, hi));
    for (const v of ticks(xmin, xmax, xlog)) {
      const X = box.x0 + ((v - xmin) / (xmax - xmin)) * (box.x1 - box.x0);
      parts.push(`<line x1="${X}" x2="${X}" y1="${box.y0}" y2="${box.y1}" stroke="#eee"/><text x="${X}" y="${box.y1 + 14}" text-anchor="middle" font-size="10">${esc(tickLabel(v, xlog))}</text>`);
    }
    for (const v of ticks(ymin, ymax, ylog)) {
      const Y = box.y1 - ((v - ymin) / (ymax - ymin)) * (box.y1 - box.y0);
      parts.push(`<line x1="${box.x0}" x2="${box.x1}" y1="${Y}" y2="${Y}" stroke="#eee"/><text x="${box.x0 - 4}" y="${Y + 3}" text-anchor="end" font-size="10">${esc(tickLabel(v, ylog))}</text>`);
    }
    if (xl.title?.text) parts.push(`<text x="${(box.x0 + box.x1) / 2}" y="${box.y1 + 30}" text-anchor="middle" font-size="11">${esc(xl.title.text)}</text>`);
    if (yl.title?.text) parts.push(`<text transform="translate(${box.x0 - 44},${(box.y0 + box.y1) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(yl.title.text)}</text>`);
    parts.push(`<svg x="0" y="0" width="${W}" height="${H}" overflow="hidden"><clipPath id="c${parts.length}"><rect x="${box.x0}" y="${box.y0}" width="${box.x1 - box.x0}" height="${box.y1 - box.y0}"/></clipPath><g clip-path="url(#c${parts.length})">`);
    for (const t of traces) parts.push(traceSvg(t, px, py, xlog, ylog));
    parts.push('</g></svg>');
  }
  for (const a of (L.annotations as Record<string, unknown>[] | undefined) ?? []) {
    if (a.xref !== 'paper') continue;
    parts.push(`<text x="${m.l + Number(a.x) * pw}" y="${m.t + (1 - Number(a.y)) * ph + 14}" text-anchor="middle" font-size="12">${esc(a.text)}</text>`);
  }
  legendItems.forEach((t, i) => {
    const x = 20 + (i % perRow) * 210;
    const y = H - legendH + 8 + Math.floor(i / perRow) * 16;
    const line = t.line as { color?: string; dash?: string } | undefined;
    parts.push(`<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${esc(line?.color ?? '#1f77b4')}" stroke-width="2"${line?.dash === 'dash' ? ' stroke-dasharray="5,3"' : ''}/><text x="${x + 22}" y="${y + 4}" font-size="10">${esc(String(t.name).slice(0, 34))}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif"><rect width="${W}" height="${H}" fill="white"/>${parts.join('')}</svg>`;
}

function traceSvg(t: Trace, px: (v: number) => number, py: (v: number) => number, xlog: boolean, ylog: boolean): string {
  const xs = values(t, 'x');
  const ys = values(t, 'y');
  const ok = (i: number) => xs[i] !== null && ys[i] !== null && (!xlog || (xs[i] as number) > 0) && (!ylog || (ys[i] as number) > 0);
  const line = (t.line as { color?: string; dash?: string; width?: number }) ?? {};
  const color = line.color ?? (t.marker as { color?: string })?.color ?? '#1f77b4';
  if (t.fill === 'toself') {
    const pts = xs.map((_, i) => (ok(i) ? `${px(xs[i] as number)},${py(ys[i] as number)}` : '')).filter(Boolean);
    return `<polygon points="${pts.join(' ')}" fill="${esc(t.fillcolor ?? color)}" stroke="none"/>`;
  }
  const mode = String(t.mode ?? 'lines+markers');
  const out: string[] = [];
  if (mode.includes('lines')) {
    let seg: string[] = [];
    const flush = () => {
      if (seg.length > 1) out.push(`<polyline points="${seg.join(' ')}" fill="none" stroke="${esc(color)}" stroke-width="${line.width ?? 2}"${line.dash === 'dash' ? ' stroke-dasharray="6,4"' : line.dash === 'dot' ? ' stroke-dasharray="2,3"' : ''}/>`);
      seg = [];
    };
    xs.forEach((_, i) => (ok(i) ? seg.push(`${px(xs[i] as number).toFixed(1)},${py(ys[i] as number).toFixed(1)}`) : flush()));
    flush();
  }
  if (mode.includes('markers')) xs.forEach((_, i) => ok(i) && out.push(`<circle cx="${px(xs[i] as number).toFixed(1)}" cy="${py(ys[i] as number).toFixed(1)}" r="3" fill="${esc(color)}"/>`));
  if (mode.includes('text')) {
    const text = (t.text as string[]) ?? [];
    xs.forEach((_, i) => ok(i) && out.push(`<text x="${px(xs[i] as number)}" y="${py(ys[i] as number) - 8}" text-anchor="middle" font-size="10">${esc(text[i] ?? '')}</text>`));
  }
  return out.join('');
}

function heatmapSvg(t: Trace, box: { x0: number; x1: number; y0: number; y1: number }): string {
  const z = t.z as number[][];
  const flat = z.flat();
  const lim = Math.max(...flat.map(Math.abs)) || 1;
  const h = (box.y1 - box.y0) / z.length;
  const w = (box.x1 - box.x0) / z[0].length;
  const color = (v: number) => {
    const a = Math.max(-1, Math.min(1, v / lim));
    const [r, g, b] = a >= 0 ? [255, Math.round(255 * (1 - a)), Math.round(255 * (1 - a))] : [Math.round(255 * (1 + a)), Math.round(255 * (1 + a)), 255];
    return `rgb(${r},${g},${b})`;
  };
  return z.map((row, i) => row.map((v, j) => `<rect x="${box.x0 + j * w}" y="${box.y0 + i * h}" width="${w + 0.5}" height="${h + 0.5}" fill="${color(v)}"/>`).join('')).join('');
}
