/**
 * The code of a function written in a notebook, as far as a result store key needs it. The project's kernel
 * (scripts/tslab-patches/notebook-code.mjs) records every cell it executes: its TypeScript source and its
 * compiled JavaScript. A function's key then covers
 * - its own source (`fn.toString()`: the compiled text of the cell it was written in),
 * - the top-level statements of executed cells that declare or assign a notebook name it mentions,
 *   transitively (a helper it calls, the constant that helper reads, the import that brought a module in),
 * - the modules those statements import by a relative path (their code fingerprint) or a package name,
 * - the current value of each such name that is plain data (a setter called from another cell changes it).
 *
 * Names are found by an identifier scan: every word of the source that names a notebook declaration counts,
 * property names and words in strings and comments included. That over-approximates (a cell that declares
 * `width` is covered when the function reads `p.width`) and never misses a reference written in the source.
 * A name resolves to the latest statement that declared or assigned it (what the function reads when it is
 * called); for a statement that reads a name as it runs (any statement but one that only defines functions),
 * also to the latest one before that statement ran (`const f = make(lr)` captured the `lr` of then). A statement's
 * text is keyed exactly as written (from its first token; comments above it are not part of it), so
 * editing a comment or the layout inside a covered declaration recomputes, and re-executing a cell with the
 * same text, or executing cells that declare nothing the function mentions (plots, prints), reuses.
 *
 * What no scan can see: a variable a function captured from an enclosing function scope (`make('relu')`
 * returns `(p) => train(act, p)`). When the function mentions such a name and no notebook variable holds
 * the function, the whole cell that calls the store is keyed too (`callingCell` in the summary).
 * Mutations of a notebook object other than assignments and the usual mutating methods (`push`, `set`,
 * `Object.assign`, …) are covered only through the value of plain data.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TS from 'typescript';
import { canonicalJson } from '../core/canonical-json.js';
import { importSpecifiers, moduleFingerprint, packageVersionOf } from './fingerprint.js';

/** What the kernel patch keeps in `globalThis[Symbol.for('tangent-lab.notebook')]`. */
export interface NotebookRegistry {
  version: number;
  /** Every cell that compiled and ran, in execution order (a re-executed cell appears again). */
  cells: { source: string; compiled: string }[];
  /** sha256 of the text each CommonJS file was compiled from, by absolute path, when this kernel loaded it. */
  loaded: Map<string, string>;
  /** The notebook's variables (tslab's `exports`). */
  locals: Record<string, unknown>;
  /** The TypeScript module that compiled the cells (a `typeof import('typescript')`). */
  ts: unknown;
}

export const NOTEBOOK_REGISTRY = Symbol.for('tangent-lab.notebook');

/** The registry of the kernel this process is, or undefined outside a notebook. */
export function notebookRegistry(): NotebookRegistry | undefined {
  const r = (globalThis as Record<symbol, unknown>)[NOTEBOOK_REGISTRY] as NotebookRegistry | undefined;
  return r && Array.isArray(r.cells) ? r : undefined;
}

const WORD = /[A-Za-z_$\u00C0-\uFFFF][\w$\u00C0-\uFFFF]*/gu;

/** Every identifier-like word of a source text (strings, comments and property names included: see the header). */
export function identifierWords(text: string): Set<string> {
  if (typeof text !== 'string') throw new Error(`identifierWords: text = ${JSON.stringify(text)}; expected a string`);
  return new Set(text.match(WORD) ?? []);
}

/** One top-level statement of a cell. */
export interface CellStatement {
  /** The statement's source, from its first token. */
  text: string;
  /** Names it declares (`const`, `function`, `class`, `import`, …). */
  declares: string[];
  /** Names it assigns or mutates without declaring them (`lr = 2`, `cfg.act = 'relu'`, `log.push(x)`). */
  assigns: string[];
  /**
   * It only defines functions (`function h() {}`, `const f = (p) => …`): what they read is read when they
   * are called, not when the statement ran. Any other statement may read names as it runs (`make(lr)`,
   * `xs.map((x) => x * lr)`).
   */
  deferred: boolean;
}

