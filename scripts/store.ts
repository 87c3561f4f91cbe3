/**
 * `npm run store -- ls | verify | gc [--delete] [--root DIR] [EXPERIMENT...]`: the result store's files.
 * - ls: every entry with its task, code fingerprint, whether current code can read it, creation time, size;
 * - verify: checks every file (format, key = hash of its call, fingerprint and backend, checksums of the
 *   result and of the whole entry); a bad file is reported (exit 1) and, on the next run, moved aside and
 *   recomputed, never read;
 * - gc: lists (and with `--delete` deletes) what no current code can read: entries of a library task whose
 *   code fingerprint is no longer the current one, entries of a backend package version other than the
 *   installed one, corrupt files and the `.corrupt-*` files earlier runs moved aside. Entries it cannot
 *   judge (closures, notebook code, tasks of modules this checkout does not register, backends not
 *   installed here, other store formats) are kept. It never follows a symbolic link and never touches a
 *   file outside the store root.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { backendPackageVersion } from '../lib/core/backend.js';
import { projectRoot } from '../lib/core/env.js';
import { codeFingerprint } from '../lib/run/fingerprint.js';
import { RESULT_FORMAT, type StoredEntry, readEntryFile, resultsRoot } from '../lib/run/store.js';
import { taskModule } from '../lib/run/tasks.js';

export interface StoreFile {
  experiment: string;
  file: string;
  path: string;
  bytes: number;
  /**
   * 'entry' (valid), 'corrupt' (fails validation), 'aside' (moved aside by a run), 'temp' (a writer's
   * temporary file), 'foreign' (an entry of another store format: a newer or older checkout's), 'link' (a
   * symbolic link: never followed), 'misplaced' (a valid entry of another experiment's folder).
   */
  kind: 'entry' | 'corrupt' | 'aside' | 'temp' | 'foreign' | 'link' | 'misplaced';
  entry?: StoredEntry;
  reason?: string;
  /** For entries: whether current code can read it. */
  currency?: Currency;
}

/** 'current': current code reads it; 'stale': no current code can; 'unknown': gc cannot tell, so keeps it. */
export type Currency = { state: 'current' } | { state: 'stale'; reason: string } | { state: 'unknown'; reason: string };

const ENTRY = /^[0-9a-f]{64}\.json$/;

/** Registers the library's tasks (the experiment modules), once. */
let registered: Promise<unknown> | undefined;
export function registerLibraryTasks(): Promise<unknown> {
  return (registered ??= import('../lib/experiments/index.js'));
}

const currentFps = new Map<string, string | Error>();
function currentFingerprint(modules: string[]): string | Error {
  const k = modules.join('\n');
  let fp = currentFps.get(k);
  if (fp === undefined) {
    try {
      fp = codeFingerprint(modules).fingerprint;
    } catch (e) {
      fp = e as Error;
    }
    currentFps.set(k, fp);
  }
  return fp;
}

/**
 * Whether the installed backend package writes this backend version: keys carry the package version and,
 * after a `;`, what else changes roundings (OpenBLAS threads and kernels, the TensorFlow library), which
 * current code produces too (another thread count or machine), so only the package version is compared.
 */
export function backendVersionCurrent(entryVersion: string, installed: string): boolean {
  return entryVersion === installed || entryVersion.startsWith(`${installed};`);
}

/**
 * Whether current code can read entry `e`. Tasks must be registered first (registerLibraryTasks).
 * Only what this checkout can recompute is judged stale: a library task whose module's fingerprint changed,
 * a closure of this project's own modules whose fingerprint changed, or an installed backend package of
 * another version. Everything else is 'unknown' (kept by gc).
 */
