// Loaded with `node --import` (scripts/kernel.mjs puts it in NODE_OPTIONS for the processes a notebook
// starts: workers of a sweep, Slurm tasks, a user's own `node` command): an ES module outside the checkout, for
// example a module file beside a researcher's notebook passed to workers with remote(name, args, moduleUrl),
// finds `tangent-lab` and its subpaths in this checkout. Node's ESM resolution ignores NODE_PATH, hence a hook.
import { register } from 'node:module';

register('./resolve-anywhere-hooks.mjs', import.meta.url);