const MUTATORS = new Set(['push', 'pop', 'shift', 'unshift', 'splice', 'sort', 'reverse', 'fill', 'copyWithin', 'set', 'delete', 'clear', 'add']);

function bindingNames(ts: typeof TS, name: TS.BindingName, out: Set<string>): void {
  if (ts.isIdentifier(name)) out.add(name.text);
  else for (const e of name.elements) if (!ts.isOmittedExpression(e)) bindingNames(ts, e.name, out);
}

/** The variable an assignment target writes into: `a` of `a`, `a.b[c]`, and every name of a destructuring pattern. */
function targetRoots(ts: typeof TS, e: TS.Expression, out: Set<string>): void {
  if (ts.isIdentifier(e)) out.add(e.text);
  else if (ts.isParenthesizedExpression(e) || ts.isNonNullExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e)) targetRoots(ts, e.expression, out);
  else if (ts.isPropertyAccessExpression(e) || ts.isElementAccessExpression(e)) targetRoots(ts, e.expression, out);
  else if (ts.isArrayLiteralExpression(e)) for (const x of e.elements) targetRoots(ts, ts.isSpreadElement(x) ? x.expression : x, out);
  else if (ts.isObjectLiteralExpression(e)) {
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p)) targetRoots(ts, p.initializer, out);
      else if (ts.isShorthandPropertyAssignment(p)) out.add(p.name.text);
      else if (ts.isSpreadAssignment(p)) targetRoots(ts, p.expression, out);
    }
  } else if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) targetRoots(ts, e.left, out);
}

function isAssignment(ts: typeof TS, kind: TS.SyntaxKind): boolean {
  return kind >= ts.SyntaxKind.FirstAssignment && kind <= ts.SyntaxKind.LastAssignment;
}

/** Names a statement writes anywhere inside it (in nested functions too: over-approximation). */
function assignedNames(ts: typeof TS, root: TS.Node): Set<string> {
  const out = new Set<string>();
  const visit = (n: TS.Node): void => {
    if (ts.isBinaryExpression(n) && isAssignment(ts, n.operatorToken.kind)) targetRoots(ts, n.left, out);
    else if ((ts.isPrefixUnaryExpression(n) || ts.isPostfixUnaryExpression(n)) && (n.operator === ts.SyntaxKind.PlusPlusToken || n.operator === ts.SyntaxKind.MinusMinusToken)) targetRoots(ts, n.operand, out);
    else if (ts.isDeleteExpression(n)) targetRoots(ts, n.expression, out);
    else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression)) {
      const callee = n.expression;
      if (MUTATORS.has(callee.name.text)) targetRoots(ts, callee.expression, out);
      // Object.assign(target, …) and Object.defineProperty(target, …) write into their first argument.
      if (ts.isIdentifier(callee.expression) && callee.expression.text === 'Object' && /^(assign|defineProperty|defineProperties|setPrototypeOf)$/.test(callee.name.text) && n.arguments[0]) targetRoots(ts, n.arguments[0], out);
    }
    ts.forEachChild(n, visit);
  };
  visit(root);
  return out;
}

function declaredNames(ts: typeof TS, s: TS.Statement): Set<string> {
  const out = new Set<string>();
  if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bindingNames(ts, d.name, out);
  else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) out.add(s.name.text);
  else if (ts.isEnumDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isImportEqualsDeclaration(s)) out.add(s.name.text);
  else if (ts.isModuleDeclaration(s) && ts.isIdentifier(s.name)) out.add(s.name.text);
  else if (ts.isImportDeclaration(s) && s.importClause) {
    const c = s.importClause;
    if (c.name) out.add(c.name.text);
    if (c.namedBindings && ts.isNamespaceImport(c.namedBindings)) out.add(c.namedBindings.name.text);
    else if (c.namedBindings) for (const e of c.namedBindings.elements) out.add(e.name.text);
  }
  return out;
}

