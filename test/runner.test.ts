import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { cellStdout, jupyterPython, notebook, reproduce, root, run, type NotebookJson } from './kernel-support.js';

describe('npm run reproduce (scripts/reproduce.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tangent-runner-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function notebooks(name: string, files: Record<string, string>): string {
    const nbDir = join(dir, name);
    mkdirSync(nbDir);
    for (const [file, json] of Object.entries(files)) writeFileSync(join(nbDir, file), json);
    return nbDir;
  }

  test('a failing cell stops its notebook; the others run; summary and non-zero exit', { timeout: 180_000 }, async () => {
    const sources = {
      'b_throws.ipynb': notebook("console.log('first cell')", "throw new Error('deliberate failure')", "console.log('not reached')"),
      'c_compile_error.ipynb': notebook("const n: number = 'text';", "console.log('not reached either')"),
      'd_good.ipynb': notebook("console.log('runs after the failures')"),
    };
    const nbDir = notebooks('mixed', sources);
    const out = join(dir, 'mixed-out');
    const r = await reproduce(['--notebooks', nbDir, '--out', out, '--profile', 'quick', '--no-report']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);

    assert.match(r.stdout, /^FAILED: b_throws, cell 2 \(code cell 2\/3\)$/m);
    assert.match(r.stdout, /^ +1 \| throw new Error\('deliberate failure'\)$/m);
    assert.match(r.stdout, /^Error: deliberate failure$/m);
    assert.match(r.stdout, /^FAILED: c_compile_error, cell 1 \(code cell 1\/2\)$/m);
    assert.match(r.stdout, /^1:7 - Type 'string' is not assignable to type 'number'\.$/m);
    assert.match(r.stdout, /^\[3\/3\] d_good {2}ok/m);
    for (const [name, status] of [['b_throws', 'failed'], ['c_compile_error', 'failed'], ['d_good', 'ok']]) {
      assert.match(r.stdout, new RegExp(`^${name} +${status} +[\\d.]+s`, 'm'), `summary row of ${name}`);
    }
    assert.match(r.stdout, /2 of 3 notebook\(s\) did not complete: b_throws, c_compile_error/);

    const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.deepEqual(
      Object.fromEntries(Object.entries(runJson.notebooks).map(([k, v]) => [k, (v as { status: string }).status])),
      { b_throws: 'failed', c_compile_error: 'failed', d_good: 'ok' },
    );
    assert.equal(runJson.notebooks.b_throws.cell, 2);
    assert.equal(runJson.notebooks.b_throws.profile, 'quick');

    const executed = JSON.parse(readFileSync(join(out, 'notebooks', 'b_throws.ipynb'), 'utf8')) as NotebookJson;
    assert.deepEqual(cellStdout(executed), ['first cell\n', '', '']);
    assert.deepEqual(cellStdout(JSON.parse(readFileSync(join(out, 'notebooks', 'd_good.ipynb'), 'utf8'))), ['runs after the failures\n']);
    for (const [file, json] of Object.entries(sources)) {
      assert.equal(readFileSync(join(nbDir, file), 'utf8'), json, `source ${file} unchanged`);
    }
  });

  test('a notebook without output for --timeout-idle is reported as hung', { timeout: 120_000 }, async () => {
    const nbDir = notebooks('hang', {
      'hangs.ipynb': notebook("console.log('before')", 'await new Promise((r) => setTimeout(r, 60000));', "console.log('after')"),
    });
    const started = Date.now();
    const out = join(dir, 'hang-out');
    const r = await reproduce(['--notebooks', nbDir, '--out', out, '--profile', 'quick', '--timeout-idle', '2', '--no-report']);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    assert.ok(Date.now() - started < 45_000, 'did not wait for the cell');
    assert.match(r.stdout, /^HUNG: hangs, cell 2 \(code cell 2\/3\)$/m);
    assert.match(r.stdout, /no output for 2 s; kernel killed/);
    assert.match(r.stdout, /^hangs +hung +[\d.]+s +- +- +cell 2$/m);
    const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(runJson.notebooks.hangs.status, 'hung');
  });

  test('--only that matches nothing, and an --out that would overwrite the sources, are refused', async () => {
    const nbDir = notebooks('notebooks', { 'x.ipynb': notebook('1') });
    let r = await reproduce(['--notebooks', nbDir, '--only', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--only nope matches no notebook .* \(have: x\.ipynb\)/);
    r = await reproduce(['--notebooks', nbDir, '--out', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /would overwrite the source notebooks/);
    r = await reproduce(['--profile', 'huge']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /profile 'huge' is not quick or paper/);
  });

  test('every flag refuses a bad value with the flag, the value and what is expected (exit 2, before any kernel starts)', async () => {
    const nbDir = notebooks('flags', { 'x.ipynb': notebook('1') });
    const file = join(nbDir, 'x.ipynb');
    const cases: [string[], RegExp][] = [
      [['--only', ''], /^reproduce: --only '' has an empty name; expected notebook names or prefixes/m],
      [['--only', 'x,'], /^reproduce: --only 'x,' has an empty name/m],
      [['--only', 'x', '--only', ' '], /^reproduce: --only ' ' has an empty name/m],
      [['-p', 'm=1e400'], /^reproduce: -p m=1e400: Infinity is not a finite number \(JSON would carry it as null\)/m],
      [['-p', 'm=[1,-1e400]'], /^reproduce: -p m=\[1,-1e400\]: -Infinity is not a finite number/m],
      [['-p', 'seed=12345678901234567890'], /^reproduce: -p seed=12345678901234567890: .* beyond the integers a number holds exactly .* rounded to 12345678901234567000/m],
      [['-p', 'm='], /^reproduce: -p m=: the value is empty; expected JSON/m],
      [['-p', 'm=[1,2'], /^reproduce: -p m=\[1,2: the value looks like JSON but does not parse/m],
      [['-p', '__proto__=1'], /^reproduce: -p __proto__=1: '__proto__' cannot be a parameter name/m],
      [['-p', '2x=1'], /^reproduce: -p 2x=1: expected NAME=VALUE with NAME an identifier/m],
      [['-p', 'a=1', '-p', 'a=2'], /^reproduce: -p a is given twice$/m],
      [['--timeout-idle', '1e400'], /^reproduce: --timeout-idle '1e400' is not a positive finite number of seconds/m],
      [['--timeout-idle=-5'], /^reproduce: --timeout-idle '-5' is not a positive finite number of seconds/m],
      [['--timeout-idle', 'soon'], /^reproduce: --timeout-idle 'soon' is not a positive finite number of seconds/m],
      [['--profile', 'quick', '--profile', 'paper'], /^reproduce: --profile is given 2 times \('quick', 'paper'\); give it once$/m],
      [['--profile', ''], /^reproduce: --profile '' is empty; expected quick or paper$/m],
      [['--engine', 'cloud'], /^reproduce: --engine 'cloud' is not local or slurm$/m],
      [['--out', ''], /^reproduce: --out '' is empty; expected an output folder$/m],
      [['--out', file], /^reproduce: --out .*x\.ipynb is a file, not a folder/m],
      [['--timeout-idle', '5', 'extra'], /Unexpected argument 'extra'/],
    ];
    for (const [args, message] of cases) {
      const r = await reproduce(['--notebooks', nbDir, '--no-report', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stdout, /running \d+ notebook/, `${args.join(' ')} started a run`);
    }
    for (const [args, message] of [
      [['--notebooks', ''], /^reproduce: --notebooks '' is empty; expected a folder of notebooks$/m],
      [['--notebooks', file], /^reproduce: --notebooks .*x\.ipynb is a file, not a folder; .*--only NAME/m],
      [['--notebooks', nbDir, '--notebooks', dir], /^reproduce: --notebooks is given 2 times/m],
    ] as [string[], RegExp][]) {
      const r = await reproduce([...args, '--no-report']);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    const env = { ...process.env, TANGENT_PROFILE: 'huge' };
    const r = await reproduce(['--notebooks', nbDir], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^reproduce: TANGENT_PROFILE 'huge' is not quick or paper$/m);
  });

  test('-p values: JSON where it parses, else text; names such as constructor are plain names', async () => {
    const { parseParams } = (await import(pathToFileURL(join(root, 'scripts', 'reproduce.mjs')).href)) as {
      parseParams(args: string[]): Record<string, unknown>;
    };
    const p = parseParams(['constructor=[1,2.5]', 'toString=3', 'name=relu', 'empty=""', 'big=1e300', 'exact=9007199254740991']);
    assert.deepEqual({ ...p }, { constructor: [1, 2.5], toString: 3, name: 'relu', empty: '', big: 1e300, exact: 9007199254740991 });
  });

  test('run_notebooks.py, called directly, refuses what reproduce refuses', async () => {
    const python = await jupyterPython(['nbclient', 'nbformat']);
    const nb = join(notebooks('direct', { 'x.ipynb': notebook('1') }), 'x.ipynb');
    for (const [args, message] of [
      [['--timeout-idle', 'nan'], /argument --timeout-idle: 'nan' is not a positive finite number of seconds/],
      [['--timeout-idle', '-1'], /argument --timeout-idle: '-1' is not a positive finite number of seconds/],
      [['--parameters', '{"m": 1e400}'], /argument --parameters: .*1e400 is not a finite number/],
      [['--parameters', '{"m": NaN}'], /argument --parameters: .*NaN is not a finite number/],
      [['--parameters', '[1]'], /argument --parameters: .*expected a JSON object/],
      [['--parameters', '{"a: 1}); boom(); ({b": 1}'], /argument --parameters: .* is not a parameter name/],
    ] as [string[], RegExp][]) {
      const r = await run(python, [join(root, 'scripts', 'run_notebooks.py'), '--out', join(dir, 'direct-out'), ...args, nb]);
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  test("runs use this checkout's kernel even when the user-level kernelspec points at another checkout", { timeout: 120_000 }, async () => {
    const userData = join(dir, 'user-jupyter');
    const spec = join(userData, 'kernels', 'tangent-lab');
    mkdirSync(spec, { recursive: true });
    writeFileSync(join(spec, 'kernel.json'), JSON.stringify({
      argv: [process.execPath, join(dir, 'elsewhere', 'scripts', 'kernel.mjs'), '--config-path', '{connection_file}'],
      display_name: 'TypeScript (tangent-lab)',
      language: 'typescript',
    }));
    const nbDir = notebooks('private-spec', { 'who.ipynb': notebook("console.log('kernel of', process.argv[1])") });
    const out = join(dir, 'private-spec-out');
    const r = await reproduce(['--notebooks', nbDir, '--out', out, '--profile', 'quick', '--no-report'], { ...process.env, JUPYTER_PATH: '', JUPYTER_DATA_DIR: userData });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const executed = JSON.parse(readFileSync(join(out, 'notebooks', 'who.ipynb'), 'utf8')) as NotebookJson;
    assert.deepEqual(cellStdout(executed), [`kernel of ${join(root, 'scripts', 'kernel.mjs')}\n`]);
  });

  test('run.json, the summary and REPORT-ready counts say how many stored results were computed and reused, under which fingerprint', { timeout: 240_000 }, async () => {
    // Inside the project, so that the notebook resolves 'tangent-lab' (node_modules/tangent-lab) like the real ones.
    const nbDir = mkdtempSync(join(root, 'dist', 'runner-store-'));
    after(() => rmSync(nbDir, { recursive: true, force: true }));
    writeFileSync(join(nbDir, 'uses_store.ipynb'), notebook(
      "import { run } from 'tangent-lab';\nconst store = run.openStore('runner-store');\nfor (const a of [1, 2]) console.log(await run.cached(store, { config: { a }, code: 'tangent-lab' }, () => a * 10));",
    ));
    const results = join(dir, 'stored-results');
    const env = { ...process.env, TANGENT_RESULTS_DIR: results };
    const counts = async (outName: string) => {
      const out = join(dir, outName);
      const r = await reproduce(['--notebooks', nbDir, '--out', out, '--profile', 'quick', '--no-report'], env);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const st = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).notebooks.uses_store.store;
      return { r, st };
    };
    const first = await counts('stored-out-1');
    assert.deepEqual([first.st.computed, first.st.reused], [2, 0]);
    const fps = Object.keys(first.st.fingerprints);
    assert.equal(fps.length, 1);
    assert.match(fps[0], /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(first.st.fingerprints[fps[0]], { computed: 2, reused: 0, tasks: ['runner-store (closure)'] });
    assert.match(first.r.stdout, /uses_store +ok +[\d.]+s +- +2 computed 0 reused/);
    const second = await counts('stored-out-2');
    assert.deepEqual([second.st.computed, second.st.reused], [0, 2]);
    assert.deepEqual(Object.keys(second.st.fingerprints), fps);
    assert.match(second.r.stdout, /results: 0 computed, 2 reused \(code [0-9a-f]{8}\)/);
  });
});
