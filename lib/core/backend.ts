import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { blasThreads, installNativeMatMul, loadNativeAddon, setNativeMatMul } from './openblas.js';
import { installWasmKernelOverrides } from './wasm-kernels.js';

/** `wasm+openblas`: the wasm backend with its matrix products on OpenBLAS (lib/core/openblas.ts). */
export type BackendName = 'node' | 'wasm+openblas' | 'wasm' | 'cpu';

/** The compute backend selected by {@link initBackend}, as recorded with every stored result. */
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
  /**
   * On `node`: the TensorFlow C library's version (its `TF_Version()`), with `, oneDNN opts on` where the user
   * set `TF_ENABLE_ONEDNN_OPTS=1` (oneDNN's kernels round differently): keyed with every result.
   */
  libtensorflow?: string;
}

/**
 * Automatic order, fastest measured first (bench/results.md, issue 31): wasm+openblas ran the 002 quick profile in
 * 60 s against tfjs-node's 172 s and 6 of the bench's 7 kernels faster; tfjs-node (multi-threaded libtensorflow)
 * comes before plain wasm, whose products run 5-40x slower than OpenBLAS's; cpu is the last resort.
 */
const ORDER: BackendName[] = ['wasm+openblas', 'node', 'wasm', 'cpu'];
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

/**
 * TensorFlow's C++ start-up lines (CPU feature guard, oneDNN notice) go to the process's stderr, i.e. into cell
 * output and logs; level 2 keeps warnings out and errors in. oneDNN's ops round differently from run to run
 * order (TensorFlow's own notice); off unless the user turned them on. Read by libtensorflow when it loads.
 */
export function quietTensorFlowEnv(env: NodeJS.ProcessEnv = process.env): void {
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  env.TF_ENABLE_ONEDNN_OPTS ??= '0';
}

/** The libtensorflow version of the active tfjs-node backend (TF_Version() of its binding), or undefined. */
function libtensorflowVersion(): string | undefined {
  const binding = (tf.backend() as { binding?: { TF_Version?: unknown } }).binding;
  const v = typeof binding?.TF_Version === 'string' ? binding.TF_Version : undefined;
  if (v === undefined) return undefined;
  return process.env.TF_ENABLE_ONEDNN_OPTS === '1' ? `${v}, oneDNN opts on` : v;
}

/** 2x3 and 3x2 operands and the expected add(mul(matMul(a, b), 2), 1): small integers, exact in float32. */
const CHECK_A = [1, 2, 3, 4, 5, 6];
const CHECK_B = [1, 0, -1, 2, 0.5, 1];
const CHECK_EXPECTED = [2, 15, 5, 33];

/**
 * Runs a tiny product, an elementwise op and a read-back on the active backend and compares the values: a backend
 * can register and initialise yet fail at its first kernel (a tfjs-node binding built against another libtensorflow
 * threw `Kernel 'BatchMatMul' not registered for backend 'tensorflow'` on every op), and must then not be chosen.
 * Throws, saying what went wrong.
 */
export async function checkFirstOp(): Promise<void> {
  let values: Float32Array | Int32Array | Uint8Array;
  try {
    const y = tf.tidy(() => tf.add(tf.mul(tf.matMul(tf.tensor2d(CHECK_A, [2, 3]), tf.tensor2d(CHECK_B, [3, 2])), 2), 1));
    try {
      values = (await y.data()) as Float32Array;
    } finally {
      y.dispose();
    }
  } catch (e) {
    throw new Error(`first-op check failed on '${tf.getBackend()}': ${(e as Error).message.split('\n')[0]}`);
  }
  const got = Array.from(values);
  if (got.length !== CHECK_EXPECTED.length || got.some((v, i) => v !== CHECK_EXPECTED[i])) {
    throw new Error(`first-op check failed on '${tf.getBackend()}': add(mul(matMul(a, b), 2), 1) = [${got.join(', ')}]; expected [${CHECK_EXPECTED.join(', ')}]`);
  }
}

/** A backend to try: its name and how to register it, make it active and say what else it knows. */
export interface BackendCandidate {
  name: BackendName;
  load: () => Promise<Partial<BackendInfo>>;
}

/** The real candidates, in automatic order (or only the forced one). */
function candidates(forced?: BackendName): BackendCandidate[] {
  return (forced ? [forced] : ORDER).map((name) => ({ name, load: () => withoutFatalHandlers(() => load(name)) }));
}

async function load(name: BackendName): Promise<Partial<BackendInfo>> {
  // The addon is loaded before the wasm backend so that a missing addon leaves no backend half set up.
  if (name === 'wasm+openblas') loadNativeAddon();
  if (name === 'node') quietTensorFlowEnv();
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
  if (name === 'node') return { threads: availableParallelism(), libtensorflow: libtensorflowVersion() };
  return { threads: 1 };
}

