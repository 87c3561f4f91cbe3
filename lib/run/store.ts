import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { backendInfo, initBackend } from '../core/backend.js';
import { canonicalJson, decodePlain, encodePlain, sha256Hex, sortedStringify } from '../core/canonical-json.js';
import { dataDir, libraryVersion } from '../core/env.js';

/** Format tag of stored entries; bump when the layout changes (older entries then count as invalid). */
export const RESULT_FORMAT = 'tangent-lab/result@1';

export interface StoreHooks {
  /** Called after half of an entry's bytes are in its temporary file (tests use it to kill a writer). */
  midWrite?: (tmpPath: string, key: string) => void | Promise<void>;
}

export interface StoreOptions {
  /** Root of all experiments; default $TANGENT_RESULTS_DIR, else `<project>/data/results`. */
  root?: string;
  /** Backend name that goes into every key; default: the backend chosen by initBackend(). */
  backend?: string;
  /** Library version that goes into every key; default: package.json `version`. */
  version?: string;
  /** Where progress and corruption reports go; default console.log. */
  log?: (line: string) => void;
  hooks?: StoreHooks;
}

export interface ResultStore {
  experiment: string;
  root: string;
  /** `<root>/<experiment>`. */
  dir: string;
  version: string;
  backend?: string;
  log: (line: string) => void;
  hooks: StoreHooks;
}

/** What a key is computed from: the caller's config plus experiment, backend and library version. */
export interface KeyedConfig {
  experiment: string;
  config: unknown;
  backend: string;
  libraryVersion: string;
}

export interface StoredEntry<R = unknown> {
  format: string;
  key: string;
  experiment: string;
  backend: string;
  libraryVersion: string;
  config: unknown;
  meta: Record<string, unknown>;
  checksum: string;
  result: R;
}

/** Temporary files carry host and pid so that only this host's dead writers' files are cleaned up. */
const HOST_TAG = sha256Hex(hostname()).slice(0, 8);
const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const KEY = /^[0-9a-f]{64}$/;

export function resultsRoot(root?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(root ?? (env.TANGENT_RESULTS_DIR?.trim() || join(dataDir(), 'results')));
}

/** A store for one experiment under `<root>/<experiment>/`. Removes temporary files left by dead writers. */
export function openStore(experiment: string, options: StoreOptions = {}): ResultStore {
  if (typeof experiment !== 'string' || !EXPERIMENT_NAME.test(experiment)) {
    throw new Error(`openStore: experiment = ${JSON.stringify(experiment)}; expected a name of letters, digits, '.', '_' or '-' (used as a directory name)`);
  }
  if (options.backend !== undefined && (typeof options.backend !== 'string' || !options.backend)) {
    throw new Error(`openStore: backend = ${JSON.stringify(options.backend)}; expected a non-empty string`);
  }
  const root = resultsRoot(options.root);
  const store: ResultStore = {
    experiment,
    root,
    dir: join(root, experiment),
    version: options.version ?? libraryVersion(),
    backend: options.backend,
    log: options.log ?? ((l) => console.log(l)),
    hooks: options.hooks ?? {},
  };
  cleanStaleTemps(store);
  return store;
}

