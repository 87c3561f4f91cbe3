import type { Init } from '../core/params.js';
import type { Parameterization } from './network.js';

export function checkParameterization(p: unknown, api = 'network'): Parameterization {
  if (p !== 'ntk' && p !== 'standard') throw new Error(`${api}: parameterization = ${JSON.stringify(p)}; expected 'ntk' or 'standard'`);
  return p;
}

/**
 * A weight of fan-in k: NTK parameterization (002 eq. 19) W ~ N(0, 1) with the multiplier 1/sqrt(k) in the
 * forward pass; standard W ~ N(0, 1/k) with multiplier 1. The same function at initialization, different
 * gradient-descent dynamics.
 */
export function weightRule(p: Parameterization, fanIn: number): { init: Init; scale: number } {
  return p === 'ntk' ? { init: { kind: 'normal', std: 1 }, scale: 1 / Math.sqrt(fanIn) } : { init: { kind: 'normal', std: 1 / Math.sqrt(fanIn) }, scale: 1 };
}

/** A bias: N(0, 1) in the NTK parameterization (002 eq. 43), zeros in the standard one. */
export function biasRule(p: Parameterization): Init {
  return p === 'ntk' ? { kind: 'normal', std: 1 } : { kind: 'zeros' };
}
