#!/usr/bin/env node
// Registers (idempotently) the Jupyter kernelspec "tangent-lab" that starts this checkout's tslab.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    installKernel();
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
