// Issue 34, "help where the cursor is": through the real kernel (started as JupyterLab starts it), Shift+Tab
// (inspect_request) inside a call shows the callee's signature and doc; Tab (complete_request) offers the
// library's root exports that are not imported yet, with where to import them from.
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname } from 'node:path';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { kernelSession, type KernelReply, type KernelRequest } from './kernel-anywhere-support.js';

/** `code` with the cursor at '|'. */
function at(type: 'inspect' | 'complete', marked: string): KernelRequest {
  const cursor_pos = marked.indexOf('|');
  assert.ok(cursor_pos >= 0, marked);
  return { type, code: marked.slice(0, cursor_pos) + marked.slice(cursor_pos + 1), cursor_pos };
}
const text = (r: KernelReply) => ((r.content.data as Record<string, string> | undefined)?.['text/plain'] ?? '');
type Typed = { text: string; type: string; start: number; end: number };
const types = (r: KernelReply) => ((r.content.metadata as { _jupyter_types_experimental?: Typed[] })._jupyter_types_experimental ?? []);

describe('inspection and completion in the kernel', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'tangent-inspect-')));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('Shift+Tab inside a call, an unimported export, Tab on the library exports', { timeout: 240_000 }, async () => {
    const declare = "import { tangentKernel, tf } from 'tangent-lab';\nimport { fcn } from 'tangent-lab/nets';\n" +
      "const net = fcn({ widths: [1, 3, 1], activation: 'tanh' });\nconst params = net.init(0);\nconst x = tf.tensor2d([[1]]);";
    const requests: KernelRequest[] = [
      // Before any import: the export is offered and documented with its import line.
      at('complete', 'const K = tangentK|'),
      at('inspect', 'tangentKernel|'),
      { type: 'execute', code: declare },
      at('inspect', 'tangentKernel(|'),
      at('inspect', 'tangentKernel(net, |'),
      at('inspect', 'tangentKernel(ne|t, params, x)'),
      at('inspect', 'tangentKernel(net, params, x, { method: |'),
      at('inspect', 'tangentKer|nel(net, params, x)'),
      at('inspect', 'console.log(tangentKer|nel(net, params, x))'),
      at('inspect', 'Math.max(1, |'),
      at('inspect', '[1, 2].map((v) => v| + 1)'),
      at('complete', 'Math.ma|'),
      at('complete', 'fc|'),
      at('complete', 'const y = x.resha|'),
      at('complete', 'const tangentK|'),
      at('complete', 'let n: Netw|'),
    ];
    const r = await kernelSession(dirname(dir), basename(dir), requests);
    const [completeBefore, inspectUnimported, executed, afterParen, secondArg, onArgument, inOptions, onName, onNestedName, builtin, inCallback,
      mathMa, fc, member, declaring, typePosition] = r;

    assert.ok(completeBefore.content.matches && (completeBefore.content.matches as string[]).includes('tangentKernel'), JSON.stringify(completeBefore.content));
    assert.deepEqual(types(completeBefore).find((t) => t.text === 'tangentKernel'),
      { text: 'tangentKernel', type: "function · import from 'tangent-lab'", start: 10, end: 18 });
    assert.equal(inspectUnimported.content.found, true);
    assert.match(text(inspectUnimported), /^not imported: import \{ tangentKernel \} from 'tangent-lab';\n\(alias\) function tangentKernel\(net: Network/);
    assert.match(text(inspectUnimported), /Empirical tangent kernel/);

    assert.equal(executed.content.status, 'ok', executed.stderr);
    // Right after the open parenthesis: the signature, the argument, the doc comment.
    assert.equal(afterParen.content.found, true, JSON.stringify(afterParen.content));
    assert.match(text(afterParen), /^tangentKernel\(net: Network, params: Params, x: (tf\.)?Tensor.*\): (tf\.)?Tensor2D\nparameter 1: net: Network - the network/);
    assert.match(text(afterParen), /Empirical tangent kernel K = J J\^T/);
    // Every tag with its name (inspect-tag-names.mjs): the result and the example are not more description.
    assert.match(text(afterParen), /\n@param params its parameters w\n/);
    assert.match(text(afterParen), /\n@returns K, \(nC\) x \(nC\)/);
    assert.match(text(afterParen), /\n@example\nconst net = fcn\(/);
    assert.match(text(secondArg), /\nparameter 2: params: Params - its parameters w\n/);
    // On an argument: the callee, not the argument's own type.
    assert.match(text(onArgument), /^tangentKernel\(net: Network.*\nparameter 1: net: Network - /);
    assert.match(text(inOptions), /^tangentKernel\(.*\nparameter 4: /);
    // On the name, also of a call nested in another call's arguments: the quick info, as before.
    assert.match(text(onName), /^\(alias\) tangentKernel\(net: Network/);
    assert.match(text(onNestedName), /^\(alias\) tangentKernel\(net: Network/);
    assert.match(text(builtin), /^max\(\.\.\.values: number\[\]\): number\nparameter 1: \.\.\.values: number\[\] - Numeric expressions to be evaluated\.\n\nReturns the larger of a set of supplied numeric expressions\./);
    // In a function written as an argument, its own variables.
    assert.match(text(inCallback), /^\(parameter\) v: number$/);

    assert.deepEqual(mathMa.content.matches, ['max']);
    assert.deepEqual(types(mathMa).map((t) => t.type), ['method']);
    assert.deepEqual(fc.content.matches, ['fcn'], 'imported: offered once, without an import hint');
    assert.ok(!types(fc).some((t) => t.type.includes('import from')));
    assert.ok((member.content.matches as string[]).includes('reshape'));
    assert.ok(!types(member).some((t) => t.type.includes('import from')), 'after a dot: members only');
    assert.ok(!types(declaring).some((t) => t.type.includes('import from')), 'a name being declared');
    assert.deepEqual(types(typePosition).find((t) => t.text === 'Network')?.type, "interface · import from 'tangent-lab'");
  });
});
