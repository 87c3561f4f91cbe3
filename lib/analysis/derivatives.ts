import * as tf from '@tensorflow/tfjs-core';
import { type Network, checkDirection, checkInput } from '../nets/network.js';
import { polarize } from '../nets/taylor-models.js';
import { type Params, checkStructure, pv, shapeString, trainableNames } from '../core/params.js';

/**
 * Validates arguments before any gradient tape is opened: an exception thrown inside tf.grads leaves
 * tfjs' engine with an unclosed scope, which breaks every later call.
 */
export function checkArgs(net: Network, params: Params, x: tf.Tensor, direction?: Params | null): void {
  checkNetwork(net);
  checkStructure(params, net.specs, `${net.name} params`);
  if (direction) checkDirection(direction, net.specs, net.name);
  checkInput(net, x);
}

/** A Network (as fcn and the builders of tangent-lab/nets make), not null or another object. */
export function checkNetwork(net: unknown, fn = 'network'): asserts net is Network {
  const n = net as Partial<Network> | null;
  if (!n || typeof n !== 'object' || !Array.isArray(n.specs) || typeof n.taylor !== 'function' || typeof n.apply !== 'function') {
    throw new Error(`${fn}: net = ${n === null || typeof n !== 'object' ? String(n) : 'an object that is not a Network'}; expected a network such as fcn({ widths, activation })`);
  }
}

/** Differentiates a scalar function of the trainable parameters (fixed ones are held constant). */
export function gradTrainable(net: Network, params: Params, scalar: (p: Params) => tf.Scalar): { value: number; grad: Params } {
  const names = trainableNames(net.specs);
  const fixed = Object.fromEntries(net.specs.filter((s) => !s.trainable).map((s) => [s.name, params[s.name]]));
  const xs = names.map((n) => params[n]);
  const f = () => scalar({ ...fixed, ...Object.fromEntries(names.map((n, i) => [n, xs[i]])) });
  // allowNoGradients: a parameter the scalar does not use (e.g. an output bias in a Hessian-vector product)
  // gets a zero gradient instead of an error, without the whole-parameter zero terms tf.grads would need.
  const { value, grads } = tf.engine().gradients(f, xs, undefined, true);
  for (let i = 0; i < grads.length; i++) grads[i] ??= tf.zerosLike(xs[i]);
  const v = value.dataSync()[0];
  value.dispose();
  return { value: v, grad: Object.fromEntries(names.map((n, i) => [n, grads[i]])) };
}

function checkCotangent(net: Network, x: tf.Tensor, u: tf.Tensor | undefined): void {
  if (u === undefined) return;
  const want = [x.shape[0], net.outputDim];
  if (u.shape.length !== 2 || u.shape[0] !== want[0] || u.shape[1] !== want[1]) {
    throw new Error(`vjp: u has shape ${shapeString(u.shape)}; expected the output shape ${shapeString(want)}`);
  }
}

function weighted(f: tf.Tensor, u: tf.Tensor | undefined): tf.Scalar {
  // One output of one input: the sum is the element (exact), and a reshape costs one kernel each way, not four.
  if (u === undefined && f.size === 1) return tf.reshape(f, []) as tf.Scalar;
  return u === undefined ? tf.sum(f) : tf.sum(tf.mul(f, u));
}

/** J v: directional derivative of the outputs, [n, C]. */
export function jvp(net: Network, params: Params, v: Params, x: tf.Tensor): tf.Tensor {
  checkArgs(net, params, x, v);
  return tf.tidy(() => {
    const c = net.taylor(params, v, x, 1);
    return c[1] ?? tf.zerosLike(c[0] as tf.Tensor);
  });
}

/** J^T u: gradient of sum(u * f) over the trainable parameters (u defaults to ones). */
export function vjp(net: Network, params: Params, x: tf.Tensor, u?: tf.Tensor): Params {
  checkArgs(net, params, x);
  checkCotangent(net, x, u);
  return gradTrainable(net, params, (p) => weighted(net.apply(p, x), u)).grad;
}

/**
 * Hessian-vector product of the model: H v = grad_w <u, J(w) v>, reverse mode over the order-1 jet
 * (no nested tf.grad). u weights outputs and samples; with one input and one output it is the Hessian of f.
 */
export function hvp(net: Network, params: Params, v: Params, x: tf.Tensor, u?: tf.Tensor): Params {
  checkArgs(net, params, x, v);
  checkCotangent(net, x, u);
  return gradTrainable(net, params, (p) => {
    const c = net.taylor(p, v, x, 1);
    // A model affine in w along v has H v = 0: keep the graph connected so the gradient is zeros.
    return c[1] === null ? tf.mul(tf.sum(c[0] as tf.Tensor), 0) as tf.Scalar : weighted(c[1], u);
  }).grad;
}

/** Mixed second directional derivative D^2 f[a, b] = c_2(a + b) - c_2(a) - c_2(b) (polarization, c_2(w) = D^2 f[w, w]/2). */
export function mixedSecond(net: Network, params: Params, a: Params, b: Params, x: tf.Tensor): tf.Tensor {
  checkArgs(net, params, x, a);
  checkArgs(net, params, x, b);
  return tf.tidy(() => polarize((d) => net.taylor(params, d, x, 2)[2], [a, b]) ?? tf.zeros([x.shape[0], net.outputDim]));
}

/** Gradient of every (sample, output) pair: rows ordered i*C + c. 002 eq. 1. */
export function perSampleGradients(net: Network, params: Params, x: tf.Tensor): Params[] {
  checkArgs(net, params, x);
  const n = x.shape[0];
  const C = net.outputDim;
  const rows: Params[] = [];
  for (let i = 0; i < n; i++) {
    const xi = tf.slice(x, [i], [1]);
    for (let c = 0; c < C; c++) {
      rows.push(gradTrainable(net, params, (p) => tf.sum(tf.slice(net.apply(p, xi), [0, c], [1, 1]))).grad);
    }
    xi.dispose();
  }
  return rows;
}
