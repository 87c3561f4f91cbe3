#!/usr/bin/env node
// The project's maintained patches of tslab, applied by the postinstall hook and checked by the set-up.
// Each patch is one file in scripts/tslab-patches/ exporting { name, file, marker, anchor, replacement }:
// `file` (relative to node_modules/tslab) gets `anchor` replaced by `replacement`, which contains `marker`.
// Idempotent; refuses (with the reason) a tslab version the patches were not written for, so an upgrade
// cannot silently run unpatched.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './project.mjs';
// One import per patch (one line each, so that patches are added independently).
import shorthandProperties from './tslab-patches/shorthand-properties.mjs';
import notebookCode from './tslab-patches/notebook-code.mjs';
import providedPackagesTypes from './tslab-patches/provided-packages-types.mjs';
import providedPackagesRequire from './tslab-patches/provided-packages-require.mjs';
import inspectInCall from './tslab-patches/inspect-in-call.mjs';
import completeProvidedExports from './tslab-patches/complete-provided-exports.mjs';
import completeMetadata from './tslab-patches/complete-metadata.mjs';
import inspectTagNames from './tslab-patches/inspect-tag-names.mjs';

export const TSLAB_VERSIONS = ['1.0.22'];

/** The patches, in the order they are applied. */
export function tslabPatches() {
  return [
    { id: 'shorthand-properties', ...shorthandProperties },
    { id: 'notebook-code', ...notebookCode },
    { id: 'provided-packages-types', ...providedPackagesTypes },
    { id: 'provided-packages-require', ...providedPackagesRequire },
    { id: 'inspect-in-call', ...inspectInCall },
    { id: 'complete-provided-exports', ...completeProvidedExports },
    { id: 'complete-metadata', ...completeMetadata },
    { id: 'inspect-tag-names', ...inspectTagNames },
  ];
}

function tslabDir(root) {
  return join(root, 'node_modules', 'tslab');
}

/** Per patch: 'patched', 'not applied', or the reason it cannot be applied. */
export function tslabPatchStates(root = projectRoot()) {
  let version;
  try {
    version = JSON.parse(readFileSync(join(tslabDir(root), 'package.json'), 'utf8')).version;
  } catch {
    return [{ id: '*', name: 'tslab', state: 'tslab is not installed' }];
  }
  const out = [];
  for (const p of tslabPatches()) {
    let src;
    try {
      src = readFileSync(join(tslabDir(root), p.file), 'utf8');
    } catch {
      out.push({ ...p, state: `tslab ${version}: ${p.file} is missing` });
      continue;
    }
    if (src.includes(p.marker)) out.push({ ...p, state: 'patched' });
    else if (!TSLAB_VERSIONS.includes(version)) out.push({ ...p, state: `tslab ${version} is not a version the patches were written for (${TSLAB_VERSIONS.join(', ')})` });
    else if (!src.includes(p.anchor)) out.push({ ...p, state: `tslab ${version}: ${p.file} does not contain the code the patch '${p.id}' replaces` });
    else out.push({ ...p, state: 'not applied' });
  }
  return out;
}

/** 'patched' when every patch is in place, else the first reason one is not. */
export function tslabPatchState(root = projectRoot()) {
  const bad = tslabPatchStates(root).find((p) => p.state !== 'patched');
  return bad ? (bad.state === 'not applied' ? 'not applied' : bad.state) : 'patched';
}

/** Applies the missing patches; returns the names of those it applied. Throws with the reason when it cannot. */
export function patchTslab(root = projectRoot()) {
  const applied = [];
  for (const p of tslabPatchStates(root)) {
    if (p.state === 'patched') continue;
    if (p.state !== 'not applied') throw new Error(`patch-tslab: ${p.state}; update scripts/tslab-patches/ (see environment.md, "tslab defects")`);
    const file = join(tslabDir(root), p.file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(p.anchor, () => p.replacement));
    applied.push(p.name);
  }
  return applied;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const applied = patchTslab();
    process.stdout.write(applied.length ? `patch-tslab: applied ${applied.join('; ')}\n` : 'patch-tslab: already applied\n');
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
