// Names the root exported before the library was split into layers (commit 1ecb8d3), which notebooks of that
// time import from 'tangent-lab'. Each stays on the root as an alias whose doc comment names its new home, so
// that an old notebook keeps running and the editor (and tslab's inspection) shows where to import it from
// instead of TypeScript's bare 'has no exported member'. The list: every name an earlier notebook or README
// imported from the root that the root no longer exported (`git log -S`, notebooks of 1ecb8d3^ and before).
import * as data from './data/index.js';
import * as experiments from './experiments/index.js';
import * as nets from './nets/index.js';
import type * as tf from '@tensorflow/tfjs-core';
import type { Params } from './core/params.js';
import type { Network } from './nets/network.js';

// Each alias has its own signature type (the original's parameters, checked assignable from it), so that the
// alias' doc comment, not the original's, is the one editors and the API reference show for it.
type E = typeof experiments;
type N = typeof nets;
type D = typeof data;
type Arg<F extends (...a: never[]) => unknown, I extends number> = Parameters<F>[I];
type Result<F extends (...a: never[]) => unknown> = ReturnType<F>;

/**
 * The 1 → m → 1 → m → 1 network of 000 Fig 1.
 * @deprecated moved to 'tangent-lab/experiments': `import { fig1Network } from 'tangent-lab/experiments'`
 * @param m width of the two hidden layers
 * @param activation 'identity' (default) or 'tanh'
 * @example
 * // import { fig1Network } from 'tangent-lab/experiments';   (where it lives now)
 * const net = fig1Network(100);
 */
export const fig1Network: (m: number, activation?: Arg<E['fig1Network'], 1>) => Result<E['fig1Network']> = experiments.fig1Network;

/**
 * Directions for 000 Fig 1 (gradient-aligned or isotropic, per block).
 * @deprecated moved to 'tangent-lab/experiments': `import { fig1Direction } from 'tangent-lab/experiments'`
 * @param net the network, e.g. fig1Network(m)
 * @param params its parameters
 * @param x the input
 * @param opts `family` ('gradient' | 'isotropic'), `block` ('all' | 0 | 1), `seed`
 * @example
 * // import { fig1Network, fig1Direction } from 'tangent-lab/experiments';   (where they live now)
 * const net = fig1Network(100), w = net.init(0), x = tf.tensor2d([[1]]);
 * const dir = fig1Direction(net, w, x, { family: 'gradient', block: 'all', seed: 1 });
 */
export const fig1Direction: (net: Network, params: Params, x: tf.Tensor, opts: Arg<E['fig1Direction'], 3>) => Result<E['fig1Direction']> = experiments.fig1Direction;

/**
 * g(W + t Δ; x) on a grid of t, one row per direction (000 Fig 1).
 * @deprecated moved to 'tangent-lab/experiments': `import { curvesAlong } from 'tangent-lab/experiments'`
 * @param net the network
 * @param params the base point W
 * @param x the input
 * @param dirs directions Δ
 * @param ts the grid of t
 * @example
 * // import { fig1Network, fig1Direction, curvesAlong } from 'tangent-lab/experiments';   (where they live now)
 * const net = fig1Network(100), w = net.init(0), x = tf.tensor2d([[1]]);
 * const dir = fig1Direction(net, w, x, { family: 'gradient', block: 'all', seed: 1 });
 * const rows = curvesAlong(net, w, x, [dir], [-1, 0, 1]);
 */
export const curvesAlong: (net: Network, params: Params, x: tf.Tensor, dirs: Params[], ts: number[]) => Result<E['curvesAlong']> = experiments.curvesAlong;

/**
 * Taylor coefficients c_0..c_k of t → g(W + t Δ; x) (000 Fig 1).
 * @deprecated moved to 'tangent-lab/experiments': `import { lineCoefficients } from 'tangent-lab/experiments'`
 * @param net the network
 * @param params the base point W
 * @param x the input
 * @param dir the direction Δ
 * @param k highest order (default 4)
 * @example
 * // import { fig1Network, fig1Direction, lineCoefficients } from 'tangent-lab/experiments';   (where they live now)
 * const net = fig1Network(100), w = net.init(0), x = tf.tensor2d([[1]]);
 * const c = lineCoefficients(net, w, x, fig1Direction(net, w, x, { family: 'gradient', block: 'all', seed: 1 }));
 */
export const lineCoefficients: (net: Network, params: Params, x: tf.Tensor, dir: Params, k?: number) => Result<E['lineCoefficients']> = experiments.lineCoefficients;

