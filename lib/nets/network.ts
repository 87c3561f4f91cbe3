import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's node build registers no gradients, and its ESM registration file does not load under
// node; the union package's node bundle registers them all on the same tfjs-core instance.
import '@tensorflow/tfjs';
import { type Jet, add, bilinear, cauchyTerms, checkOrder, coefficients, constantJet, lineJet, mapLinear, mulConst } from '../core/jet.js';
import { denseProduct, plainProduct } from '../core/matmul.js';
import { scaledDenseProductSum, scaledProductIsNative } from '../core/scaled-product.js';
import { type ParamSpec, type Params, checkStructure, shapeString } from '../core/params.js';
import { fillUniform, normals, rademacher, rngFor } from '../core/random.js';

export type Parameterization = 'ntk' | 'standard';

/** What a dense layer saw, for the layer-wise tangent kernel (002 §6.1 of the reference). */
export interface DenseRecord {
  weight: string;
  bias?: string;
  /** z = scale * a W^T + biasScale * b */
  scale: number;
  biasScale: number;
  /** The layer's input a (order-0 coefficient), [n, in]. */
  input: tf.Tensor;
  /** Set when the weight is masked or rescaled per row: the layer-wise kernel does not apply. */
  structured: boolean;
}

/** Observers of a forward pass at order 0 (used by the tangent kernel and neuron-gradient routines). */
export interface Hooks {
  /** Called with each dense pre-activation; may return a replacement (e.g. z + probe). */
  dense?(record: DenseRecord, z: tf.Tensor): tf.Tensor;
}

/**
 * What a network's forward rule computes with: parameter jets by name and the primitive layers.
 * Builders express their forward pass once against it; plain evaluation is the order-0 case.
 */
export interface Ctx {
  readonly k: number;
  param(name: string): Jet;
  /** scale * a W^T (+ biasScale * b), W: [out, in]; `mask`/`rowScale` give DAG layers with dropped edges. */
  dense(a: Jet, weight: string, opts?: { scale?: number; bias?: string; biasScale?: number; mask?: tf.Tensor; rowScale?: tf.Tensor }): Jet;
  /** 'same' 2-D convolution, NHWC input, kernel [h, w, in, out], times scale (+ biasScale * b). */
  conv2d(a: Jet, kernel: string, opts?: { scale?: number; bias?: string; biasScale?: number }): Jet;
}

/**
 * A network as the library's routines take it: parameters are a plain record of tensors (`init(seed)`), the
 * forward pass is `apply(params, x)`, and `jet` / `taylor` give its Taylor coefficients along a parameter
 * direction (forward-mode jets, 000 Def 4-5). Built by {@link fcn} and the builders of `tangent-lab/nets`.
 *
 * @example
 * const net: Network = fcn({ widths: [2, 64, 1], activation: 'tanh' });
 * const w = net.init(0);
 * const f = net.apply(w, tf.ones([4, 2]));   // [4, 1]
 */
export interface Network {
  /** Builder name and its full configuration (plain JSON, hashed by the result store). */
  readonly name: string;
  readonly config: Record<string, unknown>;
  /** Per-sample input shape, e.g. [d] or [h, w, c]. */
  readonly inputShape: number[];
  readonly outputDim: number;
  readonly specs: ParamSpec[];
  /** Parameter names grouped into blocks (000 Def 8), for multilinear models. */
  readonly blocks?: string[][];
  init(seed: number): Params;
  /** f(params; x): [n, outputDim]. */
  apply(params: Params, x: tf.Tensor): tf.Tensor;
  /** Taylor coefficients of t -> f(params + t direction; x) up to order k (null = exactly zero). */
  taylor(params: Params, direction: Params | null, x: tf.Tensor, k: number, hooks?: Hooks): Jet;
  /** Frees tensors the network itself holds (a Taylor model keeps its copy of w0); the network is unusable afterwards. */
  dispose?(): void;
}

export interface NetworkDefinition {
  name: string;
  config: Record<string, unknown>;
  inputShape: number[];
  outputDim: number;
  specs: ParamSpec[];
  blocks?: string[][];
  forward(ctx: Ctx, x: Jet): Jet;
}

export function initParams(specs: readonly ParamSpec[], seed: number): Params {
  if (!Number.isFinite(seed)) throw new Error(`initParams: seed = ${seed}; expected a finite number`);
  const out: Params = {};
  for (const s of specs) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    const rng = rngFor(seed, 'param', s.name);
    let values: Float32Array;
    switch (s.init.kind) {
      case 'normal':
        values = normals(rng, size, s.init.std);
        break;
      case 'uniform':
        values = fillUniform(rng, new Float32Array(size), -s.init.bound, s.init.bound);
        break;
      case 'rademacher':
        values = rademacher(rng, size);
        break;
      case 'zeros':
        values = new Float32Array(size);
        break;
    }
    out[s.name] = tf.tensor(values, s.shape, 'float32');
  }
  return out;
}

/** A direction must match params name by name; entries of fixed (non-trainable) parameters may be omitted. */
export function checkDirection(direction: Params, specs: readonly ParamSpec[], netName: string): void {
  const present = specs.filter((s) => s.trainable || direction[s.name] !== undefined);
  checkStructure(direction, present, `${netName} direction`);
}

export function checkInput(net: Network, x: tf.Tensor): void {
  if (!(x instanceof tf.Tensor)) throw new Error(`${net.name}: input must be a tensor, got ${String(x)}`);
  if (x.isDisposed) throw new Error(`${net.name}: input x was disposed; expected a live tensor of shape [n, ${net.inputShape.join(', ')}]`);
  const want = net.inputShape;
  if (x.rank !== want.length + 1 || want.some((d, i) => x.shape[i + 1] !== d)) {
    throw new Error(`${net.name}: input has shape ${shapeString(x.shape)}; expected [n, ${want.join(', ')}]`);
  }
}

