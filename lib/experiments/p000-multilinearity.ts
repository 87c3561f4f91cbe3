import * as tf from '@tensorflow/tfjs-core';
import { bottleneckCascade } from '../nets/bottleneck.js';
import { vjp } from '../analysis/derivatives.js';
import type { Network } from '../nets/network.js';
import { taylorCoefficients } from '../nets/network.js';
import { type Params, readScalar } from '../core/params.js';
import { normals, rngFor } from '../core/random.js';
import { bilinearCoefficients } from '../nets/taylor-models.js';
import { registerTasks } from '../run/tasks.js';
import { checkOneOf } from '../core/checks.js';

/** Which weights a direction perturbs: all layers, only the block before (0) or after (1) the bottleneck. */
export type BlockChoice = 'all' | 0 | 1;
export type DirectionFamily = 'gradient' | 'isotropic';

/** The 1 -> m -> 1 -> m -> 1 network of 000 Fig 1 (000 eq. 13 with d = r = k = 1). */
export function fig1Network(m: number, activation: 'identity' | 'tanh' = 'identity'): Network {
  return bottleneckCascade({ d: 1, m, bottlenecks: [1], activation });
}

/**
 * Directions for 000 Fig 1. `gradient` (the reference's recommendation, 000 L326-343): per layer
 * s_l grad_{W_l} g / ||grad_{W_l} g||_F with s_l ~ N(0, 1); `isotropic`: a Gaussian matrix per layer with unit
 * Frobenius norm (does not show the effect at t = O(1)). Layers outside the chosen block are zero.
 */
export function fig1Direction(net: Network, params: Params, x: tf.Tensor, opts: { family: DirectionFamily; block: BlockChoice; seed: number }): Params {
  checkOneOf('fig1Direction', 'family', opts.family, ['gradient', 'isotropic'] as const);
  const blocks = net.blocks as string[][];
  if (opts.block !== 'all' && !(Number.isInteger(opts.block) && opts.block >= 0 && opts.block < blocks.length)) {
    throw new Error(`fig1Direction: block = ${JSON.stringify(opts.block)}; expected 'all' or a block index in [0, ${blocks.length - 1}]`);
  }
  const active = opts.block === 'all' ? blocks.flat() : blocks[opts.block];
  const rng = rngFor(opts.seed, 'fig1-direction', opts.family, String(opts.block));
  const grad = opts.family === 'gradient' ? vjp(net, params, x) : null;
  const out: Params = {};
  for (const s of net.specs) {
    const coef = rng.normal();
    if (!active.includes(s.name)) {
      out[s.name] = tf.zerosLike(params[s.name]);
      continue;
    }
    const raw = grad ? grad[s.name] : tf.tensor(normals(rngFor(opts.seed, 'fig1-iso', s.name, String(opts.block)), params[s.name].size), params[s.name].shape);
    const norm = readScalar(() => tf.norm(raw));
    out[s.name] = tf.mul(raw, coef / norm);
    if (!grad) raw.dispose();
  }
  if (grad) tf.dispose(Object.values(grad));
  return out;
}

/** g(W + t Delta; x) on a grid of t, one row per direction. */
export function curvesAlong(net: Network, params: Params, x: tf.Tensor, dirs: Params[], ts: number[]): number[][] {
  return dirs.map((d) =>
    ts.map((t) =>
      readScalar(() => {
        const p = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, tf.add(w, tf.mul(d[k], t))]));
        return net.apply(p, x);
      }),
    ),
  );
}

/** Taylor coefficients c_0..c_4 of t -> g(W + t Delta; x) (exact for the linear network: a quartic). */
export function lineCoefficients(net: Network, params: Params, x: tf.Tensor, dir: Params, k = 4): number[] {
  const cs = taylorCoefficients(net, params, dir, x, k);
  const out = cs.map((c) => c.dataSync()[0]);
  tf.dispose(cs);
  return out;
}

export interface ApproximationErrors {
  m: number;
  seed: number;
  /** sup_{|t| <= R} |g - (g0 + c1 t)| */
  linearError: number;
  /** sup_{|t| <= R} |g - q| with q = g0 + c1 t + D^2 g[Delta_1, Delta_2] t^2 (000 eq. 18) */
  bilinearError: number;
  coefficients: number[];
  cross: number;
}

/**
 * The quantitative companion of 000 Fig 1 (000 Thm 1): along a gradient-aligned direction, the error of the
 * linearization stays Θ(1) while the error of the bilinear model decays with m.
 */
export function approximationErrors(m: number, seed: number, R = 2, xValue = 1): ApproximationErrors {
  const net = fig1Network(m);
  const params = net.init(seed);
  const x = tf.tensor2d([[xValue]]);
  const dir = fig1Direction(net, params, x, { family: 'gradient', block: 'all', seed });
  const c = lineCoefficients(net, params, x, dir, 4);
  const { cross } = bilinearCoefficients(net, params, dir, x);
  const cx = cross.dataSync()[0];
  let lin = 0;
  let bil = 0;
  for (let i = 0; i <= 400; i++) {
    const t = -R + (2 * R * i) / 400;
    const rest = c[3] * t ** 3 + c[4] * t ** 4;
    lin = Math.max(lin, Math.abs(c[2] * t * t + rest));
    bil = Math.max(bil, Math.abs((c[2] - cx) * t * t + rest));
  }
  tf.dispose([x, cross, ...Object.values(params), ...Object.values(dir)]);
  return { m, seed, linearError: lin, bilinearError: bil, coefficients: c, cross: cx };
}

registerTasks(import.meta.url, { approximationErrors });
declare module '../run/tasks.js' {
  interface TaskRegistry { approximationErrors: typeof approximationErrors }
}
