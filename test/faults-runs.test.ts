// Issue 11 (1, 5): a reproduction killed by any signal leaves no kernel or worker behind; run records
// survive damaged files, invalid notebooks and signals.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { notebook, root } from './kernel-support.js';

const dir = mkdtempSync(join(tmpdir(), 'tangent-faults-runs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A task that keeps a worker busy in a synchronous loop (as a long training run does).
const spinModule = join(dir, 'spin.mjs');
writeFileSync(spinModule, `export function spin({ ms }) { const end = Date.now() + ms; while (Date.now() < end); return 1; }\n`);

/** A notebook whose second cell runs two points in two sweep workers, each busy for `ms`. */
function sweepingNotebook(ms: number): string {
  return notebook(
    "console.log('start')",
    `import { openStore, sweep, remote } from ${JSON.stringify(join(root, 'dist', 'lib', 'index.js'))};
const spin = remote<{ i: number }, number>('spin', (p) => [{ ms: ${ms}, i: p.i }], ${JSON.stringify(pathToFileURL(spinModule).href)});
await sweep({ i: [0, 1] }, spin, { store: openStore('orphans'), workers: 2 });
console.log('sweep done');`,
  );
}

function processTable(): Map<number, { ppid: number; cmd: string }> {
  const table = new Map<number, { ppid: number; cmd: string }>();
  for (const f of readdirSync('/proc')) {
    if (!/^\d+$/.test(f)) continue;
    try {
      const stat = readFileSync(`/proc/${f}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${f}/cmdline`, 'utf8').replace(/\0/g, ' ');
      table.set(Number(f), { ppid, cmd });
    } catch {
      // exited meanwhile
    }
  }
  return table;
}

function descendants(pid: number): Map<number, string> {
  const table = processTable();
  const out = new Map<number, string>();
  const walk = (p: number) => {
    for (const [c, { ppid, cmd }] of table) if (ppid === p && !out.has(c)) { out.set(c, cmd); walk(c); }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Started { child: ChildProcess; out: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }

function start(nbDir: string, out: string, results: string): Started {
  const env: NodeJS.ProcessEnv = { ...process.env, TANGENT_RESULTS_DIR: results };
  delete env.TANGENT_WORKERS;
  const child = spawn(process.execPath, [join(root, 'scripts', 'reproduce.mjs'), '--notebooks', nbDir, '--out', out, '--profile', 'quick', '--no-report'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (text += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (text += s));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => text, exit };
}

/** Starts a reproduction of the sweeping notebook and returns once both workers run. */
async function startWithWorkers(name: string) {
  const nbDir = join(dir, name);
  mkdirSync(nbDir);
  writeFileSync(join(nbDir, 'sweeps.ipynb'), sweepingNotebook(120_000));
  const results = join(dir, `${name}-results`);
  const run = start(nbDir, join(dir, `${name}-out`), results);
  let tree = new Map<number, string>();
  await until('two sweep workers', () => {
    if (run.child.exitCode !== null) throw new Error('the run ended');
    tree = descendants(run.child.pid!);
    return [...tree.values()].filter((c) => c.includes('worker.js')).length >= 2;
  }, 240_000).catch((e) => { run.child.kill('SIGKILL'); throw new Error(`${(e as Error).message}\n${run.out()}`); });
  const kernel = [...tree].find(([, c]) => c.includes('kernel.mjs'));
  const driver = [...tree].find(([, c]) => c.includes('run_notebooks.py'));
  assert.ok(kernel && driver, [...tree.values()].join('\n'));
  return { run, tree, kernel: kernel[0], driver: driver[0], results, out: join(dir, `${name}-out`) };
}

async function assertAllGone(tree: Map<number, string>, what: string, log: () => string) {
  await until(`every process of the run to end after ${what}`, () => [...tree.keys()].every((p) => !alive(p)), 20_000)
    .catch((e) => {
      const left = [...tree].filter(([p]) => alive(p)).map(([p, c]) => `${p} ${c}`);
      for (const [p] of tree) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      throw new Error(`${(e as Error).message}; still running:\n${left.join('\n')}\n${log()}`);
    });
}

describe('a killed reproduction leaves no kernel or worker behind', { timeout: 600_000 }, () => {
  test('SIGKILL of npm run reproduce: driver, kernel and workers end; nothing is stored afterwards', { timeout: 300_000 }, async () => {
    const s = await startWithWorkers('sigkill');
    s.run.child.kill('SIGKILL');
    await assertAllGone(s.tree, 'SIGKILL', s.run.out);
    assert.ok(!existsSync(join(s.results, 'orphans')) || readdirSync(join(s.results, 'orphans')).filter((f) => f.endsWith('.json')).length === 0);
  });

  test('SIGHUP (terminal closed): everything ends and run.json records the signal', { timeout: 300_000 }, async () => {
    const s = await startWithWorkers('sighup');
    s.run.child.kill('SIGHUP');
    const { code } = await s.run.exit;
    await assertAllGone(s.tree, 'SIGHUP', s.run.out);
    assert.equal(code, 129, s.run.out());
    const rec = JSON.parse(readFileSync(join(s.out, 'run.json'), 'utf8')).notebooks.sweeps;
    assert.deepEqual([rec.status, rec.signal, rec.cell], ['interrupted', 'SIGHUP', 2]);
    assert.match(rec.error, /ended by SIGHUP during cell 2; kernel and workers killed/);
  });

  test('SIGKILL of the Python driver (as by the OOM killer): kernel and workers end', { timeout: 300_000 }, async () => {
    const s = await startWithWorkers('driver-killed');
    process.kill(s.driver, 'SIGKILL');
    await assertAllGone(new Map([...s.tree].filter(([p]) => p !== s.driver)), 'SIGKILL of the driver', s.run.out);
    await s.run.exit;
  });
});

describe('run records', { timeout: 400_000 }, () => {
  test('a damaged run.json is kept aside, an invalid notebook fails alone, SIGTERM is recorded', { timeout: 400_000 }, async () => {
    const nbDir = join(dir, 'records');
    mkdirSync(nbDir);
    writeFileSync(join(nbDir, 'a_invalid.ipynb'), '{"cells": [');
    writeFileSync(join(nbDir, 'b_good.ipynb'), notebook("console.log('fine')"));
    writeFileSync(join(nbDir, 'c_long.ipynb'), notebook("console.log('start')", "await new Promise((r) => setTimeout(r, 300_000));"));
    const out = join(dir, 'records-out');
    mkdirSync(out);
    const damaged = '{"notebooks": {"other": {"status": "ok"';
    writeFileSync(join(out, 'run.json'), damaged);
    const run = start(nbDir, out, join(dir, 'records-results'));
    await until('the long cell', () => /\[3\/3\] c_long {2}cell 2\/2/.test(run.out()), 300_000)
      .catch((e) => { run.child.kill('SIGKILL'); throw new Error(`${(e as Error).message}\n${run.out()}`); });
    run.child.kill('SIGTERM');
    const { code } = await run.exit;
    const log = run.out();
    assert.equal(code, 143, log);
    assert.match(log, /WARNING: .*run\.json is damaged .*; kept as .*run\.json\.damaged-/);
    assert.match(log, /FAILED: a_invalid\n--- error\na_invalid\.ipynb is not a valid notebook \(NotJSONError/);
    const aside = readdirSync(out).filter((f) => f.startsWith('run.json.damaged-'));
    assert.equal(aside.length, 1);
    assert.equal(readFileSync(join(out, aside[0]), 'utf8'), damaged);
    const rec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).notebooks;
    assert.deepEqual(Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, (v as { status: string }).status])), { a_invalid: 'failed', b_good: 'ok', c_long: 'interrupted' });
    assert.equal(rec.c_long.signal, 'SIGTERM');
    assert.match(rec.c_long.error, /^the run was ended by SIGTERM during cell 2; kernel and workers killed$/);
    assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
  });
});