export function currency(e: StoredEntry, root = projectRoot()): Currency {
  const installed = backendPackageVersion(e.backend);
  if (installed === undefined || installed === 'unknown') return { state: 'unknown', reason: `backend ${e.backend} is not installed here` };
  if (!backendVersionCurrent(e.backendVersion, installed)) return { state: 'stale', reason: `backend ${e.backend} ${e.backendVersion.split(';')[0]}, installed ${installed}` };
  let modules: string[];
  if (e.task !== null) {
    const registered = taskModule(e.task);
    if (!registered) return { state: 'unknown', reason: `task ${e.task} is not registered by this checkout's library (a module of your own?)` };
    modules = [registered];
  } else {
    const meta = e.meta as { modules?: unknown; notebook?: unknown };
    if (meta.notebook !== undefined) return { state: 'unknown', reason: 'notebook code (its cells are not in the store)' };
    const recorded = meta.modules;
    if (!Array.isArray(recorded) || recorded.length === 0 || !recorded.every((m) => typeof m === 'string')) return { state: 'unknown', reason: 'no modules recorded' };
    modules = recorded.map((m: string) => pathToFileURL(join(root, m)).href);
    const missing = modules.find((m) => !existsSync(new URL(m)));
    if (missing) return { state: 'unknown', reason: `closure of a module not in this checkout (${recorded.join(', ')})` };
  }
  const fp = currentFingerprint(modules);
  if (fp instanceof Error) return { state: 'unknown', reason: `cannot fingerprint ${modules.join(', ')}: ${fp.message}` };
  if (fp === e.fingerprint) return { state: 'current' };
  return e.task !== null
    ? { state: 'stale', reason: `fingerprint ${short(e.fingerprint)}, current ${short(fp)}` }
    : { state: 'unknown', reason: `closure: fingerprint ${short(e.fingerprint)}, its modules now ${short(fp)} (its code may differ from what it recorded)` };
}

/** Why no current code can read `e`; undefined when it is current or cannot be judged. */
export function staleReason(e: StoredEntry, root = projectRoot()): string | undefined {
  const c = currency(e, root);
  return c.state === 'stale' ? c.reason : undefined;
}

function short(fp: string): string {
  return fp.replace(/^sha256:/, '').slice(0, 12);
}

function formatOf(path: string): unknown {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown }).format;
  } catch {
    return undefined;
  }
}

/**
 * Every file of the store under `root` (of the given experiments, default all), classified and validated.
 * Symbolic links (experiment folders or files) are listed as 'link' and never followed.
 */
