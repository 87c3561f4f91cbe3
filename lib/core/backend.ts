import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { blasThreads, installNativeMatMul, loadNativeAddon } from './openblas.js';
import { installWasmKernelOverrides } from './wasm-kernels.js';

/** `wasm+openblas`: the wasm backend with its matrix products on OpenBLAS (lib/core/openblas.ts). */
export type BackendName = 'node' | 'wasm+openblas' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** Our name for the backend: `node` (libtensorflow), `wasm` or `cpu`. */
  name: BackendName;
  /** The tfjs backend id as registered (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  /** Version of the package that provides it. */
  version: string;
  /** Why earlier candidates were skipped (empty when the first one loaded). */
  skipped: string[];
  /** Threads the backend's kernels use (OpenBLAS threads for `wasm+openblas`; 1 for plain wasm and cpu). */
  threads: number;
  /** OpenBLAS build string on `wasm+openblas`. */
  blas?: string;
  /** OpenBLAS's CPU kernels on `wasm+openblas` (pinned to Haswell on x86-64 with AVX2: see pinnedCoreType). */
  blasCore?: string;
  /** On plain wasm: why the matrix products are not on OpenBLAS. */
  nativeOff?: string;
}

const ORDER: BackendName[] = ['node', 'wasm+openblas', 'wasm', 'cpu'];
const PACKAGE: Record<BackendName, string> = {
  node: '@tensorflow/tfjs-node',
  'wasm+openblas': '@tensorflow/tfjs-backend-wasm',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};
const TFJS_ID: Record<BackendName, string> = { node: 'tensorflow', 'wasm+openblas': 'wasm', wasm: 'wasm', cpu: 'cpu' };

const require = createRequire(import.meta.url);

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

type ProcessHandler = (...args: unknown[]) => void;
const FATAL_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

/**
 * Runs `load` and removes the process-level `uncaughtException` / `unhandledRejection` handlers it
 * installed. The wasm backend's emscripten module adds handlers that rethrow (`throw reason`), which turns
 * every unhandled rejection or timer throw into the death of the process, whatever handlers the user or
 * the kernel registered; without them node's own behaviour (and those handlers) apply, as on cpu.
 */
async function withoutFatalHandlers<T>(load: () => Promise<T>): Promise<T> {
  const emitter = process as NodeJS.EventEmitter;
  const before = new Map(FATAL_EVENTS.map((e) => [e, new Set(emitter.listeners(e))]));
  try {
    return await load();
  } finally {
    for (const event of FATAL_EVENTS) {
      for (const l of emitter.listeners(event) as ProcessHandler[]) {
        if (!before.get(event)!.has(l)) emitter.removeListener(event, l);
      }
    }
  }
}

async function tryLoad(name: BackendName): Promise<Partial<BackendInfo>> {
  return withoutFatalHandlers(() => load(name));
}

async function load(name: BackendName): Promise<Partial<BackendInfo>> {
  // The addon is loaded before the wasm backend so that a missing addon leaves no backend half set up.
  if (name === 'wasm+openblas') loadNativeAddon();
  await import(PACKAGE[name]);
  const id = TFJS_ID[name];
  if (tf.findBackendFactory(id) == null) {
    throw new Error(`${PACKAGE[name]} loaded but did not register the '${id}' backend`);
  }
  const ok = await tf.setBackend(id);
  if (!ok) throw new Error(`tf.setBackend('${id}') failed`);
  await tf.ready();
  if (name === 'wasm' || name === 'wasm+openblas') installWasmKernelOverrides();
  if (name === 'wasm+openblas') {
    const blas = installNativeMatMul(blasThreads());
    return { threads: blas.threads, blas: blas.config, blasCore: blas.core };
  }
  return { threads: name === 'node' ? availableParallelism() : 1 };
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

/** Parses TANGENT_BACKEND; throws on anything but node, wasm, cpu or empty. */
export function requestedBackend(env: NodeJS.ProcessEnv = process.env): BackendName | undefined {
  const raw = env.TANGENT_BACKEND?.trim();
  if (!raw) return undefined;
  if (!(ORDER as string[]).includes(raw)) {
    throw new Error(`TANGENT_BACKEND='${raw}' is not a backend; expected one of ${ORDER.join(', ')} (or unset for automatic choice)`);
  }
  return raw as BackendName;
}

/**
 * Selects the compute backend once per process: `TANGENT_BACKEND` if set (failing if it cannot load),
 * else the first of node, wasm, cpu that loads.
 */
export function initBackend(): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  pending ??= select().then((info) => (current = info));
  return pending;
}

async function select(): Promise<BackendInfo> {
  // Silences the cpu backend's "install tfjs-node" banner; the choice is reported by backendInfo().
  tf.env().set('PROD', true);
  const forced = requestedBackend();
  const candidates = forced ? [forced] : ORDER;
  const skipped: string[] = [];
  for (const name of candidates) {
    try {
      const extra = await tryLoad(name);
      const info: BackendInfo = { name, tfjsBackend: TFJS_ID[name], version: packageVersion(PACKAGE[name]), skipped, threads: 1, ...extra };
      if (name === 'wasm') {
        const why = skipped.find((s) => s.startsWith('wasm+openblas: '));
        info.nativeOff = forced ? 'TANGENT_BACKEND=wasm' : (why?.slice('wasm+openblas: '.length) ?? 'not tried');
      }
      return info;
    } catch (e) {
      const why = (e as Error).message.split('\n')[0];
      if (forced) {
        throw new Error(`TANGENT_BACKEND=${forced} was requested but ${PACKAGE[forced]} is unavailable: ${why}`);
      }
      skipped.push(`${name}: ${why}`);
    }
  }
  throw new Error(`no tfjs backend could be loaded:\n  ${skipped.join('\n  ')}`);
}

/** The selected backend; throws if initBackend() has not completed. */
export function backendInfo(): BackendInfo {
  if (!current) throw new Error('backend not initialised: await initBackend() first');
  return current;
}

/**
 * One line for logs and notebook headers, e.g. `wasm+openblas (@tensorflow/tfjs-backend-wasm 4.22.0, tfjs-core
 * 4.22.0; OpenBLAS 0.3.21 ..., 2 threads)`; on plain wasm it says why the matrix products are not on OpenBLAS.
 */
export function describeBackend(info: BackendInfo = backendInfo()): string {
  const base = `${info.name} (${PACKAGE[info.name]} ${info.version}, tfjs-core ${tf.version_core}`;
  if (info.name === 'wasm+openblas') return `${base}; matmul ${info.blas}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
  if (info.name === 'wasm' && info.nativeOff) return `${base}; matmul on wasm, not OpenBLAS: ${info.nativeOff})`;
  return `${base})`;
}

/** Version of the package providing backend `name` (`node`, `wasm`, `cpu`), or undefined for another name. */
export function backendPackageVersion(name: string): string | undefined {
  return (ORDER as string[]).includes(name) ? packageVersion(PACKAGE[name as BackendName]) : undefined;
}
