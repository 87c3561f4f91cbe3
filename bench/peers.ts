/**
 * The bench's Python peers (PyTorch, JAX) in a bench-only virtual environment, bench/.venv (gitignored),
 * created on first use with `python3 -m venv` and filled with pip. pip runs with `--timeout 5 --retries 0` so
 * that an unreachable default index falls through to the machine's configured indexes at once. A peer that
 * cannot be installed is skipped with a note; an interpreter outside the venv that already imports it
 * (TANGENT_PYTHON, python3, /usr/bin/python3) is used instead where there is one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface Peer {
  name: 'torch' | 'jax';
  /** Interpreter that imports the peer, or undefined when it is skipped. */
  python?: string;
  /** Version line printed by the probe, e.g. `torch 2.14.1`. */
  version?: string;
  /** What was done or why the peer is skipped. */
  note: string;
}

const SPECS = {
  torch: { packages: ['numpy', 'torch'], probe: 'import sys, numpy, torch\nprint("torch", torch.__version__)' },
  jax: { packages: ['numpy', 'jax', 'jaxlib'], probe: 'import sys, numpy, jax, jaxlib\nfrom jax.experimental import jet\nprint("jax", jax.__version__)' },
} as const;

function lastLine(s: string | undefined): string {
  return (s ?? '').trim().split('\n').filter(Boolean).pop() ?? '';
}

function probe(python: string, name: Peer['name']): { ok: boolean; out: string } {
  const r = spawnSync(python, ['-c', SPECS[name].probe], { encoding: 'utf8', timeout: 180_000 });
  return { ok: r.status === 0, out: r.status === 0 ? r.stdout.trim() : (r.error?.message ?? lastLine(r.stderr)) };
}

/** Makes bench/.venv and installs the peers that it lacks; `log` receives progress lines. */
export function ensurePeers(benchDir: string, log: (line: string) => void, want: Peer['name'][] = ['torch', 'jax']): Peer[] {
  const venv = path.join(benchDir, '.venv');
  const vpy = path.join(venv, 'bin', 'python');
  const base = process.env.TANGENT_PYTHON?.trim() || 'python3';
  let venvNote = '';
  if (!existsSync(vpy)) {
    log(`creating ${venv} (${base} -m venv)`);
    const r = spawnSync(base, ['-m', 'venv', venv], { encoding: 'utf8' });
    if (r.status !== 0) venvNote = `cannot create ${venv}: ${r.error?.message ?? lastLine(r.stderr)}`;
  }
  const peers: Peer[] = [];
  for (const name of want) {
    if (existsSync(vpy)) {
      let p = probe(vpy, name);
      if (!p.ok) {
        const args = ['-m', 'pip', 'install', '--timeout', '5', '--retries', '0', ...SPECS[name].packages];
        log(`pip install ${SPECS[name].packages.join(' ')} into ${venv} (${name} missing: ${p.out})`);
        const t0 = Date.now();
        const r = spawnSync(vpy, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 2 ** 20, timeout: 30 * 60_000 });
        log(`  pip exit ${r.status} after ${((Date.now() - t0) / 1000).toFixed(0)} s${r.status === 0 ? '' : `: ${lastLine(r.stderr)}`}`);
        p = probe(vpy, name);
        if (!p.ok) venvNote = `pip could not install ${SPECS[name].packages.join(' ')} (${lastLine(r.stderr) || p.out})`;
      }
      if (p.ok) {
        peers.push({ name, python: vpy, version: p.out, note: `${p.out} in bench/.venv` });
        continue;
      }
    }
    // Fall back to an interpreter that already has it.
    const tried: string[] = [];
    let found: Peer | undefined;
    for (const cmd of [...new Set([process.env.TANGENT_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c?.trim())))]) {
      const p = probe(cmd, name);
      if (p.ok) {
        found = { name, python: cmd, version: p.out, note: `${p.out} at ${cmd} (bench/.venv: ${venvNote || 'lacks it'})` };
        break;
      }
      tried.push(`${cmd}: ${p.out}`);
    }
    peers.push(found ?? { name, note: `skipped: ${venvNote || 'not installed'}; no other interpreter imports it (${tried.join('; ')})` });
  }
  return peers;
}
