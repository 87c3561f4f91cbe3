// Issue 30 §5: train() refuses what used to run silently wrong: a schedule that turns negative (ascent) or non-finite,
// a NaN divergence threshold (ignored), tracker cadences that record only the last step, trackers sharing a name.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { fcn } from '../lib/nets/fcn.js';
import { type Tracker, train } from '../lib/train/train.js';

before(async () => {
  await initBackend();
});

describe('train refuses bad options', () => {
  const net = fcn({ widths: [2, 8, 1], activation: 'tanh' });
  const x = tf.tensor2d([[0, 1], [1, 0], [1, 1]]);
  const y = tf.tensor2d([[1], [0], [1]]);
  const base = { net, x, y, loss: 'mse', lr: 0.1, steps: 4, checkpoint: false } as const;
  const tracker = (name: string, every: Tracker['every']): Tracker => ({ name, every, stateless: true, record: (c) => ({ [`${name}Step`]: c.step }) });

  /** Runs f, which must throw matching re, and checks that nothing is left behind. */
  function refuses(f: () => unknown, re: RegExp): void {
    const n0 = tf.memory().numTensors;
    assert.throws(f, re);
    assert.equal(tf.memory().numTensors, n0, 'tensors left behind');
  }

  test('a schedule value that is negative or not finite is refused at its step', () => {
    const w = net.init(0);
    refuses(() => train({ ...base, params: w, lr: (s: number) => (s === 2 ? -0.1 : 0.1) }), /^Error: train: lr\(2\) = -0\.1; expected a finite learning rate >= 0 from the schedule at step 2/);
    refuses(() => train({ ...base, params: w, lr: (s: number) => (s === 0 ? NaN : 0.1) }), /^Error: train: lr\(0\) = NaN; expected a finite learning rate >= 0/);
    refuses(() => train({ ...base, params: w, lr: () => Infinity }), /train: lr\(0\) = Infinity/);
    refuses(() => train({ ...base, params: w, lr: (() => '0.1') as never }), /train: lr\(0\) = 0\.1; expected a finite learning rate/);
    // Zero is a rate (a warm-up may start there).
    const r = train({ ...base, params: w, lr: (s: number) => (s === 0 ? 0 : 0.1) });
    assert.equal(r.steps, 4);
    tf.dispose([...Object.values(w), ...Object.values(r.params)]);
  });

  test('stop.divergeAbove must be a number (NaN was ignored)', () => {
    const w = net.init(0);
    refuses(() => train({ ...base, params: w, stop: { divergeAbove: NaN } }), /^Error: train: stop\.divergeAbove = NaN; expected a loss threshold \(a number, Infinity for none\)/);
    refuses(() => train({ ...base, params: w, stop: { divergeAbove: '10' as never } }), /train: stop\.divergeAbove = 10; expected a loss threshold/);
    refuses(() => train({ ...base, params: w, progressSeconds: NaN }), /train: progressSeconds = NaN; expected a number of seconds >= 0/);
    tf.dispose(Object.values(w));
  });

  test('a tracker cadence of 0, -1, 1.5 or a geometric ratio <= 1 is refused (it recorded only the last step)', () => {
    const w = net.init(0);
    for (const every of [0, -1, 1.5, NaN, Infinity]) {
      refuses(() => train({ ...base, params: w, track: [tracker('a', every)] }), new RegExp(`^Error: train: track\\[0\\] \\('a'\\) every = ${JSON.stringify(every) === 'null' ? 'null' : String(every).replace('.', '\\.')}; expected a positive integer number of steps or \\{ geometric: r \\} with r > 1`));
    }
    refuses(() => train({ ...base, params: w, track: [tracker('a', { geometric: 1 })] }), /train: track\[0\] \('a'\) every = \{"geometric":1\}; expected a positive integer/);
    refuses(() => train({ ...base, params: w, track: [tracker('a', 1), { name: '', every: 1, record: () => ({}) }] }), /train: track\[1\] = a tracker named ""; expected a tracker with a non-empty name and a record function/);
    refuses(() => train({ ...base, params: w, track: [null as never] }), /train: track\[0\] = null; expected a tracker/);
    const r = train({ ...base, params: w, track: [tracker('a', 2), tracker('g', { geometric: 2 })] });
    assert.deepEqual(r.history.aStep.step, [0, 2, 4]);
    assert.deepEqual(r.history.gStep.step, [0, 1, 2, 4]);
    tf.dispose([...Object.values(w), ...Object.values(r.params)]);
  });

  test('two trackers with one name are refused (their records interleaved)', () => {
    const w = net.init(0);
    refuses(() => train({ ...base, params: w, track: [tracker('a', 1), tracker('b', 1), tracker('a', 2)] }), /^Error: train: track\[2\] name = 'a' is used by an earlier tracker; expected distinct names/);
    tf.dispose(Object.values(w));
  });
});