function asTs(ts: unknown): typeof TS {
  const t = ts as typeof TS;
  if (!t || typeof t.createSourceFile !== 'function') throw new Error(`notebook code: ts = ${typeof ts}; expected the TypeScript module (the kernel patch passes tslab's)`);
  return t;
}

/**
 * The top-level statements of a cell's TypeScript source, each with the names it declares and assigns.
 *
 * @param ts the TypeScript module (`import ts from 'typescript'`; in the kernel, the registry's `ts`)
 * @param source one cell's source
 * @example cellStatements(ts, 'const lr = 0.1;\nlr = 2;')  // [{ text: 'const lr = 0.1;', declares: ['lr'], assigns: [] }, { text: 'lr = 2;', declares: [], assigns: ['lr'] }]
 */
export function cellStatements(ts: unknown, source: string): CellStatement[] {
  const t = asTs(ts);
  if (typeof source !== 'string') throw new Error(`cellStatements: source = ${JSON.stringify(source)}; expected a cell's source text`);
  const sf = t.createSourceFile('cell.ts', source, t.ScriptTarget.ES2022, true, t.ScriptKind.TS);
  return sf.statements.map((s) => {
    const declares = declaredNames(t, s);
    const assigns = [...assignedNames(t, s)].filter((n) => !declares.has(n));
    const isFunction = (e: TS.Expression | undefined): boolean => !!e && (t.isArrowFunction(e) || t.isFunctionExpression(e) || ((t.isParenthesizedExpression(e) || t.isAsExpression(e) || t.isSatisfiesExpression(e)) && isFunction(e.expression)));
    const deferred = t.isFunctionDeclaration(s) || (t.isVariableStatement(s) && s.declarationList.declarations.every((d) => isFunction(d.initializer)));
    return { text: s.getText(sf), declares: [...declares].sort(), assigns: assigns.sort(), deferred };
  });
}

/**
 * Names a function's source reads but does not bind itself (parameters, locals, inner functions), or
 * undefined when its text does not parse as a function expression (a method's shorthand text).
 */
