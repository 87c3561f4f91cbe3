// Issue 30 §5: a train checkpoint is an optimisation. A save that fails (a full disk) warns naming the folder and the
// error, training goes on to the same result, and no partial file stays; a checkpoint whose JSON parses but is
// inconsistent is discarded with a message (it failed every rerun with a TypeError); a save appends the new history
// instead of rewriting all of it. Uses a tiny tmpfs in a private mount namespace when running as root, else injects
// ENOSPC through the checkpoint's test hook.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../lib/core/backend.js';
import { encodePlain } from '../lib/core/canonical-json.js';
import { pv } from '../lib/core/params.js';
import { fcn } from '../lib/nets/fcn.js';
import { checkpointFaults, loadCheckpoint } from '../lib/train/checkpoint.js';
import { type TrainOptions, type TrainResult, type Tracker, train } from '../lib/train/train.js';
import { trainLoss } from '../lib/train/trackers.js';
import { seededMatrix, tensorOf } from './helpers.js';
import { canMountTinyDisk, mountTinyDisk } from './tiny-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-faults-checkpoint-'));
let ns: ChildProcess | undefined;
let tiny: string | undefined;
const canMount = canMountTinyDisk;

before(async () => {
  await initBackend();
  if (!canMount) return;
  const disk = await mountTinyDisk(dir);
  ns = disk.ns;
  tiny = disk.path;
});
after(() => {
  ns?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const x = tensorOf(seededMatrix(24, 3, 21));
const y = tensorOf(seededMatrix(24, 1, 22));
const net = fcn({ widths: [3, 16, 1], activation: 'tanh' });
const w0 = net.init(5);
const options = (extra: Partial<TrainOptions> = {}): TrainOptions => ({
  net, params: w0, x, y, loss: 'mse', optimizer: { name: 'sgd', momentum: 0.9 }, lr: 0.05, steps: 30, batchSize: 6, seed: 2, recordIndices: true,
  track: [trainLoss(1)], ...extra,
});

function plain(r: TrainResult): unknown {
  return { status: r.status, steps: r.steps, finalLoss: r.finalLoss, history: r.history, params: Object.fromEntries(Object.entries(r.params).map(([k, t]) => [k, Array.from(t.dataSync())])) };
}
const reference = (() => {
  let want: unknown;
  return () => {
    if (want === undefined) {
      const r = train(options({ checkpoint: false }));
      want = plain(r);
      pv.dispose(r.params);
    }
    return want;
  };
})();

function interruptAt(at: { step: number }): Tracker {
  return { name: 'interrupt', every: 1, stateless: true, record: (c) => {
    if (c.step === at.step) throw new Error(`interrupted at step ${c.step}`);
    return {};
  } };
}

/** Files of a checkpoint folder that a save must never leave: temporaries, and tensors the JSON does not point to. */
function leftovers(folder: string, path: string): string[] {
  const files = existsSync(folder) ? readdirSync(folder) : [];
  const pointed = existsSync(`${path}.json`) ? (JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { npz: string }).npz : undefined;
  return files.filter((f) => /\.tmp/.test(f) || (f.endsWith('.npz') && f !== pointed) || statSync(join(folder, f)).size === 0);
}

/** Lets the clock move on between steps, so that a checkpoint every 1e-9 s is saved at every step (saves within one millisecond are skipped). */
const tick: Tracker = { name: 'tick', every: 1, stateless: true, record: () => {
  const t = Date.now();
  while (Date.now() === t) { /* wait for the next millisecond */ }
  return {};
} };

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('train checkpoints under faults', () => {
  for (const what of ['npz', 'series', 'json'] as const) {
    test(`a full disk while writing the ${what} of a checkpoint: a warning naming the folder, the same result, no partial file`, () => {
      const folder = join(dir, `full-${what}`);
      const path = join(folder, 'train-0');
      // Every save from the 11th write on fails at this file (earlier checkpoints are complete).
      let writes = 0;
      checkpointFaults.beforeWrite = (file) => {
        writes++;
        const kind = file.endsWith('.npz') ? 'npz' : file.endsWith('.jsonl') ? 'series' : 'json';
        if (writes > 10 && kind === what) throw enospc();
      };
      const lines: string[] = [];
      let r: TrainResult;
      try {
        r = train(options({ checkpoint: { path, everySeconds: 1e-9 }, track: [trainLoss(1), tick], progress: (l) => lines.push(l) }));
      } finally {
        checkpointFaults.beforeWrite = undefined;
      }
      const warnings = lines.filter((l) => l.includes('not saved'));
      assert.ok(warnings.length > 0, lines.join('\n'));
      assert.match(warnings[0], new RegExp(`^checkpoint at step \\d+ not saved in ${folder.replace(/[/\\]/g, '\\$&')}: no space left on the device \\(ENOSPC\\); training goes on \\(an interruption resumes from the last checkpoint saved, if any\\)$`));
      assert.deepEqual(plain(r!), reference());
      pv.dispose(r!.params);
      assert.deepEqual(leftovers(folder, path), []);
      // The last complete checkpoint is intact and resumable: a rerun returns the result from it or resumes.
      const got = loadCheckpoint(path);
      assert.equal(got.problem, undefined);
      pv.dispose(got.checkpoint!.tensors);
      const again = train(options({ checkpoint: { path, everySeconds: 1e-9 }, track: [trainLoss(1), tick] }));
      assert.deepEqual(plain(again), reference());
      pv.dispose(again.params);
    });
  }

  test('a full disk (a real tiny file system): training goes on and leaves no partial file', { skip: !canMount && 'needs root and unshare for a private tmpfs' }, () => {
    assert.ok(tiny, 'the tmpfs was mounted');
    const folder = join(tiny!, 'cp');
    const path = join(folder, 'train-0');
    mkdirSync(folder, { recursive: true });
    // Fill it completely: the first checkpoint cannot be written.
    const filler = join(tiny!, 'filler');
    mkdirSync(filler);
    const chunk = Buffer.alloc(4096, 1);
    for (let i = 0; ; i++) {
      const fd = openSync(join(filler, `f${i}`), 'w');
      try {
        writeSync(fd, chunk);
      } catch {
        closeSync(fd);
        rmSync(join(filler, `f${i}`));
        break;
      } finally {
        try { closeSync(fd); } catch { /* closed above */ }
      }
    }
    const lines: string[] = [];
    const r = train(options({ checkpoint: { path, everySeconds: 1e-9 }, progress: (l) => lines.push(l) }));
    assert.match(lines.find((l) => l.includes('not saved')) ?? '', /checkpoint at step \d+ not saved in .*\/cp: no space left on the device \(ENOSPC\); training goes on/);
    assert.deepEqual(plain(r), reference());
    pv.dispose(r.params);
    assert.deepEqual(leftovers(folder, path), []);
    rmSync(filler, { recursive: true });
    rmSync(folder, { recursive: true });
  });

  test('a checkpoint whose JSON parses but is inconsistent is discarded with a message, and the run starts over', () => {
    const folder = join(dir, 'inconsistent');
    const path = join(folder, 'train-0');
    const at = { step: 17 };
    assert.throws(() => train(options({ checkpoint: { path, everySeconds: 1e-9 }, track: [trainLoss(1), tick, interruptAt(at)] })), /interrupted at step 17/);
    at.step = -1;
    const good = readFileSync(`${path}.json`, 'utf8');
    const pointer = JSON.parse(good) as { meta: Record<string, unknown>; series: { bytes: number } };
    const cases: [string, unknown, RegExp][] = [
      ['meta without its fields', { ...pointer, meta: {} }, /is inconsistent \(done = undefined; expected true or false\)/],
      ['a step past the run', { ...pointer, meta: { ...pointer.meta, step: 99 } }, /is inconsistent \(step = 99; expected an integer in \[0, 30\]\)/],
      ['a wrong rng', { ...pointer, meta: { ...pointer.meta, rng: 'x' } }, /is inconsistent \(rng = "x"/],
      ['trackers missing', { ...pointer, meta: { ...pointer.meta, trackers: null } }, /is inconsistent \(trackers has no entries; expected 3\)/],
      ['optimizer tensors missing', { ...pointer, meta: { ...pointer.meta, optTensors: { buf: ['W9'] } } }, /is inconsistent \(optTensors\.buf names tensors the checkpoint does not hold\)/],
      ['more series than the file holds', { ...pointer, series: { ...pointer.series, bytes: pointer.series.bytes + 10 } }, /its series train-0-series\.jsonl has \d+ bytes; expected at least \d+/],
      ['no series', { ...pointer, series: undefined }, /train-0\.json is inconsistent \(expected the fields signature, npz, meta and series/],
      ['an array', [1, 2], /has version undefined; expected a version-2 checkpoint/],
    ];
    for (const [what, bad, message] of cases) {
      writeFileSync(`${path}.json`, JSON.stringify(bad));
      const lines: string[] = [];
      const n0 = tf.memory().numTensors;
      const r = train(options({ checkpoint: { path, everySeconds: 1e9 }, track: [trainLoss(1), tick, interruptAt(at)], progress: (l) => lines.push(l) }));
      assert.match(lines[0], message, what);
      assert.match(lines[0], /; starting from step 0 \(the checkpoint is discarded\)$/, what);
      assert.deepEqual(plain(r), reference(), what);
      pv.dispose(r.params);
      assert.equal(tf.memory().numTensors, n0, `${what}: no tensors left behind`);
    }
    // The good one still resumes.
    writeFileSync(`${path}.json`, good);
    const lines: string[] = [];
    const r = train(options({ checkpoint: { path, everySeconds: 1e9 }, track: [trainLoss(1), tick, interruptAt(at)], progress: (l) => lines.push(l) }));
    assert.match(lines[0], /resumed at step 17\/30/);
    assert.deepEqual(plain(r), reference());
    pv.dispose(r.params);
  });

  test('a save appends the new history: the JSON stays small, the series file grows by what is new', () => {
    const folder = join(dir, 'append');
    const path = join(folder, 'train-0');
    const sizes: { json: number; series: number; step: number }[] = [];
    const probe: Tracker = { name: 'sizes', every: 1, stateless: true, record: (c) => {
      if (existsSync(`${path}.json`)) sizes.push({ json: statSync(`${path}.json`).size, series: statSync(`${path}-series.jsonl`).size, step: c.step });
      return {};
    } };
    const r = train(options({ steps: 200, checkpoint: { path, everySeconds: 1e-9 }, track: [trainLoss(1), probe] }));
    pv.dispose(r.params);
    const at = (s: number) => sizes.find((z) => z.step === s)!;
    // The JSON holds the state, not the history: the same size at step 50 and 199 (to the digits of its numbers).
    assert.ok(Math.abs(at(199).json - at(50).json) < 200, `JSON ${at(50).json} -> ${at(199).json} bytes`);
    // Each save appends one line of one step's entries: the series file grows linearly, ~ the same per step.
    const early = (at(100).series - at(50).series) / 50;
    const late = (at(199).series - at(150).series) / 49;
    assert.ok(late < 1.2 * early && early < 1.2 * late, `bytes per step ${early} early, ${late} late`);
    // The history read back is the run's.
    const got = loadCheckpoint(path);
    assert.deepEqual(got.checkpoint!.series, r.history);
    pv.dispose(got.checkpoint!.tensors);
  });

  test('a version-1 checkpoint (history inside its JSON) still resumes', () => {
    const folder = join(dir, 'v1');
    const path = join(folder, 'train-0');
    const at = { step: 11 };
    assert.throws(() => train(options({ checkpoint: { path, everySeconds: 1e-9 }, track: [trainLoss(1), interruptAt(at)] })), /interrupted at step 11/);
    at.step = -1;
    const got = loadCheckpoint(path);
    const p = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { signature: string; npz: string; meta: Record<string, unknown> };
    pv.dispose(got.checkpoint!.tensors);
    writeFileSync(`${path}.json`, JSON.stringify({ version: 1, signature: p.signature, npz: p.npz, meta: { ...p.meta, history: encodePlain(got.checkpoint!.series, '$', true) } }));
    rmSync(`${path}-series.jsonl`);
    const lines: string[] = [];
    const r = train(options({ checkpoint: { path, everySeconds: 1e-9 }, track: [trainLoss(1), interruptAt(at)], progress: (l) => lines.push(l) }));
    assert.match(lines[0], /resumed at step \d+\/30/);
    assert.deepEqual(plain(r), reference());
    pv.dispose(r.params);
  });
});
