import * as tf from '@tensorflow/tfjs-core';

/**
 * Diagnostics for the benchmark only (never used by lib/). tfjs-backend-wasm 4.22 runs BatchMatMul through
 * XNNPACK only when neither operand is transposed; with transposeA or transposeB it falls back to a naive
 * blocked triple loop (`slow_batch_matmul` in tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc), 5-40x slower.
 * lib/matmul.ts avoids those flags on wasm; `countTransposedMatMuls` checks that a library call really
 * issues no transposed product (a regression guard), and `withExplicitTransposes` measures what avoiding
 * them would gain when some remain.
 */

type KernelFunc = tf.KernelConfig['kernelFunc'];

/** Runs fn with the wasm BatchMatMul kernel replaced by wrap(original); restores the original afterwards. */
function withWrappedMatMul<T>(wrap: (original: KernelFunc) => KernelFunc, fn: () => T): T {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) throw new Error('the wasm BatchMatMul kernel is not registered');
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: wrap(original.kernelFunc) });
  try {
    return fn();
  } finally {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(original);
  }
}

/** Products issued by fn with a transposed operand, e.g. { '[128,1024]x[1024,1024] B^T': 3 }. */
export function countTransposedMatMuls(fn: () => void): Record<string, number> {
  const seen: Record<string, number> = {};
  withWrappedMatMul(
    (original) => (args) => {
      const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (transposeA || transposeB) {
        const key = `[${a.shape}]${transposeA ? '^T' : ''} x [${b.shape}]${transposeB ? '^T' : ''}`;
        seen[key] = (seen[key] ?? 0) + 1;
      }
      return original(args);
    },
    fn,
  );
  return seen;
}

/**
 * Runs fn with every transposed operand materialised by the Transpose kernel first, so that the product
 * itself runs untransposed on XNNPACK: the gain a library-side explicit transpose would give.
 */
export function withExplicitTransposes<T>(fn: () => T): T {
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) throw new Error('the wasm Transpose kernel is not registered');
  const swapLast = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return withWrappedMatMul(
    (original) =>
      ({ inputs, attrs, backend }) => {
        const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
        const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
        if (!transposeA && !transposeB) return original({ inputs, attrs, backend });
        const temps: tf.TensorInfo[] = [];
        const materialise = (x: tf.TensorInfo) => {
          const t = transpose.kernelFunc({ inputs: { x }, attrs: { perm: swapLast(x.shape.length) }, backend }) as tf.TensorInfo;
          temps.push(t);
          return t;
        };
        const out = original({
          inputs: { a: transposeA ? materialise(a) : a, b: transposeB ? materialise(b) : b },
          attrs: { ...attrs, transposeA: false, transposeB: false },
          backend,
        });
        for (const t of temps) (backend as tf.KernelBackend).disposeData(t.dataId);
        return out;
      },
    fn,
  );
}
