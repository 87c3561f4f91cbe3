import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import ts from 'typescript';

/**
 * Nothing of thesis 003 Ch.4 and App. C is silently missing (issue 32): every figure panel and table row is either
 * claimed (a checkClaim) or declared (a notAttempted with a reason) by the Ch.4 notebooks at the quick profile.
 *
 * The records are read statically from the notebooks' code cells (the notebooks are not run here): each
 * checkClaim / notAttempted call's `id` and `figure` are evaluated from literals, templates, `cond ? a : b`,
 * `const` objects spread into the call, `for (const x of [literal array])` loops and `byProfile({ quick, … })`
 * (its quick value: the quick report is what `npm test` checks). A call whose id or figure cannot be evaluated
 * fails the test, so a claim cannot hide behind an expression the reader here does not follow.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A panel of the thesis: `ref` is its figure ('4.8', 'C.16') or table ('T4.2'); `token`, when set, must occur in the
 * id of the record that covers it (a regular expression naming a variant of a figure: 'cnn', 'rank3', 'svhn'). A panel without a token is
 * covered by any record of its figure whose id carries none of its siblings' tokens.
 * Listed from the thesis' captions (T:L945–L1195, T:L3229–L3415) and the audit's per-panel table.
 */
interface Panel { ref: string; token?: string; what: string }
const p = (ref: string, what: string, token?: string): Panel => ({ ref, what, token });

const THESIS_PANELS: Panel[] = [
  p('4.2', 'an illustration of the catapult (= 4.3a)'),
  p('4.3', '(a) 5-layer FCN: the spike in the top eigenspace'),
  p('4.3', '(b) 5-layer CNN', 'cnn'),
  p('4.4', 'FCN: multiple catapults with raised learning rates'),
  p('4.4', 'CNN', 'cnn'),
  p('4.5', 'spikes exactly when x* is sampled'),
  p('4.6', '(a, b) shallow net: batch critical rates, loss split'),
  p('T4.1', 'alignment and test loss by batch size'),
  p('T4.2', 'match rate, shallow network', 'shallow'),
  p('T4.2', 'match rate, 5-layer FCN', 'fcn'),
  p('T4.2', 'match rate, 5-layer CNN', 'cnn'),
  p('4.7', '(a) 5-layer FCN'),
  p('4.7', '(b) 5-layer CNN', 'cnn'),
  p('4.7', '(c) WRN 10-10', 'wrn'),
  p('4.7', '(d) ViT-4', 'vit'),
  ...(['4.8', '4.9', '4.10', 'C.13', 'C.18', 'C.19', 'C.20'] as const).flatMap((ref) => [
    p(ref, '(a) rank-2', 'rank2'),
    p(ref, '(b) rank-3', 'rank3'),
    p(ref, '(c) SVHN', 'svhn'),
    p(ref, '(d) CelebA', 'celeba'),
  ]),
  p('4.11', '(a) rank-2', 'rank2'),
  p('4.11', '(b) rank-3 (rank-4 beside it at the quick profile)', 'rank[34]'),
  p('4.11', '(c) SVHN', 'svhn'),
  p('4.11', '(d) CelebA', 'celeba'),
  p('C.1', 'shallow network', 'shallow'),
  p('C.1', '5-layer FCN', 'fcn'),
  p('C.1', '5-layer CNN', 'cnn'),
  p('C.2', '(a) FCN'),
  p('C.2', '(b) CNN', 'cnn'),
  p('C.3', '(a, b) FCN'),
  p('C.3', '(c, d) CNN', 'cnn'),
  p('C.4', '(a, b) FCN on the synthetic task'),
  p('C.4', '(c, d) WRN 10-10', 'wrn'),
  p('C.5', '(a, b) FCN'),
  p('C.5', '(c, d) CNN', 'cnn'),
  p('C.6', 'FCN'),
  p('C.6', 'CNN', 'cnn'),
  p('C.7', 'FCN'),
  p('C.7', 'CNN', 'cnn'),
  p('C.8', 'WRN 10-10', 'wrn'),
  p('C.8', 'ViT-4', 'vit'),
  ...(['C.9', 'C.10'] as const).flatMap((ref) => [p(ref, '5-layer FCN'), p(ref, '5-layer CNN', 'cnn'), p(ref, 'WRN 10-10', 'wrn'), p(ref, 'ViT-4', 'vit')]),
  p('C.11', '(a) 5-layer FCN, 5000 points'),
  p('C.11', '(b) 5-layer CNN, 5000 points', 'cnn'),
  p('C.11', '(c) Myrtle-5, 10 classes', 'myrtle'),
  p('C.12', 'cyclical learning rate'),
  p('C.14', '(a) 2-layer FCN, rank-2', 'rank2'),
  p('C.14', '(b) 4-layer FCN, rank-3', 'rank3'),
  p('C.14', '(c) CNN, SVHN', 'svhn'),
  p('C.14', '(d) 4-layer FCN, CelebA', 'celeba'),
  p('C.15', 'the AGOP images of the rank-2 task'),
  p('C.16', 'rank-4', 'rank4'),
  p('C.16', 'USPS', 'usps'),
  p('C.16', 'Fashion-MNIST', 'fmnist'),
  p('C.17', 'full-rank target (negative control)'),
  p('C.21', 'rank-4', 'rank4'),
  p('C.21', 'USPS', 'usps'),
  p('C.21', 'Fashion-MNIST', 'fmnist'),
  p('C.22', 'rank-2', 'rank2'),
  p('C.22', 'rank-4', 'rank4'),
  p('C.23', '(a) rank-2', 'rank2'),
  p('C.23', '(b) rank-3', 'rank3'),
];

