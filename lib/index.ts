/**
 * The curated root of the library. Everything is reachable through a layer namespace (`nets.fcn`,
 * `analysis.tangentKernel`, `run.sweep`, ...) or a subpath (`import { fcn } from 'tangent-lab/nets'`);
 * the root adds the names a notebook uses every day. Layers, lowest first, each importing only below:
 * core < nets < analysis < train < (stats, data: beside them, on core) < run, present < experiments.
 *
 * @module tangent-lab
 */
export * as tf from '@tensorflow/tfjs-core';
export * as core from './core/index.js';
export * as nets from './nets/index.js';
export * as analysis from './analysis/index.js';
// `training`, not `train`: the root's `train` is the training function itself.
export * as training from './train/index.js';
export * as stats from './stats/index.js';
export * as data from './data/index.js';
export * as run from './run/index.js';
export * as present from './present/index.js';
export * as experiments from './experiments/index.js';

// Every day: set-up and profiles
export { initBackend, describeBackend, type BackendInfo } from './core/backend.js';
export { profile, byProfile, type Profile } from './core/profile.js';
export { setupNotebook } from './present/notebook.js';
export { type Params } from './core/params.js';
// networks, derivatives, kernels
export { fcn } from './nets/fcn.js';
export { type Network, taylorCoefficients } from './nets/network.js';
export { taylorModel, linearize, nqm } from './nets/taylor-models.js';
export { tangentKernel } from './analysis/ntk.js';
export { hessianSpectralNorm } from './analysis/hessian.js';
export { lossSharpness, type Sharpness, type SharpnessOptions } from './analysis/sharpness.js';
export { criticalLearningRate, criticalSchedule } from './analysis/critical.js';
export { mse, crossEntropy } from './analysis/losses.js';
// data: the synthetic generators and splits an experiment of one's own starts from
export { type Dataset } from './data/dataset.js';
export { twoClusterData } from './data/two-cluster.js';
export { threeClassMixture } from './data/three-class.js';
export { gaussianClusters } from './data/gaussian-clusters.js';
export { unitSphereData } from './data/sphere.js';
export { regressionData } from './data/multi-index.js';
export { splitDataset } from './data/split.js';
// training and what it records along a run (a tracker of one's own implements `Tracker`)
export { train, type TrainOptions, type TrainResult, type Tracker, type TrackContext, type Cadence, type Series } from './train/train.js';
export { trainLoss, sharpness, heldOutMetrics, distanceFromInit, kernelSpectrum } from './train/trackers.js';
// results, sweeps, figures, claims
export { openStore } from './run/store.js';
export { sweep } from './run/sweep.js';
export { remote } from './run/parallel.js';
export { registerTasks } from './run/tasks.js';
export { show } from './present/display.js';
export { linePlot, loglogPlot, panels, heatmap, withMarkers, withReferenceLines, finitePoints } from './present/plot.js';
export { checkClaim, notAttempted } from './present/claims.js';
export { meanAndStd } from './stats/stats.js';
export { loglogFit } from './stats/fit.js';

// The experiment modules register the tasks that sweep workers may run (`remote('fig1Run', ...)`).
import './experiments/index.js';

// Names the root exported before the layers (commit 1ecb8d3): deprecated aliases whose doc comments name their
// new subpath, so that old notebooks keep running and the editor says where each name went.
export * from './deprecated.js';
