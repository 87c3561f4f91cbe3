// Snippets of the README and the guides, and the root exports' @example blocks, as modules that compile against
// the built library and run with node (test/guides.test.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { root, run } from './kernel-support.js';

export interface Snippet {
  /** File and 1-based line of the opening fence. */
  file: string;
  line: number;
  mode: 'node' | 'notebook' | 'skip' | 'file';
  /** For mode 'file': the file name to write. */
  name?: string;
  code: string;
}

/** The fenced ts/js blocks of a markdown text (other languages are prose: sh, text, json, ...). */
export function snippets(file: string, markdown: string): Snippet[] {
  const out: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|typescript|js|javascript)\b\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    assert.ok(end > i, `${file}:${i + 1}: unclosed code fence`);
    const code = lines.slice(i + 1, end).join('\n');
    const info = open[2].trim();
    const fileName = /(?:^|\s)file=(\S+)/.exec(info)?.[1];
    const mode: Snippet['mode'] = fileName ? 'file' : /(^|\s)skip\b/.test(info) ? 'skip' : /(^|\s)notebook\b/.test(info) ? 'notebook' : open[1].startsWith('j') ? 'skip' : 'node';
    out.push({ file, line: i + 1, mode, name: fileName, code });
    i = end;
  }
  return out;
}

