/**
 * `npm run store -- ls | verify | gc [--dry-run] [--root DIR] [EXPERIMENT...]`: the result store's files.
 * - ls: every entry with its task, code fingerprint (and whether it is still the current one), creation time, size;
 * - verify: checks every file (format, key = hash of its call, fingerprint and backend, payload checksum);
 *   a bad file is reported (exit 1) and, on the next run, moved aside and recomputed, never read;
 * - gc: deletes entries no current code can produce (their task's fingerprint, or the backend version,
 *   is no longer the current one; or the task no longer exists), corrupt files and the `.corrupt-*`
 *   files earlier runs moved aside. `--dry-run` lists them only.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { backendPackageVersion } from '../lib/core/backend.js';
import { projectRoot } from '../lib/core/env.js';
import { codeFingerprint } from '../lib/run/fingerprint.js';
import { type StoredEntry, readEntryFile, resultsRoot } from '../lib/run/store.js';
import { taskModule } from '../lib/run/tasks.js';

export interface StoreFile {
  experiment: string;
  file: string;
  path: string;
  bytes: number;
  /** 'entry' (valid), 'corrupt' (fails validation), 'aside' (moved aside by a run), 'temp' (a writer's temporary file). */
  kind: 'entry' | 'corrupt' | 'aside' | 'temp';
  entry?: StoredEntry;
  reason?: string;
  /** For entries: why no current code produces it, or undefined when it is current. */
  stale?: string;
}

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

/** Why no current code produces `e` (undefined: it is current). Tasks must be registered first. */
export function staleReason(e: StoredEntry, root = projectRoot()): string | undefined {
  const installed = backendPackageVersion(e.backend);
  if (installed !== undefined && installed !== e.backendVersion) return `backend ${e.backend} ${e.backendVersion}, installed ${installed}`;
  let modules: string[];
  const registeredModule = e.task !== null ? taskModule(e.task) : undefined;
  if (registeredModule) modules = [registeredModule];
  else {
    const recorded = (e.meta as { modules?: unknown }).modules;
    if (!Array.isArray(recorded) || recorded.length === 0 || !recorded.every((m) => typeof m === 'string')) {
      return e.task !== null ? `task ${e.task} is not registered` : 'no modules recorded';
    }
    modules = recorded.map((m: string) => pathToFileURL(join(root, m)).href);
    const missing = modules.find((m) => !existsSync(new URL(m)));
    if (missing) return `${e.task !== null ? `task ${e.task} is not registered and ` : ''}module ${missing} no longer exists`;
  }
  const fp = currentFingerprint(modules);
  if (fp instanceof Error) return `cannot fingerprint ${modules.join(', ')}: ${fp.message}`;
  return fp === e.fingerprint ? undefined : `fingerprint ${short(e.fingerprint)}, current ${short(fp)}`;
}

function short(fp: string): string {
  return fp.replace(/^sha256:/, '').slice(0, 12);
}

/** Every file of the store under `root` (of the given experiments, default all), classified and validated. */
export function storeFiles(root: string, experiments: readonly string[] = []): StoreFile[] {
  if (!existsSync(root)) return [];
  const dirs = experiments.length ? [...experiments] : readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort();
  const out: StoreFile[] = [];
  for (const experiment of dirs) {
    const dir = join(root, experiment);
    if (!existsSync(dir)) throw new Error(`store: experiment = '${experiment}'; expected one of ${readdirSync(root).join(', ') || '(none)'} under ${root}`);
    for (const file of readdirSync(dir).sort()) {
      const path = join(dir, file);
      const bytes = statSync(path).size;
      if (ENTRY.test(file)) {
        const got = readEntryFile(path, file.slice(0, 64));
        if (got.status === 'ok') out.push({ experiment, file, path, bytes, kind: 'entry', entry: got.entry });
        else if (got.status === 'corrupt') out.push({ experiment, file, path, bytes, kind: 'corrupt', reason: got.reason });
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
  for (const f of files) {
    if (f.kind === 'entry') {
      const e = f.entry!;
      const stale = staleReason(e);
      if (!stale) current++;
      rows.push([f.experiment, e.key.slice(0, 12), e.task ?? '(closure)', short(e.fingerprint), stale ? `no: ${stale}` : 'yes', String((e.meta as { createdAt?: string }).createdAt ?? '?'), size(f.bytes)]);
    } else rows.push([f.experiment, f.file.slice(0, 12), f.kind.toUpperCase(), '', f.reason ?? '', '', size(f.bytes)]);
  }
  const entries = files.filter((f) => f.kind === 'entry').length;
  return `${rows.length > 1 ? `${table(rows)}\n` : ''}${entries} entr${entries === 1 ? 'y' : 'ies'} (${current} current), ${files.length - entries} other file(s), ${size(files.reduce((s, f) => s + f.bytes, 0))} under ${root}`;
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

/** `gc`: deletes (or with dryRun lists) stale entries, corrupt files and files moved aside. Temporary files are left to the writers. */
export async function gc(root: string, options: { dryRun?: boolean; experiments?: readonly string[] } = {}): Promise<{ removed: StoreFile[]; kept: number; report: string }> {
  await registerLibraryTasks();
  const files = storeFiles(root, options.experiments ?? []);
  const removed: StoreFile[] = [];
  let kept = 0;
  for (const f of files) {
    if (f.kind === 'temp') continue;
    if (f.kind === 'entry') {
      f.stale = staleReason(f.entry!);
      if (!f.stale) {
        kept++;
        continue;
      }
    }
    removed.push(f);
    if (!options.dryRun) rmSync(f.path, { force: true });
  }
  const verb = options.dryRun ? 'would delete' : 'deleted';
  const lines = removed.map((f) => `${verb} ${f.experiment}/${f.file} (${f.stale ?? f.reason})`);
  lines.push(`${verb} ${removed.length} file(s), ${size(removed.reduce((s, f) => s + f.bytes, 0))}; kept ${kept} current entr${kept === 1 ? 'y' : 'ies'}`);
  return { removed, kept, report: lines.join('\n') };
}

const USAGE = `usage: npm run store -- ls|verify|gc [--dry-run] [--root DIR] [EXPERIMENT...]
  ls       list entries: experiment, key, task, code fingerprint, whether it is current, created, size
  verify   check every entry file (format, key, checksum); exit 1 if any is corrupt
  gc       delete entries no current code produces, corrupt files and files moved aside (--dry-run: list only)
  --root   store root (default $TANGENT_RESULTS_DIR, else data/results)`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { root: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
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
    } else if (command === 'gc') process.stdout.write(`${(await gc(root, { dryRun: parsed.values['dry-run'], experiments })).report}\n`);
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
