#!/usr/bin/env node
// Registers (idempotently) the Jupyter kernelspec "tangent-lab" that starts this checkout's tslab.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, ensureSelfLink, projectRoot } from './project.mjs';
import { findJupyterPython } from './jupyter-python.mjs';

export function kernelSpec(root = projectRoot()) {
  return {
    argv: [process.execPath, join(root, 'scripts', 'kernel.mjs'), '--config-path', '{connection_file}'],
    display_name: KERNEL_DISPLAY_NAME,
    language: 'typescript',
    metadata: { 'tangent-lab': { root } },
  };
}

/**
 * A kernelspec private to this checkout, under `<root>/.jupyter/kernels/`, and the environment that makes
 * Jupyter find it first (JUPYTER_PATH outranks the user and system directories). Headless runs (reproduce,
 * tests) use it, so another checkout re-registering the user-level spec cannot redirect them.
 */
export function privateKernelEnv(root = projectRoot(), env = process.env) {
  const dataDir = join(root, '.jupyter');
  const specDir = join(dataDir, 'kernels', KERNEL_NAME);
  const json = JSON.stringify(kernelSpec(root), null, 2);
  const file = join(specDir, 'kernel.json');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== json) {
    mkdirSync(specDir, { recursive: true });
    writeFileSync(file, json);
  }
  const rest = (env.JUPYTER_PATH ?? '').split(delimiter).filter((p) => p && p !== dataDir);
  return { ...env, JUPYTER_PATH: [dataDir, ...rest].join(delimiter) };
}

export function installKernel({ quiet = false } = {}) {
  const root = projectRoot();
  ensureSelfLink(root);
  const python = findJupyterPython(['jupyter_client']);
  const dir = mkdtempSync(join(tmpdir(), 'tangent-kernelspec-'));
  const specDir = join(dir, KERNEL_NAME);
  try {
    spawnSync('mkdir', ['-p', specDir]);
    writeFileSync(join(specDir, 'kernel.json'), JSON.stringify(kernelSpec(root), null, 2));
    const r = spawnSync(
      python,
      ['-m', 'jupyter_client.kernelspecapp', 'install', '--user', '--replace', '--name', KERNEL_NAME, specDir],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`jupyter kernelspec install failed:\n${r.stderr}`);
    if (!quiet) process.stdout.write(`kernelspec '${KERNEL_NAME}' (${KERNEL_DISPLAY_NAME}) -> ${r.stderr.trim() || 'installed'}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    installKernel();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
