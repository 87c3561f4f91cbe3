// Issue 30 §5: probes of the root API (lib/index.ts) with wrong types, null options, empty or mismatched arrays:
// each gets an error naming the function, the argument, the value and what was expected, where it used to be a
// TypeError from inside ("Cannot read properties of undefined"), a silent undefined, or a plot with missing points.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as L from '../lib/index.js';

const { tf } = L;
before(async () => {
  await L.initBackend();
});

/** Throws matching re, not a TypeError from inside. */
function refuses(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: Error) => {
    assert.ok(!(e instanceof TypeError), `a TypeError: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

describe('root API: bad arguments get named errors', () => {
  const net = L.fcn({ widths: [2, 8, 1], activation: 'tanh' });
  const x = tf.tensor2d([[0, 1], [1, 0], [1, 1]]);
  const y = tf.tensor2d([[1], [0], [1]]);

  test('networks, kernels, Hessians, critical rates: missing net, options or targets', () => {
    const w = net.init(0);
    refuses(() => L.fcn(undefined as never), /^fcn: options = undefined; expected an object of options/);
    refuses(() => L.tangentKernel(null as never, w, x), /^tangentKernel: net = null; expected a network such as fcn\(\{ widths, activation \}\)/);
    refuses(() => L.tangentKernel({} as never, w, x), /^tangentKernel: net = an object that is not a Network/);
    refuses(() => L.hessianSpectralNorm(null as never, w, x), /^hessianSpectralNorm: net = null/);
    refuses(() => L.criticalLearningRate(null as never, w, x, y, 'mse'), /^criticalLearningRate: net = null/);
    refuses(() => L.criticalLearningRate(net, w, x, null as never, 'mse'), /^criticalLearningRate: y = null; expected a tensor/);
    refuses(() => L.criticalLearningRate(net, w, x, y, undefined as never), /^criticalLearningRate: loss = undefined; expected 'mse'/);
    // null options mean the defaults, as {} does.
    assert.ok(Number.isFinite(L.hessianSpectralNorm(net, w, x, null as never).value));
    assert.ok(Number.isFinite(L.criticalLearningRate(net, w, x, y, 'mse', null as never).eta));
    const K = L.tangentKernel(net, w, x, null as never);
    assert.deepEqual(K.shape, [3, 3]);
    tf.dispose([K, ...Object.values(w)]);
  });

  test('train: options, net, progress, label, schedule specs', () => {
    const w = net.init(0);
    const base = { net, params: w, x, y, loss: 'mse', lr: 0.1, steps: 2, checkpoint: false } as const;
    const n0 = tf.memory().numTensors;
    refuses(() => L.train(undefined as never), /^train: options = undefined; expected \{ net, params, x, y, loss, lr, steps, \.\.\. \}/);
    refuses(() => L.train({ ...base, net: null as never }), /^train: net = null; expected a network/);
    refuses(() => L.train({ ...base, progress: 'yes' as never }), /^train: progress = "yes"; expected true, false or a function of a line/);
    refuses(() => L.train({ ...base, label: 5 as never }), /^train: label = 5; expected a string/);
    refuses(() => L.train({ ...base, recordIndices: 1 as never }), /^train: recordIndices = 1; expected true or false/);
    refuses(() => L.train({ ...base, lr: { kind: 'steps', lr: 0.1 } as never }), /^schedule: steps\.at = undefined, steps\.values = undefined; expected two arrays/);
    assert.equal(tf.memory().numTensors, n0, 'nothing left behind');
    tf.dispose(Object.values(w));
  });

  test('plots: options, series of unequal lengths, figures, heatmap sizes, panels', () => {
    const fig = L.linePlot({ title: 't', x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'a', x: [1, 2], y: [1, 2] }] });
    refuses(() => L.linePlot(undefined as never), /^linePlot: options = undefined; expected an object of options/);
    refuses(() => L.linePlot({ title: 't', x: { title: 'x' }, y: { title: 'y' }, series: [{ name: 'a', x: [1, 2], y: [1] }] }), /^linePlot: series\[0\] \('a'\) has 2 x values and 1 y values; expected the same number/);
    refuses(() => L.linePlot({ title: 't', x: { title: 'x' }, y: { title: 'y' }, series: undefined as never }), /^linePlot: series = undefined; expected an array of \{ name, x, y \}/);
    refuses(() => L.loglogPlot({ title: 't', x: 'x', y: 'y', series: [{ name: 'a', x: [1, 2], y: [1, 2] }], reference: { slope: 1, anchorSeries: 3 } }), /^loglogPlot: reference\.anchorSeries = 3; expected the index of a non-empty series \(0\.\.0\)/);
    refuses(() => L.withMarkers(null as never, []), /^withMarkers: fig = null; expected a figure/);
    refuses(() => L.withMarkers(fig, [{ x: NaN, label: 'a' }]), /^withMarkers: markers = .*expected an array of \{ x, label \} with finite x/);
    refuses(() => L.withReferenceLines({} as never, []), /^withReferenceLines: fig = an object; expected a figure/);
    refuses(() => L.withReferenceLines(fig, [{ y: Infinity, label: 'a' }]), /^withReferenceLines: lines = .*with finite y/);
    refuses(() => L.heatmap({ title: 't', values: [1, 2, 3], rows: 2, cols: 2 }), /^heatmap: values has 3 entries; expected rows × cols = 4/);
    refuses(() => L.heatmap({ title: 't', values: [], rows: -1, cols: 0 }), /^heatmap: rows = -1; expected an integer ≥ 1/);
    refuses(() => L.panels('t', []), /^panels: figs = \[\]; expected a non-empty array of figures/);
    refuses(() => L.panels('t', [fig], { columns: 0 }), /^panels: columns = 0; expected an integer ≥ 1/);
    refuses(() => L.panels('t', [fig, null as never]), /^panels: figs\[1\]: fig = null; expected a figure/);
    assert.equal(L.panels('t', [fig, fig], { columns: 2 }).data.length, 2);
  });

  test('profiles, claims, statistics, data', () => {
    refuses(() => L.byProfile({ quick: 1 } as never, { TANGENT_PROFILE: 'paper' }), /^byProfile: choices = \{"quick":1\} has no value for the profile 'paper'; expected one value per profile \(quick, paper\)/);
    assert.equal(L.byProfile({ quick: 1, paper: 2 }, { TANGENT_PROFILE: 'paper' }), 2);
    refuses(() => L.checkClaim(undefined as never), /^checkClaim: claim = undefined; expected \{ id, paper, figure, claim, quantity, measured, expected \}/);
    const claim = { id: 'probe', paper: 'p', figure: 'f', claim: 'c', quantity: 'q', measured: 1, expected: { min: 0 } };
    refuses(() => L.checkClaim({ ...claim, id: '' }), /^checkClaim: id = ""; expected a non-empty string/);
    refuses(() => L.checkClaim({ ...claim, measured: undefined as never }), /^checkClaim probe: measured = undefined; expected a number/);
    refuses(() => L.checkClaim({ ...claim, expected: { min: 2, max: 1 } }), /^checkClaim probe: expected = \{"min":2,"max":1\}; expected \{ min\?, max\? \} with numbers, min ≤ max/);
    refuses(() => L.checkClaim({ ...claim, expected: { min: NaN } }), /^checkClaim probe: expected = \{"min":null\}/);
    refuses(() => L.notAttempted(undefined as never), /^notAttempted: record = undefined; expected \{ id, paper, figure, what, reason \}/);
    refuses(() => L.meanAndStd(null as never), /^meanAndStd: values = null; expected an array of numbers/);
    refuses(() => L.meanAndStd(['a', 'b'] as never), /^meanAndStd: values\[0\] = "a"; expected a number/);
    // NaN is a measurement (a diverged run) and propagates; no samples give NaN with n = 0.
    assert.ok(Number.isNaN(L.meanAndStd([1, NaN]).mean));
    assert.equal(L.meanAndStd([]).n, 0);
    refuses(() => L.twoClusterData(undefined as never), /^twoClusterData: options = undefined; expected an object of options/);
    refuses(() => L.threeClassMixture(null as never), /^threeClassMixture: options = null/);
    refuses(() => L.gaussianClusters(undefined as never), /^gaussianClusters: options = undefined/);
    refuses(() => L.unitSphereData(undefined as never), /^unitSphereData: options = undefined/);
    refuses(() => L.regressionData(undefined as never), /^regressionData: options = undefined/);
    refuses(() => L.splitDataset(null as never, { train: 0.5 }, 0), /^splitDataset: ds = null; expected a Dataset/);
    const ds = L.twoClusterData({ n: 8, seed: 0 });
    refuses(() => L.splitDataset(ds, undefined as never, 0), /^splitDataset: sizes = undefined; expected an object of options/);
    ds.dispose();
  });
});
