// `npm run lab` (scripts/lab.mjs): JupyterLab starts without the "get notified about official Jupyter news?"
// prompt and without an update check (issue 31 §2), as the browser tests run it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { jupyterPython, root } from './kernel-support.js';

interface Lab {
  QUIET_LAB: string[];
  labArguments(o: { app: string; userArgs?: string[]; isRoot?: boolean }): string[];
  ensureLabDefaults(python: string, root?: string): { file?: string; skipped?: string };
  COMPLETER_OVERRIDES: Record<string, Record<string, unknown>>;
}
const lab = (): Promise<Lab> => import(pathToFileURL(join(root, 'scripts', 'lab.mjs')).href) as Promise<Lab>;

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('npm run lab (scripts/lab.mjs)', () => {
  test('the argument list: announcements off for JupyterLab, before the user arguments (which win); --allow-root as root', async () => {
    const { labArguments, QUIET_LAB } = await lab();
    assert.deepEqual(QUIET_LAB, ['--LabApp.news_url=None', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']);
    assert.deepEqual(labArguments({ app: 'jupyterlab', userArgs: ['--notebook-dir=/x', '--LabApp.news_url=https://example.org/feed.xml'] }), [
      '-m', 'jupyterlab', ...QUIET_LAB, '--notebook-dir=/x', '--LabApp.news_url=https://example.org/feed.xml',
    ]);
    assert.deepEqual(labArguments({ app: 'jupyterlab', isRoot: true }), ['-m', 'jupyterlab', ...QUIET_LAB, '--allow-root']);
    // The classic notebook has no LabApp.
    assert.deepEqual(labArguments({ app: 'notebook', userArgs: ['--no-browser'] }), ['-m', 'notebook', '--no-browser']);
    assert.throws(() => labArguments({ app: 'lab' }), /labArguments: app 'lab' is not jupyterlab or notebook/);
  });

  test('JupyterLab started with them: news disabled in the page config, no update notification', { timeout: 120_000 }, async (t) => {
    let python: string;
    try {
      python = await jupyterPython(['jupyterlab'], "jupyterlab.__version__ >= '4'");
    } catch (e) {
      t.skip(`no JupyterLab 4: ${(e as Error).message}`);
      return;
    }
    const { labArguments, ensureLabDefaults, COMPLETER_OVERRIDES } = await lab();
    const defaults = ensureLabDefaults(python);
    const dir = mkdtempSync(join(tmpdir(), 'tangent-lab-command-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const token = 'lab-command-test';
    const args = labArguments({
      app: 'jupyterlab',
      isRoot: process.getuid?.() === 0,
      userArgs: ['--no-browser', '--ip=127.0.0.1', `--port=${port}`, `--ServerApp.token=${token}`, `--ServerApp.root_dir=${dir}`],
    });
    const env = { ...process.env, JUPYTER_CONFIG_DIR: join(dir, 'config'), JUPYTER_RUNTIME_DIR: join(dir, 'runtime') };
    const proc = spawn(python, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env });
    let log = '';
    proc.stderr.setEncoding('utf8').on('data', (s: string) => (log += s));
    const exited = new Promise((r) => proc.on('exit', r));
    after(async () => {
      proc.kill('SIGTERM');
      await exited;
    });
    const url = (p: string) => `http://127.0.0.1:${port}${p}?token=${token}`;
    let page = '';
    for (let i = 0; i < 300 && !page; i++) {
      if (proc.exitCode !== null) assert.fail(`JupyterLab exited (${proc.exitCode}):\n${log}`);
      try {
        const r = await fetch(url('/lab'));
        if (r.ok) page = await r.text();
      } catch {
        // not listening yet
      }
      if (!page) await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(page, `JupyterLab did not answer:\n${log}`);
    // The announcements plugin asks about news only when the page config does not say it is disabled.
    assert.match(page, /"news": \{"disabled": true\}/);
    assert.deepEqual(await (await fetch(url('/lab/api/update'))).json(), { notification: null });
    assert.deepEqual(await (await fetch(url('/lab/api/news'))).json(), { news: [] });
    // The completer waits for the kernel's first (slow) completion: the project's default, where its JupyterLab is the venv's.
    if (defaults.file) {
      const plugin = '@jupyterlab/completer-extension:manager';
      const setting = (await (await fetch(url(`/lab/api/settings/${plugin}`))).json()) as { schema?: { properties?: { providerTimeout?: { default?: number } } } };
      assert.equal(setting.schema?.properties?.providerTimeout?.default, COMPLETER_OVERRIDES[plugin].providerTimeout, "the schema default JupyterLab serves (a user's own setting still wins)");
    } else t.diagnostic(`completer default not written: ${defaults.skipped}`);
  });
});
