import * as tf from '@tensorflow/tfjs-core';
import { type Activation, type ActivationSpec, activation, applyActivation, softmaxJet } from '../core/activations.js';
import type { Jet } from '../core/jet.js';
import { biasRule, checkParameterization, weightRule } from './init.js';
import { type Network, type Parameterization, network } from './network.js';
import type { Init, ParamSpec } from '../core/params.js';
import { checkOptions } from '../core/checks.js';

export interface LayerOptions {
  /** Multiplier of W a replacing the parameterization's default (1/sqrt(fan-in) for NTK, 1 for standard). */
  scale?: number;
  trainable?: boolean;
  init?: Init;
  /** Initialisation of this layer's bias (default N(0,1) for NTK, zeros for standard). */
  biasInit?: Init;
  /** Bias of this layer, overriding `bias` (002 eq. 43 has one in the hidden layer only). */
  bias?: boolean;
}

export interface FcnOptions {
  /** [d, m_1, ..., m_{L-1}, C]: input dimension, hidden widths, output dimension. */
  widths: number[];
  /** Activation of every hidden layer, or one per hidden layer. The output layer is linear. */
  activation: ActivationSpec | ActivationSpec[];
  parameterization?: Parameterization;
  bias?: boolean;
  /** Per-layer overrides, index 0 = first layer. */
  layers?: (LayerOptions | undefined)[];
  /** Parameter-name blocks by layer index, e.g. [[0, 1], [2, 3]] for the 000 eq. 13 cascade. */
  blocks?: number[][];
  name?: string;
}

export function checkWidths(widths: unknown, what = 'widths'): number[] {
  if (!Array.isArray(widths) || widths.length < 2 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new Error(`${what}=${JSON.stringify(widths)} is invalid; expected at least two positive integers [input, ..., output]`);
  }
  return widths;
}

function activationName(a: ActivationSpec): string {
  return typeof a === 'string' ? a : a.name;
}

/**
 * Fully connected network (002 eq. 19/22/63, 001 eq. 22): alpha_l = sigma(W_l alpha_{l-1} / sqrt(m_{l-1}) [+ b_l]),
 * f = W_L alpha_{L-1} / sqrt(m_{L-1}) in the NTK parameterization (W ~ N(0,1)); standard: W ~ N(0, 1/fan-in), no factor.
 *
 * @param opts the architecture: `widths` [d, m_1, ..., C]; `activation` of the hidden layers ('relu', 'tanh',
 *   'swish', ... or a rule); `parameterization` 'ntk' (default) or 'standard'; `bias` (default false); per-layer
 *   `layers` overrides.
 * @returns a Network: `init(seed)` → parameters, `apply(params, x)` → [n, C], `taylor(...)` its jets.
 * @example
 * const net = fcn({ widths: [1, 1000, 3], activation: 'relu' });
 * const w = net.init(0);
 * const f = net.apply(w, tf.tensor2d([[0.5]]));   // [1, 3]
 */
export function fcn(opts: FcnOptions): Network {
  checkOptions('fcn', 'options', opts);
  const widths = checkWidths(opts.widths);
  const parameterization = checkParameterization(opts.parameterization ?? 'ntk', 'fcn');
  const L = widths.length - 1;
  const specsAct = Array.isArray(opts.activation) ? opts.activation : new Array<ActivationSpec>(L - 1).fill(opts.activation);
  if (specsAct.length !== L - 1) {
    throw new Error(`activation list has ${specsAct.length} entries; expected ${L - 1} (one per hidden layer)`);
  }
  const acts: Activation[] = specsAct.map(activation);
  const specs: ParamSpec[] = [];
  const scales: number[] = [];
  for (let l = 0; l < L; l++) {
    const fanIn = widths[l];
    const o = opts.layers?.[l] ?? {};
    const rule = weightRule(parameterization, fanIn);
    scales.push(o.scale ?? rule.scale);
    const trainable = o.trainable ?? true;
    specs.push({ name: `W${l + 1}`, shape: [widths[l + 1], fanIn], init: o.init ?? rule.init, trainable });
    if (o.bias ?? opts.bias) specs.push({ name: `b${l + 1}`, shape: [widths[l + 1]], init: o.biasInit ?? biasRule(parameterization), trainable });
  }
  const hasBias = (l: number) => opts.layers?.[l]?.bias ?? Boolean(opts.bias);
  const blocks = opts.blocks?.map((ls) => ls.flatMap((l) => (hasBias(l) ? [`W${l + 1}`, `b${l + 1}`] : [`W${l + 1}`])));
  return network({
    name: opts.name ?? 'fcn',
    config: {
      builder: 'fcn',
      widths,
      activation: specsAct.map(activationName),
      parameterization,
      bias: Boolean(opts.bias),
      layers: opts.layers ?? [],
      blocks: opts.blocks ?? null,
    },
    inputShape: [widths[0]],
    outputDim: widths[L],
    specs,
    blocks,
    forward(ctx, x) {
      let a: Jet = x;
      for (let l = 0; l < L; l++) {
        const z = ctx.dense(a, `W${l + 1}`, { scale: scales[l], bias: hasBias(l) ? `b${l + 1}` : undefined });
        a = l < L - 1 ? applyActivation(acts[l], z) : z;
      }
      return a;
    },
  });
}

export type OutputNonlinearity = 'softmax' | ActivationSpec;

/** phi(f) on top of a network (002 eq. 26, 44, 45): softmax or any elementwise activation. */
export function withOutput(base: Network, phi: OutputNonlinearity): Network {
  const name = typeof phi === 'string' ? phi : phi.name;
  const act = phi === 'softmax' ? null : activation(phi);
  const net: Network = {
    ...base,
    name: `${name}(${base.name})`,
    config: { ...base.config, output: name },
    apply: (params, x) => net.taylor(params, null, x, 0)[0] as tf.Tensor,
    taylor(params, direction, x, k, hooks) {
      const f = base.taylor(params, direction, x, k, hooks);
      return act ? applyActivation(act, f) : softmaxJet(f);
    },
  };
  return net;
}