function makeCtx(specs: readonly ParamSpec[], params: Params, direction: Params | null, k: number, hooks?: Hooks): Ctx {
  const cache = new Map<string, Jet>();
  const param = (name: string): Jet => {
    let j = cache.get(name);
    if (!j) {
      const p = params[name];
      if (!p) throw new Error(`network: parameter = '${name}'; expected one of ${specs.map((s) => s.name).join(', ')}`);
      j = lineJet(p, direction?.[name] ?? null, k);
      cache.set(name, j);
    }
    return j;
  };
  const addBias = (z: Jet, bias: string | undefined, biasScale: number): Jet =>
    bias ? add(z, mapLinear(param(bias), (b) => (biasScale === 1 ? b : tf.mul(b, biasScale)))) : z;

  return {
    k,
    param,
    dense(a, weight, opts = {}) {
      const scale = opts.scale ?? 1;
      const biasScale = opts.biasScale ?? 1;
      let w = param(weight);
      if (opts.mask) w = mulConst(w, opts.mask);
      if (opts.rowScale) w = mulConst(w, tf.reshape(opts.rowScale, [-1, 1]));
      // On the native path the factor rides in the product (alpha); elsewhere the same ops as always.
      const fused = scale !== 1 && !opts.mask && !opts.rowScale && scaledProductIsNative();
      let z = fused ? cauchyTerms(a, w, (terms) => scaledDenseProductSum(terms, scale)) : bilinear(a, w, denseProduct);
      if (scale !== 1 && !fused) z = mapLinear(z, (c) => tf.mul(c, scale));
      z = addBias(z, opts.bias, biasScale);
      if (hooks?.dense && z[0]) {
        const rec: DenseRecord = {
          weight,
          bias: opts.bias,
          scale,
          biasScale,
          input: a[0] as tf.Tensor,
          structured: Boolean(opts.mask || opts.rowScale),
        };
        z = [hooks.dense(rec, z[0]), ...z.slice(1)];
      }
      return z;
    },
    conv2d(a, kernel, opts = {}) {
      const scale = opts.scale ?? 1;
      let z = bilinear(a, param(kernel), conv2dSame);
      if (scale !== 1) z = mapLinear(z, (c) => tf.mul(c, scale));
      return addBias(z, opts.bias, opts.biasScale ?? 1);
    },
  };
}

/**
 * 'same' stride-1 convolution as patches x kernel (im2col from pads and slices): the wasm backend has
 * no Conv2DBackpropFilter kernel, and a matMul keeps reverse mode available on every backend.
 */
export function conv2dSame(x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  const [n, h, wd, c] = x.shape;
  const [kh, kw, cin, cout] = w.shape;
  if (cin !== c) throw new Error(`conv2d: input has ${c} channels; the kernel expects ${cin}`);
  const ph = (kh - 1) / 2;
  const pw = (kw - 1) / 2;
  const padded = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
  const patches: tf.Tensor[] = [];
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) patches.push(tf.slice(padded, [0, i, j, 0], [n, h, wd, c]));
  const cols = tf.reshape(tf.concat(patches, 3), [n * h * wd, kh * kw * c]);
  return tf.reshape(plainProduct(cols, tf.reshape(w, [kh * kw * cin, cout])), [n, h, wd, cout]);
}

/** Completes a forward rule into a Network (init, apply, taylor). */
export function network(def: NetworkDefinition): Network {
  const net: Network = {
    name: def.name,
    config: def.config,
    inputShape: def.inputShape,
    outputDim: def.outputDim,
    specs: def.specs,
    blocks: def.blocks,
    init: (seed) => initParams(def.specs, seed),
    apply(params, x) {
      return net.taylor(params, null, x, 0)[0] as tf.Tensor;
    },
    taylor(params, direction, x, k, hooks) {
      checkOrder(k);
      checkStructure(params, def.specs, `${def.name} params`);
      if (direction) checkDirection(direction, def.specs, def.name);
      checkInput(net, x);
      return def.forward(makeCtx(def.specs, params, direction, k, hooks), constantJet(x, k));
    },
  };
  return net;
}

/**
 * The Taylor coefficients c_0..c_k of t -> f(params + t·direction; x) (000 Def 4-5), zeros materialised.
 * Exact for polynomial networks; from the forward-mode jets of `lib/core/jet.ts`.
 *
 * @param net the network
 * @param params the expansion point w
 * @param direction a parameter-shaped direction v (e.g. `randomDirection(params, seed)` of `tangent-lab/analysis`)
 * @param x inputs [n, d]
 * @param k the order (c_0 = f itself)
 * @returns k + 1 tensors shaped like f(x): c_j = (1/j!) d^j/dt^j f(w + t v; x) at t = 0
 * @example
 * import { randomDirection } from 'tangent-lab/analysis';
 * const net = fcn({ widths: [1, 50, 1], activation: 'tanh' });
 * const w = net.init(0), x = tf.tensor2d([[0.5], [-1]]);
 * const [c0, c1, c2] = taylorCoefficients(net, w, randomDirection(w, 1), x, 2);   // c2 = ½ vᵀ H v per input
 */
export function taylorCoefficients(net: Network, params: Params, direction: Params, x: tf.Tensor, k: number): tf.Tensor[] {
  return tf.tidy(() => coefficients(net.taylor(params, direction, x, k)));
}
