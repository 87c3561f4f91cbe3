// The route for a researcher's own code to worker processes (issue 30 §4): a function written in a notebook is
// refused with `workers > 1` by a message that says how; a module file in the researcher's own folder, importing
// the library by its package name, registering its task and passed as remote(name, args, moduleUrl), runs in two
// workers, is stored and reused, and gives the numbers it gives in this process.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { remote } from '../lib/run/parallel.js';
import { openStore, readEntries } from '../lib/run/store.js';
import { sweep } from '../lib/run/sweep.js';
import { taskModule } from '../lib/run/tasks.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-own-module-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The researcher's folder: the library installed as a package (a link, as `npm link tangent-lab` or
// `npm install <checkout>` makes), and a module file beside where the notebook would be.
const checkout = fileURLToPath(new URL('../..', import.meta.url));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(checkout, join(dir, 'node_modules', 'tangent-lab'), 'dir');
const moduleFile = join(dir, 'eos_task.mjs');
writeFileSync(moduleFile, `
import { fcn, mse, train, tf } from 'tangent-lab';
import { training } from 'tangent-lab';
import { registerTasks } from 'tangent-lab/run';

/** Full-batch GD of a small tanh net, with the sharpness recorded every 5 steps. */
export function eosRun({ lr, steps, seed, progress }) {
  const net = fcn({ widths: [1, 16, 1], activation: 'tanh' });
  const w = net.init(seed);
  const x = tf.reshape(tf.linspace(-1, 1, 12), [12, 1]);
  const y = tf.sin(tf.mul(x, 2));
  const run = train({ net, params: w, x, y, loss: mse('mean'), lr, steps, checkpoint: false, track: [training.sharpness({ every: 5 })] });
  if (progress) progress('eosRun lr=' + lr + ' ' + run.status);
  tf.dispose([x, y, ...Object.values(w), ...Object.values(run.params)]);
  return { pid: process.pid, finalLoss: run.finalLoss, sharpness: run.history.sharpness };
}
registerTasks(import.meta.url, { eosRun });
`);
const moduleUrl = pathToFileURL(moduleFile).href;

interface EosResult {
  pid: number;
  finalLoss: number;
  sharpness: { step: number[]; value: number[] };
}

function quietStore(experiment: string) {
  const lines: string[] = [];
  return { store: openStore(experiment, { root: join(dir, 'results'), log: (l) => lines.push(l) }), lines };
}

describe("a researcher's own function in worker processes", () => {
  test('a notebook function with workers: 2 is refused with the route: a module file and remote(name, args, moduleUrl)', async () => {
    const { store } = quietStore('refused');
    const notebookFunction = ({ lr }: { lr: number }) => ({ lr });
    await assert.rejects(sweep({ lr: [0.1, 0.2] }, notebookFunction, { store, workers: 2, code: 'tangent-lab' }), (e: Error) => {
      assert.match(e.message, /^sweep: workers = 2 needs a function that worker processes can run; build it with remote\(name, args, moduleUrl\)/);
      assert.match(e.message, /cannot be sent to a worker/);
      assert.match(e.message, /module file beside the notebook, e\.g\. my_task\.mjs/);
      assert.match(e.message, /remote\('myRun', \(pt\) => \[pt\], pathToFileURL\('my_task\.mjs'\)\.href\)/);
      assert.match(e.message, /import \{ pathToFileURL \} from 'node:url'/);
      return true;
    });
  });

  test('module file + remote(name, args, moduleUrl): two workers compute, the store keeps, a rerun reuses; the same numbers in this process', { timeout: 180_000 }, async () => {
    const { store, lines } = quietStore('eos-workers');
    const fn = remote<{ lr: number }, EosResult>('eosRun', ({ lr }) => [{ lr, steps: 20, seed: 0, progress: true }], moduleUrl);
    const grid = { lr: [0.5, 1, 2] };
    const first = await sweep(grid, fn, { store, workers: 2 });
    assert.deepEqual(first.map((r) => r.point.lr), grid.lr);
    assert.ok(first.every((r) => !r.fromCache && r.result.pid !== process.pid), 'computed in worker processes');
    assert.equal(new Set(first.map((r) => r.result.pid)).size, 2, 'two workers');
    assert.ok(lines.some((l) => /^\[worker [12]\] eosRun lr=0\.5 max-steps$/.test(l)), lines.join('\n'));
    for (const r of first) {
      assert.deepEqual(r.result.sharpness.step, [0, 5, 10, 15, 20]);
      assert.ok(r.result.sharpness.value.every((v) => Number.isFinite(v) && v > 0), JSON.stringify(r.result.sharpness));
    }
    const entries = readEntries(store).entries;
    assert.equal(entries.length, 3);
    const again = await sweep(grid, fn, { store, workers: 2 });
    assert.ok(again.every((r) => r.fromCache), 'a rerun reuses every point');
    assert.deepEqual(again.map((r) => r.result), first.map((r) => r.result));

    // The module registered its task when imported here: remote(name, args) then finds it, under the same module.
    const mod = (await import(moduleUrl)) as { eosRun: (a: { lr: number; steps: number; seed: number }) => EosResult };
    assert.equal(taskModule('eosRun'), moduleUrl);
    // In this process (workers 1) the same function gives the same curve (float32 GD on a 12-point set).
    const here = mod.eosRun({ lr: 1, steps: 20, seed: 0 });
    const there = first[1].result;
    assert.equal(here.pid, process.pid);
    for (let i = 0; i < here.sharpness.value.length; i++) {
      assert.ok(Math.abs(here.sharpness.value[i] - there.sharpness.value[i]) <= 1e-4 * there.sharpness.value[i], `sharpness at step ${here.sharpness.step[i]}: ${here.sharpness.value[i]} here, ${there.sharpness.value[i]} in a worker`);
    }
  });
});
