import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../core/params.js';
import { descentStep } from '../core/descent-step.js';

/**
 * Optimizers with PyTorch's update rules and default hyper-parameters (torch.optim, v1.13-2.x):
 * sgd(lr, momentum=0, dampening=0, nesterov=false, weight_decay=0), rmsprop(alpha=0.99, eps=1e-8, momentum=0,
 * centered=false), adagrad(lr_decay=0, eps=1e-10, initial_accumulator_value=0), adadelta(rho=0.9, eps=1e-6),
 * adam(betas=(0.9, 0.999), eps=1e-8). The learning rate comes from the schedule at each step.
 * State is plain data (named tensors) so a run can be inspected or stored.
 */
export type OptimizerState = Record<string, Params | number>;

export interface Optimizer {
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** The learning rate PyTorch uses when none is given (SGD has none). */
  readonly defaultLr?: number;
  init(params: Params): OptimizerState;
  /** One update; returns new params and state (the caller disposes the old ones). */
  step(params: Params, grads: Params, state: OptimizerState, lr: number): { params: Params; state: OptimizerState };
}

export type OptimizerSpec =
  | { name: 'gd' }
  | { name: 'sgd'; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }
  | { name: 'rmsprop'; alpha?: number; eps?: number; momentum?: number; centered?: boolean; weightDecay?: number }
  | { name: 'adagrad'; lrDecay?: number; eps?: number; initialAccumulator?: number; weightDecay?: number }
  | { name: 'adadelta'; rho?: number; eps?: number; weightDecay?: number }
  | { name: 'adam'; beta1?: number; beta2?: number; eps?: number; weightDecay?: number };

const NAMES = ['gd', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam'];

const zeros = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, tf.zerosLike(t)]));
const fill = (p: Params, v: number): Params => Object.fromEntries(Object.entries(p).map(([k, t]) => [k, tf.fill(t.shape, v)]));

function checkRange(name: string, key: string, v: number, lo: number, hi: number): void {
  if (!(v >= lo && v <= hi)) throw new Error(`${name}: ${key}=${v} is invalid; expected a number in [${lo}, ${hi}]`);
}

/** Applies `update(name, p, g) -> [newP, ...newStateTensors]` tensor by tensor. */
function perTensor(params: Params, grads: Params, weightDecay: number, f: (k: string, p: tf.Tensor, g: tf.Tensor) => tf.Tensor): Params {
  const out: Params = {};
  for (const [k, p] of Object.entries(params)) {
    const g0 = grads[k];
    if (!g0) {
      out[k] = tf.clone(p);
      continue;
    }
    const g = weightDecay ? tf.add(g0, tf.mul(p, weightDecay)) : g0;
    out[k] = f(k, p, g);
  }
  return out;
}