export function freeNames(ts: unknown, fnText: string): Set<string> | undefined {
  const t = asTs(ts);
  const sf = t.createSourceFile('fn.ts', `(${fnText});`, t.ScriptTarget.ES2022, true, t.ScriptKind.JS);
  const diagnostics = (sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics;
  if (diagnostics && diagnostics.length > 0) return undefined;
  const bound = new Set<string>();
  const used = new Set<string>();
  const visit = (n: TS.Node): void => {
    if (t.isParameter(n) || t.isVariableDeclaration(n) || t.isBindingElement(n)) {
      if (t.isIdentifier(n.name)) bound.add(n.name.text);
      else bindingNames(t, n.name, bound);
    } else if ((t.isFunctionDeclaration(n) || t.isFunctionExpression(n) || t.isClassDeclaration(n) || t.isClassExpression(n)) && n.name) bound.add(n.name.text);
    else if (t.isIdentifier(n)) {
      const p = n.parent;
      const isName =
        (t.isPropertyAccessExpression(p) && p.name === n) ||
        ((t.isPropertyAssignment(p) || t.isMethodDeclaration(p) || t.isPropertyDeclaration(p) || t.isGetAccessor(p) || t.isSetAccessor(p)) && p.name === n) ||
        (t.isBindingElement(p) && p.propertyName === n) ||
        t.isLabeledStatement(p) || t.isBreakOrContinueStatement(p);
      if (!isName) used.add(n.text);
    }
    t.forEachChild(n, visit);
  };
  visit(sf);
  return new Set([...used].filter((n) => !bound.has(n)));
}

interface Stmt extends CellStatement {
  seq: number;
  cell: number;
  /** The parsed statement this one is a copy of (shared by every resolution). */
  source: CellStatement;
}

const parsed = new WeakMap<object, CellStatement[]>();
function statementsOf(registry: NotebookRegistry): Stmt[] {
  const out: Stmt[] = [];
  registry.cells.forEach((cell, i) => {
    let list = parsed.get(cell);
    if (!list) {
      list = cellStatements(registry.ts, cell.source);
      parsed.set(cell, list);
    }
    for (const s of list) out.push({ ...s, seq: out.length, cell: i, source: s });
  });
  return out;
}

// Free names that need no notebook statement: the cell wrapper's parameters and what JavaScript provides.
const WRAPPER = new Set(['exports', 'require', 'module', '__filename', '__dirname', 'arguments', 'this', 'undefined', 'NaN', 'Infinity', 'globalThis', 'super']);

/** A module a covered statement imports, relative to the notebook's folder (the kernel's working directory). */
function resolveUserModule(spec: string, fromDir: string): string | undefined {
  const base = spec.startsWith('file:') ? fileURLToPath(spec) : isAbsolute(spec) ? spec : resolve(fromDir, spec.split(/[?#]/)[0]);
  const stem = base.replace(/\.(c|m)?js$/, '');
  for (const p of [base, `${base}.js`, `${base}.cjs`, `${base}.mjs`, `${stem}.ts`, `${stem}.tsx`, `${stem}.cts`, `${stem}.mts`, join(base, 'index.js'), join(base, 'index.ts')]) {
    if (existsSync(p) && statSync(p).isFile()) return p;
  }
  return undefined;
}

// The text of each TypeScript module beside the notebook when this kernel (re)compiled it: tslab emits it as
// `<name>.js` in the notebook's folder and the patch hashes that output when it is compiled, so a new output
// hash means tslab recompiled the module (a cell imported it again) and the snapshot is renewed. The first
// snapshot is taken at the first key that covers the module (an edit between its import and that key is
// not seen).
const sideModules = new Map<string, { sha: string; compiled: string | undefined }>();
function sideModuleChanged(registry: NotebookRegistry, path: string, sha: string): boolean {
  const compiled = registry.loaded.get(path.replace(/\.(c|m)?tsx?$/, (_m, k: string | undefined) => `.${k ?? ''}js`));
  const seen = sideModules.get(path);
  if (!seen || seen.compiled !== compiled) {
    sideModules.set(path, { sha, compiled });
    return false;
  }
  return seen.sha !== sha;
}

/** Plain data of at most this many characters of canonical JSON is keyed by value. */
const MAX_VALUE_CHARS = 100_000;

function plainValue(v: unknown): string | undefined {
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  // Too large to key by value cheaply (its declaring statements are keyed).
  if ((ArrayBuffer.isView(v) && v.byteLength > 4 * MAX_VALUE_CHARS) || (Array.isArray(v) && v.length > MAX_VALUE_CHARS / 2)) return undefined;
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  try {
    const text = canonicalJson(v);
    return text.length <= MAX_VALUE_CHARS ? text : undefined;
  } catch {
    return undefined; // not plain data (a tensor, a class instance): its declaring statements are keyed instead
  }
}

/** What a notebook function's key covers (stored in the entry's meta as `notebook`). */
export interface NotebookCode {
  /** sha256 over everything below and the texts of the statements. */
  fingerprint: string;
  /** The function was written in an executed cell (its text is part of a cell's compiled output). */
  definedInNotebook: boolean;
  /** Notebook names whose declaring or assigning statements are covered (sorted). */
  declarations: string[];
  /** Distinct statement texts covered. */
  statements: number;
  /** Names keyed by their current value (plain data). */
  values: string[];
  /** Modules imported by covered statements: `path` (relative to the notebook folder) or `name@version`. */
  modules: string[];
  /** Names the function reads that no notebook statement declares and JavaScript does not provide. */
  unresolved: string[];
  /** The whole cell that called the store is covered (because of `unresolved`; see the header). */
  callingCell: boolean;
  /** Absolute paths of the user's module files covered (for the changed-on-disk check). */
  files: string[];
  /** Covered user files changed on disk since this kernel loaded them. */
  changedSinceLoad: string[];
}

/**
 * The notebook code a function's results are keyed by (see the header).
 *
 * @param fn the function a sweep or cachedRun computes with
 * @param registry the kernel's record of executed cells (default: this process's; throws outside a notebook)
 * @param cwd the notebook's folder, against which relative imports resolve (default: the kernel's working directory)
 * @example notebookCode((p: { lr: number }) => train(net, p.lr)).declarations  // ['net', 'train'] in a notebook that declared them
 */
export function notebookCode(fn: (...args: never[]) => unknown, registry: NotebookRegistry | undefined = notebookRegistry(), cwd: string = process.cwd()): NotebookCode {
  if (typeof fn !== 'function') throw new Error(`notebookCode: fn = ${String(fn)}; expected the function that computes the result`);
  if (!registry) throw new Error('notebookCode: registry = undefined; expected to run in a notebook of the tangent-lab kernel (scripts/tslab-patches/notebook-code.mjs records its cells)');
  const fnText = Function.prototype.toString.call(fn);
  // A sweep asks once per point: what the cells cover changes only when a cell runs.
  let memo = coverages.get(fn);
  if (!memo || memo.registry !== registry || memo.cells !== registry.cells.length) {
    memo = { registry, cells: registry.cells.length, coverage: coverage(fn, fnText, registry) };
    coverages.set(fn, memo);
  }
  return keyOf(fnText, registry, cwd, memo.coverage);
}

interface Coverage {
  covered: Stmt[];
  /** The distinct texts of `covered`, sorted, and the module specifiers they name. */
  texts: string[];
  specs: string[];
  names: string[];
  missing: string[];
  callingCell: boolean;
  home: number;
}

const coverages = new WeakMap<object, { registry: NotebookRegistry; cells: number; coverage: Coverage }>();
const words = new WeakMap<CellStatement, Set<string>>();
function wordsOf(s: Stmt): Set<string> {
  let w = words.get(s.source);
  if (!w) {
    w = identifierWords(s.text);
    words.set(s.source, w);
  }
  return w;
}

/** The statements a function's key covers: its references resolved against the executed cells, transitively. */
function coverage(fn: (...args: never[]) => unknown, fnText: string, registry: NotebookRegistry): Coverage {
  const stmts = statementsOf(registry);
  const byName = new Map<string, Stmt[]>();
  for (const s of stmts) for (const n of [...s.declares, ...s.assigns]) (byName.get(n) ?? byName.set(n, []).get(n)!).push(s);
  const latest = (name: string, before = Infinity): Stmt | undefined => {
    const list = byName.get(name);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i].seq < before) return list[i];
    return undefined;
  };
  const covered = new Map<number, Stmt>();
  const names = new Set<string>();
  const queue: Stmt[] = [];
  const add = (s: Stmt | undefined) => {
    if (s && !covered.has(s.seq)) {
      covered.set(s.seq, s);
      queue.push(s);
    }
  };
  const reference = (word: string, from?: Stmt) => {
    if (!byName.has(word)) return;
    names.add(word);
    add(latest(word));
    // What a statement read when it ran; its own declarations are its own bindings.
    if (from && !from.deferred && !from.declares.includes(word)) add(latest(word, from.seq));
  };
  // The notebook variables that hold the function (`sweep(grid, f)`, or an import of it).
  const holders = Object.keys(registry.locals).filter((k) => registry.locals[k] === fn);
  for (const w of [...identifierWords(fnText), ...holders]) reference(w);
  let home = registry.cells.length - 1;
  while (home >= 0 && !registry.cells[home].compiled.includes(fnText)) home--;
  const free = freeNames(registry.ts, fnText);
  const unresolved = free === undefined ? ['(unparsed source)'] : [...free].filter((n) => !byName.has(n) && !WRAPPER.has(n) && !(n in globalThis)).sort();
  // An import alias of the function's own cell (`tangent_lab_1` of `import { train } from 'tangent-lab'`): its imports.
  const importAlias = (n: string) => home >= 0 && /_\d+$/.test(n) && new RegExp(`\\b${n.replace(/\$/g, '\\$')} = `).test(registry.cells[home].compiled);
  const aliases = unresolved.filter(importAlias);
  for (const s of stmts) if (aliases.length && s.cell === home && /^import\b/.test(s.text)) add(s);
  const missing = unresolved.filter((n) => !aliases.includes(n));
  const callingCell = missing.length > 0 && holders.length === 0 && registry.cells.length > 0;
  if (callingCell) for (const s of stmts) if (s.cell === registry.cells.length - 1) add(s);
  for (let s = queue.shift(); s; s = queue.shift()) for (const w of wordsOf(s)) reference(w, s);
  const list = [...covered.values()];
  const texts = [...new Set(list.map((s) => s.text))].sort();
  const specs = [...new Set(texts.flatMap((t) => importSpecifiers(t)))].sort();
  return { covered: list, texts, specs, names: [...names], missing, callingCell, home };
}

/** The key of a function's coverage: the statements' texts, the modules they import, the values of plain data. */
function keyOf(fnText: string, registry: NotebookRegistry, cwd: string, { covered, texts, specs, names, missing, callingCell, home }: Coverage): NotebookCode {
  const modules = new Map<string, string>();
  const files = new Set<string>();
  const changed = new Set<string>();
  {
    for (const spec of specs) {
      if (spec.startsWith('node:') || spec === 'tslab') continue;
      if (/^(\.|\/|file:)/.test(spec)) {
        const path = resolveUserModule(spec, cwd);
        if (!path) {
          modules.set(spec, `${spec} (not found)`);
          continue;
        }
        const label = path.startsWith(cwd) ? path.slice(cwd.length + 1) : path;
        if (/\.(c|m)?js$/.test(path)) {
          const fp = moduleFingerprint(path);
          modules.set(label, `${label} ${fp.fingerprint}`);
          for (const f of fp.absoluteFiles) files.add(f);
          for (const f of fp.changedSinceLoad) changed.add(f);
        } else {
          // A TypeScript module tslab compiles beside the cells: keyed by its text.
          const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
          modules.set(label, `${label} sha256:${sha}`);
          files.add(path);
          if (sideModuleChanged(registry, path, sha)) changed.add(label);
        }
      } else if (!/^tangent-lab(\/|$)/.test(spec)) {
        const pkg = packageVersionOf(spec, cwd);
        modules.set(pkg, pkg);
      }
    }
  }
  const values: string[] = [];
  const lines: string[] = [`function ${fnText}`];
  for (const n of [...names].sort()) {
    const v = n in registry.locals ? plainValue(registry.locals[n]) : undefined;
    if (v !== undefined) {
      values.push(n);
      lines.push(`value ${n} ${v}`);
    }
  }
  for (const t of texts) lines.push(`statement ${JSON.stringify(t)}`);
  for (const m of [...modules.values()].sort()) lines.push(`module ${m}`);
  const declarations = new Set<string>();
  const named = new Set(names);
  for (const s of covered) for (const n of [...s.declares, ...s.assigns]) if (named.has(n)) declarations.add(n);
  return {
    fingerprint: `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`,
    definedInNotebook: home >= 0,
    declarations: [...declarations].sort(),
    statements: texts.length,
    values,
    modules: [...modules.keys()].sort(),
    unresolved: missing,
    callingCell,
    files: [...files].sort(),
    changedSinceLoad: [...changed].sort(),
  };
}
