import * as tf from '@tensorflow/tfjs-core';
import { createRequire } from 'node:module';

export type BackendName = 'node' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** Our name for the backend: `node` (libtensorflow), `wasm` or `cpu`. */
  name: BackendName;
  /** The tfjs backend id as registered (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  /** Version of the package that provides it. */
  version: string;
  /** Why earlier candidates were skipped (empty when the first one loaded). */
  skipped: string[];
}

const ORDER: BackendName[] = ['node', 'wasm', 'cpu'];
const PACKAGE: Record<BackendName, string> = {
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};
const TFJS_ID: Record<BackendName, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

const require = createRequire(import.meta.url);

function packageVersion(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

async function tryLoad(name: BackendName): Promise<void> {
  await import(PACKAGE[name]);
  const id = TFJS_ID[name];
  if (tf.findBackendFactory(id) == null) {
    throw new Error(`${PACKAGE[name]} loaded but did not register the '${id}' backend`);
  }
  const ok = await tf.setBackend(id);
  if (!ok) throw new Error(`tf.setBackend('${id}') failed`);
  await tf.ready();
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
      await tryLoad(name);
      return { name, tfjsBackend: TFJS_ID[name], version: packageVersion(PACKAGE[name]), skipped };
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

/** One line for logs and notebook headers, e.g. `wasm (@tensorflow/tfjs-backend-wasm 4.22.0)`. */
export function describeBackend(info: BackendInfo = backendInfo()): string {
  return `${info.name} (${PACKAGE[info.name]} ${info.version}, tfjs-core ${tf.version_core})`;
}
