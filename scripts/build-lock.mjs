// A lock file around the kernel's start-up build of dist/ (scripts/kernel.mjs): kernels started together after
// an edit of lib/ build one after the other, so none loads dist/ while another rewrites it.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

/**
 * Runs `fn` holding an exclusive lock file (pid inside); a lock of a dead process, or older than `staleMs`, is
 * taken over. Where no lock file can be made (a read-only checkout), `fn` runs without one.
 */
export function withBuildLock(lock, fn, { staleMs = 600_000, log = (l) => process.stderr.write(l) } = {}) {
  const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return e.code === 'EPERM';
    }
  };
  for (let waited = 0; ; waited += 100) {
    try {
      closeSync(openSync(lock, 'wx'));
      writeFileSync(lock, String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') return fn(); // no lock possible here (read-only checkout): build as before
      let holder = NaN;
      let age = 0;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if ((Number.isInteger(holder) && holder > 0 && !alive(holder)) || age > staleMs) rmSync(lock, { force: true });
      else sleep(100);
      if (waited === 5000) log('tangent-lab: waiting for another kernel to finish building dist/\n');
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