/** sha256 of the canonical JSON (sorted keys) of a value. */
export function runKey(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

async function storeBackend(store: ResultStore): Promise<string> {
  return store.backend ?? (await initBackend()).name;
}

/** The full configuration a run is keyed by. */
export async function keyedConfig(store: ResultStore, config: unknown): Promise<KeyedConfig> {
  return { experiment: store.experiment, config, backend: await storeBackend(store), libraryVersion: store.version };
}

/** The key of `config` in `store`. */
export async function keyFor(store: ResultStore, config: unknown): Promise<string> {
  return runKey(await keyedConfig(store, config));
}

export function entryPath(store: ResultStore, key: string): string {
  return join(store.dir, `${key}.json`);
}

export type EntryStatus<R> = { status: 'ok'; entry: StoredEntry<R> } | { status: 'missing' } | { status: 'corrupt'; reason: string };

/** Reads and fully validates one entry file: parse, format, key = hash of config, payload checksum. */
export function readEntryFile<R = unknown>(path: string, expectedKey?: string): EntryStatus<R> {
  if (!existsSync(path)) return { status: 'missing' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { status: 'corrupt', reason: `unreadable: ${(e as Error).message}` };
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return { status: 'corrupt', reason: `not valid JSON (${text.length} bytes; truncated?): ${(e as Error).message}` };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { status: 'corrupt', reason: 'not a JSON object' };
  if (raw.format !== RESULT_FORMAT) return { status: 'corrupt', reason: `format ${JSON.stringify(raw.format)}, expected ${RESULT_FORMAT}` };
  for (const f of ['key', 'experiment', 'backend', 'libraryVersion', 'checksum'] as const) {
    if (typeof raw[f] !== 'string') return { status: 'corrupt', reason: `field ${f} missing or not a string` };
  }
  if (!('result' in raw) || !('config' in raw) || !raw.meta || typeof raw.meta !== 'object') {
    return { status: 'corrupt', reason: 'field result, config or meta missing' };
  }
  const key = raw.key as string;
  if (expectedKey !== undefined && key !== expectedKey) return { status: 'corrupt', reason: `holds key ${key}, expected ${expectedKey}` };
  let config: unknown, result: unknown;
  try {
    config = decodePlain(raw.config);
    result = decodePlain(raw.result);
  } catch (e) {
    return { status: 'corrupt', reason: `undecodable: ${(e as Error).message}` };
  }
  const recomputed = runKey({ experiment: raw.experiment, config, backend: raw.backend, libraryVersion: raw.libraryVersion });
  if (recomputed !== key) return { status: 'corrupt', reason: `config hashes to ${recomputed.slice(0, 12)}…, not to its key ${key.slice(0, 12)}…` };
  const checksum = `sha256:${sha256Hex(sortedStringify(raw.result))}`;
  if (checksum !== raw.checksum) return { status: 'corrupt', reason: `payload checksum ${checksum.slice(0, 19)}… does not match the stored ${String(raw.checksum).slice(0, 19)}…` };
  return {
    status: 'ok',
    entry: {
      format: RESULT_FORMAT,
      key,
      experiment: raw.experiment as string,
      backend: raw.backend as string,
      libraryVersion: raw.libraryVersion as string,
      config,
      meta: raw.meta as Record<string, unknown>,
      checksum,
      result: result as R,
    },
  };
}

/** Moves a corrupt entry aside (`<key>.json.corrupt-<time>`) so that it is kept for inspection but never read. */
function quarantine(store: ResultStore, path: string, reason: string): void {
  const aside = `${path}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(path, aside);
  } catch {
    rmSync(path, { force: true });
  }
  store.log(`store ${store.experiment}: ${path} is corrupt (${reason}); moved to ${aside}; recomputing`);
}

/** The stored result for `config`, or undefined (a corrupt entry is reported and moved aside). */
export async function lookup<R = unknown>(store: ResultStore, config: unknown): Promise<StoredEntry<R> | undefined> {
  const key = await keyFor(store, config);
  const path = entryPath(store, key);
  const got = readEntryFile<R>(path, key);
  if (got.status === 'ok') return got.entry;
  if (got.status === 'corrupt') quarantine(store, path, got.reason);
  return undefined;
}

function currentBackendInfo(): unknown {
  try {
    return backendInfo();
  } catch {
    return null;
  }
}

/** Writes `text` to a temporary file in the same directory, fsyncs it, renames it over `path`, fsyncs the directory. */
async function writeAtomic(store: ResultStore, path: string, key: string, text: string): Promise<void> {
  mkdirSync(store.dir, { recursive: true });
  const tmp = join(store.dir, `.${key}.json.tmp-${HOST_TAG}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const bytes = Buffer.from(text, 'utf8');
  const fh = await open(tmp, 'wx');
  try {
    const half = bytes.length >> 1;
    await fh.write(bytes, 0, half, 0);
    if (store.hooks.midWrite) await store.hooks.midWrite(tmp, key);
    await fh.write(bytes, half, bytes.length - half, half);
    await fh.sync();
  } catch (e) {
    await fh.close();
    rmSync(tmp, { force: true });
    throw e;
  }
  await fh.close();
  renameSync(tmp, path);
  try {
    const dh = await open(store.dir, 'r');
    await dh.sync().catch(() => undefined);
    await dh.close();
  } catch {
    // Directory fsync is not supported everywhere; the rename itself is atomic.
  }
}

/** Stores `result` for `config` (overwriting). Returns the entry as it will be read back. */
export async function storeResult<R>(store: ResultStore, config: unknown, result: R, meta: Record<string, unknown> = {}): Promise<StoredEntry<R>> {
  const keyed = await keyedConfig(store, config);
  const key = runKey(keyed);
  const encodedResult = encodePlain(result, 'result');
  const entry = {
    format: RESULT_FORMAT,
    key,
    experiment: keyed.experiment,
    backend: keyed.backend,
    libraryVersion: keyed.libraryVersion,
    config: encodePlain(config, 'config'),
    meta: encodePlain({ createdAt: new Date().toISOString(), backendInfo: currentBackendInfo(), node: process.version, platform: `${process.platform}-${process.arch}`, host: hostname(), ...meta }, 'meta') as Record<string, unknown>,
    checksum: `sha256:${sha256Hex(sortedStringify(encodedResult))}`,
    result: encodedResult,
  };
  await writeAtomic(store, entryPath(store, key), key, `${sortedStringify(entry)}\n`);
  return { ...entry, config, meta: decodePlain(entry.meta) as Record<string, unknown>, result: decodePlain(encodedResult) as R };
}

export interface CachedRun<R> {
  result: R;
  key: string;
  fromCache: boolean;
  entry: StoredEntry<R>;
}

/** Like `cached`, also telling whether the result came from the store. */
export async function cachedRun<R>(store: ResultStore, config: unknown, compute: () => Promise<R> | R): Promise<CachedRun<R>> {
  encodePlain(config, 'config');
  const hit = await lookup<R>(store, config);
  if (hit) return { result: hit.result, key: hit.key, fromCache: true, entry: hit };
  const t0 = performance.now();
  const result = await compute();
  const entry = await storeResult(store, config, result, { elapsedMs: performance.now() - t0 });
  return { result: entry.result, key: entry.key, fromCache: false, entry };
}

/**
 * The stored result for `config` if a valid entry exists, else `compute()`, stored atomically under
 * `<root>/<experiment>/<key>.json`. Fresh and cached results are identical (both decoded from the
 * stored form).
 */
export async function cached<R>(store: ResultStore, config: unknown, compute: () => Promise<R> | R): Promise<R> {
  return (await cachedRun(store, config, compute)).result;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes `.<key>.json.tmp-<host>-<pid>-*` files of this host whose writer process is gone. Returns how many. */
export function cleanStaleTemps(store: ResultStore): number {
  if (!existsSync(store.dir)) return 0;
  let removed = 0;
  for (const f of readdirSync(store.dir)) {
    const m = /^\.[0-9a-f]{64}\.json\.tmp-([0-9a-f]{8})-(\d+)-/.exec(f);
    if (!m || m[1] !== HOST_TAG) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && !pidAlive(pid)) {
      rmSync(join(store.dir, f), { force: true });
      removed++;
    }
  }
  if (removed) store.log(`store ${store.experiment}: removed ${removed} temporary file(s) left by interrupted writers`);
  return removed;
}

/** All valid entries of an experiment, plus the files that failed validation (reported, not moved). */
export function readEntries(store: ResultStore): { entries: StoredEntry[]; corrupt: { file: string; reason: string }[] } {
  const entries: StoredEntry[] = [];
  const corrupt: { file: string; reason: string }[] = [];
  if (!existsSync(store.dir)) return { entries, corrupt };
  for (const f of readdirSync(store.dir).sort()) {
    const m = /^([0-9a-f]{64})\.json$/.exec(f);
    if (!m || !KEY.test(m[1])) continue;
    const got = readEntryFile(join(store.dir, f), m[1]);
    if (got.status === 'ok') entries.push(got.entry);
    else if (got.status === 'corrupt') corrupt.push({ file: f, reason: got.reason });
  }
  for (const c of corrupt) store.log(`store ${store.experiment}: skipping corrupt entry ${c.file} (${c.reason})`);
  return { entries, corrupt };
}
