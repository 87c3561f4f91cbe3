import { type ActivationSpec } from '../core/activations.js';
import { type FcnOptions, fcn, checkWidths } from './fcn.js';
import type { Network, Parameterization } from './network.js';

/**
 * The bottleneck network of 000 Def 8: a cascade of B wide blocks, each with `layersPerBlock` layers of
 * width m, joined by bottlenecks of widths r (B-1 of them). With B = 2 and two layers per block this is
 * 000 eq. 13: g = (1/sqrt m) W2^(2) (1/sqrt r) W2^(1) (1/sqrt m) W1^(2) (1/sqrt d) W1^(1) x.
 * Linear by default (identity activations); `activation` puts sigma after every hidden layer
 * (bottlenecks included), as in 000 Fig 1a.
 */
export function bottleneckCascade(opts: {
  d: number;
  m: number;
  /** Bottleneck widths d_1..d_{B-1}. */
  bottlenecks: number[];
  outputs?: number;
  layersPerBlock?: number;
  activation?: ActivationSpec;
  parameterization?: Parameterization;
}): Network {
  const { d, m, bottlenecks, outputs = 1, layersPerBlock = 2, activation = 'identity', parameterization = 'ntk' } = opts;
  if (!Array.isArray(bottlenecks) || bottlenecks.length < 1) {
    throw new Error(`bottlenecks=${JSON.stringify(bottlenecks)} is invalid; expected at least one bottleneck width`);
  }
  if (!Number.isInteger(layersPerBlock) || layersPerBlock < 1) throw new Error(`layersPerBlock=${layersPerBlock} is invalid; expected an integer >= 1`);
  const ends = [d, ...bottlenecks, outputs];
  const widths: number[] = [d];
  const blocks: number[][] = [];
  for (let b = 0; b < ends.length - 1; b++) {
    const block: number[] = [];
    for (let l = 0; l < layersPerBlock; l++) {
      block.push(widths.length - 1);
      widths.push(l === layersPerBlock - 1 ? ends[b + 1] : m);
    }
    blocks.push(block);
  }
  checkWidths(widths);
  return fcn({ widths, activation, parameterization, blocks, name: `bottleneck(${bottlenecks.join(',')})` });
}

/**
 * 002 eq. 31: f = (1/sqrt m) sum_j w4_j sigma(w3_j (1/sqrt m) sum_i w2_i sigma(w1_i x)), widths m-1-m,
 * sigma(z) = z^2/2, identity bottleneck.
 */
export function bottleneckQuadratic(opts: { m: number; d?: number; parameterization?: Parameterization }): Network {
  const { m, d = 1, parameterization = 'ntk' } = opts;
  return fcn({ widths: [d, m, 1, m, 1], activation: ['quadratic', 'identity', 'quadratic'], parameterization, name: 'bottleneck-eq31' });
}

/**
 * 002 eq. 48: f = (1/sqrt m) W4 sigma(W3 (1/sqrt m) W2 sigma(W1 x)), 1 -> m -> m_b (linear) -> m -> C, ReLU,
 * no biases. `bottleneckScale: 'as-written'` has no 1/sqrt(m_b) on W3 (the paper); 'ntk' adds it.
 */
export function bottleneckRelu(opts: {
  m: number;
  mb: number;
  d?: number;
  outputs?: number;
  bottleneckScale?: 'as-written' | 'ntk';
  activation?: ActivationSpec;
}): Network {
  const { m, mb, d = 1, outputs = 3, bottleneckScale = 'as-written', activation = 'relu' } = opts;
  if (bottleneckScale !== 'as-written' && bottleneckScale !== 'ntk') {
    throw new Error(`bottleneckScale='${String(bottleneckScale)}' is invalid; expected 'as-written' or 'ntk'`);
  }
  const layers: FcnOptions['layers'] = [{ scale: 1 / Math.sqrt(d) }, { scale: 1 / Math.sqrt(m) }, { scale: bottleneckScale === 'ntk' ? 1 / Math.sqrt(mb) : 1 }, { scale: 1 / Math.sqrt(m) }];
  return fcn({ widths: [d, m, mb, m, outputs], activation: [activation, 'identity', activation], layers, name: `bottleneck-eq48(${bottleneckScale})` });
}

/**
 * 002 eq. 8: f(w; x) = (1/sqrt m) sum_i v_i sigma(w_i x) with v_i in {-1, 1} fixed (not trained);
 * for d > 1 the first layer has the 1/sqrt(d) factor (thesis Fig 4.5 setting).
 */
export function twoLayerFixedOutput(opts: { m: number; d?: number; activation: ActivationSpec }): Network {
  const { m, d = 1, activation } = opts;
  return fcn({
    widths: [d, m, 1],
    activation,
    layers: [{ scale: 1 / Math.sqrt(d) }, { scale: 1 / Math.sqrt(m), trainable: false, init: { kind: 'rademacher' } }],
    name: 'two-layer-fixed-v',
  });
}