export function storeFiles(root: string, experiments: readonly string[] = []): StoreFile[] {
  if (!existsSync(root)) return [];
  const out: StoreFile[] = [];
  const names = readdirSync(root).sort();
  const dirs: string[] = [];
  for (const d of experiments) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(d)) throw new Error(`store: experiment = ${JSON.stringify(d)}; expected an experiment folder name (letters, digits, '.', '_' or '-')`);
  }
  for (const d of experiments.length ? [...experiments] : names) {
    const dir = join(root, d);
    if (!existsSync(dir) && experiments.length) throw new Error(`store: experiment = '${d}'; expected one of ${names.join(', ') || '(none)'} under ${root}`);
    const st = lstatSync(dir);
    if (st.isSymbolicLink()) out.push({ experiment: d, file: '', path: dir, bytes: 0, kind: 'link', reason: 'a symbolic link to a folder: not followed' });
    else if (st.isDirectory()) dirs.push(d);
  }
  for (const experiment of dirs) {
    const dir = join(root, experiment);
    for (const file of readdirSync(dir).sort()) {
      const path = join(dir, file);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) {
        out.push({ experiment, file, path, bytes: 0, kind: 'link', reason: 'a symbolic link: not followed' });
        continue;
      }
      if (!st.isFile()) continue;
      const bytes = st.size;
      if (ENTRY.test(file)) {
        const got = readEntryFile(path, file.slice(0, 64));
        if (got.status === 'ok') {
          if (got.entry.experiment === experiment) out.push({ experiment, file, path, bytes, kind: 'entry', entry: got.entry });
          else out.push({ experiment, file, path, bytes, kind: 'misplaced', entry: got.entry, reason: `an entry of experiment '${got.entry.experiment}' (runs of '${experiment}' never read it; move it there)` });
        } else if (got.status === 'corrupt') {
          const format = formatOf(path);
          if (typeof format === 'string' && format.startsWith('tangent-lab/result@') && format !== RESULT_FORMAT) out.push({ experiment, file, path, bytes, kind: 'foreign', reason: `store format ${format} (this checkout reads ${RESULT_FORMAT})` });
          else out.push({ experiment, file, path, bytes, kind: 'corrupt', reason: got.reason });
        }
      } else if (/\.json\.corrupt-/.test(file)) out.push({ experiment, file, path, bytes, kind: 'aside', reason: 'moved aside by a run that found it corrupt' });
      else if (/\.json\.tmp-/.test(file)) out.push({ experiment, file, path, bytes, kind: 'temp', reason: 'temporary file of a writer (running, or killed)' });
    }
  }
  return out;
}

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} kB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** `ls`: one line per file. */
export async function ls(root: string, experiments: readonly string[] = []): Promise<string> {
  await registerLibraryTasks();
  const files = storeFiles(root, experiments);
  const rows = [['experiment', 'key', 'task', 'fingerprint', 'current', 'created', 'size']];
  let current = 0;
  let unknown = 0;
  for (const f of files) {
    if (f.kind === 'entry') {
      const e = f.entry!;
      const c = currency(e);
      if (c.state === 'current') current++;
      if (c.state === 'unknown') unknown++;
      const shown = c.state === 'current' ? 'yes' : c.state === 'stale' ? `no: ${c.reason}` : `kept: ${c.reason}`;
      rows.push([f.experiment, e.key.slice(0, 12), e.task ?? '(closure)', short(e.fingerprint), shown, String((e.meta as { createdAt?: string }).createdAt ?? '?'), size(f.bytes)]);
    } else rows.push([f.experiment, f.file.slice(0, 12), f.kind.toUpperCase(), '', f.reason ?? '', '', size(f.bytes)]);
  }
  const entries = files.filter((f) => f.kind === 'entry').length;
  return `${rows.length > 1 ? `${table(rows)}\n` : ''}${entries} entr${entries === 1 ? 'y' : 'ies'} (${current} current, ${entries - current - unknown} stale, ${unknown} not judged), ${files.length - entries} other file(s), ${size(files.reduce((s, f) => s + f.bytes, 0))} under ${root}`;
}

/** `verify`: the corrupt files (empty when all are valid). */
export function verify(root: string, experiments: readonly string[] = []): { checked: number; corrupt: StoreFile[]; report: string } {
  const files = storeFiles(root, experiments).filter((f) => f.kind === 'entry' || f.kind === 'corrupt');
  const corrupt = files.filter((f) => f.kind === 'corrupt');
  const lines = corrupt.map((f) => `CORRUPT ${f.experiment}/${f.file}: ${f.reason}`);
  lines.push(
    corrupt.length
      ? `${corrupt.length} of ${files.length} entries are corrupt; the next run that needs them moves them aside and recomputes them (they are never read)`
      : `all ${files.length} entries are valid (format, key, checksum) under ${root}`,
  );
  return { checked: files.length, corrupt, report: lines.join('\n') };
}

/** True when `path` is a regular file (not a link) whose folder lies inside `root` (both resolved). */
function insideRoot(path: string, realRoot: string): boolean {
  try {
    if (!lstatSync(path).isFile()) return false;
    const dir = realpathSync(join(path, '..'));
    return dir.startsWith(realRoot + sep);
  } catch {
    return false;
  }
}

/**
 * `gc`: lists what no current code can read (stale entries, corrupt files, files moved aside); with
 * `delete: true` deletes them. Keeps current entries and every entry it cannot judge; temporary files are
 * left to their writers; links are never followed.
 */