/** The README and the guides, relative to the project root. */
export function guideFiles(): string[] {
  const guides = existsSync(join(root, 'docs', 'guides')) ? readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/guides/${f}`) : [];
  return ['README.md', ...(existsSync(join(root, 'docs', 'experiments.md')) ? ['docs/experiments.md'] : []), ...guides];
}

const ROOT_NAMES_CACHE: { names?: string[] } = {};

/** Names exported by the library root (lib/index.ts), namespaces included, and each one's @example blocks. */
export function rootExports(): { name: string; examples: string[]; namespace: boolean }[] {
  const program = ts.createProgram([join(root, 'lib', 'index.ts')], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(join(root, 'lib', 'index.ts'));
  assert.ok(source, 'lib/index.ts in the program');
  const moduleSymbol = checker.getSymbolAtLocation(source);
  assert.ok(moduleSymbol, 'lib/index.ts is a module');
  return checker.getExportsOfModule(moduleSymbol).map((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const namespace = Boolean(target.flags & ts.SymbolFlags.ValueModule) || Boolean(target.flags & ts.SymbolFlags.NamespaceModule);
    const examples: string[] = [];
    for (const d of target.declarations ?? []) {
      for (const tag of ts.getJSDocTags(d)) {
        if (tag.tagName.text !== 'example') continue;
        const text = typeof tag.comment === 'string' ? tag.comment : ts.getTextOfJSDocComment(tag.comment) ?? '';
        examples.push(text.replace(/^```\w*\n?|```\s*$/g, '').trim());
      }
    }
    return { name: s.name, examples: [...new Set(examples)], namespace };
  });
}

export function rootNames(): string[] {
  ROOT_NAMES_CACHE.names ??= rootExports().map((e) => e.name);
  return ROOT_NAMES_CACHE.names;
}

/** Names a snippet declares at its top level (variables, destructured or not, functions, classes, imports). */
export function declaredNames(code: string): Set<string> {
  const sf = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out = new Set<string>();
  const bind = (n: ts.BindingName): void => {
    if (ts.isIdentifier(n)) out.add(n.text);
    else for (const e of n.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) out.add(st.name.text);
    else if (ts.isImportDeclaration(st) && st.importClause) {
      if (st.importClause.name) out.add(st.importClause.name.text);
      const nb = st.importClause.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) out.add(nb.name.text);
      else if (nb) for (const e of nb.elements) out.add(e.name.text);
    }
  }
  return out;
}

/** Identifiers a snippet reads (not property names, not comments, not the names it declares). */
export function referencedNames(code: string): Set<string> {
  const sf = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n)) {
      const p = n.parent;
      const isName = (ts.isPropertyAccessExpression(p) && p.name === n) || (ts.isPropertyAssignment(p) && p.name === n) || (ts.isBindingElement(p) && p.propertyName === n)
        || ((ts.isVariableDeclaration(p) || ts.isFunctionDeclaration(p) || ts.isParameter(p) || ts.isBindingElement(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isImportSpecifier(p) || ts.isQualifiedName(p)) && (p as { name?: ts.Node }).name === n);
      if (!isName) out.add(n.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/**
 * The context a doc-comment @example may use without declaring it (hover text stays short): a small tanh
 * network `net` on one input dimension, its parameters `w` (= `w0` = `params`), inputs `x` [3, 1] and
 * targets `y` [3, 1]. Guides get none: their snippets are written to be copied whole.
 */
export const EXAMPLE_CONTEXT: Record<string, string> = {
  net: "const net = fcn({ widths: [1, 32, 1], activation: 'tanh' });",
  w: 'const w = net.init(0);',
  w0: 'const w0 = net.init(0);',
  params: 'const params = net.init(0);',
  x: 'const x = tf.tensor2d([[0.5], [1.0], [-2.0]]);',
  y: 'const y = tf.ones([3, 1]);',
};

/**
 * A runnable module from a snippet: the library's backend selected first (as a notebook's first cell does); when
 * it imports nothing from 'tangent-lab' itself (a doc-comment example), the root names it uses are imported and,
 * with `context`, the EXAMPLE_CONTEXT names it uses without declaring them are declared.
 */
export function moduleSource(code: string, names: string[], { context = false } = {}): string {
  const declared = declaredNames(code);
  const reads = referencedNames(code);
  const selfImporting = /^\s*import\s[^;]*from\s+'tangent-lab'/m.test(code);
  const ctx = context && !selfImporting ? Object.keys(EXAMPLE_CONTEXT).filter((k) => !declared.has(k) && reads.has(k)) : [];
  // w, w0 and params are parameters of the context's net: never of a net the example declares itself.
  if (ctx.some((k) => k === 'w' || k === 'w0' || k === 'params') && !declared.has('net') && !ctx.includes('net')) ctx.unshift('net');
  const prelude = ctx.filter((k) => !(declared.has('net') && (k === 'w' || k === 'w0' || k === 'params'))).map((k) => EXAMPLE_CONTEXT[k]).join('\n');
  const preludeReads = prelude ? referencedNames(prelude) : new Set<string>();
  const imported = selfImporting ? [] : names.filter((n) => !declared.has(n) && (reads.has(n) || preludeReads.has(n)));
  const imports = imported.length ? `import { ${imported.join(', ')} } from 'tangent-lab';\n` : '';
  return `${imports}import { initBackend as __initBackend } from 'tangent-lab';\nawait __initBackend();\n${prelude ? `${prelude}\n` : ''}${code}\nexport {};\n`;
}

/** A scratch folder that resolves 'tangent-lab' and the project's packages, with a tsconfig for the snippets. */
export function workDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', lib: ['ES2022'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'], outDir: 'out', rootDir: 'src' }, include: ['src/**/*.ts'] }));
  mkdirSync(join(dir, 'src'));
  return dir;
}

/** Compiles every src/*.ts of `dir` (one tsc run) and runs each out/*.js with node, in order; returns failures. */
export async function compileAndRun(dir: string, units: { id: string; where: string }[]): Promise<string[]> {
  const tsc = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir });
  if (tsc.code !== 0) {
    const byUnit = units.map((u) => ({ u, errors: tsc.stdout.split('\n').filter((l) => l.includes(`src/${u.id}.ts`)) })).filter((e) => e.errors.length);
    return byUnit.length ? byUnit.map(({ u, errors }) => `${u.where}: does not compile:\n${errors.join('\n')}`) : [`tsc failed:\n${tsc.stdout}${tsc.stderr}`];
  }
  // One node process imports the snippets in turn (loading tfjs and its backend once, not per snippet); a
  // snippet that throws is reported with its error, and the others still run.
  const env = { ...process.env, TANGENT_PROFILE: 'quick', TANGENT_RESULTS_DIR: join(dir, 'results'), TANGENT_WORKERS: '1' };
  writeFileSync(join(dir, 'run-all.mjs'), `const units = ${JSON.stringify(units.map((u) => u.id))};
const failed = {};
for (const id of units) {
  try { await import('./out/' + id + '.js'); } catch (e) { failed[id] = String(e && e.stack || e).split('\\n').slice(0, 12).join('\\n'); }
}
process.stdout.write('\\n@@RESULT ' + JSON.stringify(failed) + '\\n');
process.exit(0);
`);
  const r = await run(process.execPath, [join(dir, 'run-all.mjs')], { cwd: dir, env });
  const line = r.stdout.split('\n').find((l) => l.startsWith('@@RESULT '));
  if (!line) return [`the snippets' process ended without a result (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-3000)}`];
  const failed = JSON.parse(line.slice('@@RESULT '.length)) as Record<string, string>;
  const failures = units.filter((u) => failed[u.id]).map((u) => `${u.where}: ${failed[u.id]}`);
  return failures;
}

