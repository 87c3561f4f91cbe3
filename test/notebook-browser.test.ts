import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { launch, local, testOutput, watch } from './browser-support.js';
import { jupyterPython, notebook, root } from './kernel-support.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitForHttp(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

// The classic front end queues messages until its websocket is open (Kernel._send), so a connected kernel can already
// take Run All; waiting also for its kernel_info reply (kernel_ready) means the kernel process itself has started.
const KERNEL_READY = 'window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() && !!Jupyter.notebook.kernel.info_reply.protocol_version';

describe('a notebook in the classic Jupyter front end, in headless Chromium', () => {
  // Inside the project so that the kernel resolves 'tangent-lab' through the project's node_modules.
  const dir = join(root, 'test-output', `e2e-${process.pid}`);
  let server: ChildProcess | undefined;
  after(() => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  test('Run All draws a plotly figure in the output area; a bad spec shows a readable error', { timeout: 300_000 }, async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'plot.ipynb'),
      notebook(
        "import { setupNotebook, linePlot, show } from 'tangent-lab';\nawait setupNotebook();",
        "show(linePlot({ title: 'e2e', x: { title: 'm', log: true }, y: { title: 'ΔK', log: true }, series: [{ name: 'curve', x: [10, 100, 1000], y: [1, 0.3, 0.1] }] }), 'e2e');",
      ),
    );
    writeFileSync(join(dir, 'bad.ipynb'), notebook("import { show } from 'tangent-lab';\nshow({ data: [{ type: 'scatter', name: 'broken', x: [1, 2], y: [1, NaN] }], layout: {} }, 'broken');"));
    // The classic front end: notebook 6 (Debian's); the venv's notebook 7 is tested in jupyterlab-browser.test.ts.
    const python = await jupyterPython(['notebook'], "notebook.__version__ < '7'");
    const port = await freePort();
    const token = randomBytes(12).toString('hex');
    const args = ['-m', 'notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`, `--NotebookApp.token=${token}`, `--notebook-dir=${dir}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])];
    server = spawn(python, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, JUPYTER_RUNTIME_DIR: join(dir, 'runtime') } });
    let log = '';
    server.stderr?.setEncoding('utf8').on('data', (s: string) => (log += s));
    await waitForHttp(`http://127.0.0.1:${port}/api?token=${token}`, 60_000);
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
      const w = await watch(page, local);
      await page.goto(`http://127.0.0.1:${port}/notebooks/plot.ipynb?token=${token}`);
      await page.waitForFunction(KERNEL_READY, undefined, { timeout: 120_000 });
      await page.evaluate('Jupyter.notebook.execute_all_cells()');
      await page.waitForSelector('.output_area .tangent-figure .main-svg .scatterlayer', { timeout: 180_000 });
      await page.screenshot({ path: join(testOutput, 'notebook-e2e.png'), fullPage: true });
      const text = await page.evaluate<string>(`document.querySelector('.output_area').innerText`);
      assert.match(text, /backend: (node|wasm\+openblas|wasm|cpu) /);
      assert.deepEqual(w.external, [], 'no request left the machine');

      await page.goto(`http://127.0.0.1:${port}/notebooks/bad.ipynb?token=${token}`);
      await page.waitForFunction(KERNEL_READY, undefined, { timeout: 120_000 });
      await page.evaluate('Jupyter.notebook.execute_all_cells()');
      await page.waitForFunction(`[...document.querySelectorAll('.output_area')].some((o) => /non-finite y value/.test(o.innerText))`, undefined, { timeout: 120_000 });
      const err = await page.evaluate<string>(`[...document.querySelectorAll('.output_area')].map((o) => o.innerText).join('\\n')`);
      assert.match(err, /broken: trace 0 \('broken'\) has a non-finite y value at index 1 \(x = 2\): NaN/);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- notebook server log (tail)\n${log.slice(-3000)}`);
    } finally {
      await browser.close();
    }
  });
});
