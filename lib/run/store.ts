import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { backendInfo, backendPackageVersion, initBackend, keyedBackendVersion } from '../core/backend.js';
import { canonicalJson, decodePlain, encodePlain, sha256Hex, sortedStringify } from '../core/canonical-json.js';
import { withCheckpoints } from '../core/checkpoint-scope.js';
import { dataDir, libraryVersion } from '../core/env.js';
import { codeFingerprint, gitState } from './fingerprint.js';
import { type NotebookCode, notebookCode, notebookRegistry } from './notebook-code.js';
import { recordStoreEvent } from './store-events.js';
import { taskModule } from './tasks.js';
import { type ClaimOptions, claimOrAwait } from './claim.js';
import { describeWriteError } from '../core/write-errors.js';

/** Format tag of stored entries; bump when the layout changes (older entries then count as invalid). */
export const RESULT_FORMAT = 'tangent-lab/result@2';

export interface StoreHooks {
  /** Called after half of an entry's bytes are in its temporary file (tests use it to kill a writer). */
  midWrite?: (tmpPath: string, key: string) => void | Promise<void>;
  /** Poll interval and staleness of per-key claims (lib/claim.ts). */
  claim?: Pick<ClaimOptions, 'pollMs' | 'staleMs'>;
}

export interface StoreOptions {
  /** Root of all experiments; default $TANGENT_RESULTS_DIR, else `<project>/data/results`. */
  root?: string;
  /** Backend name that goes into every key; default: the backend chosen by initBackend(). */
  backend?: string;
  /** Backend version that goes into every key; default: the installed package of `backend` ('' for other names). */
  backendVersion?: string;
  /** Where progress and corruption reports go; default console.log. */
  log?: (line: string) => void;
  hooks?: StoreHooks;
}

export interface ResultStore {
  experiment: string;
  root: string;
  /** `<root>/<experiment>`. */
  dir: string;
  backend?: string;
  backendVersion?: string;
  log: (line: string) => void;
  hooks: StoreHooks;
}

/**
 * What runs for a stored result, which is what it is keyed by:
 * - a registered task call `{ task, args }` (what `remote(name, args)` ships; `module` defaults to the
 *   module that registered `task`), keyed by the task name, its arguments and the fingerprint of that module;
 * - a closure `{ config, code }`: `config` must hold every parameter the result depends on, and `code` names
 *   the module(s) the closure runs (e.g. `import.meta.url`, or `'tangent-lab'` for the whole library).
 *   In a notebook of the project's kernel `code` may be omitted (default `'tangent-lab'`), and a closure
 *   written in the notebook is also keyed by its own source and the notebook declarations it references
 *   (notebook-code.ts); `fn` is that closure (default: the `compute` of cachedRun).
 */
export type RunSpec =
  | { task: string; args: readonly unknown[]; module?: string }
  | { config: unknown; code?: string | readonly string[]; fn?: (...args: never[]) => unknown };

/** A RunSpec resolved to its code: what goes into the key besides experiment and backend. */
export interface RunId {
  /** The task name, or null for a closure. */
  task: string | null;
  /** `{ task, args }` (the `progress` flag of options arguments left out) or `{ config }`. */
  call: unknown;
  /** Code fingerprint (fingerprint.ts) of the module(s) that run. */
  fingerprint: string;
  /** Those modules, relative to their package root. */
  modules: string[];
  /** Library files changed on disk since this process loaded them (see fingerprint.ts); empty normally. */
  changedSinceLoad?: string[];
  /**
   * OpenBLAS threads of the process that computes the run, when it is not this one (a sweep worker gets
   * cores / workers); keyed in place of this process's count. Default: this process's.
   */
  computeThreads?: number;
  /** For a closure written in a notebook: what its key covers besides `modules` (stored in the meta). */
  notebook?: Omit<NotebookCode, 'files' | 'changedSinceLoad' | 'definedInNotebook'>;
}

/** What a key is the hash of. */
export interface KeyedRun {
  experiment: string;
  call: unknown;
  fingerprint: string;
  backend: string;
  backendVersion: string;
}

export interface StoredEntry<R = unknown> {
  format: string;
  key: string;
  experiment: string;
  task: string | null;
  call: unknown;
  fingerprint: string;
  backend: string;
  backendVersion: string;
  meta: Record<string, unknown>;
  /** `sha256:` of the stored result (its canonical JSON). */
  checksum: string;
  /**
   * `sha256:` of the whole stored entry but this field (meta included), as written. Entries written before
   * it existed lack it; their result is still covered by `checksum` and their call and backend by the key.
   */
  entryChecksum?: string;
  result: R;
}

