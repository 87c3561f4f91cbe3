import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { decodePlain, encodePlain } from '../core/canonical-json.js';
import type { Params } from '../core/params.js';
import { loadParams, saveParams } from '../nets/npz.js';

/**
 * A training checkpoint on disk: `<path>.json` (what the run is, its plain state, and which tensor file goes with
 * it) and `<path>-<generation>.npz` (parameters and optimizer tensors, float32). The tensors are written first and
 * the JSON replaces the previous one by rename, so an interruption at any point leaves the last complete pair.
 */
export interface Checkpoint {
  /** What the run is; a checkpoint of another run (different signature) is not resumed. */
  signature: string;
  meta: Record<string, unknown>;
  tensors: Params;
}

interface Pointer { version: 1; signature: string; npz: string; meta: unknown }

function readPointer(path: string): Pointer | undefined {
  let text: string;
  try {
    text = readFileSync(`${path}.json`, 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as Pointer;
}

/** Writes a checkpoint (atomically, see above) and removes the tensors of the one it replaces. */
export function saveCheckpoint(path: string, c: Checkpoint): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  let previous: string | undefined;
  try {
    previous = readPointer(path)?.npz;
  } catch {
    previous = undefined;
  }
  const npz = `${basename(path)}-${Date.now().toString(36)}-${process.pid}.npz`;
  saveParams(join(dir, npz), c.tensors);
  const pointer: Pointer = { version: 1, signature: c.signature, npz, meta: encodePlain(c.meta, '$', true) };
  const tmp = `${path}.json.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(pointer));
  renameSync(tmp, `${path}.json`);
  if (previous && previous !== npz) rmSync(join(dir, previous), { force: true });
}

/** The checkpoint at `path`, or `{}` when there is none, or `{ problem }` when it cannot be read. */
export function loadCheckpoint(path: string): { checkpoint?: Checkpoint; problem?: string } {
  let p: Pointer | undefined;
  try {
    p = readPointer(path);
  } catch (e) {
    return { problem: `${path}.json is not valid JSON (${(e as Error).message})` };
  }
  if (!p) return {};
  if (p.version !== 1 || typeof p.npz !== 'string' || typeof p.signature !== 'string') return { problem: `${path}.json has version ${p.version}; expected a version-1 checkpoint` };
  try {
    return { checkpoint: { signature: p.signature, meta: decodePlain(p.meta) as Record<string, unknown>, tensors: loadParams(join(dirname(path), p.npz)) } };
  } catch (e) {
    return { problem: `its tensors ${p.npz} do not load (${(e as Error).message.split('\n')[0]})` };
  }
}
