#!/usr/bin/env node
// Builds the native matrix-product addon native/build/tangent_blas.node (Node-API, C, OpenBLAS) with the
// system C compiler; run by scripts/setup.mjs. Idempotent: skips the build when the addon is newer than its
// source and loads. Writes native/build/status.json ({ ok, reason?, command }) so that the library can say
// why the native path is unavailable. `--force` rebuilds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './project.mjs';

const root = projectRoot();
export const NATIVE_SOURCE = join(root, 'native', 'tangent_blas.c');
export const NATIVE_DIR = join(root, 'native', 'build');
export const NATIVE_ADDON = join(NATIVE_DIR, 'tangent_blas.node');
const STATUS = join(NATIVE_DIR, 'status.json');
/** Where Debian puts OpenBLAS's cblas.h (multiarch, via update-alternatives). */
const CBLAS_HEADERS = ['/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h', '/usr/include/cblas.h', '/usr/include/openblas/cblas.h'];

function headersDir() {
  const require = createRequire(join(root, 'package.json'));
  try {
    return join(require.resolve('node-api-headers/package.json'), '..', 'include');
  } catch {
    return undefined;
  }
}

function loads(path) {
  const r = spawnSync(process.execPath, ['-e', `const m = require(${JSON.stringify(path)}); if (typeof m.sgemm !== 'function') process.exit(2)`], { encoding: 'utf8' });
  return r.status === 0 ? undefined : (r.stderr.trim().split('\n').find((l) => /Error/.test(l)) ?? `exit ${r.status}`);
}

function writeStatus(status) {
  mkdirSync(NATIVE_DIR, { recursive: true });
  writeFileSync(STATUS, `${JSON.stringify(status, null, 2)}\n`);
  return status;
}

/** Builds the addon if needed; returns { ok, reason?, built }. Never throws. */
export function buildNative({ force = false, log = (m) => process.stdout.write(`build-native: ${m}\n`) } = {}) {
  const cc = process.env.CC || 'cc';
  const include = headersDir();
  const extraInclude = CBLAS_HEADERS.filter(existsSync).map((h) => join(h, '..'));
  // Built beside the addon and renamed over it: a process that has the old one loaded (a running kernel) keeps it.
  const tmp = join(NATIVE_DIR, `tangent_blas.${process.pid}.tmp.node`);
  // -O3: GCC 12's -O2 does not vectorize the elementwise loops (unknown trip counts); -ffp-contract=off keeps
  // their float32 roundings those of tfjs's ops (no FMA), and without -ffast-math vectorizing reorders nothing.
  const cmd = [cc, '-O3', '-ffp-contract=off', '-shared', '-fPIC', '-pthread', '-Wall', '-DNODE_GYP_MODULE_NAME=tangent_blas', '-DNAPI_VERSION=8',
    ...(include ? [`-I${include}`] : []), ...extraInclude.slice(0, 1).map((d) => `-I${d}`),
    NATIVE_SOURCE, '-o', tmp, '-lopenblas'];
  const command = cmd.join(' ').replace(tmp, NATIVE_ADDON);
  if (!force && existsSync(NATIVE_ADDON) && statSync(NATIVE_ADDON).mtimeMs >= statSync(NATIVE_SOURCE).mtimeMs) {
    const prev = existsSync(STATUS) ? JSON.parse(readFileSync(STATUS, 'utf8')) : undefined;
    if (prev?.ok && prev.command === command && !loads(NATIVE_ADDON)) return { ...prev, built: false };
  }
  if (!include) return writeStatus({ ok: false, reason: 'npm package node-api-headers is not installed (npm ci)', command });
  if (extraInclude.length === 0) return writeStatus({ ok: false, reason: 'cblas.h not found (Debian: apt-get install libopenblas-dev)', command });
  mkdirSync(NATIVE_DIR, { recursive: true });
  log(command);
  const t0 = Date.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.error) return writeStatus({ ok: false, reason: `cannot run the C compiler '${cc}': ${r.error.message} (Debian: apt-get install gcc libc6-dev)`, command });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    const first = r.stderr.trim().split('\n').find((l) => /error/i.test(l)) ?? r.stderr.trim().split('\n')[0];
    return writeStatus({ ok: false, reason: `compilation failed: ${first}`, command });
  }
  const loadError = loads(tmp);
  if (loadError) rmSync(tmp, { force: true });
  else renameSync(tmp, NATIVE_ADDON);
  if (loadError) return writeStatus({ ok: false, reason: `built but does not load: ${loadError}`, command });
  log(`built ${NATIVE_ADDON} in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  return { ...writeStatus({ ok: true, command }), built: true };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const s = buildNative({ force: process.argv.includes('--force') });
  if (!s.ok) {
    process.stderr.write(`build-native: ${s.reason}\n  command: ${s.command}\n`);
    process.exit(1);
  }
}
