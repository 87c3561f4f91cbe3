import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { blasThreads, installNativeMatMul, nativeMatMulActive } from '../lib/core/openblas.js';

/** The wasm backend with the native OpenBLAS path on, whatever TANGENT_BACKEND chose (tests of the native kernels). */
export async function useNativeWasm(): Promise<void> {
  await initBackend();
  if (tf.getBackend() !== 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    await tf.setBackend('wasm');
  }
  if (!nativeMatMulActive()) installNativeMatMul(blasThreads());
}