/**
 * Errors of the linearization and the bilinear model along a gradient-aligned direction (000 Thm 1).
 * @deprecated moved to 'tangent-lab/experiments': `import { approximationErrors } from 'tangent-lab/experiments'`
 * @param m width
 * @param seed seed of the network and direction
 * @param R radius of the line segment (default 2)
 * @param xValue the input (default 1)
 * @example
 * // import { approximationErrors } from 'tangent-lab/experiments';   (where it lives now)
 * const e = approximationErrors(100, 0);
 */
export const approximationErrors: (m: number, seed: number, R?: number, xValue?: number) => Result<E['approximationErrors']> = experiments.approximationErrors;

/**
 * Layers of a DAG by longest path from the inputs (001 Def 2.1, 2.5).
 * @deprecated moved to 'tangent-lab/nets': `import { longestPathLayers } from 'tangent-lab/nets'`
 * @param vertices vertex count
 * @param edges [from, to] pairs
 * @example
 * // import { longestPathLayers } from 'tangent-lab/nets';   (where it lives now)
 * longestPathLayers(3, [[0, 1], [1, 2], [0, 2]]);   // [0, 1, 2]
 */
export const longestPathLayers: (vertices: number, edges: Arg<N['longestPathLayers'], 1>) => Result<N['longestPathLayers']> = nets.longestPathLayers;

/**
 * 001 Fig 1 / Fig 3: a DAG drawn by longest-path layers.
 * @deprecated moved to 'tangent-lab/experiments': `import { dagFigure } from 'tangent-lab/experiments'`
 * @param title figure title
 * @param vertices vertex count
 * @param edges [from, to] pairs
 * @param highlight vertices drawn highlighted
 * @example
 * // import { dagFigure } from 'tangent-lab/experiments';   (where it lives now)
 * const fig = dagFigure('a DAG', 3, [[0, 1], [1, 2], [0, 2]]);
 */
export const dagFigure: (title: string, vertices: number, edges: [number, number][], highlight?: number[]) => Result<E['dagFigure']> = experiments.dagFigure;

/**
 * 001 Fig 2: a sparse DenseNet trained by GD, with its kernel change.
 * @deprecated moved to 'tangent-lab/experiments': `import { dagRun } from 'tangent-lab/experiments'`
 * @param opts `m`, `seed`, `steps`, `kernelEvery`, optional `n`, `d0`, `lossBelow`, `progress`
 * @example
 * // import { dagRun } from 'tangent-lab/experiments';   (where it lives now)
 * const result = dagRun({ m: 16, seed: 0, steps: 5, kernelEvery: 5 });
 */
export const dagRun: (opts: Arg<E['dagRun'], 0>) => Result<E['dagRun']> = experiments.dagRun;

/**
 * 002 Fig 1: kernel change ΔK(t) on the 3-class mixture (CE or swish-MSE).
 * @deprecated moved to 'tangent-lab/experiments': `import { fig1Run } from 'tangent-lab/experiments'`
 * @param opts `m`, `seed`, `objective`, `steps`, `kernelEvery`, optional `lossBelow`, `lrMultiple`, `progress`
 * @example
 * // import { fig1Run } from 'tangent-lab/experiments';   (where it lives now)
 * const result = fig1Run({ m: 16, seed: 0, objective: 'ce', steps: 5, kernelEvery: 5 });
 */
export const fig1Run: (opts: Arg<E['fig1Run'], 0>) => Result<E['fig1Run']> = experiments.fig1Run;

/**
 * 002 Fig 2: kernel change of the bottleneck network.
 * @deprecated moved to 'tangent-lab/experiments': `import { fig2Run } from 'tangent-lab/experiments'`
 * @param opts `m`, `mb`, `seed`, `steps`, `kernelEvery`, optional `lossBelow`, `lrMultiple`, `bottleneckScale`, `progress`
 * @example
 * // import { fig2Run } from 'tangent-lab/experiments';   (where it lives now)
 * const result = fig2Run({ m: 16, mb: 2, seed: 0, steps: 5, kernelEvery: 5 });
 */
export const fig2Run: (opts: Arg<E['fig2Run'], 0>) => Result<E['fig2Run']> = experiments.fig2Run;

/**
 * 002 Table 1: Hessian norm and kernel of one model at width m.
 * @deprecated moved to 'tangent-lab/experiments': `import { hessianScaling } from 'tangent-lab/experiments'`
 * @param model 'linear-output', 'nonlinear-output' or 'bottleneck'
 * @param m width
 * @param seed seed of the initialisation
 * @param xValue the input (default 1)
 * @example
 * // import { hessianScaling } from 'tangent-lab/experiments';   (where it lives now)
 * const r = hessianScaling('linear-output', 64, 0);
 */
