import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { fcn } from '../lib/nets/fcn.js';
import { mse } from '../lib/analysis/losses.js';
import { pv } from '../lib/core/params.js';
import { type TrainOptions, type TrainResult, type Tracker, train } from '../lib/train/train.js';
import { batchCritical, kernelSpectrum, trainLoss } from '../lib/train/trackers.js';
import { bestHeldOut, topEigenDynamics } from '../lib/train/kernel-trackers.js';
import { nextCheckpointPath, withCheckpoints } from '../lib/core/checkpoint-scope.js';
import { runTask } from '../lib/run/parallel.js';
import { cachedRun, checkpointDir, openStore } from '../lib/run/store.js';
import { seededMatrix, tensorOf } from './helpers.js';

let root: string;
before(async () => {
  await initBackend();
  root = mkdtempSync(join(tmpdir(), 'tangent-checkpoint-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const data = () => ({ x: tensorOf(seededMatrix(24, 3, 21)), y: tensorOf(seededMatrix(24, 1, 22)), xt: tensorOf(seededMatrix(10, 3, 23)), yt: tensorOf(seededMatrix(10, 1, 24)) });

/** A stateless tracker that throws at one step: an interruption after the checkpoint of that step. */
function interruptAt(at: { step: number }): Tracker {
  return { name: 'interrupt', every: 1, stateless: true, record: (c) => {
    if (c.step === at.step) throw new Error(`interrupted at step ${c.step}`);
    return {};
  } };
}

/** Everything a run returns, as plain numbers (params by value). */
function plain(r: TrainResult): unknown {
  return { status: r.status, steps: r.steps, finalLoss: r.finalLoss, history: r.history, params: Object.fromEntries(Object.entries(r.params).map(([k, t]) => [k, Array.from(t.dataSync())])) };
}

describe('train checkpoints (resume bit for bit)', () => {
  const d = data();
  const net = fcn({ widths: [3, 16, 1], activation: 'tanh' });
  const w0 = net.init(5);
  // Mini-batches without replacement (permutation + cursor + rng), momentum state, a schedule, and trackers with state.
  const options = (track: Tracker[], extra: Partial<TrainOptions> = {}): TrainOptions => ({
    net, params: w0, x: d.x, y: d.y, loss: mse('mean'), optimizer: { name: 'sgd', momentum: 0.9 }, lr: { kind: 'steps', lr: 0.05, at: [20], values: [0.1] },
    steps: 40, batchSize: 5, seed: 2, recordIndices: true, ...extra,
    track: [trainLoss(1), kernelSpectrum({ s: 1 }), batchCritical(1), bestHeldOut({ x: d.xt, y: d.yt }, 3), topEigenDynamics(), ...track],
  });

  test('an interrupted run resumes from its last checkpoint and ends exactly as the uninterrupted run; a finished one is returned from it', () => {
    const whole = train(options([]));
    const want = plain(whole);
    pv.dispose(whole.params);
    const path = join(root, 'run-a', 'train-0');
    const at = { step: 23 };
    const cp = { path, everySeconds: 1e-9 };
    assert.throws(() => train(options([interruptAt(at)], { checkpoint: cp })), /interrupted at step 23/);
    assert.ok(existsSync(`${path}.json`), 'a checkpoint was written');
    const lines: string[] = [];
    at.step = -1;
    const n0 = tf.memory().numTensors;
    const resumed = train(options([interruptAt(at)], { checkpoint: cp, progress: (l) => lines.push(l) }));
    assert.match(lines[0], /resumed at step 23\/40 from its checkpoint/);
    assert.deepEqual(plain(resumed), want);
    pv.dispose(resumed.params);
    assert.equal(tf.memory().numTensors, n0, 'no tensors left behind');
    // Finished: returned from the checkpoint without training (a tracker that would throw at step 0 is not called).
    at.step = 0;
    const again = train(options([interruptAt(at)], { checkpoint: cp, progress: (l) => lines.push(l) }));
    assert.match(lines.at(-1)!, /\(from its checkpoint\)$/);
    assert.deepEqual(plain(again), want);
    pv.dispose(again.params);
    // One tensor file per checkpoint: the replaced ones are gone.
    assert.deepEqual(readdirSync(join(root, 'run-a')).filter((f) => f.endsWith('.npz')).length, 1);
  });

  test('kernelSpectrum at spikes keeps the previous iterate across a resume', () => {
    // Its state (the last iterate's parameters, an open spike) goes into the checkpoint at every step.
    const spikes = () => [trainLoss(1), kernelSpectrum({ s: 1, every: 7, atSpikes: { minRise: 0.01 } })];
    const run = (track: Tracker[], extra: Partial<TrainOptions> = {}) => train({ ...options([]), lr: 0.4, ...extra, track });
    const whole = run(spikes());
    const want = plain(whole);
    pv.dispose(whole.params);
    const steps = whole.history.kernelNorm.step;
    const late = steps.find((t, i) => t % 7 !== 0 && steps[i + 1] === t + 1 && !steps.includes(t - 1));
    assert.ok(late !== undefined, `a spike start recorded after the next update (records at ${steps.join(', ')})`);
    const path = join(root, 'run-spikes', 'train-0');
    const cp = { path, everySeconds: 1e-9 };
    // Interrupted at the step that records the spike start: the previous parameters come from the checkpoint.
    const at = { step: late + 1 };
    assert.throws(() => run([...spikes(), interruptAt(at)], { checkpoint: cp }), /interrupted at step/);
    at.step = -1;
    const resumed = run([...spikes(), interruptAt(at)], { checkpoint: cp });
    assert.deepEqual(plain(resumed), want);
    pv.dispose(resumed.params);
  });

  test('a checkpoint of other settings, or one that does not read, is not resumed', () => {
    const path = join(root, 'run-b', 'train-0');
    const cp = { path, everySeconds: 1e-9 };
    pv.dispose(train(options([], { checkpoint: cp, steps: 10 })).params);
    const lines: string[] = [];
    const r = train(options([], { checkpoint: cp, steps: 12, progress: (l) => lines.push(l) }));
    assert.match(lines[0], /is of another run \(its settings differ\); starting from step 0/);
    assert.equal(r.steps, 12);
    pv.dispose(r.params);
    writeFileSync(`${path}.json`, '{ not json');
    const lines2: string[] = [];
    pv.dispose(train(options([], { checkpoint: cp, steps: 12, progress: (l) => lines2.push(l) })).params);
    assert.match(lines2[0], /is not valid JSON .*; starting from step 0/);
  });

  test('runs with a tracker that cannot resume, or with checkpoint: false, write none', () => {
    const stateful: Tracker = { name: 'mine', every: 1, record: () => ({}) };
    const path = join(root, 'run-c', 'train-0');
    pv.dispose(train(options([stateful], { checkpoint: { path, everySeconds: 1e-9 } })).params);
    assert.equal(existsSync(join(root, 'run-c')), false);
    pv.dispose(train(options([], { checkpoint: false, steps: 5 })).params);
    assert.throws(() => train(options([], { checkpoint: { path, everySeconds: 0 } })), /checkpoint every 0 s .*expected a positive number of seconds/);
  });

  test('inside a result-store computation: one path per train() call, resumed after an interruption, removed once the result is stored', async () => {
    const store = openStore('checkpoint-test', { root: join(root, 'store') });
    const at = { step: 7 };
    const calls: string[] = [];
    const compute = () => {
      // Two runs in one computation: the first finishes, the second is interrupted (the first time).
      const a = train(options([], { steps: 15, checkpoint: { everySeconds: 1e-9 }, progress: (l) => calls.push(`a ${l}`) }));
      const b = train(options([interruptAt(at)], { steps: 15, seed: 9, checkpoint: { everySeconds: 1e-9 }, progress: (l) => calls.push(`b ${l}`) }));
      const out = { a: plain(a), b: plain(b) };
      pv.dispose(a.params);
      pv.dispose(b.params);
      return out;
    };
    const spec = { config: { what: 'checkpoint test' }, code: import.meta.url };
    await assert.rejects(cachedRun(store, spec, compute), /interrupted at step 7/);
    at.step = -1;
    const run = await cachedRun(store, spec, compute);
    assert.ok(calls.some((l) => /^a .*\(from its checkpoint\)$/.test(l)), 'the finished first run is not trained again');
    assert.ok(calls.some((l) => /^b resumed at step 7\/15/.test(l)), 'the second resumes');
    assert.equal(existsSync(checkpointDir(store, run.key)), false, 'checkpoints removed after the result is stored');
    const a = train(options([], { steps: 15, checkpoint: false }));
    const b = train(options([], { steps: 15, seed: 9, checkpoint: false }));
    assert.deepEqual(run.result, JSON.parse(JSON.stringify({ a: plain(a), b: plain(b) })));
    pv.dispose(a.params);
    pv.dispose(b.params);
  });

  test('a task in a worker gets the directory of its computation', async () => {
    const module = new URL('../lib/core/checkpoint-scope.js', import.meta.url).href;
    assert.equal(await runTask({ module, name: 'nextCheckpointPath', args: ['train'], checkpointDir: '/x/y' }, () => undefined), join('/x/y', 'train-0'));
    assert.equal(await runTask({ module, name: 'nextCheckpointPath', args: ['train'] }, () => undefined), undefined);
    assert.equal(withCheckpoints('/z', () => [nextCheckpointPath('train'), nextCheckpointPath('train')].join(' ')), '/z/train-0 /z/train-1');
  });
});
