import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { lossHvp } from '../lib/analysis/critical.js';
import { fcn } from '../lib/nets/fcn.js';
import { randomDirection } from '../lib/analysis/hessian.js';
import { crossEntropy, type Loss, mse } from '../lib/analysis/losses.js';
import { fcn64 } from './nets64.js';
import { type P64, axpy, softmax64, taylorFit, unit } from './oracle64.js';
import { assertClose, seededMatrix, tensorOf, toP64 } from './helpers.js';

before(async () => {
  await initBackend();
});

const widths = [2, 5, 3];
const f64 = fcn64(widths, ['tanh'], [1 / Math.sqrt(2), 1 / Math.sqrt(5)]);
const xs = seededMatrix(4, 2, 7);
const ys = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]];

const loss64: Record<string, (p: P64) => number> = {
  'cross-entropy': (p) => -xs.reduce((s, x, i) => s + ys[i].reduce((a, y, c) => a + y * Math.log(softmax64(f64(p, x))[c]), 0), 0) / xs.length,
  'mse(mean)': (p) => xs.reduce((s, x, i) => s + f64(p, x).reduce((a, v, c) => a + (v - ys[i][c]) ** 2, 0), 0) / xs.length,
  'mse(halfSum)': (p) => xs.reduce((s, x, i) => s + f64(p, x).reduce((a, v, c) => a + (v - ys[i][c]) ** 2, 0), 0) / 2,
  'mse(meanAll)': (p) => xs.reduce((s, x, i) => s + f64(p, x).reduce((a, v, c) => a + (v - ys[i][c]) ** 2, 0), 0) / (xs.length * 3),
};
const losses: Record<string, Loss> = { 'cross-entropy': crossEntropy(), 'mse(mean)': mse('mean'), 'mse(halfSum)': mse('halfSum'), 'mse(meanAll)': mse('meanAll') };

for (const [name, L] of Object.entries(losses)) {
  test(`${name}: loss Taylor coefficients and loss-Hessian-vector products against the float64 oracle`, () => {
    const net = fcn({ widths, activation: 'tanh' });
    const w = net.init(2);
    const v = randomDirection(w, 3);
    const x = tensorOf(xs);
    const y = tensorOf(ys);
    const p = toP64(w);
    const d = toP64(v);
    const jet = L.jet(net.taylor(w, v, x, 3), y).map((c) => (c ? c.dataSync()[0] : 0));
    const ref = taylorFit((t) => loss64[name](axpy(p, t, d)), 3);
    assertClose(jet, ref, 3e-4, `${name} c_0..c_3`);
    const Hv = lossHvp(net, w, x, y, L, v);
    const c2 = (dir: P64) => taylorFit((t) => loss64[name](axpy(p, t, dir)), 2)[2];
    const cv = c2(d);
    for (const k of Object.keys(Hv)) {
      const ref2 = Array.from(p[k].data, (_, i) => {
        const e = unit(p, k, i);
        return c2(axpy(e, 1, d)) - c2(e) - cv;
      });
      assertClose(Hv[k].dataSync(), ref2, 3e-4, `${name} H_L v (${k})`, 1e-3);
    }
    tf.dispose([x, y]);
  });
}
