import * as aq from 'arquero';
import { type ResultStore, type StoreOptions, openStore, readEntries } from './store.js';

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

/**
 * One row per valid stored run: `key`, `createdAt`, `backend`, `libraryVersion`, `elapsedMs`, the
 * flattened config (dotted paths), and the scalar leaves of the result. A result column whose name is
 * also a config column is prefixed with `result.`. Corrupt files are reported and skipped.
 */
export function resultsTable(experiment: string | ResultStore, options: Pick<StoreOptions, 'root' | 'log'> = {}): aq.ColumnTable {
  const store = typeof experiment === 'string' ? openStore(experiment, { ...options, backend: 'any' }) : experiment;
  const { entries } = readEntries(store);
  const parts = entries.map((e) => {
    const config: Row = {};
    flattenConfig(e.config, '', config);
    const result: Row = {};
    flattenScalars(e.result, '', result);
    const meta = e.meta as { createdAt?: string; elapsedMs?: number };
    return { e, config, result, createdAt: meta.createdAt ?? null, elapsedMs: meta.elapsedMs ?? null };
  });
  const configCols = new Set(parts.flatMap((p) => Object.keys(p.config)));
  const fixed = new Set(['key', 'createdAt', 'backend', 'libraryVersion', 'elapsedMs']);
  const rows = parts
    .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)) || a.e.key.localeCompare(b.e.key))
    .map((p) => {
      const row: Row = { key: p.e.key, createdAt: p.createdAt, backend: p.e.backend, libraryVersion: p.e.libraryVersion, elapsedMs: p.elapsedMs };
      for (const [k, v] of Object.entries(p.config)) row[fixed.has(k) ? `config.${k}` : k] = v;
      for (const [k, v] of Object.entries(p.result)) row[configCols.has(k) || fixed.has(k) ? `result.${k}` : k] = v;
      return row;
    });
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return aq.from(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))));
}
