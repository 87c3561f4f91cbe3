// npm install / npm ci hook of the project itself: makes the library importable by its package name and
// applies the project's patches of tslab (scripts/patch-tslab.mjs).
import { ensureSelfLink } from './project.mjs';
import { patchTslab } from './patch-tslab.mjs';

ensureSelfLink();
const applied = patchTslab();
if (applied.length) process.stdout.write(`tangent-lab: patched tslab (${applied.join('; ')})\n`);
