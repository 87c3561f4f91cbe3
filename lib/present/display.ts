import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { describeWriteError } from '../core/write-errors.js';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Figure, checkFigure } from './figure.js';
import { figureToSvg } from './svg.js';

// The tslab adapter: a figure as a Jupyter mime bundle, written to the cell's output.
let plotlyInlined = false;
const require = createRequire(import.meta.url);

function plotlySource(): string {
  return readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
}

interface TslabJupyter {
  lastWriteDisplayData: ((payload: unknown, update: boolean) => void) | null;
}

function tslabChannel(): TslabJupyter | null {
  try {
    const j = require('tslab/dist/jupyter.js') as TslabJupyter;
    return j.lastWriteDisplayData ? j : null;
  } catch {
    return null;
  }
}

let figureCounter = 0;

/**
 * The mime bundle of a figure: plotly JSON (JupyterLab's plotly renderer), HTML that draws it with plotly.js
 * (inlined once per kernel session, never from a CDN) and a plain-text summary.
 */
export function figureBundle(fig: Figure, name: string): Record<string, unknown> {
  const id = `tangent-fig-${process.pid}-${++figureCounter}`;
  const lib = plotlyInlined ? '' : `<script type="text/javascript">${plotlySource()}</script>`;
  plotlyInlined = true;
  const spec = JSON.stringify({ data: fig.data, layout: fig.layout }).replace(/</g, '\\u003c');
  const svg = figureToSvg(fig);
  // The static image sits inside the plot's div: plotly.js replaces it where scripts run; elsewhere it stays.
  const fallback = `<img alt="${name}" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"/>`;
  const html = `${lib}<div id="${id}" class="tangent-figure" data-figure="${name}" style="width:${Number(fig.layout.width ?? 640)}px;min-height:${Number(fig.layout.height ?? 440)}px">${fallback}</div>
<script type="text/javascript">(function(){var s=${spec};function draw(){if(window.Plotly){var el=document.getElementById('${id}');el.innerHTML='';window.Plotly.newPlot(el,s.data,s.layout,{responsive:false,displaylogo:false});}else{setTimeout(draw,50);}}draw();})();</script>`;
  const title = (fig.layout.title as { text?: string })?.text ?? name;
  return {
    'application/vnd.plotly.v1+json': { data: fig.data, layout: fig.layout, config: { displaylogo: false } },
    'text/html': html,
    'image/svg+xml': svg,
    'text/plain': `<figure '${name}': ${title}; ${fig.data.length} traces>`,
  };
}

/**
 * Displays a figure in the notebook (a one-line summary outside a kernel) after checking it, and saves its
 * spec to $TANGENT_FIGURES_DIR/<name>.json when the reproduction runner asks for it (static export and report).
 *
 * @param fig a figure spec from `linePlot`, `loglogPlot`, `panels`, `heatmap`, ... (checked: no empty or non-finite data)
 * @param name the figure's file name in the report, e.g. '002-fig1'
 * @example
 * const ms = [100, 1000, 10000], dk = [0.1, 0.03, 0.01];
 * show(loglogPlot({ title: 'ΔK vs width', x: 'width m', y: 'ΔK', series: [{ name: 'f', x: ms, y: dk }] }), '002-fig1');
 */
export function show(fig: Figure, name = `figure-${figureCounter + 1}`): void {
  checkFigure(fig, name);
  const dir = process.env.TANGENT_FIGURES_DIR;
  if (dir) {
    const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify(fig));
      renameSync(`${file}.tmp`, file);
    } catch (e) {
      rmSync(`${file}.tmp`, { force: true });
      throw describeWriteError(e, `the spec of figure ${name}`, dir);
    }
  }
  const bundle = figureBundle(fig, name);
  const channel = tslabChannel();
  if (channel) channel.lastWriteDisplayData?.({ data: bundle, metadata: {}, transient: {} }, false);
  else console.log(bundle['text/plain']);
}
