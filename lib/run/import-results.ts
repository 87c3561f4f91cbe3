import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readEntryFile, resultsRoot } from './store.js';

export interface ImportReport {
  /** Entries copied into the destination. */
  copied: number;
  /** Entries the destination already held with the same payload. */
  same: number;
  /** Same key, different payload: the destination's entry is kept. */
  conflicts: { experiment: string; key: string }[];
  /** Source files that failed validation, or whose entry belongs to another experiment than its folder (not copied). */
  corrupt: { file: string; reason: string }[];
  /** Copied entries per `backend / libraryVersion`: a store looks up only entries of its own backend and version. */
  computedWith: Record<string, number>;
}

const EXPERIMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ENTRY = /^([0-9a-f]{64})\.json$/;

/**
 * Brings results computed elsewhere (a cluster's shared store, copied or mounted at `from`) into a local
 * store root (default $TANGENT_RESULTS_DIR, else `data/results`). Every source entry is validated (format,
 * key = hash of its config, payload checksum) before it is copied (temporary file and rename in the
 * destination folder); entries already present are left alone.
 *
 * @example
 *   // rsync -a cluster:/shared/tangent-results/ /tmp/from-cluster/
 *   importResults('/tmp/from-cluster');            // or: node scripts/import-results.mjs /tmp/from-cluster
 */
export function importResults(from: string, options: { to?: string; experiments?: string[]; log?: (line: string) => void } = {}): ImportReport {
  const src = resolve(from);
  if (!existsSync(src) || !statSync(src).isDirectory()) throw new Error(`importResults: from = ${JSON.stringify(from)}; expected a results folder (holding one folder per experiment)`);
  const dest = resultsRoot(options.to);
  if (src === dest) throw new Error(`importResults: from = ${JSON.stringify(from)} is the destination store itself; expected another folder`);
  const log = options.log ?? ((l) => console.log(l));
  const report: ImportReport = { copied: 0, same: 0, conflicts: [], corrupt: [], computedWith: {} };
  const experiments = readdirSync(src).filter((d) => EXPERIMENT_NAME.test(d) && statSync(join(src, d)).isDirectory() && (!options.experiments || options.experiments.includes(d))).sort();
  for (const exp of experiments) {
    let copied = 0;
    for (const f of readdirSync(join(src, exp)).sort()) {
      const m = ENTRY.exec(f);
      if (!m) continue;
      const from = join(src, exp, f);
      const got = readEntryFile(from, m[1]);
      if (got.status !== 'ok') {
        if (got.status === 'corrupt') report.corrupt.push({ file: from, reason: got.reason });
        continue;
      }
      if (got.entry.experiment !== exp) {
        report.corrupt.push({ file: from, reason: `an entry of experiment '${got.entry.experiment}' in folder '${exp}'` });
        continue;
      }
      const target = join(dest, exp, f);
      const have = readEntryFile(target, m[1]);
      if (have.status === 'ok') {
        if (have.entry.checksum === got.entry.checksum) report.same++;
        else report.conflicts.push({ experiment: exp, key: m[1] });
        continue;
      }
      mkdirSync(join(dest, exp), { recursive: true });
      const tmp = join(dest, exp, `.${f}.import-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
      copyFileSync(from, tmp);
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, target);
      copied++;
      const w = `${got.entry.backend} / code ${got.entry.fingerprint.replace(/^sha256:/, '').slice(0, 8)}`;
      report.computedWith[w] = (report.computedWith[w] ?? 0) + 1;
    }
    report.copied += copied;
    if (copied) log(`import ${exp}: ${copied} entr${copied === 1 ? 'y' : 'ies'} copied`);
  }
  for (const c of report.corrupt) log(`import: skipped ${c.file} (${c.reason})`);
  for (const c of report.conflicts) log(`import ${c.experiment}: ${c.key.slice(0, 12)}… differs from the entry already in ${dest}; kept the local one`);
  log(`import: ${report.copied} copied, ${report.same} already present, ${report.conflicts.length} conflicting, ${report.corrupt.length} corrupt (from ${src} into ${dest}); computed with ${Object.entries(report.computedWith).map(([k, n]) => `${k}: ${n}`).join(', ') || '-'}`);
  return report;
}
