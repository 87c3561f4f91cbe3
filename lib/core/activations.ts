import * as tf from '@tensorflow/tfjs-core';
import { type Coef, type Jet, compose, div, mapLinear, sub } from './jet.js';
import { type FusedKind, fusedJet1, fusedRelu } from './fused-jets.js';

/**
 * An elementwise function described by its derivatives: `derivatives(z, k)` returns
 * [phi(z), phi'(z), ..., phi^(k)(z)], `null` for derivatives that are exactly zero.
 */
export interface Activation {
  readonly name: string;
  readonly derivatives: (z: tf.Tensor, k: number) => Coef[];
  /** True for the identity, which composition skips. */
  readonly identity?: boolean;
  /** The whole jet at once where a fused kernel covers it (same values as composing `derivatives`), else undefined. */
  readonly fusedJet?: (a: Jet) => Jet | undefined;
}

export type ActivationName = 'identity' | 'relu' | 'tanh' | 'sigmoid' | 'softplus' | 'quadratic' | 'swish' | 'exp';
export type ActivationSpec = ActivationName | `swish(${number})` | Activation;

/** Polynomial with ascending coefficients. */
type Poly = number[];

function derivative(p: Poly): Poly {
  return p.slice(1).map((c, i) => c * (i + 1));
}

function mulPoly(a: Poly, b: Poly): Poly {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  a.forEach((x, i) => b.forEach((y, j) => (out[i + j] += x * y)));
  return out;
}

/** P_0 = y, P_{n+1} = P_n'(y) * dy/dz where dy/dz = g(y): derivatives of y(z) as polynomials in y. */
function derivativePolys(g: Poly, k: number): Poly[] {
  const polys: Poly[] = [[0, 1]];
  for (let n = 1; n <= k; n++) polys.push(mulPoly(derivative(polys[n - 1]), g));
  return polys;
}

const TANH_G: Poly = [1, 0, -1]; // tanh' = 1 - tanh^2
const SIGMOID_G: Poly = [0, 1, -1]; // sigmoid' = s (1 - s)
const polyCache = new Map<string, Poly[]>();

function polys(kind: 'tanh' | 'sigmoid', k: number): Poly[] {
  const key = `${kind}:${k}`;
  let p = polyCache.get(key);
  if (!p) {
    p = derivativePolys(kind === 'tanh' ? TANH_G : SIGMOID_G, k);
    polyCache.set(key, p);
  }
  return p;
}

function evalPoly(p: Poly, y: tf.Tensor): Coef {
  let deg = p.length - 1;
  while (deg >= 0 && p[deg] === 0) deg--;
  if (deg < 0) return null;
  let acc: tf.Tensor = tf.mul(y, p[deg]);
  for (let i = deg - 1; i >= 0; i--) {
    acc = p[i] === 0 ? acc : tf.add(acc, p[i]);
    if (i > 0) acc = tf.mul(acc, y);
  }
  return acc;
}

function zerosAbove(values: Coef[], k: number): Coef[] {
  while (values.length < k + 1) values.push(null);
  return values.slice(0, k + 1);
}

export const identity: Activation = { name: 'identity', identity: true, derivatives: (z, k) => zerosAbove([z, tf.onesLike(z)], k) };

/** ReLU with ReLU'' = 0, the convention used in practice (003 eq. 3.2 footnote). */
const reluOf = (z: tf.Tensor) => fusedRelu(z) ?? tf.relu(z);
export const relu: Activation = { name: 'relu', derivatives: (z, k) => zerosAbove(k === 0 ? [reluOf(z)] : [reluOf(z), tf.step(z)], k) };

/** Order-1 jets with a non-zero tangent go to the fused kernel (fused-jets.ts) where it is active. */
const fused = (kind: FusedKind) => (a: Jet): Jet | undefined => (a.length === 2 && a[1] !== null ? fusedJet1(kind, a[0] as tf.Tensor, a[1]) : undefined);

export const tanh: Activation = {
  name: 'tanh',
  fusedJet: fused('tanh'),
  derivatives: (z, k) => {
    // 2 sigmoid(2z) - 1: the wasm backend's Tanh kernel is ~8x slower than its Sigmoid (tfjs 4.22).
    const t = tf.sub(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2), 1);
    return polys('tanh', k).map((p, n) => (n === 0 ? t : evalPoly(p, t)));
  },
};

export const sigmoid: Activation = {
  name: 'sigmoid',
  fusedJet: fused('sigmoid'),
  derivatives: (z, k) => {
    const s = tf.sigmoid(z);
    return polys('sigmoid', k).map((p, n) => (n === 0 ? s : evalPoly(p, s)));
  },
};

