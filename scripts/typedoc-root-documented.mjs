// TypeDoc plugin (typedoc.json "plugin"): every export of the root module (lib/index.ts), but for the layer
// namespaces, has a doc comment; a function's comment documents each of its parameters and has an @example.
// The layers' own exports are documented where they are (not enforced: hundreds of internal-facing helpers).
// A finding is an error, so `npm run docs` fails on it.
import { Application, Comment, ReflectionKind } from 'typedoc';

const ROOT_ENTRY = /(^|\/)lib\/index\.ts$/;

const text = (c) => (c ? Comment.combineDisplayParts(c.summary).trim() : '');

/** Problems of one root export `r` (already resolved past re-export references). */
export function problemsOf(name, r) {
  const problems = [];
  const sigs = r.signatures ?? (r.type?.type === 'reflection' ? r.type.declaration.signatures : undefined) ?? [];
  const own = r.comment;
  if (sigs.length === 0) {
    if (!text(own)) problems.push(`${name}: no doc comment`);
    return problems;
  }
  for (const s of sigs) {
    const c = s.comment ?? own;
    if (!text(c)) problems.push(`${name}: no doc comment`);
    if (!c?.getTag('@example')) problems.push(`${name}: no @example`);
    for (const p of s.parameters ?? []) {
      if (!text(p.comment)) problems.push(`${name}: parameter '${p.name}' not documented (@param ${p.name} ...)`);
    }
  }
  return [...new Set(problems)];
}

/** @param {Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const modules = (project.children ?? []).filter((m) => m.kindOf(ReflectionKind.Module));
    // One entry point: its exports are the project's own children.
    const root = modules.length === 0 ? project
      : modules.find((m) => m.sources?.some((s) => ROOT_ENTRY.test(s.fullFileName))) ?? modules.find((m) => m.name === 'tangent-lab' || m.name === 'index');
    if (!root) {
      app.logger.error('typedoc-root-documented: the root module (lib/index.ts) is not among the entry points');
      return;
    }
    let checked = 0;
    for (const child of root.children ?? []) {
      const r = child.kindOf(ReflectionKind.Reference) ? child.getTargetReflectionDeep() : child;
      if (r.kindOf(ReflectionKind.Namespace | ReflectionKind.Module)) continue;
      checked++;
      for (const p of problemsOf(child.name, r)) app.logger.error(`root export ${p}`);
    }
    app.logger.info(`typedoc-root-documented: ${checked} root exports checked`);
  });
}
