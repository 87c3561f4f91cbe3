import * as tf from '@tensorflow/tfjs-core';
import { type ActivationSpec, activation as toActivation, applyActivation } from '../core/activations.js';
import { checkParameterization } from './fcn.js';
import { type Jet, mapLinear } from '../core/jet.js';
import { type Network, type Parameterization, network } from './network.js';
import type { ParamSpec } from '../core/params.js';

/**
 * 2-D convolutional net: 'same' s x s convolutions with stride 1, each followed by the activation, then
 * flatten and a dense head (003 C.6; 002 G.1 eq. 90-93). NTK parameterization: weights N(0,1) times
 * 1/sqrt(fan-in) = 1/sqrt(c_in s^2) for convolutions and 1/sqrt(h w c) for the head.
 */
export function convNet(opts: {
  inputShape: [number, number, number];
  channels: number[];
  kernelSize?: number;
  outputs?: number;
  activation: ActivationSpec;
  parameterization?: Parameterization;
  bias?: boolean;
}): Network {
  const { inputShape, channels, kernelSize = 3, outputs = 1, bias = false } = opts;
  const [h, w, c0] = inputShape;
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || inputShape.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`inputShape=${JSON.stringify(inputShape)} is invalid; expected [height, width, channels]`);
  }
  if (!Array.isArray(channels) || channels.length < 1 || channels.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`channels=${JSON.stringify(channels)} is invalid; expected a non-empty list of positive integers`);
  }
  if (!Number.isInteger(kernelSize) || kernelSize < 1 || kernelSize % 2 === 0) throw new Error(`kernelSize=${kernelSize} is invalid; expected an odd positive integer`);
  const parameterization = checkParameterization(opts.parameterization ?? 'ntk');
  const ntk = parameterization === 'ntk';
  const act = toActivation(opts.activation);
  const specs: ParamSpec[] = [];
  const cin = [c0, ...channels];
  channels.forEach((c, l) => {
    const fanIn = cin[l] * kernelSize * kernelSize;
    specs.push({ name: `K${l + 1}`, shape: [kernelSize, kernelSize, cin[l], c], init: { kind: 'normal', std: ntk ? 1 : 1 / Math.sqrt(fanIn) }, trainable: true });
    if (bias) specs.push({ name: `b${l + 1}`, shape: [c], init: ntk ? { kind: 'normal', std: 1 } : { kind: 'zeros' }, trainable: true });
  });
  const flat = h * w * channels[channels.length - 1];
  specs.push({ name: 'W_out', shape: [outputs, flat], init: { kind: 'normal', std: ntk ? 1 : 1 / Math.sqrt(flat) }, trainable: true });
  if (bias) specs.push({ name: 'b_out', shape: [outputs], init: ntk ? { kind: 'normal', std: 1 } : { kind: 'zeros' }, trainable: true });
  return network({
    name: 'convnet',
    config: { builder: 'convnet', inputShape, channels, kernelSize, outputs, activation: act.name, parameterization, bias },
    inputShape: [h, w, c0],
    outputDim: outputs,
    specs,
    forward(ctx, x) {
      let a: Jet = x;
      channels.forEach((_, l) => {
        const scale = ntk ? 1 / Math.sqrt(cin[l] * kernelSize * kernelSize) : 1;
        a = applyActivation(act, ctx.conv2d(a, `K${l + 1}`, { scale, bias: bias ? `b${l + 1}` : undefined }));
      });
      const n = x[0]!.shape[0];
      const flatJet = mapLinear(a, (t) => tf.reshape(t, [n, flat]));
      return ctx.dense(flatJet, 'W_out', { scale: ntk ? 1 / Math.sqrt(flat) : 1, bias: bias ? 'b_out' : undefined });
    },
  });
}
