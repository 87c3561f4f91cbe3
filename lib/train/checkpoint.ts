import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodePlain, encodePlain } from '../core/canonical-json.js';
import type { Params } from '../core/params.js';
import { loadParams, saveParams } from '../nets/npz.js';

/**
 * A training checkpoint on disk: `<path>.json` (what the run is, its plain state, and which tensor file goes with
 * it), `<path>-<generation>.npz` (parameters and optimizer tensors, float32) and `<path>-series.jsonl` (the series
 * that only grow, i.e. the history: each save appends one line with what is new since the previous save, so a save
 * costs what changed, not the whole history). The tensors and the new line are written first and the JSON replaces
 * the previous one by rename; the JSON records how many bytes of the series file are valid, so an interruption at
 * any point leaves the last complete checkpoint.
 */
export interface Checkpoint {
  /** What the run is; a checkpoint of another run (different signature) is not resumed. */
  signature: string;
  meta: Record<string, unknown>;
  tensors: Params;
  /** Append-only series (name → steps and values), stored in the series file. */
  series: Record<string, Series>;
}

interface Series { step: number[]; value: unknown[] }

/** How much of the series file a checkpoint covers: its valid bytes and each series' length. */
export interface SeriesCursor { bytes: number; lengths: Record<string, number> }

export const freshCursor = (): SeriesCursor => ({ bytes: 0, lengths: {} });

interface Pointer { version: 2; signature: string; npz: string; meta: unknown; series: SeriesCursor }

/** Test hook: runs before each file a checkpoint writes (a test throws ENOSPC from it to simulate a full disk). */
export const checkpointFaults: { beforeWrite?: (file: string) => void } = {};

const seriesFile = (path: string) => `${path}-series.jsonl`;