export const hessianScaling: (model: experiments.Table1Model, m: number, seed: number, xValue?: number) => Result<E['hessianScaling']> = experiments.hessianScaling;

/**
 * 004 Fig 3 left: 3 hidden tanh layers of width m.
 * @deprecated moved to 'tangent-lab/experiments': `import { fig3WidthNetwork } from 'tangent-lab/experiments'`
 * @param d input dimension
 * @param m width
 * @example
 * // import { fig3WidthNetwork } from 'tangent-lab/experiments';   (where it lives now)
 * const net = fig3WidthNetwork(10, 64);
 */
export const fig3WidthNetwork: (d: number, m: number) => Result<E['fig3WidthNetwork']> = experiments.fig3WidthNetwork;

/**
 * 004 Fig 3 right: a bottleneck of width m_b between wide tanh layers.
 * @deprecated moved to 'tangent-lab/experiments': `import { fig3BottleneckNetwork } from 'tangent-lab/experiments'`
 * @param d input dimension
 * @param mb bottleneck width
 * @param wide width of the other hidden layers (default 1000)
 * @example
 * // import { fig3BottleneckNetwork } from 'tangent-lab/experiments';   (where it lives now)
 * const net = fig3BottleneckNetwork(10, 4, 64);
 */
export const fig3BottleneckNetwork: (d: number, mb: number, wide?: number) => Result<E['fig3BottleneckNetwork']> = experiments.fig3BottleneckNetwork;

/**
 * Mean |cos| between neuron gradients per hidden layer at initialisation (004 eq. 22).
 * @deprecated moved to 'tangent-lab/experiments': `import { cosinesAtInit } from 'tangent-lab/experiments'`
 * @param net the network
 * @param x inputs
 * @param seed seed of the initialisation
 * @param layers hidden layers measured (default [2, 3])
 * @example
 * // import { fig3WidthNetwork, cosinesAtInit } from 'tangent-lab/experiments';   (where they live now)
 * const c = cosinesAtInit(fig3WidthNetwork(10, 32), tf.randomNormal([8, 10]), 0);
 */
export const cosinesAtInit: (net: Network, x: tf.Tensor, seed: number, layers?: number[]) => Result<E['cosinesAtInit']> = experiments.cosinesAtInit;

/**
 * A class subset of real images (CIFAR-10, or MNIST standing in).
 * @deprecated moved to 'tangent-lab/data': `import { loadImageSubset } from 'tangent-lab/data'`
 * @param options `classes`, `perClass`, `seed`, optional `source`, `split`, `cifarDir`, `layout`
 * @example
 * // import { loadImageSubset } from 'tangent-lab/data';   (where it lives now)
 * const digits = loadImageSubset({ source: 'mnist', classes: [7, 9], perClass: 8, seed: 0 });
 */
export const loadImageSubset: (options: data.ImageSubsetOptions) => Result<D['loadImageSubset']> = data.loadImageSubset;

/**
 * A standardized copy of a dataset and the statistics used.
 * @deprecated moved to 'tangent-lab/data': `import { standardizeDataset } from 'tangent-lab/data'`
 * @param ds the dataset
 * @param stats feature statistics to use (default: those of `ds`)
 * @example
 * // import { loadImageSubset, standardizeDataset } from 'tangent-lab/data';   (where they live now)
 * const { dataset } = standardizeDataset(loadImageSubset({ source: 'mnist', classes: [7, 9], perClass: 8, seed: 0 }));
 */
export const standardizeDataset: (ds: data.Dataset, stats?: data.FeatureStats) => Result<D['standardizeDataset']> = data.standardizeDataset;

/**
 * The result of dagRun.
 * @deprecated moved to 'tangent-lab/experiments': `import { type DagRun } from 'tangent-lab/experiments'`
 */
export type DagRun = experiments.DagRun;

/**
 * The result of fig1Run and fig2Run.
 * @deprecated moved to 'tangent-lab/experiments': `import { type KernelChangeRun } from 'tangent-lab/experiments'`
 */
export type KernelChangeRun = experiments.KernelChangeRun;

/**
 * The three rows of 002 Table 1.
 * @deprecated moved to 'tangent-lab/experiments': `import { type Table1Model } from 'tangent-lab/experiments'`
 */
export type Table1Model = experiments.Table1Model;
