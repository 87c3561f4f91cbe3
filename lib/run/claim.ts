import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeWriteError } from '../core/write-errors.js';

/**
 * Per-key claims, so that concurrent runs on one result store compute each point once: the first run
 * creates `<dir>/.<key>.claim` (atomically, O_EXCL) holding its pid and host, computes, stores and removes
 * the claim; another run finding the claim waits until the result is stored and reuses it. A claim whose
 * owner is gone is broken: on the same host when its pid is dead (or reused, see `procStart`); from another
 * host when it has not been refreshed for `staleMs` (the owner touches it while its event loop is free).
 */
export interface ClaimOwner {
  pid: number;
  host: string;
  /** Random per process: tells this process's claims from those of an earlier process with the same pid. */
  token: string;
  /** Start time of the owner process (Linux, /proc/<pid>/stat field 22), to detect pid reuse. */
  procStart?: string;
  since: string;
}

export interface ClaimOptions {
  /** Progress lines ("waiting for ..."); default console.log. */
  log?: (line: string) => void;
  /** What is being computed, for the messages; default the key. */
  label?: string;
  /** Poll interval while waiting; default 250 ms. */
  pollMs?: number;
  /** A claim of another host not refreshed for this long is stale; default 10 min. */
  staleMs?: number;
}

export interface Claim {
  path: string;
  release(): void;
}

const TOKEN = randomBytes(8).toString('hex');
const HOST = hostname();

function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function claimPath(dir: string, key: string): string {
  return join(dir, `.${key}.claim`);
}

function readOwner(path: string): ClaimOwner | undefined | 'gone' {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ClaimOwner;
  } catch (e) {
    // A claim being written right now reads as empty; a missing one was just released.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : undefined;
  }
}

/** Why the claim at `path` is stale, or undefined while its owner may still be computing. */
export function staleReason(path: string, owner: ClaimOwner | undefined, staleMs: number, now = Date.now()): string | undefined {
  let age: number;
  try {
    age = now - statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  if (!owner || typeof owner.pid !== 'number') return age > 5_000 ? `unreadable claim file, ${Math.round(age / 1000)} s old` : undefined;
  if (owner.host === HOST) {
    if (owner.pid === process.pid) return owner.token === TOKEN ? undefined : `left by an earlier process with this pid (${owner.pid})`;
    if (!pidAlive(owner.pid)) return `owner pid ${owner.pid} is dead`;
    const start = procStart(owner.pid);
    if (owner.procStart && start && start !== owner.procStart) return `owner pid ${owner.pid} is dead (pid reused)`;
    return undefined;
  }
  return age > staleMs ? `owner ${owner.pid}@${owner.host} has not refreshed it for ${Math.round(age / 1000)} s` : undefined;
}

/** Creates the claim file atomically; false if another claim exists. Errors other than EEXIST are thrown with the folder named. */
function tryCreate(path: string, dir: string, label: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw describeWriteError(e, `the claim file for ${label}`, dir, 'Free space there or point TANGENT_RESULTS_DIR elsewhere, then rerun (stored points are reused).');
  }
  try {
    const owner: ClaimOwner = { pid: process.pid, host: HOST, token: TOKEN, procStart: procStart(process.pid), since: new Date().toISOString() };
    writeSync(fd, JSON.stringify(owner));
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw describeWriteError(e, `the claim file for ${label}`, dir, 'Free space there or point TANGENT_RESULTS_DIR elsewhere, then rerun (stored points are reused).');
  }
  closeSync(fd);
  return true;
}

/** Moves a stale claim out of the way; if what was moved turns out to be a live claim taken meanwhile, puts it back. */
function breakClaim(path: string, staleOwner: ClaimOwner | undefined): void {
  const aside = `${path}.broken-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else broke or released it
  }
  const moved = readOwner(aside);
  const same = moved === undefined || moved === 'gone' || !staleOwner || (moved.pid === staleOwner.pid && moved.token === staleOwner.token);
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // a third claim exists: it stands
    }
  }
  rmSync(aside, { force: true });
}

/**
 * The result `done()` finds once another run has stored it, or a claim on `key` for this process to compute
 * and store it (then call `release()`). Waits, with a progress line every 30 s, while another live process
 * holds the claim; breaks claims of dead owners.
 *
 * @example
 * const got = await claimOrAwait(dir, key, () => lookup(store, config));
 * if ('result' in got) return got.result;
 * try { ...compute and store... } finally { got.claim.release(); }
 */
export async function claimOrAwait<T>(dir: string, key: string, done: () => Promise<T | undefined> | T | undefined, options: ClaimOptions = {}): Promise<{ result: T } | { claim: Claim }> {
  const log = options.log ?? ((l: string) => console.log(l));
  const label = options.label ?? key;
  const pollMs = options.pollMs ?? 250;
  const staleMs = options.staleMs ?? 600_000;
  const path = claimPath(dir, key);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw describeWriteError(e, `the claim file for ${label}`, dir, 'Free space there or point TANGENT_RESULTS_DIR elsewhere, then rerun (stored points are reused).');
  }
  const t0 = Date.now();
  let lastLog = 0;
  for (;;) {
    const before = await done();
    if (before !== undefined) return { result: before };
    if (tryCreate(path, dir, label)) {
      // The previous owner may have stored the result and released between done() and the create.
      const after = await done();
      const claim = heldClaim(path, staleMs);
      if (after !== undefined) {
        claim.release();
        return { result: after };
      }
      return { claim };
    }
    const owner = readOwner(path);
    if (owner === 'gone') continue;
    const stale = staleReason(path, owner, staleMs);
    if (stale) {
      log(`${label}: breaking a stale claim (${stale})`);
      breakClaim(path, owner);
      continue;
    }
    const now = Date.now();
    if (now - lastLog >= 30_000) {
      lastLog = now;
      const who = owner ? `pid ${owner.pid} on ${owner.host}` : 'another process';
      log(`${label}: ${who} is computing it; waiting for its result (${Math.round((now - t0) / 1000)} s so far)`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function heldClaim(path: string, staleMs: number): Claim {
  // Refreshes the claim's mtime for hosts that cannot check our pid (only while the event loop is free).
  const timer = setInterval(() => {
    try {
      const t = new Date();
      utimesSync(path, t, t);
    } catch {
      // released or broken
    }
  }, Math.max(1000, staleMs / 10));
  timer.unref();
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      const owner = readOwner(path);
      if (owner && owner !== 'gone' && owner.pid === process.pid && owner.token === TOKEN) rmSync(path, { force: true });
    },
  };
}