/** Undoes what a candidate that failed its first-op check changed beyond its own backend. */
function unwind(name: BackendName): void {
  // wasm+openblas replaced kernels of the wasm backend, which plain wasm (next in line) shares.
  if (name === 'wasm+openblas') setNativeMatMul(false);
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
 * else the first of wasm+openblas, node, wasm, cpu that loads and computes a first product right (checkFirstOp).
 * Later calls return the same choice.
 *
 * @returns the backend chosen, with why earlier candidates were skipped
 * @example
 * const info = await initBackend();
 * console.log(describeBackend(info));   // e.g. wasm+openblas (@tensorflow/tfjs-backend-wasm 4.22.0, ...)
 */
export function initBackend(): Promise<BackendInfo> {
  if (current) return Promise.resolve(current);
  pending ??= select().then((info) => (current = info));
  return pending;
}

async function select(): Promise<BackendInfo> {
  const forced = requestedBackend();
  return selectBackend(candidates(forced), forced !== undefined);
}

/**
 * Tries `list` in order: a candidate is chosen when it loads and passes checkFirstOp(); the others are skipped,
 * with the reason in `skipped`. With `forced` (one candidate, from TANGENT_BACKEND) a failure is an error naming it.
 * initBackend() runs this once per process on the real candidates; exported for tests with fake ones.
 */
export async function selectBackend(list: readonly BackendCandidate[], forced = false): Promise<BackendInfo> {
  if (!Array.isArray(list as unknown) || list.length === 0 || !list.every((c) => c && (ORDER as string[]).includes(c.name) && typeof c.load === 'function')) {
    throw new Error(`selectBackend: list = ${JSON.stringify(list)}; expected a non-empty array of { name: ${ORDER.join(' | ')}, load }`);
  }
  // Silences the cpu backend's "install tfjs-node" banner; the choice is reported by backendInfo().
  tf.env().set('PROD', true);
  const skipped: string[] = [];
  for (const { name, load: loadIt } of list) {
    try {
      const extra = await loadIt();
      try {
        await checkFirstOp();
      } catch (e) {
        unwind(name);
        throw e;
      }
      const info: BackendInfo = { name, tfjsBackend: TFJS_ID[name], version: packageVersion(PACKAGE[name]), skipped, threads: 1, ...extra };
      if (name === 'wasm') {
        const why = skipped.find((s) => s.startsWith('wasm+openblas: '));
        info.nativeOff = forced ? 'TANGENT_BACKEND=wasm' : (why?.slice('wasm+openblas: '.length) ?? 'not tried');
      }
      return info;
    } catch (e) {
      const why = (e as Error).message.split('\n')[0];
      if (forced) {
        throw new Error(`TANGENT_BACKEND=${name} was requested but ${PACKAGE[name]} is unavailable: ${why}`);
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
 *
 * @param info the backend to describe (default: the one {@link initBackend} selected)
 * @example
 * await initBackend();
 * console.log(describeBackend());
 */
export function describeBackend(info: BackendInfo = backendInfo()): string {
  const base = `${info.name} (${PACKAGE[info.name]} ${info.version}, tfjs-core ${tf.version_core}`;
  if (info.name === 'wasm+openblas') return `${base}; matmul ${info.blas}, ${info.threads} thread${info.threads === 1 ? '' : 's'})`;
  if (info.name === 'wasm' && info.nativeOff) return `${base}; matmul on wasm, not OpenBLAS: ${info.nativeOff})`;
  if (info.name === 'node') return `${base}; libtensorflow ${info.libtensorflow ?? 'version unknown'}, ${info.threads} threads)`;
  return `${base})`;
}

/**
 * The backend version that goes into every result key: the package version, then after '; ' what else changes the
 * float32 roundings (scripts/store.ts judges currency by the part before ';' only): OpenBLAS's thread count and CPU
 * kernels on wasm+openblas (sgemm partitions large products by thread count; AVX-512 and AVX2 kernels round
 * differently), the TensorFlow C library's version on node (its kernels are libtensorflow's, not the package's).
 */
export function keyedBackendVersion(info: BackendInfo): string {
  if (info.name === 'wasm+openblas') return `${info.version}; OpenBLAS ${info.threads} thread${info.threads === 1 ? '' : 's'}, ${info.blasCore} kernels`;
  if (info.name === 'node') return `${info.version}; libtensorflow ${info.libtensorflow ?? 'unknown'}`;
  return info.version;
}

/** Version of the package providing backend `name` (`node`, `wasm`, `cpu`), or undefined for another name. */
export function backendPackageVersion(name: string): string | undefined {
  return (ORDER as string[]).includes(name) ? packageVersion(PACKAGE[name as BackendName]) : undefined;
}