export function optimizer(spec: OptimizerSpec | string): Optimizer {
  const s = (typeof spec === 'string' ? { name: spec } : spec) as OptimizerSpec;
  if (!s || !NAMES.includes(s.name)) throw new Error(`optimizer: name = '${String(s?.name ?? spec)}'; expected one of ${NAMES.join(', ')}`);
  switch (s.name) {
    case 'gd':
    case 'sgd': {
      const { momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } = s.name === 'sgd' ? s : {};
      checkRange(s.name, 'momentum', momentum, 0, 1);
      if (nesterov && (momentum <= 0 || dampening !== 0)) throw new Error('sgd: nesterov needs momentum > 0 and dampening = 0 (as in PyTorch)');
      return {
        name: s.name,
        config: { optimizer: s.name, momentum, dampening, nesterov, weightDecay },
        init: () => ({ step: 0 }),
        step(params, grads, state, lr) {
          const t = (state.step as number) + 1;
          const buf = (state.buf as Params | undefined) ?? {};
          const newBuf: Params = {};
          const next = perTensor(params, grads, weightDecay, (k, p, g) => {
            let d = g;
            if (momentum) {
              newBuf[k] = t === 1 ? tf.clone(g) : tf.add(tf.mul(buf[k], momentum), tf.mul(g, 1 - dampening));
              d = nesterov ? tf.add(g, tf.mul(newBuf[k], momentum)) : newBuf[k];
            }
            return descentStep(p, d, lr);
          });
          const nextState: OptimizerState = momentum ? { step: t, buf: newBuf } : { step: t };
          return { params: next, state: nextState };
        },
      };
    }
    case 'rmsprop': {
      const { alpha = 0.99, eps = 1e-8, momentum = 0, centered = false, weightDecay = 0 } = s;
      checkRange('rmsprop', 'alpha', alpha, 0, 1);
      return {
        name: 'rmsprop',
        config: { optimizer: 'rmsprop', alpha, eps, momentum, centered, weightDecay },
        defaultLr: 0.01,
        init: (p) => ({ step: 0, square: zeros(p), ...(centered ? { gradAvg: zeros(p) } : {}), ...(momentum ? { buf: zeros(p) } : {}) }),
        step(params, grads, state, lr) {
          const sq: Params = {};
          const ga: Params = {};
          const buf: Params = {};
          const next = perTensor(params, grads, weightDecay, (k, p, g) => {
            sq[k] = tf.add(tf.mul((state.square as Params)[k], alpha), tf.mul(tf.square(g), 1 - alpha));
            let avg = sq[k];
            if (centered) {
              ga[k] = tf.add(tf.mul((state.gradAvg as Params)[k], alpha), tf.mul(g, 1 - alpha));
              avg = tf.sub(avg, tf.square(ga[k]));
            }
            const denom = tf.add(tf.sqrt(avg), eps);
            if (momentum) {
              buf[k] = tf.add(tf.mul((state.buf as Params)[k], momentum), tf.div(g, denom));
              return descentStep(p, buf[k], lr);
            }
            return descentStep(p, tf.div(g, denom), lr);
          });
          return { params: next, state: { step: (state.step as number) + 1, square: sq, ...(centered ? { gradAvg: ga } : {}), ...(momentum ? { buf } : {}) } };
        },
      };
    }
    case 'adagrad': {
      const { lrDecay = 0, eps = 1e-10, initialAccumulator = 0, weightDecay = 0 } = s;
      return {
        name: 'adagrad',
        config: { optimizer: 'adagrad', lrDecay, eps, initialAccumulator, weightDecay },
        defaultLr: 0.01,
        init: (p) => ({ step: 0, sum: fill(p, initialAccumulator) }),
        step(params, grads, state, lr) {
          const t = (state.step as number) + 1;
          const clr = lr / (1 + (t - 1) * lrDecay);
          const sum: Params = {};
          const next = perTensor(params, grads, weightDecay, (k, p, g) => {
            sum[k] = tf.add((state.sum as Params)[k], tf.square(g));
            return descentStep(p, tf.div(g, tf.add(tf.sqrt(sum[k]), eps)), clr);
          });
          return { params: next, state: { step: t, sum } };
        },
      };
    }
    case 'adadelta': {
      const { rho = 0.9, eps = 1e-6, weightDecay = 0 } = s;
      checkRange('adadelta', 'rho', rho, 0, 1);
      return {
        name: 'adadelta',
        config: { optimizer: 'adadelta', rho, eps, weightDecay },
        defaultLr: 1,
        init: (p) => ({ step: 0, square: zeros(p), accDelta: zeros(p) }),
        step(params, grads, state, lr) {
          const sq: Params = {};
          const acc: Params = {};
          const next = perTensor(params, grads, weightDecay, (k, p, g) => {
            sq[k] = tf.add(tf.mul((state.square as Params)[k], rho), tf.mul(tf.square(g), 1 - rho));
            const delta = tf.mul(tf.div(tf.sqrt(tf.add((state.accDelta as Params)[k], eps)), tf.sqrt(tf.add(sq[k], eps))), g);
            acc[k] = tf.add(tf.mul((state.accDelta as Params)[k], rho), tf.mul(tf.square(delta), 1 - rho));
            return descentStep(p, delta, lr);
          });
          return { params: next, state: { step: (state.step as number) + 1, square: sq, accDelta: acc } };
        },
      };
    }
    case 'adam': {
      const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = s;
      checkRange('adam', 'beta1', beta1, 0, 1);
      checkRange('adam', 'beta2', beta2, 0, 1);
      return {
        name: 'adam',
        config: { optimizer: 'adam', beta1, beta2, eps, weightDecay },
        defaultLr: 1e-3,
        init: (p) => ({ step: 0, m: zeros(p), v: zeros(p) }),
        step(params, grads, state, lr) {
          const t = (state.step as number) + 1;
          const m: Params = {};
          const v: Params = {};
          const bc1 = 1 - beta1 ** t;
          const bc2 = 1 - beta2 ** t;
          const next = perTensor(params, grads, weightDecay, (k, p, g) => {
            m[k] = tf.add(tf.mul((state.m as Params)[k], beta1), tf.mul(g, 1 - beta1));
            v[k] = tf.add(tf.mul((state.v as Params)[k], beta2), tf.mul(tf.square(g), 1 - beta2));
            const denom = tf.add(tf.div(tf.sqrt(v[k]), Math.sqrt(bc2)), eps);
            return descentStep(p, tf.div(m[k], denom), lr / bc1);
          });
          return { params: next, state: { step: t, m, v } };
        },
      };
    }
  }
}

export function disposeState(state: OptimizerState): void {
  for (const v of Object.values(state)) if (typeof v !== 'number') tf.dispose(Object.values(v));
}