function readPointer(path: string): Pointer | undefined {
  let text: string;
  try {
    text = readFileSync(`${path}.json`, 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as Pointer;
}

/**
 * Writes a checkpoint (atomically, see above) and removes the tensors of the one it replaces; `cursor` is what the
 * previous save of this run returned (freshCursor() for the first). Returns the new cursor. On failure (a full disk)
 * it throws and leaves the previous checkpoint as it was, with no partial file.
 */
export function saveCheckpoint(path: string, c: Checkpoint, cursor: SeriesCursor): SeriesCursor {
  const dir = dirname(path);
  const npz = `${basename(path)}-${Date.now().toString(36)}-${process.pid}.npz`;
  const tmp = `${path}.json.tmp-${process.pid}`;
  let previous: string | undefined;
  let npzWritten = false;
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    try {
      previous = readPointer(path)?.npz;
    } catch {
      previous = undefined;
    }
    checkpointFaults.beforeWrite?.(join(dir, npz));
    saveParams(join(dir, npz), c.tensors);
    npzWritten = true;
    // What is new in each series since the last save, as one line; the file is cut back to the last valid save
    // first (an append that failed half-way leaves bytes past it).
    const fresh: Record<string, Series> = {};
    const lengths: Record<string, number> = {};
    for (const [name, s] of Object.entries(c.series)) {
      const from = cursor.lengths[name] ?? 0;
      lengths[name] = s.step.length;
      if (s.step.length > from) fresh[name] = { step: s.step.slice(from), value: s.value.slice(from) };
    }
    let bytes = cursor.bytes;
    if (Object.keys(fresh).length > 0 || cursor.bytes === 0) {
      checkpointFaults.beforeWrite?.(seriesFile(path));
      const line = Buffer.from(`${JSON.stringify(encodePlain(fresh, '$', true))}\n`);
      fd = openSync(seriesFile(path), cursor.bytes === 0 ? 'w' : 'r+');
      ftruncateSync(fd, cursor.bytes);
      writeSync(fd, line, 0, line.length, cursor.bytes);
      closeSync(fd);
      fd = undefined;
      bytes += line.length;
    }
    const pointer: Pointer = { version: 2, signature: c.signature, npz, meta: encodePlain(c.meta, '$', true), series: { bytes, lengths } };
    checkpointFaults.beforeWrite?.(tmp);
    writeFileSync(tmp, JSON.stringify(pointer));
    renameSync(tmp, `${path}.json`);
    if (previous && previous !== npz) rmSync(join(dir, previous), { force: true });
    return { bytes, lengths };
  } catch (e) {
    // Nothing of this save stays: the new tensors, the temporary JSON, the bytes appended to the series.
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    if (npzWritten) rmSync(join(dir, npz), { force: true });
    try {
      if (statSync(seriesFile(path)).size > cursor.bytes) {
        const f = openSync(seriesFile(path), 'r+');
        ftruncateSync(f, cursor.bytes);
        closeSync(f);
      }
    } catch {
      // No series file: nothing to cut.
    }
    throw e;
  }
}

/** The checkpoint at `path`, or `{}` when there is none, or `{ problem }` when it cannot be read or is inconsistent. */
export function loadCheckpoint(path: string): { checkpoint?: Checkpoint & { cursor: SeriesCursor }; problem?: string } {
  let p: Pointer | undefined;
  try {
    p = readPointer(path);
  } catch (e) {
    return { problem: `${path}.json is not valid JSON (${(e as Error).message})` };
  }
  if (p === undefined) return {};
  if (p === null || typeof p !== 'object' || (p.version !== 2 && (p as { version: unknown }).version !== 1)) {
    return { problem: `${path}.json has version ${JSON.stringify((p as Pointer | null)?.version)}; expected a version-2 checkpoint` };
  }
  // Version 1 kept the history in meta: it becomes the series, written in full by the next save.
  if ((p as { version: unknown }).version === 1 && p.meta && typeof p.meta === 'object') {
    const { history, ...rest } = p.meta as Record<string, unknown>;
    p = { ...p, version: 2, meta: rest, series: freshCursor() };
    const v1 = history;
    return withTensors(path, p, () => (v1 && typeof v1 === 'object' ? (decodePlain(v1) as Record<string, Series>) : {}));
  }
  const cur = p.series as SeriesCursor | undefined;
  if (typeof p.npz !== 'string' || typeof p.signature !== 'string' || p.meta === null || typeof p.meta !== 'object' || !cur || !Number.isSafeInteger(cur.bytes) || cur.bytes < 0 || cur.lengths === null || typeof cur.lengths !== 'object') {
    return { problem: `${path}.json is inconsistent (expected the fields signature, npz, meta and series { bytes, lengths })` };
  }
  return withTensors(path, p, () => readSeries(path, cur));
}

function withTensors(path: string, p: Pointer, series: () => Record<string, Series>): { checkpoint?: Checkpoint & { cursor: SeriesCursor }; problem?: string } {
  let s: Record<string, Series>;
  let meta: Record<string, unknown>;
  try {
    s = series();
    meta = decodePlain(p.meta) as Record<string, unknown>;
  } catch (e) {
    return { problem: (e as Error).message };
  }
  try {
    return { checkpoint: { signature: p.signature, meta, series: s, cursor: p.series, tensors: loadParams(join(dirname(path), p.npz)) } };
  } catch (e) {
    return { problem: `its tensors ${p.npz} do not load (${(e as Error).message.split('\n')[0]})` };
  }
}

/** The series as of the checkpoint: the first `cursor.bytes` of the series file, each line appended to the last. */
function readSeries(path: string, cursor: SeriesCursor): Record<string, Series> {
  const out: Record<string, Series> = {};
  if (cursor.bytes === 0) return out;
  let bytes: Buffer;
  try {
    bytes = readFileSync(seriesFile(path));
  } catch (e) {
    throw new Error(`its series ${basename(seriesFile(path))} do not read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.length < cursor.bytes) throw new Error(`its series ${basename(seriesFile(path))} has ${bytes.length} bytes; expected at least ${cursor.bytes}`);
  const lines = bytes.subarray(0, cursor.bytes).toString('utf8').split('\n').slice(0, -1);
  for (const [i, line] of lines.entries()) {
    let add: Record<string, Series>;
    try {
      add = decodePlain(JSON.parse(line)) as Record<string, Series>;
    } catch (e) {
      throw new Error(`its series ${basename(seriesFile(path))} line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    for (const [name, s] of Object.entries(add ?? {})) {
      if (!s || !Array.isArray(s.step) || !Array.isArray(s.value) || s.step.length !== s.value.length) {
        throw new Error(`its series ${basename(seriesFile(path))} line ${i + 1} has an inconsistent series '${name}'`);
      }
      const into = (out[name] ??= { step: [], value: [] });
      for (let k = 0; k < s.step.length; k++) {
        into.step.push(s.step[k]);
        into.value.push(s.value[k]);
      }
    }
  }
  for (const [name, n] of Object.entries(cursor.lengths)) {
    if ((out[name]?.step.length ?? 0) !== n) throw new Error(`its series '${name}' has ${out[name]?.step.length ?? 0} entries; expected ${n}`);
  }
  return out;
}