/** Figures and tables of Ch.4 / App. C that are not experiments, with the reason they need no record. */
const NOT_EXPERIMENTS: Record<string, string> = {
  '4.1': 'an image from Wikipedia (T:L933)',
  'TC.1': "the learning-rate inputs of Fig 4.11 (T:L3477), used verbatim by 003_ch4_agop_optimizers",
};

const CH4_NOTEBOOKS = readdirSync(join(root, 'notebooks')).filter((f) => /^003_ch4_.*\.ipynb$/.test(f)).sort();

/** The figure and table references in a claim's `figure` label: 'Fig 4.2 / C.4(a)' → ['4.2', 'C.4']; 'Table 4.2' → ['T4.2']. */
export function figureRefs(label: string): string[] {
  return [...label.matchAll(/(Table\s+)?(C\.\d+|\d+\.\d+)/g)].map((m) => `${m[1] ? 'T' : ''}${m[2]}`);
}

interface NotebookRecord { notebook: string; kind: 'claim' | 'not-attempted'; id: string; figure: string }

const UNRESOLVED = Symbol('unresolved');
type Value = string | number | boolean | Value[] | { [k: string]: Value } | typeof UNRESOLVED;

/** Static records of a notebook's code cells (see the file comment for what is evaluated). */
function notebookRecords(file: string): { records: NotebookRecord[]; unresolved: string[] } {
  const nb = JSON.parse(readFileSync(join(root, 'notebooks', file), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
  const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n;\n');
  const sf = ts.createSourceFile(file, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const records: NotebookRecord[] = [];
  const unresolved: string[] = [];

  const findConst = (from: ts.Node, name: string): ts.Expression | undefined => {
    for (let n: ts.Node | undefined = from; n; n = n.parent) {
      if (!ts.isBlock(n) && !ts.isSourceFile(n)) continue;
      for (const st of n.statements) {
        if (!ts.isVariableStatement(st)) continue;
        for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name) && d.name.text === name && d.initializer) return d.initializer;
      }
    }
    return undefined;
  };

  /** `loose`: a template's unevaluable parts become '…' (for ids: a token in them then fails to match, safely). */
  const evaluate = (e: ts.Expression, env: Map<string, Value>, loose = false): Value => {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e)) return evaluate(e.expression, env, loose);
    if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
    if (ts.isNumericLiteral(e)) return Number(e.text);
    if (e.kind === ts.SyntaxKind.TrueKeyword) return true;
    if (e.kind === ts.SyntaxKind.FalseKeyword) return false;
    if (ts.isTemplateExpression(e)) {
      let s = e.head.text;
      for (const span of e.templateSpans) {
        const v = evaluate(span.expression, env);
        if (v === UNRESOLVED || typeof v === 'object') {
          if (!loose) return UNRESOLVED;
          s += '…' + span.literal.text;
        } else s += String(v) + span.literal.text;
      }
      return s;
    }
    if (ts.isConditionalExpression(e)) {
      const c = evaluate(e.condition, env);
      return c === UNRESOLVED ? UNRESOLVED : evaluate(c ? e.whenTrue : e.whenFalse, env);
    }
    if (ts.isBinaryExpression(e) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken].includes(e.operatorToken.kind)) {
      const a = evaluate(e.left, env);
      const b = evaluate(e.right, env);
      if (a === UNRESOLVED || b === UNRESOLVED) return UNRESOLVED;
      return (a === b) === (e.operatorToken.kind === ts.SyntaxKind.EqualsEqualsEqualsToken);
    }
    if (ts.isArrayLiteralExpression(e)) return e.elements.map((x) => evaluate(x, env));
    if (ts.isObjectLiteralExpression(e)) {
      const o: { [k: string]: Value } = {};
      for (const prop of e.properties) {
        if (ts.isPropertyAssignment(prop) && (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name))) o[prop.name.text] = evaluate(prop.initializer, env);
      }
      return o;
    }
    if (ts.isIdentifier(e)) {
      if (env.has(e.text)) return env.get(e.text)!;
      const init = findConst(e, e.text);
      return init ? evaluate(init, env) : UNRESOLVED;
    }
    if (ts.isPropertyAccessExpression(e)) {
      const o = evaluate(e.expression, env);
      return o !== UNRESOLVED && typeof o === 'object' && !Array.isArray(o) && e.name.text in o ? o[e.name.text] : UNRESOLVED;
    }
    // byProfile({ quick, paper }): the quick profile's value (the quick report is the one checked here).
    if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'byProfile' && e.arguments.length === 1) {
      const o = evaluate(e.arguments[0], env);
      return o !== UNRESOLVED && typeof o === 'object' && !Array.isArray(o) && 'quick' in o ? o.quick : UNRESOLVED;
    }
    return UNRESOLVED;
  };

  const calls: ts.CallExpression[] = [];
  const collectCalls = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) calls.push(n);
    ts.forEachChild(n, collectCalls);
  };
  collectCalls(sf);

  /**
   * Every binding of the enclosing `for (const … of …)` loops and of the parameters of enclosing `const f = (…) => …`
   * helpers (one binding per call of f in the notebook): their cartesian product.
   */
  const loopEnvs = (node: ts.Node): Map<string, Value>[] => {
    let binder: ts.Node | undefined = node.parent;
    while (binder && !ts.isForOfStatement(binder) && !(ts.isArrowFunction(binder) && ts.isVariableDeclaration(binder.parent) && ts.isIdentifier(binder.parent.name))) binder = binder.parent;
    if (!binder) return [new Map()];
    if (ts.isArrowFunction(binder)) {
      const name = ((binder.parent as ts.VariableDeclaration).name as ts.Identifier).text;
      const params = binder.parameters.map((q) => (ts.isIdentifier(q.name) ? q.name.text : ''));
      return calls
        .filter((c) => ts.isIdentifier(c.expression) && c.expression.text === name)
        .flatMap((c) => loopEnvs(c).map((env) => new Map([...env, ...params.map((k, i) => [k, c.arguments[i] ? evaluate(c.arguments[i], env) : UNRESOLVED] as [string, Value])])));
    }
    const loop = binder;
    const envs = loopEnvs(loop);
    {
      const decl = ts.isVariableDeclarationList(loop.initializer) ? loop.initializer.declarations[0] : undefined;
      const next: Map<string, Value>[] = [];
      for (const env of envs) {
        const items = evaluate(loop.expression, env);
        if (!decl || !Array.isArray(items)) {
          next.push(new Map([...env, ...bindingNames(decl?.name).map((k) => [k, UNRESOLVED] as [string, Value])]));
          continue;
        }
        for (const item of items) {
          const e2 = new Map(env);
          if (ts.isIdentifier(decl.name)) e2.set(decl.name.text, item);
          else if (ts.isArrayBindingPattern(decl.name)) {
            decl.name.elements.forEach((el, i) => {
              if (ts.isBindingElement(el) && ts.isIdentifier(el.name)) e2.set(el.name.text, Array.isArray(item) ? (item[i] ?? UNRESOLVED) : UNRESOLVED);
            });
          } else for (const k of bindingNames(decl.name)) e2.set(k, UNRESOLVED);
          next.push(e2);
        }
      }
      return next;
    }
  };

  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ['checkClaim', 'recordClaim', 'notAttempted'].includes(node.expression.text)) {
      const arg = node.arguments[0];
      const kind = node.expression.text === 'notAttempted' ? 'not-attempted' : 'claim';
      for (const env of loopEnvs(node)) {
        const fields: Record<string, Value> = {};
        if (arg && ts.isObjectLiteralExpression(arg)) {
          for (const prop of arg.properties) {
            if (ts.isSpreadAssignment(prop)) {
              const o = evaluate(prop.expression, env);
              if (o !== UNRESOLVED && typeof o === 'object' && !Array.isArray(o)) Object.assign(fields, o);
            } else if (ts.isPropertyAssignment(prop) && ts.isIdentifier(prop.name) && (prop.name.text === 'id' || prop.name.text === 'figure')) {
              fields[prop.name.text] = evaluate(prop.initializer, env, prop.name.text === 'id');
            }
          }
        }
        const { id, figure } = fields;
        if (typeof id === 'string' && typeof figure === 'string') records.push({ notebook: file, kind, id, figure });
        else unresolved.push(`${file}: ${node.getText(sf).slice(0, 120)}…`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return { records, unresolved };
}

function bindingNames(name: ts.BindingName | undefined): string[] {
  if (!name) return [];
  if (ts.isIdentifier(name)) return [name.text];
  return name.elements.flatMap((el) => (ts.isBindingElement(el) ? bindingNames(el.name) : []));
}

/** The records that cover a panel (see Panel). */
function covering(panel: Panel, records: NotebookRecord[]): NotebookRecord[] {
  const ofFigure = records.filter((r) => figureRefs(r.figure).includes(panel.ref));
  const has = (token: string, r: NotebookRecord) => new RegExp(token).test(r.id.toLowerCase());
  if (panel.token) return ofFigure.filter((r) => has(panel.token!, r));
  const siblings = THESIS_PANELS.filter((q) => q.ref === panel.ref && q.token).map((q) => q.token!);
  return ofFigure.filter((r) => !siblings.some((t) => has(t, r)));
}

describe('thesis 003 Ch.4 and App. C: every figure and table is claimed or declared (issue 32)', () => {
  const all = CH4_NOTEBOOKS.map(notebookRecords);
  const records = all.flatMap((r) => r.records);

  test('the Ch.4 notebooks are found and every claim / not-attempted call is read', () => {
    assert.ok(CH4_NOTEBOOKS.length >= 6, `expected the six 003_ch4_* notebooks, found ${CH4_NOTEBOOKS.join(', ')}`);
    assert.deepEqual(all.flatMap((r) => r.unresolved), [], 'calls whose id or figure is not statically evaluable: write them with literals, templates over literal loops, or const objects');
    assert.ok(records.filter((r) => r.kind === 'claim').length > 50, `only ${records.length} records read`);
  });

  test('every panel of the thesis list is reproduced (a claim) or declared (notAttempted)', () => {
    const missing = THESIS_PANELS.filter((panel) => covering(panel, records).length === 0).map((q) => `${q.ref}${q.token ? ` [${q.token}]` : ''}: ${q.what}`);
    assert.deepEqual(missing, [], 'panels neither claimed nor declared by the 003_ch4_* notebooks');
  });

  test('every figure the notebooks name is on the thesis list (no misspelt figure id)', () => {
    const known = new Set([...THESIS_PANELS.map((q) => q.ref), ...Object.keys(NOT_EXPERIMENTS)]);
    const unknown = [...new Set(records.flatMap((r) => figureRefs(r.figure).filter((f) => !known.has(f)).map((f) => `${r.notebook} ${r.id}: ${f}`)))];
    assert.deepEqual(unknown, []);
  });

  test('a panel variant is covered only by a record naming it; the plain panel by none of its siblings', () => {
    const fcn = THESIS_PANELS.find((q) => q.ref === 'C.9' && !q.token)!;
    const cnn = THESIS_PANELS.find((q) => q.ref === 'C.9' && q.token === 'cnn')!;
    const claim: NotebookRecord = { notebook: 'nb', kind: 'claim', id: '003-figC.9-kernel', figure: 'Fig C.9' };
    const skip: NotebookRecord = { notebook: 'nb', kind: 'not-attempted', id: '003-figC.9-cnn', figure: 'Fig C.9' };
    assert.deepEqual([covering(fcn, [claim]).length, covering(cnn, [claim]).length], [1, 0]);
    assert.deepEqual([covering(fcn, [skip]).length, covering(cnn, [skip]).length], [0, 1]);
    assert.equal(covering(fcn, [{ ...claim, figure: 'Fig C.10' }]).length, 0);
  });

  test('the figure-label reader', () => {
    assert.deepEqual(figureRefs('Fig 4.2 / C.4(a)'), ['4.2', 'C.4']);
    assert.deepEqual(figureRefs('Fig 4.9 / Table 4.1'), ['4.9', 'T4.1']);
    assert.deepEqual(figureRefs('Fig 4.10 / C.23'), ['4.10', 'C.23']);
    assert.deepEqual(figureRefs('Table C.1'), ['TC.1']);
  });
});
