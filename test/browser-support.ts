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

export const local = (url: string) => /^(file:|data:|blob:|about:)/.test(url) || /^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url);
