import { type ActivationSpec, activation as toActivation, applyActivation } from '../core/activations.js';
import { checkParameterization, checkWidths } from './fcn.js';
import { type Jet, add } from '../core/jet.js';
import { type Network, type Parameterization, network } from './network.js';
import type { ParamSpec } from '../core/params.js';

/**
 * ResNet with a skip at every layer (002 eq. 97): alpha_1 = sigma(W_1 x / sqrt d),
 * alpha_l = sigma(W_l alpha_{l-1} / sqrt m) + alpha_{l-1} (l = 2..L), f = v^T alpha_L / sqrt m.
 */
export function resnet(opts: { d: number; m: number; depth: number; outputs?: number; activation: ActivationSpec; parameterization?: Parameterization; bias?: boolean }): Network {
  const { d, m, depth, outputs = 1, bias = false } = opts;
  const parameterization = checkParameterization(opts.parameterization ?? 'ntk');
  checkWidths([d, m, outputs]);
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`depth=${depth} is invalid; expected an integer >= 1 (hidden layers)`);
  const act = toActivation(opts.activation);
  const ntk = parameterization === 'ntk';
  const specs: ParamSpec[] = [];
  const fanIns = [d, ...new Array<number>(depth - 1).fill(m), m];
  fanIns.forEach((fanIn, l) => {
    const out = l === depth ? outputs : m;
    const name = l === depth ? 'v' : `W${l + 1}`;
    specs.push({ name, shape: [out, fanIn], init: { kind: 'normal', std: ntk ? 1 : 1 / Math.sqrt(fanIn) }, trainable: true });
    if (bias) specs.push({ name: l === depth ? 'bv' : `b${l + 1}`, shape: [out], init: ntk ? { kind: 'normal', std: 1 } : { kind: 'zeros' }, trainable: true });
  });
  const scale = (fanIn: number) => (ntk ? 1 / Math.sqrt(fanIn) : 1);
  return network({
    name: 'resnet',
    config: { builder: 'resnet', d, m, depth, outputs, activation: act.name, parameterization, bias },
    inputShape: [d],
    outputDim: outputs,
    specs,
    forward(ctx, x) {
      let a: Jet = x;
      for (let l = 0; l < depth; l++) {
        const z = ctx.dense(a, `W${l + 1}`, { scale: scale(fanIns[l]), bias: bias ? `b${l + 1}` : undefined });
        const h = applyActivation(act, z);
        a = l === 0 ? h : add(h, a);
      }
      return ctx.dense(a, 'v', { scale: scale(m), bias: bias ? 'bv' : undefined });
    },
  });
}
