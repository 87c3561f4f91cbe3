import * as aq from 'arquero';
import { type ResultStore, type StoreOptions, type StoredEntry, openStore, readEntries } from './store.js';

type Row = Record<string, unknown>;

function isScalar(v: unknown): v is number | string | boolean | null {
  return v === null || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** Dotted-path leaves of a config: scalars as they are, arrays of scalars as JSON text. */
function flattenConfig(v: unknown, prefix: string, out: Row): void {
  if (isScalar(v)) out[prefix] = v;
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) out[prefix] = JSON.stringify(Array.from(v as ArrayLike<unknown>));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) flattenConfig(x, prefix ? `${prefix}.${k}` : k, out);
}

/** Dotted-path scalar leaves of a result; arrays and typed arrays (histories) are left out. */
function flattenScalars(v: unknown, prefix: string, out: Row): void {
  if (isScalar(v)) out[prefix || 'result'] = v;
  else if (v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)) {
    for (const [k, x] of Object.entries(v)) flattenScalars(x, prefix ? `${prefix}.${k}` : k, out);
  }
}

/** The parameters of a stored run: a closure's config; a task's options object, or its positional arguments as arg0, arg1, …; plus the sweep point. */
function runParams(e: StoredEntry): Row {
  const call = e.call as { config?: unknown; args?: unknown[] };
  const out: Row = {};
  if (e.task === null) flattenConfig(call.config, '', out);
  else {
    const args = call.args ?? [];
    const single = args.length === 1 && args[0] && typeof args[0] === 'object' && !Array.isArray(args[0]) && !ArrayBuffer.isView(args[0]);
    if (single) flattenConfig(args[0], '', out);
    else args.forEach((a, i) => flattenConfig(a, `arg${i}`, out));
  }
  const point = (e.meta as { point?: unknown }).point;
  if (point && typeof point === 'object') flattenConfig(point, '', out);
  return out;
}

/**
 * One row per valid stored run: `key`, `createdAt`, `task`, `fingerprint`, `backend`, `elapsedMs`, the
 * flattened parameters (dotted paths: a closure's config, a task's arguments, the sweep point), and the
 * scalar leaves of the result. A result column whose name is also a parameter column is prefixed with
 * `result.`. Corrupt files are reported and skipped.
 */
export function resultsTable(experiment: string | ResultStore, options: Pick<StoreOptions, 'root' | 'log'> = {}): aq.ColumnTable {
  const store = typeof experiment === 'string' ? openStore(experiment, { ...options, backend: 'any' }) : experiment;
  const { entries } = readEntries(store);
  const parts = entries.map((e) => {
    const config = runParams(e);
    const result: Row = {};
    flattenScalars(e.result, '', result);
    const meta = e.meta as { createdAt?: string; elapsedMs?: number };
    return { e, config, result, createdAt: meta.createdAt ?? null, elapsedMs: meta.elapsedMs ?? null };
  });
  const configCols = new Set(parts.flatMap((p) => Object.keys(p.config)));
  const fixed = new Set(['key', 'createdAt', 'task', 'fingerprint', 'backend', 'elapsedMs']);
  const rows = parts
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)) || a.e.key.localeCompare(b.e.key))
    .map((p) => {
      const row: Row = { key: p.e.key, createdAt: p.createdAt, task: p.e.task, fingerprint: p.e.fingerprint, backend: p.e.backend, elapsedMs: p.elapsedMs };
      for (const [k, v] of Object.entries(p.config)) row[fixed.has(k) ? `config.${k}` : k] = v;
      for (const [k, v] of Object.entries(p.result)) row[configCols.has(k) || fixed.has(k) ? `result.${k}` : k] = v;
      return row;
    });
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return aq.from(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))));
}
