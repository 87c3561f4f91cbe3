import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs';
import { initBackend } from '../dist/lib/core/backend.js';
import { fcn } from '../dist/lib/nets/index.js';
import { tangentKernel, topEigenpairs } from '../dist/lib/analysis/ntk.js';
await initBackend();
const net = fcn({ widths: [100, 1024, 1024, 1024, 1024, 1], activation: 'relu', bias: false });
const p = net.init(0);
const x = tf.randomNormal([5000, 100]);
for (let r = 0; r < 2; r++) {
  let t = performance.now();
  const K = tangentKernel(net, p, x);
  K.dataSync();
  const tk = performance.now() - t; t = performance.now();
  const e = topEigenpairs(K, 1, { method: 'lanczos' });
  console.log('kernel', tk.toFixed(0), 'ms; lanczos', (performance.now() - t).toFixed(0), 'ms', e.iterations, e.values[0]);
  K.dispose();
}
