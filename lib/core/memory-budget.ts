import * as tf from '@tensorflow/tfjs-core';

/**
 * The wasm backend's heap limit: tfjs-backend-wasm 4.22 is built with memory growth up to emscripten's
 * getHeapMax() = 65535 pages of 64 KiB (4 GiB less one page, the wasm32 address space). The module does not
 * export it and node 20's WebAssembly.Memory has no maximum getter, so it is the build's constant.
 */
export const WASM_HEAP_MAX = 65535 * 65536;

/**
 * Headroom kept free for the allocator's bookkeeping and fragmentation, and the small tensors an operation
 * makes besides the large ones it is estimated by (a [1,64,64,64,1] kernel estimated at 4.14 GB grew the heap to
 * 4.28 GB of its 4.29).
 */
const HEADROOM = 256 * 2 ** 20;

/**
 * What the backend can still allocate for tensors: on wasm the heap limit less the tensors alive (all of them
 * live on the wasm heap); undefined where allocations have no fixed limit (cpu and node allocate on the host,
 * where a failed allocation throws a RangeError and leaves the backend usable).
 */
export function deviceMemory(): { limit: number; inUse: number; free: number } | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  const inUse = tf.memory().numBytes;
  return { limit: WASM_HEAP_MAX, inUse, free: WASM_HEAP_MAX - inUse - HEADROOM };
}

/** 1.52 GB, 640 MB, 12 kB. */
export function formatBytes(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(0)} MB`;
  return `${Math.ceil(b / 1e3)} kB`;
}

/**
 * Refuses, before anything is allocated, an operation whose estimated peak `bytes` exceeds what the backend can
 * still allocate. On wasm an allocation past the heap limit does not throw cleanly: the failed malloc returns 0,
 * the kernel writes through it and corrupts the heap, and every later operation in the process fails ("memory
 * access out of bounds", then "Aborted()"), so the check has to come first.
 *
 * @param fn the entry point; `what` the operation and its size; `wayOut` what the caller can do instead
 */
export function checkDeviceMemory(fn: string, what: string, bytes: number, wayOut: string): void {
  const m = deviceMemory();
  if (!m || bytes <= m.free) return;
  throw new Error(
    `${fn}: ${what} needs about ${formatBytes(bytes)} of tensor memory at its peak; expected at most ${formatBytes(Math.max(m.free, 0))}, ` +
      `what the wasm heap can still allocate (limit ${formatBytes(m.limit)}, ${formatBytes(m.inUse)} in use by tensors). ${wayOut}`,
  );
}
