// JupyterLab 4 and Notebook 7 (the project venv's) on loopback, driven in headless Chromium: a paper
// notebook runs through the real kernel and its figures are drawn by plotly's mime renderer; completion,
// inspection, interrupt and restart answer from the UI. Screenshots in test-output/.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { launch, local, restartKernel, testOutput, waitForKernelReady, watch, type Page } from './browser-support.js';
import { jupyterPython, root } from './kernel-support.js';

const NO_DEBUGGER = 'Error: No active debugger session';
const NOTEBOOK = '000_multilinearity.ipynb'; // the quickest paper notebook (quick profile)
const KERNEL = 'TypeScript (tangent-lab)';

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

interface Server {
  url: (path: string) => string;
  log: () => string;
  stop: () => void;
}

/** `python -m jupyterlab|notebook` on 127.0.0.1 in `dir`, kernels at the quick profile. */
async function startServer(app: 'jupyterlab' | 'notebook', dir: string): Promise<Server> {
  const python = await jupyterPython([app], app === 'notebook' ? "notebook.__version__ >= '7'" : "jupyterlab.__version__ >= '4'");
  const port = await freePort();
  const token = randomBytes(12).toString('hex');
  const args = [
    '-m', app, '--no-browser', '--ip=127.0.0.1', `--port=${port}`, `--ServerApp.token=${token}`, `--ServerApp.root_dir=${dir}`,
    // Nothing from the internet: no news, no update check.
    '--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
    // window.jupyterapp: the session state that says when cells can run (waitForKernelReady).
    app === 'jupyterlab' ? '--LabApp.expose_app_in_browser=True' : '--JupyterNotebookApp.expose_app_in_browser=True',
    ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
  ];
  // The checkout's private kernelspec first (scripts/kernel-install.mjs): the user-level one may belong to another checkout.
  const { privateKernelEnv } = (await import(pathToFileURL(join(root, 'scripts', 'kernel-install.mjs')).href)) as { privateKernelEnv(root: string): NodeJS.ProcessEnv };
  // JupyterLab drops a completion provider's answer that comes after providerTimeout (1 s by default). tslab's first
  // completion in a kernel took 5.1 s at load 8 on this 2-core machine (later ones 0.05-0.1 s), and the completer
  // then never showed: the test checks that tslab answers, not how fast. The settings folder is the server's own.
  const settings = join(dir, 'config', 'lab', 'user-settings');
  mkdirSync(join(settings, '@jupyterlab', 'completer-extension'), { recursive: true });
  writeFileSync(join(settings, '@jupyterlab', 'completer-extension', 'manager.jupyterlab-settings'), JSON.stringify({ providerTimeout: 120_000 }));
  const env = {
    ...privateKernelEnv(root),
    TANGENT_PROFILE: 'quick',
    JUPYTER_RUNTIME_DIR: join(dir, 'runtime'),
    JUPYTER_CONFIG_DIR: join(dir, 'config'),
    JUPYTERLAB_SETTINGS_DIR: settings,
  };
  const proc: ChildProcess = spawn(python, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  proc.stderr?.setEncoding('utf8').on('data', (s: string) => (log += s));
  await waitForHttp(`http://127.0.0.1:${port}/api?token=${token}`, 90_000);
  return { url: (p) => `http://127.0.0.1:${port}${p}${p.includes('?') ? '&' : '?'}token=${token}`, log: () => log, stop: () => proc.kill('SIGTERM') };
}

/** A copy of the paper notebook in `dir`; without its kernel metadata when `pickKernel` (so the UI asks for one). */
function copyNotebook(dir: string, pickKernel: boolean): number {
  const nb = JSON.parse(readFileSync(join(root, 'notebooks', NOTEBOOK), 'utf8')) as { metadata: Record<string, unknown>; cells: { cell_type: string; source: string[] | string }[] };
  // Without kernelspec and language_info JupyterLab cannot match a kernel, so it asks.
  if (pickKernel) {
    delete nb.metadata.kernelspec;
    delete nb.metadata.language_info;
  }
  writeFileSync(join(dir, NOTEBOOK), JSON.stringify(nb));
  return nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n').split(/\bshow\(/).length - 1;
}

/** Resolves when `path` exists; a deadline, not a timing assumption. */
async function fileAppears(path: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`${path} did not appear within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function menu(page: Page, top: string, item: string): Promise<void> {
  await page.click(`.lm-MenuBar-itemLabel:text-is("${top}")`);
  await page.click(`.lm-Menu-itemLabel:text-is("${item}")`);
}

/** Run All, then wait until every code cell has run (no [*] prompt) and `figures` plotly figures are drawn. */
async function runAll(page: Page, figures: number): Promise<void> {
  await menu(page, 'Run', 'Run All Cells');
  await page.waitForFunction(
    `(() => { const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map((e) => e.textContent.trim());
       return p.length > 0 && p.every((t) => /^\\[\\d+\\]:$/.test(t)); })()`,
    undefined,
    { timeout: 600_000, polling: 1000 },
  );
  // jp-RenderedPlotly: the output widget of plotly's JupyterLab extension (application/vnd.plotly.v1+json).
  await page.waitForFunction(`document.querySelectorAll('.jp-OutputArea-output.jp-RenderedPlotly .main-svg .scatterlayer').length >= ${figures}`, undefined, { timeout: 60_000 });
}

/** Appends a code cell below the last one, types `code` and runs it; returns the output text. */
async function runNewCell(page: Page, code: string, expect: RegExp): Promise<string> {
  await page.click('.jp-Notebook .jp-Cell:last-child .jp-InputArea-editor');
  await page.keyboard.press('Escape');
  await page.keyboard.press('b');
  await page.keyboard.press('Enter');
  await page.keyboard.type(code);
  await page.keyboard.press('Shift+Enter');
  const sel = '.jp-Notebook .jp-CodeCell:last-of-type .jp-OutputArea-output';
  await page.waitForFunction(`[...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].slice(-2).some((c) => ${expect.toString()}.test(c.querySelector('.jp-OutputArea')?.textContent ?? ''))`, undefined, { timeout: 120_000 });
  void sel;
  return page.evaluate<string>(`[...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].slice(-2).map((c) => c.querySelector('.jp-OutputArea')?.textContent ?? '').join('\\n')`);
}

const pages = new WeakMap<object, Page>();
const pageOf = (b: object) => pages.get(b);

describe('JupyterLab 4 and Notebook 7 in headless Chromium (project venv)', () => {
  const base = join(root, 'test-output', `e2e-lab-${process.pid}`);
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.stop();
    rmSync(base, { recursive: true, force: true });
  });

  test(`JupyterLab: open ${NOTEBOOK}, pick the kernel, Run All; plotly mime figures; completion, inspection, interrupt, restart`, { timeout: 900_000 }, async () => {
    const dir = join(base, 'lab');
    mkdirSync(dir, { recursive: true });
    const figures = copyNotebook(dir, true);
    const server = await startServer('jupyterlab', dir);
    servers.push(server);
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      pages.set(browser, page);
      const w = await watch(page, local);
      await page.goto(server.url(`/lab/tree/${NOTEBOOK}`));
      // No kernelspec in the notebook: JupyterLab asks which kernel to start.
      await page.waitForSelector('.jp-Dialog select', { timeout: 120_000 });
      await page.selectOption('.jp-Dialog select', { label: KERNEL });
      await page.click('.jp-Dialog .jp-mod-accept');
      await page.waitForSelector(`.jp-Toolbar-kernelName:has-text("${KERNEL}")`, { timeout: 60_000 });
      // The name shows while the session is still being created; Run All before it exists runs nothing.
      await waitForKernelReady(page, 300_000);
      await runAll(page, figures);
      await page.screenshot({ path: join(testOutput, 'jupyterlab-run-all.png'), fullPage: false });
      // textContent: JupyterLab renders cells out of view lazily (content-visibility), innerText skips them.
      const text = await page.evaluate<string>(`[...document.querySelectorAll('.jp-Notebook .jp-OutputArea')].map((o) => o.textContent).join('\\n')`);
      assert.match(text, /backend: (node|wasm|cpu)/);
      assert.match(text, /PASS/);
      assert.doesNotMatch(text, /\bFAIL\b/);

      // Tab completion and Shift+Tab inspection, answered by tslab.
      await page.click('.jp-Notebook .jp-Cell:last-child .jp-InputArea-editor');
      await page.keyboard.press('Escape');
      await page.keyboard.press('b');
      await page.keyboard.press('Enter');
      await page.keyboard.type('Math.ma');
      await page.keyboard.press('Tab');
      await page.waitForSelector('.jp-Completer .jp-Completer-item:has-text("max")', { timeout: 150_000 });
      await page.keyboard.press('Escape');
      await page.keyboard.type('x');
      await page.keyboard.press('Shift+Tab');
      await page.waitForSelector('.jp-Tooltip', { timeout: 120_000 });
      const tip = await page.evaluate<string>(`document.querySelector('.jp-Tooltip').textContent`);
      assert.match(tip, /max\(/, 'inspection shows Math.max');
      await page.screenshot({ path: join(testOutput, 'jupyterlab-inspect.png') });
      await page.keyboard.press('Escape');

      // Interrupt a busy cell from the Kernel menu; the kernel keeps working. The cell writes a file just before
      // its loop: tslab runs a cell with breakOnSigint, so a SIGINT after that write stops the loop, while one during
      // the cell's compilation (seconds under load) would be lost and the loop would run its full 120 s.
      const started = join(dir, 'busy-loop-started');
      await page.keyboard.press('Escape');
      await page.keyboard.press('b');
      await page.keyboard.press('Enter');
      await page.keyboard.type(`import { writeFileSync } from 'fs';\nwriteFileSync(${JSON.stringify(started)}, '');\nconst t0 = Date.now();\nwhile (Date.now() - t0 < 120_000) {}\nconsole.log("not interrupted");`);
      await page.keyboard.press('Control+Enter');
      await fileAppears(started, 60_000);
      await menu(page, 'Kernel', 'Interrupt Kernel');
      await page.waitForFunction(`/^\\[\\d+\\]:$/.test(document.querySelector('.jp-Notebook .jp-CodeCell:last-child .jp-InputPrompt').textContent.trim())`, undefined, { timeout: 60_000 });
      assert.doesNotMatch(await page.evaluate<string>(`document.querySelector('.jp-Notebook .jp-CodeCell:last-child .jp-OutputArea').textContent`), /not interrupted/);
      await new Promise((r) => setTimeout(r, 500)); // tslab aborts requests for 200 ms after a failed cell
      assert.match(await runNewCell(page, '(globalThis as { marker?: string }).marker = "old kernel";\nconsole.log("after interrupt", 6 * 7);', /after interrupt 42/), /after interrupt 42/);

      // Restart from the Kernel menu; a fresh kernel (without the old one's globals) answers.
      await restartKernel(page, async () => {
        await menu(page, 'Kernel', 'Restart Kernel…');
        await page.click('.jp-Dialog .jp-mod-accept');
      }, 300_000);
      await page.waitForSelector(`.jp-Toolbar-kernelName:has-text("${KERNEL}")`, { timeout: 60_000 });
      assert.match(await runNewCell(page, 'console.log("after restart", 6 * 7, String((globalThis as { marker?: string }).marker));', /after restart 42 \w+/), /after restart 42 undefined/);
      await page.screenshot({ path: join(testOutput, 'jupyterlab-restart.png') });
      assert.deepEqual(w.external, [], 'no request left the machine');
      // JupyterLab's debugger extension logs this when it probes a kernel without a debugger (tslab has none);
      // seen on a fresh clone's venv, not from the project's code. Any other console error fails the test.
      assert.deepEqual(w.consoleErrors.filter((e) => e !== NO_DEBUGGER), [], 'no console errors');
    } catch (e) {
      await pageOf(browser)?.screenshot({ path: join(testOutput, 'jupyterlab-failure.png') }).catch(() => undefined);
      const outputs = await pageOf(browser)?.evaluate<string>(`[...document.querySelectorAll('.jp-OutputArea-output')].map((o) => o.className + ': ' + o.innerText.slice(0, 60).replace(/\\n/g, ' ')).join('\\n')`).catch(() => '');
      (e as Error).message += `\n--- outputs\n${outputs}`;
      throw new Error(`${(e as Error).message}\n--- JupyterLab log (tail)\n${server.log().slice(-3000)}`);
    } finally {
      await browser.close();
    }
  });

  test(`Notebook 7: Run All of ${NOTEBOOK} draws its figures with the plotly mime renderer`, { timeout: 900_000 }, async () => {
    const dir = join(base, 'nb7');
    mkdirSync(dir, { recursive: true });
    const figures = copyNotebook(dir, false);
    const server = await startServer('notebook', dir);
    servers.push(server);
    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      pages.set(browser, page);
      const w = await watch(page, local);
      await page.goto(server.url(`/notebooks/${NOTEBOOK}`));
      await page.waitForSelector(`.jp-Toolbar-kernelName:has-text("${KERNEL}")`, { timeout: 120_000 });
      await waitForKernelReady(page, 300_000);
      await runAll(page, figures);
      await page.screenshot({ path: join(testOutput, 'notebook7-run-all.png') });
      // textContent: JupyterLab renders cells out of view lazily (content-visibility), innerText skips them.
      const text = await page.evaluate<string>(`[...document.querySelectorAll('.jp-Notebook .jp-OutputArea')].map((o) => o.textContent).join('\\n')`);
      assert.match(text, /backend: (node|wasm|cpu)/);
      assert.match(text, /PASS/);
      assert.deepEqual(w.external, [], 'no request left the machine');
      // Notebook 7.6.3 logs this one error on opening a notebook (with or without the debugger extension;
      // not from the project's code: see environment.md). Any other console error fails the test.
      const known = "TypeError: Cannot read properties of undefined (reading 'schema')";
      assert.deepEqual(w.consoleErrors.filter((e) => e !== known && e !== NO_DEBUGGER), [], 'no console errors (besides the known Notebook 7 one)');
    } catch (e) {
      await pageOf(browser)?.screenshot({ path: join(testOutput, 'notebook7-failure.png') }).catch(() => undefined);
      const outputs = await pageOf(browser)?.evaluate<string>(`[...document.querySelectorAll('.jp-OutputArea-output')].map((o) => o.className + ': ' + o.innerText.slice(0, 60).replace(/\\n/g, ' ')).join('\\n')`).catch(() => '');
      (e as Error).message += `\n--- outputs\n${outputs}`;
      throw new Error(`${(e as Error).message}\n--- Notebook 7 log (tail)\n${server.log().slice(-3000)}`);
    } finally {
      await browser.close();
    }
  });
});
