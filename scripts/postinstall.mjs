// npm install / npm ci hook of the project itself: makes the library importable by its package name and
// applies the project's patch of tslab (scripts/patch-tslab.mjs).
import { ensureSelfLink } from './project.mjs';
import { patchTslab } from './patch-tslab.mjs';

ensureSelfLink();
if (patchTslab()) process.stdout.write("tangent-lab: patched tslab (shorthand properties of earlier cells' variables)\n");
