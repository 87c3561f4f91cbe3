// A 1 MB tmpfs in a private mount namespace (root and unshare needed): a real full disk for the fault tests.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const canMountTinyDisk = process.getuid?.() === 0 && spawnSync('unshare', ['--version']).status === 0;

export interface TinyDisk {
  /** The namespace's holder process (nsenter -t its pid enters the namespace); kill it to unmount. */
  ns: ChildProcess;
  /** The mount point inside the namespace. */
  mountPoint: string;
  /** The tmpfs as this process sees it (through /proc/<pid>/root), or undefined when the mount failed. */
  path: string | undefined;
}

/** Mounts a 1 MB tmpfs at `<dir>/mnt` in a new mount namespace held by a sleeping process. */
export async function mountTinyDisk(dir: string): Promise<TinyDisk> {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt);
  const ns = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs '${mnt}' && echo mounted && exec sleep 3600`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ok = await new Promise<boolean>((r) => {
    ns.stdout!.on('data', (d: Buffer) => r(d.toString().includes('mounted')));
    ns.on('exit', () => r(false));
  });
  return { ns, mountPoint: mnt, path: ok ? `/proc/${ns.pid}/root${mnt}` : undefined };
}