export const softplus: Activation = {
  name: 'softplus',
  derivatives: (z, k) => {
    if (k === 0) return [tf.softplus(z)];
    return [tf.softplus(z), ...sigmoid.derivatives(z, k - 1)];
  },
};

/** z^2/2, the activation of the 002 eq. 31 bottleneck model. */
export const quadratic: Activation = {
  name: 'quadratic',
  derivatives: (z, k) => zerosAbove([tf.mul(tf.square(z), 0.5), z, tf.onesLike(z)], k),
};

export const exp: Activation = {
  name: 'exp',
  derivatives: (z, k) => {
    const e = tf.exp(z);
    return new Array<Coef>(k + 1).fill(e);
  },
};

/** log z: derivatives (-1)^(n-1) (n-1)! / z^n. */
export const log: Activation = {
  name: 'log',
  derivatives: (z, k) => {
    const out: Coef[] = [tf.log(z)];
    if (k >= 1) {
      const inv = tf.reciprocal(z);
      let pow: tf.Tensor = inv;
      let fact = 1;
      for (let n = 1; n <= k; n++) {
        if (n > 1) {
          pow = tf.mul(pow, inv);
          fact *= n - 1;
        }
        out.push(tf.mul(pow, (n % 2 === 1 ? 1 : -1) * fact));
      }
    }
    return out;
  },
};

/** swish_beta(z) = z sigmoid(beta z) (002 eq. 45 uses beta = 0.1): phi^(n) = z g^(n) + n g^(n-1), g = sigmoid(beta .). */
export function swish(beta = 1): Activation {
  return {
    name: beta === 1 ? 'swish' : `swish(${beta})`,
    derivatives: (z, k) => {
      const g = sigmoid.derivatives(tf.mul(z, beta), k).map((c, n) => (c === null || n === 0 ? c : tf.mul(c, beta ** n)));
      const out: Coef[] = [tf.mul(z, g[0] as tf.Tensor)];
      for (let n = 1; n <= k; n++) {
        const gn = g[n];
        const a = gn === null ? null : tf.mul(z, gn);
        const b = tf.mul(g[n - 1] as tf.Tensor, n);
        out.push(a === null ? b : tf.add(a, b));
      }
      return out;
    },
  };
}

const NAMED: Record<Exclude<ActivationName, 'swish'>, Activation> = { identity, relu, tanh, sigmoid, softplus, quadratic, exp };

export function activation(spec: ActivationSpec): Activation {
  if (typeof spec !== 'string') {
    if (typeof spec?.derivatives !== 'function') {
      throw new Error(`activation: spec = ${JSON.stringify(spec)}; expected a name or an object with derivatives(z, k)`);
    }
    return spec;
  }
  if (spec === 'swish') return swish(1);
  const m = /^swish\(([-+0-9.eE]+)\)$/.exec(spec);
  if (m) return swish(Number(m[1]));
  const a = (NAMED as Record<string, Activation>)[spec];
  if (!a) {
    throw new Error(`activation: name = '${spec}'; expected one of ${[...Object.keys(NAMED), 'swish', 'swish(beta)'].join(', ')}`);
  }
  return a;
}

/** phi applied to a jet. */
export function applyActivation(phi: Activation, a: Jet): Jet {
  if (phi.identity) return a;
  return phi.fusedJet?.(a) ?? compose(a, phi.derivatives(a[0] as tf.Tensor, a.length - 1));
}

// Rules along the last axis (the class axis of logits), beside the elementwise ones.

/** Softmax along the last axis of a jet: exp(z - max z_0) / sum. */
export function softmaxJet(z: Jet): Jet {
  const z0 = z[0] as tf.Tensor;
  const e = expJet([tf.sub(z0, tf.max(z0, -1, true)), ...z.slice(1)]);
  return div(e, mapLinear(e, (c) => tf.sum(c, -1, true)));
}

function expJet(z: Jet): Jet {
  const e = tf.exp(z[0] as tf.Tensor);
  return compose(z, new Array<tf.Tensor>(z.length).fill(e));
}

/** log softmax along the last axis of a jet: (z - max z_0) - log sum exp(z - max z_0) (002 eq. 46). */
export function logSoftmaxJet(z: Jet): Jet {
  const z0 = z[0] as tf.Tensor;
  const shifted: Jet = [tf.sub(z0, tf.max(z0, -1, true)), ...z.slice(1)];
  const e = applyActivation(exp, shifted);
  const lse = applyActivation(log, mapLinear(e, (t) => tf.sum(t, -1, true)));
  return sub(shifted, mapLinear(lse, (t) => tf.tile(t, [1, z0.shape[z0.rank - 1]])));
}
