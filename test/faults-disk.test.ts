// Issue 11 (4): a full results folder or output folder ends with a message naming the folder and what could
// not be written, keeps every earlier result and leaves no empty or partial file. Uses a tiny tmpfs in a
// private mount namespace when running as root (read through /proc/<pid>/root), else injects ENOSPC.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cachedRun, lookup, openStore } from '../lib/run/store.js';
import { sweep } from '../lib/run/sweep.js';
import { notebook, root as projectRoot, run } from './kernel-support.js';
import { canMountTinyDisk, mountTinyDisk } from './tiny-disk.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-faults-disk-'));
let ns: ChildProcess | undefined;
/** The tiny file system's mount point as seen from this process, or undefined (not root, no unshare). */
let tiny: string | undefined;
let mountPoint = '';

/** `npm run reproduce` inside the mount namespace of the tiny file system. */
function reproduceInside(args: string[]) {
  return run('nsenter', ['-t', String(ns!.pid), '-m', '--', process.execPath, join(projectRoot, 'scripts', 'reproduce.mjs'), ...args]);
}

const canMount = canMountTinyDisk;

before(async () => {
  if (!canMount) return;
  const disk = await mountTinyDisk(dir);
  ns = disk.ns;
  tiny = disk.path;
  mountPoint = disk.mountPoint;
});
after(() => {
  ns?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Fills the file system of `folder` with 16 KiB files until ENOSPC, then frees `leaveKiB`. */
function fill(folder: string, leaveKiB: number): void {
  const filler = join(folder, 'filler');
  mkdirSync(filler, { recursive: true });
  const chunk = Buffer.alloc(16 * 1024, 1);
  const files: string[] = [];
  for (let i = 0; ; i++) {
    const f = join(filler, `f${i}`);
    const fd = openSync(f, 'w');
    try {
      writeSync(fd, chunk);
      files.push(f);
    } catch (e) {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
      closeSync(fd);
      rmSync(f);
      break;
    }
    closeSync(fd);
  }
  for (const f of files.slice(-Math.ceil(leaveKiB / 16))) rmSync(f);
}

/** Every file under `folder` (recursively, filler excluded) with its size. */
function files(folder: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string, rel: string) => {
    for (const f of readdirSync(d)) {
      if (rel === '' && f === 'filler') continue;
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p, `${rel}${f}/`);
      else out[`${rel}${f}`] = statSync(p).size;
    }
  };
  walk(folder, '');
  return out;
}

function assertClean(folder: string) {
  const all = files(folder);
  assert.deepEqual(Object.keys(all).filter((f) => /\.tmp|\.claim|\.partial/.test(f)), [], `temporary files left: ${JSON.stringify(all)}`);
  assert.deepEqual(Object.entries(all).filter(([, size]) => size === 0).map(([f]) => f), [], `empty files: ${JSON.stringify(all)}`);
}

const big = Array.from({ length: 40_000 }, (_, i) => i / 7);

describe('full disk', () => {
  test('results folder full (injected ENOSPC): the error names the folder and the result; nothing partial stays', async () => {
    const root = join(dir, 'injected');
    const enospc = () => { throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }); };
    const store = openStore('full', { root, backend: 'cpu', log: () => undefined });
    await cachedRun(store, { config: { p: 1 }, code: import.meta.url }, () => [1, 2, 3]);
    const failing = openStore('full', { root, backend: 'cpu', log: () => undefined, hooks: { midWrite: enospc } });
    await assert.rejects(
      sweep({ p: [1, 2] }, () => big, { store: failing, quiet: true, code: import.meta.url }),
      (e: Error) => {
        assert.match(e.message, /^sweep point 2\/2 \{"p":2\} failed: cannot write the result [0-9a-f]{12}… \(\d+ bytes\) in .*injected\/full: no space left on the device \(ENOSPC\); earlier results there are kept\. Free space there or point TANGENT_RESULTS_DIR elsewhere/);
        return true;
      },
    );
    assert.deepEqual((await lookup(store, { config: { p: 1 }, code: import.meta.url }))?.result, [1, 2, 3]);
    assertClean(root);
  });

  test('results folder full (a real tiny file system)', { skip: !canMount && 'needs root and unshare for a private tmpfs' }, async () => {
    assert.ok(tiny, 'the tmpfs was mounted');
    const root = join(tiny!, 'results');
    const store = openStore('full', { root, backend: 'cpu', log: () => undefined });
    await cachedRun(store, { config: { p: 1 }, code: import.meta.url }, () => [1, 2, 3]);
    fill(tiny!, 32);
    await assert.rejects(cachedRun(store, { config: { p: 2 }, code: import.meta.url }, () => big), /cannot write the result [0-9a-f]{12}… \(\d+ bytes\) in .*\/results\/full: no space left on the device \(ENOSPC\); earlier results there are kept/);
    assert.deepEqual((await lookup(store, { config: { p: 1 }, code: import.meta.url }))?.result, [1, 2, 3]);
    assertClean(root);
    rmSync(join(tiny!, 'filler'), { recursive: true });
    rmSync(root, { recursive: true });
  });

  test('output folder full: the run stops naming the folder; the earlier executed notebook and run.json are kept', { skip: !canMount && 'needs root and unshare for a private tmpfs', timeout: 300_000 }, async () => {
    assert.ok(tiny, 'the tmpfs was mounted');
    const out = join(tiny!, 'out');
    const outInside = join(mountPoint, 'out');
    const nbDir = join(dir, 'notebooks');
    mkdirSync(nbDir);
    writeFileSync(join(nbDir, 'a_small.ipynb'), notebook("console.log('small')"));
    let r = await reproduceInside(['--notebooks', nbDir, '--out', outInside, '--profile', 'quick', '--no-report']);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const before = { nb: readFileSync(join(out, 'notebooks', 'a_small.ipynb'), 'utf8'), run: readFileSync(join(out, 'run.json'), 'utf8') };
    writeFileSync(join(nbDir, 'b_big.ipynb'), notebook("console.log('x'.repeat(300_000))"));
    fill(tiny!, 48);
    r = await reproduceInside(['--notebooks', nbDir, '--out', outInside, '--profile', 'quick', '--no-report']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /Traceback/);
    assert.match(`${r.stdout}\n${r.stderr}`, /reproduce: cannot write the executed notebook b_big\.ipynb in .*\/out\/notebooks: No space left on device \(ENOSPC\); the earlier files there are kept\. Free space there/);
    assert.equal(readFileSync(join(out, 'notebooks', 'a_small.ipynb'), 'utf8').length > 0, true);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as { notebooks: Record<string, { status: string }> };
    assert.equal(run.notebooks.a_small.status, 'ok', 'the earlier record is kept');
    assert.ok(readFileSync(join(out, 'run.json'), 'utf8') === before.run || run.notebooks.b_big?.status === 'failed');
    assertClean(out);
  });
});