const STORE_HINT = 'Free space there or point TANGENT_RESULTS_DIR elsewhere, then rerun (stored points are reused).';

/** Temporary files carry host and pid so that only this host's dead writers' files are cleaned up. */
const HOST_TAG = sha256Hex(hostname()).slice(0, 8);
const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const KEY = /^[0-9a-f]{64}$/;

export function resultsRoot(root?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(root ?? (env.TANGENT_RESULTS_DIR?.trim() || join(dataDir(), 'results')));
}

/**
 * A store for one experiment under `<root>/<experiment>/` (root: `TANGENT_RESULTS_DIR`, else data/results).
 * Removes temporary files left by dead writers. Pass it to {@link sweep}, which reads and writes the points.
 *
 * @param experiment the folder name: letters, digits, '.', '_', '-' (e.g. '002-fig1')
 * @param options `root` to put the store elsewhere than `TANGENT_RESULTS_DIR`, and the other StoreOptions
 * @example
 * const store = openStore('my-experiment');
 */
export function openStore(experiment: string, options: StoreOptions = {}): ResultStore {
  if (typeof experiment !== 'string' || !EXPERIMENT_NAME.test(experiment)) {
    throw new Error(`openStore: experiment = ${JSON.stringify(experiment)}; expected a name of letters, digits, '.', '_' or '-' (used as a directory name)`);
  }
  if (options === null || typeof options !== 'object') throw new Error(`openStore: options = ${String(options)}; expected an object of options`);
  if (options.root !== undefined && (typeof options.root !== 'string' || !options.root)) throw new Error(`openStore: root = ${JSON.stringify(options.root)}; expected the path of a results folder`);
  if (options.log !== undefined && typeof options.log !== 'function') throw new Error(`openStore: log = ${JSON.stringify(options.log)}; expected a function of a line`);
  if (options.backend !== undefined && (typeof options.backend !== 'string' || !options.backend)) {
    throw new Error(`openStore: backend = ${JSON.stringify(options.backend)}; expected a non-empty string`);
  }
  if (options.backendVersion !== undefined && typeof options.backendVersion !== 'string') {
    throw new Error(`openStore: backendVersion = ${JSON.stringify(options.backendVersion)}; expected a string`);
  }
  const root = resultsRoot(options.root);
  const store: ResultStore = {
    experiment,
    root,
    dir: join(root, experiment),
    backend: options.backend,
    backendVersion: options.backendVersion,
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

async function storeBackend(store: ResultStore, computeThreads?: number): Promise<{ backend: string; backendVersion: string }> {
  if (store.backend !== undefined) return { backend: store.backend, backendVersion: store.backendVersion ?? backendPackageVersion(store.backend) ?? '' };
  const info = { ...(await initBackend()) };
  if (computeThreads !== undefined && info.name === 'wasm+openblas') info.threads = computeThreads;
  // OpenBLAS sgemm partitions large products by thread count, which changes float32 roundings (measured on
  // products of >= 4 Mi multiply-adds, 1 vs 2 threads): results are reproducible per thread count, so it is keyed.
  // Its CPU kernels (AVX-512 vs AVX2) round differently too (lib/core/openblas.ts pinnedCoreType).
  const version = keyedBackendVersion(info);
  return { backend: info.name, backendVersion: store.backendVersion ?? version };
}

/** An options argument's `progress` (a flag or a printer) does not change the result: it is not keyed. */
function keyedArgs(args: readonly unknown[]): unknown[] {
  return args.map((a) => {
    if (!a || typeof a !== 'object' || Array.isArray(a) || !('progress' in a)) return a;
    const { progress, ...rest } = a as Record<string, unknown>;
    return progress === true || progress === false || typeof progress === 'function' ? rest : a;
  });
}

/**
 * Resolves what runs: the task's module (or the closure's modules) and their code fingerprint.
 * `compute` is the closure of a `{ config }` spec without `fn` (cachedRun passes its own).
 */
export function runId(spec: RunSpec, compute?: (...args: never[]) => unknown): RunId {
  if (!spec || typeof spec !== 'object') throw new Error(`runId: spec = ${JSON.stringify(spec)}; expected { task, args } or { config, code }`);
  if ('task' in spec) {
    if (typeof spec.task !== 'string' || !spec.task) throw new Error(`runId: task = ${JSON.stringify(spec.task)}; expected a registered task name`);
    if (!Array.isArray(spec.args)) throw new Error(`runId: args = ${JSON.stringify(spec.args)}; expected the task's argument list (an array)`);
    const module = spec.module ?? taskModule(spec.task);
    if (module === undefined) throw new Error(`runId: task = '${spec.task}'; expected a registered task (import its experiment module) or an explicit module`);
    const code = codeFingerprint(module);
    return { task: spec.task, call: { task: spec.task, args: keyedArgs(spec.args) }, fingerprint: code.fingerprint, modules: code.modules, changedSinceLoad: code.changedSinceLoad };
  }
  if (!('config' in spec)) throw new Error(`runId: spec = ${JSON.stringify(spec)}; expected { task, args } or { config, code }`);
  const fn = spec.fn ?? compute;
  if (fn !== undefined && typeof fn !== 'function') throw new Error(`runId: fn = ${JSON.stringify(fn)}; expected the closure that computes the result`);
  const registry = notebookRegistry();
  if (spec.code === undefined && (!registry || !fn)) {
    throw new Error(
      `runId: code = undefined; expected the module(s) a closure runs (import.meta.url, a file URL or a specifier such as 'tangent-lab'), so that its results are keyed by that code${registry ? '' : " (code may be omitted only in a notebook of the tangent-lab kernel, which keys a notebook's closure by its source)"}`,
    );
  }
  // A closure written in a notebook: keyed by the library (or `code`) and by its notebook code.
  const nb = registry && fn ? notebookCode(fn, registry) : undefined;
  const code = codeFingerprint(spec.code ?? 'tangent-lab');
  if (!nb || (spec.code !== undefined && !nb.definedInNotebook)) {
    return { task: null, call: { config: spec.config }, fingerprint: code.fingerprint, modules: code.modules, changedSinceLoad: code.changedSinceLoad };
  }
  const { files: _files, changedSinceLoad, definedInNotebook: _defined, ...covered } = nb;
  return {
    task: null,
    call: { config: spec.config },
    fingerprint: `sha256:${sha256Hex(`code ${code.fingerprint}\nnotebook ${nb.fingerprint}\n`)}`,
    modules: [...code.modules, 'notebook'],
    changedSinceLoad: [...new Set([...code.changedSinceLoad, ...changedSinceLoad])].sort(),
    notebook: covered,
  };
}

function asRunId(what: RunSpec | RunId, compute?: (...args: never[]) => unknown): RunId {
  return 'fingerprint' in what && 'call' in what ? what : runId(what as RunSpec, compute);
}

/** The full description a run is keyed by. */
export async function keyedRun(store: ResultStore, what: RunSpec | RunId): Promise<KeyedRun> {
  const id = asRunId(what);
  return { experiment: store.experiment, call: id.call, fingerprint: id.fingerprint, ...(await storeBackend(store, id.computeThreads)) };
}

/** The key of a run in `store`. */
export async function keyFor(store: ResultStore, what: RunSpec | RunId): Promise<string> {
  return runKey(await keyedRun(store, what));
}

export function entryPath(store: ResultStore, key: string): string {
  return join(store.dir, `${key}.json`);
}

export type EntryStatus<R> = { status: 'ok'; entry: StoredEntry<R> } | { status: 'missing' } | { status: 'corrupt'; reason: string };

/** Reads and fully validates one entry file: parse, format, key = hash of what it is keyed by, payload checksum. */
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
  for (const f of ['key', 'experiment', 'fingerprint', 'backend', 'backendVersion', 'checksum'] as const) {
    if (typeof raw[f] !== 'string') return { status: 'corrupt', reason: `field ${f} missing or not a string` };
  }
  if (raw.task !== null && typeof raw.task !== 'string') return { status: 'corrupt', reason: 'field task is neither a string nor null' };
  if (!('result' in raw) || !('call' in raw) || !raw.meta || typeof raw.meta !== 'object') {
    return { status: 'corrupt', reason: 'field result, call or meta missing' };
  }
  const key = raw.key as string;
  if (expectedKey !== undefined && key !== expectedKey) return { status: 'corrupt', reason: `holds key ${key}, expected ${expectedKey}` };
  let call: unknown, result: unknown, meta: unknown;
  try {
    call = decodePlain(raw.call);
    result = decodePlain(raw.result);
    meta = decodePlain(raw.meta);
  } catch (e) {
    return { status: 'corrupt', reason: `undecodable: ${(e as Error).message}` };
  }
  const keyed: KeyedRun = { experiment: raw.experiment as string, call, fingerprint: raw.fingerprint as string, backend: raw.backend as string, backendVersion: raw.backendVersion as string };
  const recomputed = runKey(keyed);
  if (recomputed !== key) return { status: 'corrupt', reason: `its call, fingerprint and backend hash to ${recomputed.slice(0, 12)}…, not to its key ${key.slice(0, 12)}…` };
  const checksum = `sha256:${sha256Hex(sortedStringify(raw.result))}`;
  if (checksum !== raw.checksum) return { status: 'corrupt', reason: `payload checksum ${checksum.slice(0, 19)}… does not match the stored ${String(raw.checksum).slice(0, 19)}…` };
  let entryChecksum: string | undefined;
  if ('entryChecksum' in raw) {
    entryChecksum = wholeEntryChecksum(raw);
    if (entryChecksum !== raw.entryChecksum) return { status: 'corrupt', reason: `entry checksum ${entryChecksum.slice(0, 19)}… (meta included) does not match the stored ${String(raw.entryChecksum).slice(0, 19)}…` };
  }
  return {
    status: 'ok',
    entry: { format: RESULT_FORMAT, key, ...keyed, task: raw.task as string | null, meta: meta as Record<string, unknown>, checksum, ...(entryChecksum ? { entryChecksum } : {}), result: result as R },
  };
}

/** `sha256:` of an entry as stored (its encoded fields), every field but `entryChecksum` itself. */
function wholeEntryChecksum(raw: Record<string, unknown>): string {
  const { entryChecksum: _, ...rest } = raw;
  return `sha256:${sha256Hex(sortedStringify(rest))}`;
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

/** The stored result of a run, or undefined (a corrupt entry is reported and moved aside). */
export async function lookup<R = unknown>(store: ResultStore, what: RunSpec | RunId): Promise<StoredEntry<R> | undefined> {
  const key = await keyFor(store, what);
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
  const tmp = join(store.dir, `.${key}.json.tmp-${HOST_TAG}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const bytes = Buffer.from(text, 'utf8');
  try {
    mkdirSync(store.dir, { recursive: true });
    const fh = await open(tmp, 'wx');
    try {
      const half = bytes.length >> 1;
      await fh.write(bytes, 0, half, 0);
      if (store.hooks.midWrite) await store.hooks.midWrite(tmp, key);
      await fh.write(bytes, half, bytes.length - half, half);
      await fh.sync();
    } finally {
      await fh.close();
    }
    renameSync(tmp, path);
  } catch (e) {
    // Nothing partial stays behind; the entry, if any, is the earlier complete one.
    rmSync(tmp, { force: true });
    throw describeWriteError(e, `the result ${key.slice(0, 12)}… (${bytes.length} bytes)`, store.dir, STORE_HINT);
  }
  try {
    const dh = await open(store.dir, 'r');
    await dh.sync().catch(() => undefined);
    await dh.close();
  } catch {
    // Directory fsync is not supported everywhere; the rename itself is atomic.
  }
}

/**
 * Stores `result` of a run (overwriting). The metadata records the code fingerprint's modules, the git
 * commit (and whether the checkout was dirty), library version, host and time. Returns the entry as it
 * will be read back.
 */
export async function storeResult<R>(store: ResultStore, what: RunSpec | RunId, result: R, meta: Record<string, unknown> = {}): Promise<StoredEntry<R>> {
  const id = asRunId(what);
  const keyed = await keyedRun(store, id);
  const key = runKey(keyed);
  const encodedResult = encodePlain(result, 'result', true);
  const git = gitState();
  const fullMeta = {
    createdAt: new Date().toISOString(),
    modules: id.modules,
    ...(id.notebook ? { notebook: id.notebook } : {}),
    git: git ? { commit: git.commit, dirty: git.dirty } : null,
    libraryVersion: libraryVersion(),
    backendInfo: currentBackendInfo(),
    ...(id.computeThreads !== undefined ? { computeThreads: id.computeThreads } : {}),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    host: hostname(),
    ...meta,
  };
  const entry = {
    format: RESULT_FORMAT,
    key,
    experiment: keyed.experiment,
    task: id.task,
    call: encodePlain(keyed.call, 'call'),
    fingerprint: keyed.fingerprint,
    backend: keyed.backend,
    backendVersion: keyed.backendVersion,
    meta: encodePlain(fullMeta, 'meta') as Record<string, unknown>,
    checksum: `sha256:${sha256Hex(sortedStringify(encodedResult))}`,
    result: encodedResult,
  };
  const entryChecksum = wholeEntryChecksum(entry);
  await writeAtomic(store, entryPath(store, key), key, `${sortedStringify({ ...entry, entryChecksum })}\n`);
  return { ...entry, entryChecksum, call: keyed.call, meta: decodePlain(entry.meta) as Record<string, unknown>, result: decodePlain(encodedResult) as R };
}

export interface CachedRun<R> {
  result: R;
  key: string;
  fromCache: boolean;
  entry: StoredEntry<R>;
}

export interface CachedRunOptions {
  /** Extra metadata stored with a computed result (not keyed). */
  meta?: Record<string, unknown>;
  /**
   * `compute` runs the code in this process (default true). Then a result is not computed when the
   * library files it runs changed on disk after this process loaded them (its code is older than its key).
   */
  inProcess?: boolean;
}

/** Like `cached`, also telling whether the result came from the store. */
/** What a computation of the store is told: where its long loops keep checkpoints (see core/checkpoint-scope). */
export interface ComputeContext {
  checkpointDir: string;
}

/** `<store>/.checkpoints/<key>`: checkpoints of the computation of one result, removed once the result is stored. */
export function checkpointDir(store: ResultStore, key: string): string {
  return join(store.dir, '.checkpoints', key);
}

export async function cachedRun<R>(store: ResultStore, what: RunSpec | RunId, compute: (ctx: ComputeContext) => Promise<R> | R, options: CachedRunOptions = {}): Promise<CachedRun<R>> {
  const meta = options.meta ?? {};
  const id = asRunId(what, compute);
  encodePlain(id.call, 'call');
  const t0 = performance.now();
  const hit = await lookup<R>(store, id);
  if (hit) {
    recordStoreEvent({ event: 'reused', experiment: store.experiment, key: hit.key, task: id.task, fingerprint: id.fingerprint, ms: performance.now() - t0 });
    return { result: hit.result, key: hit.key, fromCache: true, entry: hit };
  }
  if ((options.inProcess ?? true) && id.changedSinceLoad?.length) {
    throw new Error(`cachedRun: ${id.changedSinceLoad.join(', ')} changed on disk since this process loaded ${id.changedSinceLoad.every((f) => f.startsWith('dist/lib/')) ? 'the library' : 'them'}; expected the code that computes to be the code its key describes: restart the kernel (or process) so that it loads the new code, or compute in worker processes`);
  }
  // Another run on this store may be computing the same point: wait for it and reuse its result.
  const key = await keyFor(store, id);
  const got = await claimOrAwait(store.dir, key, () => lookup<R>(store, id), { log: store.log, label: `store ${store.experiment} ${key.slice(0, 8)}`, ...store.hooks.claim });
  if ('result' in got) {
    recordStoreEvent({ event: 'reused', experiment: store.experiment, key, task: id.task, fingerprint: id.fingerprint, ms: performance.now() - t0 });
    return { result: got.result.result, key, fromCache: true, entry: got.result };
  }
  try {
    const t1 = performance.now();
    // An interrupted computation of this key left checkpoints here: its loops resume from them.
    const dir = checkpointDir(store, key);
    const result = await withCheckpoints(dir, () => compute({ checkpointDir: dir }));
    const elapsedMs = performance.now() - t1;
    const entry = await storeResult(store, id, result, { elapsedMs, ...meta });
    rmSync(dir, { recursive: true, force: true });
    recordStoreEvent({ event: 'computed', experiment: store.experiment, key: entry.key, task: id.task, fingerprint: id.fingerprint, ms: elapsedMs });
    return { result: entry.result, key: entry.key, fromCache: false, entry };
  } finally {
    got.claim.release();
  }
}

/**
 * The stored result of a run if a valid entry exists, else `compute()`, stored atomically under
 * `<root>/<experiment>/<key>.json`. Fresh and cached results are identical (both decoded from the
 * stored form: NaN, ±Infinity, -0 and typed arrays included).
 *
 * @param what `{ task, args }` (a registered task call) or `{ config, code }` (a closure: every parameter
 *   it depends on, and the module(s) it runs, e.g. `import.meta.url`; in a notebook of the project's
 *   kernel `{ config }` alone: `compute` is then keyed by its source and the notebook code it references)
 * @example await cached(openStore('demo'), { config: { width: 64 }, code: import.meta.url }, () => run(64))
 */
export async function cached<R>(store: ResultStore, what: RunSpec | RunId, compute: (ctx: ComputeContext) => Promise<R> | R): Promise<R> {
  return (await cachedRun(store, what, compute)).result;
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
