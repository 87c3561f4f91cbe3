#!/usr/bin/env node
// The project's maintained patch of tslab's converter (node_modules/tslab/dist/converter.js), applied by the
// postinstall hook and checked by the set-up. Idempotent; refuses (with the reason) a tslab version it was
// not written for, so an upgrade cannot silently run unpatched.
//
// Bug fixed: an object shorthand property naming a variable of an earlier cell, `train({ net, lr })`, threw
// `ReferenceError: net is not defined`. tslab rewrites references to earlier cells' variables to
// `exports.name`, but finds them with `checker.getSymbolAtLocation`, which for a shorthand property returns
// the property, not the variable, so `{ net }` was emitted unchanged. The patch rewrites it to
// `{ net: exports.net }` (with a default, `{ net = d } = o` in a destructuring, to `{ net: exports.net = d }`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './project.mjs';

export const TSLAB_VERSIONS = ['1.0.22'];
const MARKER = '/* tangent-lab patch: shorthand properties */';
const ANCHOR = `        function wrapPrevIdentifier(node) {
            var _a, _b;
            if (!ts.isIdentifier(node)) {`;
const PATCHED = `        function wrapPrevIdentifier(node) {
            var _a, _b;
            ${MARKER}
            if (ts.isShorthandPropertyAssignment(node)) {
                const original = ts.getOriginalNode(node);
                const symbol = ts.isShorthandPropertyAssignment(original) ? checker.getShorthandAssignmentValueSymbol(original) : undefined;
                if (symbol && (symbol.declarations || []).some((d) => d.getSourceFile() === declsFile)) {
                    let value = ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier("exports"), ts.factory.createIdentifier(ts.idText(node.name)));
                    if (node.objectAssignmentInitializer) {
                        value = ts.factory.createAssignment(value, ts.visitNode(node.objectAssignmentInitializer, wrapPrevIdentifier));
                    }
                    return ts.factory.createPropertyAssignment(ts.factory.createIdentifier(ts.idText(node.name)), value);
                }
            }
            if (!ts.isIdentifier(node)) {`;

function files(root) {
  const dir = join(root, 'node_modules', 'tslab');
  return { pkg: join(dir, 'package.json'), converter: join(dir, 'dist', 'converter.js') };
}

/** 'patched' when the patch is in place, else the reason it is not (tslab missing, other version, not applied). */
export function tslabPatchState(root = projectRoot()) {
  const f = files(root);
  let version;
  let src;
  try {
    version = JSON.parse(readFileSync(f.pkg, 'utf8')).version;
    src = readFileSync(f.converter, 'utf8');
  } catch {
    return 'tslab is not installed';
  }
  if (src.includes(MARKER)) return 'patched';
  if (!TSLAB_VERSIONS.includes(version)) return `tslab ${version} is not a version the patch was written for (${TSLAB_VERSIONS.join(', ')})`;
  if (!src.includes(ANCHOR)) return `tslab ${version}: converter.js does not contain the code the patch replaces`;
  return 'not applied';
}

/** Applies the patch; returns true if it changed the file. Throws with the reason when it cannot. */
export function patchTslab(root = projectRoot()) {
  const state = tslabPatchState(root);
  if (state === 'patched') return false;
  if (state !== 'not applied') {
    throw new Error(`patch-tslab: ${state}; update scripts/patch-tslab.mjs (see environment.md, "tslab defects")`);
  }
  const f = files(root);
  writeFileSync(f.converter, readFileSync(f.converter, 'utf8').replace(ANCHOR, PATCHED));
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(patchTslab() ? 'patch-tslab: applied the shorthand-property fix to tslab\n' : 'patch-tslab: already applied\n');
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}
