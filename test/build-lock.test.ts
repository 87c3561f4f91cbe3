// The kernel's start-up build runs under a lock file (scripts/build-lock.mjs): kernels started together build
// one after the other; a lock left by a dead process is taken over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { projectRoot } from '../lib/core/env.js';
import { pathToFileURL } from 'node:url';

type BuildLockModule = typeof import('../scripts/build-lock.mjs');
const { withBuildLock } = (await import(pathToFileURL(join(projectRoot(), 'scripts', 'build-lock.mjs')).href)) as BuildLockModule;

const dir = mkdtempSync(join(tmpdir(), 'build-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the kernel build lock', () => {
  test('two processes holding it do not overlap; the lock is gone afterwards', async () => {
    const lock = join(dir, 'a.lock');
    const logFile = join(dir, 'log');
    writeFileSync(logFile, '');
    const script = (tag: string) => `
      import { appendFileSync } from 'node:fs';
      import { withBuildLock } from ${JSON.stringify(join(projectRoot(), 'scripts', 'build-lock.mjs'))};
      withBuildLock(${JSON.stringify(lock)}, () => {
        appendFileSync(${JSON.stringify(logFile)}, 'start ${tag}\\n');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
        appendFileSync(${JSON.stringify(logFile)}, 'end ${tag}\\n');
      }, { log: () => undefined });`;
    const run = (tag: string) => new Promise<number>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script(tag)], { stdio: 'inherit' }).on('exit', (c) => resolve(c ?? 1)));
    assert.deepEqual(await Promise.all([run('a'), run('b')]), [0, 0]);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    assert.equal(lines[0].slice(0, 5), 'start');
    assert.equal(lines[1], lines[0].replace('start', 'end'), `no overlap: ${lines.join(', ')}`);
    assert.ok(!existsSync(lock));
  });

  test('a lock of a dead process is taken over; the result of fn is returned', () => {
    const lock = join(dir, 'b.lock');
    writeFileSync(lock, '2147483646');
    assert.equal(withBuildLock(lock, () => 42, { log: () => undefined }), 42);
    assert.ok(!existsSync(lock));
  });
});
