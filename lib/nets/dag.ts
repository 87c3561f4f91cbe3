import * as tf from '@tensorflow/tfjs-core';
import { type ActivationSpec, activation as toActivation, applyActivation } from '../core/activations.js';
import { checkWidths } from './fcn.js';
import { type Jet, concat } from '../core/jet.js';
import { type Network, network } from './network.js';
import type { ParamSpec } from '../core/params.js';
import { rngFor } from '../core/random.js';

/**
 * Layers of a DAG by longest path from the inputs (001 Def 2.1 and 2.5): p(v) = 0 for vertices without
 * in-edges, else 1 + max over in-neighbours. Throws on a cycle or an edge naming an unknown vertex.
 */
export function longestPathLayers(vertices: number, edges: readonly (readonly [number, number])[]): number[] {
  const inEdges: number[][] = Array.from({ length: vertices }, () => []);
  const outEdges: number[][] = Array.from({ length: vertices }, () => []);
  for (const [u, v] of edges) {
    if (![u, v].every((i) => Number.isInteger(i) && i >= 0 && i < vertices)) {
      throw new Error(`edge [${u}, ${v}] names a vertex outside 0..${vertices - 1}`);
    }
    inEdges[v].push(u);
    outEdges[u].push(v);
  }
  const remaining = inEdges.map((e) => e.length);
  const layer = new Array<number>(vertices).fill(0);
  const queue = remaining.flatMap((r, v) => (r === 0 ? [v] : []));
  let seen = 0;
  while (queue.length) {
    const u = queue.shift() as number;
    seen++;
    for (const v of outEdges[u]) {
      layer[v] = Math.max(layer[v], layer[u] + 1);
      if (--remaining[v] === 0) queue.push(v);
    }
  }
  if (seen !== vertices) throw new Error('the graph has a cycle: it is not a feedforward (acyclic) network');
  return layer;
}

export interface DagOptions {
  /** Sizes of the input, hidden and output groups, in topological order: [d, m_1, ..., m_{L-1}, C]. */
  sizes: number[];
  /** For each group after the input, which earlier groups feed it (DenseNet: all earlier groups). */
  inputs?: number[][];
  activation: ActivationSpec;
  /** Each weight (edge) removed independently with this probability, fixed at construction (001 L1471). */
  dropProbability?: number;
  maskSeed?: number;
  name?: string;
}

/**
 * A feedforward DAG network of neuron groups (001 Def 2.2): f~_v = (1/sqrt(in(v))) sum_{u in S_in(v)} w_(u,v) f_u,
 * f_v = sigma(f~_v), identity on the outputs; in(v) counts the edges that remain after dropping.
 * All weights N(0,1), no biases. DenseNet (001 eq. 23-24) when every group feeds all later ones.
 */
export interface DagNetwork extends Network {
  /** Kept-edge masks per group (row-major [out, fan-in]; undefined = all kept) and remaining in-degrees. */
  readonly graph: { sizes: number[]; inputs: number[][]; masks: (Float32Array | undefined)[]; inDegrees: number[][] };
  /** Frees the mask tensors built on first use (they are rebuilt if the network is used again). */
  dispose(): void;
}

export function dagNetwork(opts: DagOptions): DagNetwork {
  const sizes = checkWidths(opts.sizes, 'sizes');
  const G = sizes.length - 1;
  const inputs = opts.inputs ?? Array.from({ length: G }, (_, g) => Array.from({ length: g + 1 }, (_, j) => j));
  if (inputs.length !== G) throw new Error(`inputs lists ${inputs.length} groups; expected ${G} (one per non-input group)`);
  inputs.forEach((src, g) => {
    if (src.length === 0 || src.some((j) => !Number.isInteger(j) || j < 0 || j > g)) {
      throw new Error(`inputs[${g}]=${JSON.stringify(src)} is invalid; group ${g + 1} can only read groups 0..${g}`);
    }
  });
  const p = opts.dropProbability ?? 0;
  if (!(p >= 0 && p < 1)) throw new Error(`dropProbability=${p} is invalid; expected a number in [0, 1)`);
  const maskSeed = opts.maskSeed ?? 0;
  const act = toActivation(opts.activation);
  const specs: ParamSpec[] = [];
  const masks: (Float32Array | undefined)[] = [];
  const rowScales: Float32Array[] = [];
  const inDegrees: number[][] = [];
  for (let g = 0; g < G; g++) {
    const fanIn = inputs[g].reduce((s, j) => s + sizes[j], 0);
    const out = sizes[g + 1];
    specs.push({ name: `W${g + 1}`, shape: [out, fanIn], init: { kind: 'normal', std: 1 }, trainable: true });
    const deg = new Array<number>(out).fill(fanIn);
    if (p > 0) {
      const rng = rngFor(maskSeed, 'dag-mask', g);
      const m = new Float32Array(out * fanIn);
      for (let i = 0; i < m.length; i++) m[i] = rng.uniform() >= p ? 1 : 0;
      for (let v = 0; v < out; v++) {
        let s = 0;
        for (let u = 0; u < fanIn; u++) s += m[v * fanIn + u];
        deg[v] = s;
      }
      masks.push(m);
    } else {
      masks.push(undefined);
    }
    inDegrees.push(deg);
    rowScales.push(Float32Array.from(deg, (k) => (k > 0 ? 1 / Math.sqrt(k) : 0)));
  }
  // Built on first use, so that constructing a network needs no backend.
  const constants = new Map<number, { mask: tf.Tensor; rowScale: tf.Tensor }>();
  const structure = (g: number) => {
    let c = constants.get(g);
    if (!c) {
      const m = masks[g] as Float32Array;
      c = { mask: tf.keep(tf.tensor2d(m, [sizes[g + 1], m.length / sizes[g + 1]])), rowScale: tf.keep(tf.tensor1d(rowScales[g])) };
      constants.set(g, c);
    }
    return c;
  };
  const net = network({
    name: opts.name ?? (p > 0 ? 'dag' : 'densenet'),
    config: { builder: 'dag', sizes, inputs, activation: act.name, dropProbability: p, maskSeed },
    inputShape: [sizes[0]],
    outputDim: sizes[G],
    specs,
    forward(ctx, x) {
      const groups: Jet[] = [x];
      for (let g = 0; g < G; g++) {
        const src = inputs[g].map((j) => groups[j]);
        const a = src.length === 1 ? src[0] : concat(src, 1);
        const z = ctx.dense(a, `W${g + 1}`, masks[g] ? structure(g) : { scale: 1 / Math.sqrt(a[0]!.shape[1] as number) });
        groups.push(g < G - 1 ? applyActivation(act, z) : z);
      }
      return groups[G];
    },
  });
  const dispose = () => {
    for (const c of constants.values()) tf.dispose([c.mask, c.rowScale]);
    constants.clear();
  };
  return { ...net, graph: { sizes, inputs, masks, inDegrees }, dispose };
}

/** DenseNet with `depth` hidden groups of width m (001 eq. 23-24), optionally with dropped edges. */
export function denseNet(opts: { d: number; m: number; depth: number; outputs?: number; activation: ActivationSpec; dropProbability?: number; maskSeed?: number }): DagNetwork {
  const { d, m, depth, outputs = 1 } = opts;
  return dagNetwork({ sizes: [d, ...new Array<number>(depth).fill(m), outputs], activation: opts.activation, dropProbability: opts.dropProbability, maskSeed: opts.maskSeed });
}