export async function gc(root: string, options: { delete?: boolean; dryRun?: boolean; experiments?: readonly string[] } = {}): Promise<{ removed: StoreFile[]; kept: number; unjudged: StoreFile[]; report: string }> {
  if (options.delete && options.dryRun) throw new Error('gc: delete and dryRun are both set; expected one of them');
  await registerLibraryTasks();
  const doDelete = options.delete === true;
  const realRoot = existsSync(root) ? realpathSync(root) : root;
  const files = storeFiles(root, options.experiments ?? []);
  const removed: StoreFile[] = [];
  const unjudged: StoreFile[] = [];
  let kept = 0;
  for (const f of files) {
    if (f.kind === 'temp' || f.kind === 'link' || f.kind === 'foreign' || f.kind === 'misplaced') {
      if (f.kind !== 'temp') unjudged.push(f);
      continue;
    }
    if (f.kind === 'entry') {
      f.currency = currency(f.entry!);
      if (f.currency.state === 'current') {
        kept++;
        continue;
      }
      if (f.currency.state === 'unknown') {
        unjudged.push(f);
        continue;
      }
    }
    if (!insideRoot(f.path, realRoot)) {
      unjudged.push({ ...f, reason: `not a file inside ${realRoot}` });
      continue;
    }
    removed.push(f);
    if (doDelete) rmSync(f.path, { force: true });
  }
  const verb = doDelete ? 'deleted' : 'would delete';
  const why = (f: StoreFile) => (f.currency && f.currency.state !== 'current' ? f.currency.reason : f.reason);
  const lines = removed.map((f) => `${verb} ${f.experiment}/${f.file} (${why(f)})`);
  for (const f of unjudged) lines.push(`kept ${f.experiment}/${f.file || '(folder)'} (${why(f)})`);
  lines.push(`${verb} ${removed.length} file(s), ${size(removed.reduce((s, f) => s + f.bytes, 0))}; kept ${kept} current entr${kept === 1 ? 'y' : 'ies'} and ${unjudged.length} file(s) gc cannot judge`);
  if (!doDelete && removed.length) lines.push('nothing was deleted: run `npm run store -- gc --delete` to delete the files listed above');
  return { removed, kept, unjudged, report: lines.join('\n') };
}

const USAGE = `usage: npm run store -- ls|verify|gc [--delete] [--root DIR] [EXPERIMENT...]
  ls        list entries: experiment, key, task, code fingerprint, whether current code reads it, created, size
  verify    check every entry file (format, key, checksums); exit 1 if any is corrupt
  gc        list what no current code can read (stale library-task entries, other backend package versions,
            corrupt files, files moved aside); entries it cannot judge are kept; symbolic links never followed
  --delete  (gc) delete the files listed; without it gc deletes nothing
  --root    store root (default $TANGENT_RESULTS_DIR, else data/results)`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { root: { type: 'string' }, 'dry-run': { type: 'boolean' }, delete: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    process.stderr.write(`store: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [command, ...experiments] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const root = parsed.values.root ? resultsRoot(join(parsed.values.root.startsWith('/') ? '' : cwd, parsed.values.root)) : resultsRoot();
  try {
    if (command === 'ls') process.stdout.write(`${await ls(root, experiments)}\n`);
    else if (command === 'verify') {
      const r = verify(root, experiments);
      process.stdout.write(`${r.report}\n`);
      return r.corrupt.length ? 1 : 0;
    } else if (command === 'gc') process.stdout.write(`${(await gc(root, { delete: parsed.values.delete, dryRun: parsed.values['dry-run'], experiments })).report}\n`);
    else {
      process.stderr.write(`store: command = ${JSON.stringify(command ?? '')}; expected ls, verify or gc\n${USAGE}\n`);
      return 2;
    }
  } catch (e) {
    process.stderr.write(`store: ${(e as Error).message}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
