// The documentation cannot rot: every ```ts snippet of the README and the guides (docs/guides/*.md,
// docs/experiments.md) compiles against the built library with the project's TypeScript and runs with node;
// ```ts notebook snippets run as the cells of a notebook in the project's kernel (the runner, quick profile);
// ```ts skip snippets are counted, not run; a ```js file=NAME (or ```ts file=NAME) block is written as NAME
// beside the snippets (a worker module). Every root export's @example compiles and runs the same way, and
// `npm run docs` (TypeDoc) builds the API reference without a warning.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { compileAndRun, guideFiles, moduleSource, rootExports, rootNames, type Snippet, snippets, workDir } from './guide-snippets.js';
import { notebook, reproduce, root, run } from './kernel-support.js';

describe('the README, the guides and the API reference', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('snippet extraction: modes, file blocks, unmarked js is prose', () => {
    const md = ['a', '```ts', 'const a = 1;', '```', '```ts notebook', 'show(1)', '```', '```ts skip', 'x', '```', '```js file=w.mjs', 'export const f = 1;', '```', '```sh', 'npm test', '```', '```js', 'y', '```'].join('\n');
    assert.deepEqual(snippets('g.md', md).map((s) => [s.line, s.mode, s.name ?? '', s.code]), [
      [2, 'node', '', 'const a = 1;'],
      [5, 'notebook', '', 'show(1)'],
      [8, 'skip', '', 'x'],
      [11, 'file', 'w.mjs', 'export const f = 1;'],
      [17, 'skip', '', 'y'],
    ]);
    assert.equal(moduleSource("import { tf } from 'tangent-lab';\ntf.ones([1]);", ['tf', 'fcn']).split('\n')[0], "import { initBackend as __initBackend } from 'tangent-lab';");
    assert.equal(moduleSource('const net = fcn({}); net.fcnx;', ['tf', 'fcn']).split('\n')[0], "import { fcn } from 'tangent-lab';");
    // An example's own declarations shadow root names (`run` is also the run layer's namespace) and the context.
    const ex = moduleSource('const run = train({ net, params: w, x, y });', ['tf', 'fcn', 'train', 'run'], { context: true });
    assert.match(ex, /^import \{ tf, fcn, train \} from 'tangent-lab';$/m);
    assert.match(ex, /^const net = fcn\(/m);
    assert.match(ex, /^const w = net\.init\(0\);$/m);
    assert.doesNotMatch(ex, /^const run\b.*\n[\s\S]*^const run\b/m);
  });

  test('the README is at most 150 lines; every relative link of the README and the guides resolves, anchors included', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    assert.ok(readme.trimEnd().split('\n').length <= 150, `README.md has ${readme.trimEnd().split('\n').length} lines; expected at most 150 (details go to docs/guides/)`);
    // GitHub's heading anchors: lower case, punctuation dropped (letters, digits, '-', '_' and spaces kept), spaces to '-'.
    const slug = (h: string) => h.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');
    const anchors = (file: string) => new Set(readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '').split('\n').filter((l) => /^#+ /.test(l)).map((l) => slug(l.replace(/^#+ /, ''))));
    const bad: string[] = [];
    for (const f of guideFiles().concat('docs/guides/README.md').filter((x, i, a) => a.indexOf(x) === i)) {
      const text = readFileSync(join(root, f), 'utf8').replace(/^```[\s\S]*?^```/gm, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        const [path, hash] = target.split('#');
        const file = path ? join(root, dirname(f), path) : join(root, f);
        if (!existsSync(file)) bad.push(`${f}: ${target}: no such file`);
        else if (hash && file.endsWith('.md') && !anchors(file).has(hash)) bad.push(`${f}: ${target}: no heading with that anchor`);
      }
    }
    assert.deepEqual(bad, []);
  });

  test('every ts snippet of the README and the guides compiles and runs (notebook snippets in the kernel)', { timeout: 900_000 }, async () => {
    const all = guideFiles().flatMap((f) => snippets(f, readFileSync(join(root, f), 'utf8')));
    const count = (m: Snippet['mode']) => all.filter((s) => s.mode === m).length;
    console.log(`guides: ${guideFiles().length} files, ${count('node')} node snippets, ${count('notebook')} notebook snippets, ${count('skip')} not run (marked skip or plain js), ${count('file')} files`);
    assert.ok(count('node') >= 5, `only ${count('node')} runnable snippets found`);
    const dir = workDir('tangent-guides-');
    dirs.push(dir);
    for (const s of all.filter((x) => x.mode === 'file')) writeFileSync(join(dir, s.name as string), s.code);
    const units = all.filter((s) => s.mode === 'node').map((s, i) => ({ s, id: `${s.file.replace(/[^A-Za-z0-9]+/g, '_')}_${String(i).padStart(3, '0')}` }));
    for (const { s, id } of units) writeFileSync(join(dir, 'src', `${id}.ts`), moduleSource(s.code, rootNames()));
    const failures = await compileAndRun(dir, units.map(({ s, id }) => ({ id, where: `${s.file}:${s.line}` })));
    // Notebook snippets: one notebook per file, its snippets as cells, run by the runner in a fresh kernel.
    const nbFiles = [...new Set(all.filter((s) => s.mode === 'notebook').map((s) => s.file))];
    if (nbFiles.length) {
      const nbDir = join(dir, 'notebooks');
      mkdirSync(nbDir);
      for (const s of all.filter((x) => x.mode === 'file')) writeFileSync(join(nbDir, s.name as string), s.code);
      for (const f of nbFiles) {
        const cells = all.filter((s) => s.mode === 'notebook' && s.file === f).map((s) => s.code);
        writeFileSync(join(nbDir, `${f.replace(/[^A-Za-z0-9]+/g, '_')}.ipynb`), notebook(...cells));
      }
      const r = await reproduce(['--notebooks', nbDir, '--out', join(dir, 'reproduction'), '--profile', 'quick'], { ...process.env, TANGENT_RESULTS_DIR: join(dir, 'nb-results'), TANGENT_WORKERS: '2' });
      if (r.code !== 0) failures.push(`notebook snippets (${nbFiles.join(', ')}): the runner exited ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`);
    }
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });

  test("every root export's @example compiles and runs", { timeout: 600_000 }, async () => {
    const exports = rootExports().filter((e) => !e.namespace);
    const missing = exports.filter((e) => e.examples.length === 0 && /^[a-z]/.test(e.name)).map((e) => e.name);
    assert.deepEqual(missing, [], `root functions without an @example: ${missing.join(', ')}`);
    const dir = workDir('tangent-examples-');
    dirs.push(dir);
    const units = exports.flatMap((e) => e.examples.map((code, i) => ({ e, code, id: `${e.name}_${i}` })));
    for (const u of units) writeFileSync(join(dir, 'src', `${u.id}.ts`), moduleSource(u.code, rootNames(), { context: true }));
    console.log(`root examples: ${units.length} of ${exports.length} exports' (${exports.filter((e) => e.examples.length).length} with one)`);
    const failures = await compileAndRun(dir, units.map((u) => ({ id: u.id, where: `@example of ${u.e.name}` })));
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });

  test('npm run docs: TypeDoc builds the reference of the root and every layer without a warning', { timeout: 300_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'tangent-typedoc-'));
    dirs.push(out);
    const r = await run(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out], { cwd: root });
    const log = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    assert.equal(r.code, 0, log);
    assert.doesNotMatch(log, /\[(warning|error)\]/, log);
    assert.match(log, /typedoc-root-documented: \d+ root exports checked/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>; scripts: Record<string, string> };
    assert.equal(pkg.scripts.docs, 'typedoc');
    const modules = readFileSync(join(out, 'modules.html'), 'utf8');
    for (const sub of Object.keys(pkg.exports).filter((k) => k !== './package.json' && k !== '.')) {
      assert.match(modules, new RegExp(`>${sub.slice(2)}<`), `the reference has the layer ${sub}`);
    }
    assert.ok(existsSync(join(out, 'functions', 'tangentKernel.html')) || readdirSync(join(out, 'functions')).some((f) => /tangentKernel/.test(f)), 'a page for tangentKernel');
  });
  test('the docs build fails on a root export without a doc comment, a documented parameter or an example', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tangent-typedoc-fixture-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'index.ts'), [
      '/** Documented. @param a the number @example documented(1) */',
      'export function documented(a: number): number { return a; }',
      'export function bare(a: number): number { return a; }',
      '/** Half. @param a the number */',
      'export function noExample(a: number, b: number): number { return a + b; }',
      'export interface Undocumented { x: number }',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: [] }, include: ['lib'] }));
    const r = await run(process.execPath, [join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--tsconfig', join(dir, 'tsconfig.json'), '--entryPoints', join(dir, 'lib', 'index.ts'),
      '--plugin', join(root, 'scripts', 'typedoc-root-documented.mjs'), '--out', join(dir, 'out'), '--treatWarningsAsErrors', '--disableSources', '--readme', 'none', '--name', 'fixture'], { cwd: dir });
    const log = `${r.stdout}${r.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    assert.notEqual(r.code, 0, log);
    for (const m of ['root export bare: no doc comment', 'root export bare: no @example', "root export bare: parameter 'a' not documented", 'root export noExample: no @example', "root export noExample: parameter 'b' not documented", 'root export Undocumented: no doc comment']) assert.ok(log.includes(m), `${m} in\n${log}`);
    assert.doesNotMatch(log, /root export documented:/);
  });
});
