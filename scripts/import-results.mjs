#!/usr/bin/env node
// `npm run import-results -- FROM [--to DIR] [--only EXPERIMENT]`: copies the valid result entries of another
// store (e.g. a cluster's TANGENT_RESULTS_DIR, rsync'ed or mounted at FROM) into the local store.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { projectRoot } from './project.mjs';

const USAGE = 'usage: npm run import-results -- FROM [--to DIR] [--only EXPERIMENT ...]\n' +
  '  FROM  a results folder (one folder per experiment), e.g. rsync -a cluster:/shared/tangent-results/ /tmp/from-cluster/\n' +
  '  --to  the local store root (default $TANGENT_RESULTS_DIR, else data/results)';
let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, options: { to: { type: 'string' }, only: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } });
} catch (e) {
  process.stderr.write(`import-results: ${e.message}\n${USAGE}\n`);
  process.exit(2);
}
if (parsed.values.help || parsed.positionals.length !== 1) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(parsed.values.help ? 0 : 2);
}
const cwd = process.env.INIT_CWD ?? process.cwd();
const { resolve } = await import('node:path');
const { importResults } = await import(pathToFileURL(join(projectRoot(), 'dist', 'lib', 'run', 'import-results.js')).href);
try {
  const r = importResults(resolve(cwd, parsed.positionals[0]), { to: parsed.values.to ? resolve(cwd, parsed.values.to) : undefined, experiments: parsed.values.only });
  process.exit(r.corrupt.length || r.conflicts.length ? 1 : 0);
} catch (e) {
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}
