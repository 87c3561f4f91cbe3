import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_ARGS, findChromium } from '../scripts/report.js';
import { root } from './kernel-support.js';

/** Where browser tests keep screenshots (not versioned). */
export const testOutput = join(root, 'test-output');
mkdirSync(testOutput, { recursive: true });

export interface Watch {
  consoleErrors: string[];
  external: string[];
}

// Minimal structural types of the playwright-core objects used here.
export interface Page {
  goto(url: string, o?: unknown): Promise<unknown>;
  on(ev: string, f: (a: never) => void): void;
  route(pattern: string, f: (route: { request(): { url(): string }; continue(): Promise<void>; abort(): Promise<void> }) => Promise<void>): Promise<void>;
  waitForFunction(f: string, arg?: unknown, o?: unknown): Promise<unknown>;
  waitForSelector(s: string, o?: unknown): Promise<unknown>;
  evaluate<T>(f: string): Promise<T>;
  screenshot(o: { path: string; fullPage?: boolean }): Promise<unknown>;
  locator(s: string): { count(): Promise<number> };
  click(s: string, o?: unknown): Promise<void>;
  selectOption(s: string, v: { label: string } | string): Promise<unknown>;
  keyboard: { press(k: string): Promise<void>; type(t: string): Promise<void> };
}
export interface Browser {
  newPage(o?: unknown): Promise<Page>;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const { chromium } = (await import('playwright-core')) as unknown as { chromium: { launch(o: unknown): Promise<Browser> } };
  return chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS });
}

/** Records console errors and blocks (and lists) every request that would leave the machine. */
export async function watch(page: Page, allowed: (url: string) => boolean): Promise<Watch> {
  const w: Watch = { consoleErrors: [], external: [] };
  page.on('console', (m: { type(): string; text(): string }) => {
    if (m.type() === 'error') w.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e: Error) => w.consoleErrors.push(String(e)));
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (allowed(url)) return route.continue();
    w.external.push(url);
    return route.abort();
  });
  return w;
}

/**
 * The current notebook of JupyterLab 4 or Notebook 7 can run cells: its file is loaded, its session exists with a
 * kernel connection, the connection is open, the kernel idle and not restarting. The toolbar names a picked kernel as
 * soon as the session is requested, but until the server has answered (POST /api/sessions, then two PATCHes; about
 * 0.2 s on a loaded 2-core machine) `sessionContext.session.kernel` is null, and Run All then clears every cell
 * instead of running it (JupyterLab's cellexecutor `runCell` -> `CodeCell.execute`): all prompts stay `[ ]` with the
 * kernel idle. Reads the app from `window.jupyterapp`: the server must run with `expose_app_in_browser` (as
 * JupyterLab's own UI tests, galata, do).
 */
const KERNEL_READY = `(() => {
  const panel = window.jupyterapp?.shell?.currentWidget;
  const s = panel?.sessionContext;
  const k = s?.session?.kernel;
  return !!(panel?.context?.isReady && s.isReady && !s.isRestarting && !s.isTerminating && k &&
    k.connectionStatus === 'connected' && k.status === 'idle');
})()`;

/** Waits until the current notebook can run cells (KERNEL_READY above). */
export async function waitForKernelReady(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(KERNEL_READY, undefined, { timeout: timeoutMs, polling: 100 });
}

/**
 * Runs `act` (which restarts the kernel through the UI) and waits until the restart has begun and the kernel is ready
 * again. The session context signals 'restarting' before it restarts; a slot connected before `act` sees it however
 * quickly the restart goes, so a kernel that was idle before the restart is never taken for the restarted one.
 */
export async function restartKernel(page: Page, act: () => Promise<void>, timeoutMs: number): Promise<void> {
  await page.evaluate(`(() => {
    window.__tangentRestarted = false;
    window.jupyterapp.shell.currentWidget.sessionContext.statusChanged.connect((_, status) => {
      if (status === 'restarting') window.__tangentRestarted = true;
    });
  })()`);
  await act();
  await page.waitForFunction(`window.__tangentRestarted === true && ${KERNEL_READY}`, undefined, { timeout: timeoutMs, polling: 100 });
}

export const local = (url: string) => /^(file:|data:|blob:|about:)/.test(url) || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url);
