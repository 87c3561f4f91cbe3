/** A plotly.js figure spec: plain JSON data and layout, tested as data and rendered by plotly.js. */
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

export interface PlotSeries {
  name: string;
  x: number[];
  y: number[];
  /** Half-width of a band drawn around y (e.g. std over seeds). */
  band?: number[];
  dash?: 'solid' | 'dash' | 'dot';
  mode?: 'lines' | 'markers' | 'lines+markers';
  color?: string;
}

export interface AxisSpec {
  title: string;
  log?: boolean;
}

/** Throws a readable error for a figure that would render blank or wrong (no traces, empty or non-finite data). */
export function checkFigure(fig: Figure, name = 'figure'): void {
  if (!fig || !Array.isArray(fig.data) || typeof fig.layout !== 'object') throw new Error(`${name}: not a figure spec (expected { data: [...], layout: {...} })`);
  if (fig.data.length === 0) throw new Error(`${name}: has no traces`);
  fig.data.forEach((t, i) => {
    const label = `${name}: trace ${i} ('${String(t.name ?? t.type ?? '')}')`;
    if (t.type === 'heatmap') {
      const z = t.z as number[][];
      if (!z?.length || z.some((row) => row.some((v) => !Number.isFinite(v)))) throw new Error(`${label} has empty or non-finite z values`);
      return;
    }
    const x = t.x as unknown[];
    const y = t.y as unknown[];
    if (!Array.isArray(x) || !Array.isArray(y) || x.length === 0) throw new Error(`${label} is empty`);
    if (x.length !== y.length) throw new Error(`${label} has ${x.length} x values but ${y.length} y values`);
    // null is plotly's gap marker (e.g. between the segments of an edge trace).
    const bad = y.findIndex((v) => v !== null && (typeof v !== 'number' || !Number.isFinite(v)));
    if (bad >= 0) throw new Error(`${label} has a non-finite y value at index ${bad} (x = ${String(x[bad])}): ${String(y[bad])}`);
  });
}
