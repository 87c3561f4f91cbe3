// The library's folders are its layers: each imports only from the layers below it, and nothing imports in a cycle.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lib = join(root, 'lib');
/** Rank of each layer: a file may import from a strictly lower rank (or its own folder). */
const RANK: Record<string, number> = { core: 0, nets: 1, stats: 1, data: 1, analysis: 2, train: 3, run: 4, present: 4, experiments: 5, '.': 6 };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : f.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((m) => normalize(join(dirname(file), `${m[1]}.ts`)));
}

const layerOf = (file: string) => {
  const rel = relative(lib, file).split(/[\\/]/);
  return rel.length > 1 ? rel[0] : '.';
};

test('every lib/ folder is a known layer and imports only from layers below it', () => {
  const files = sources(lib);
  const bad: string[] = [];
  for (const f of files) {
    const from = layerOf(f);
    assert.ok(from in RANK, `lib/${relative(lib, f)} is in folder '${from}', which is not a layer (${Object.keys(RANK).join(', ')})`);
    for (const t of imports(f)) {
      const to = layerOf(t);
      if (to !== from && !(RANK[to] < RANK[from])) bad.push(`${relative(lib, f)} -> ${relative(lib, t)}`);
    }
  }
  assert.deepEqual(bad, [], `imports that go up or sideways:\n${bad.join('\n')}`);
});

test('no import cycles in lib/', () => {
  const graph = new Map(sources(lib).map((f) => [f, imports(f)]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    state.set(f, 'open');
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 'open') cycles.push([...path.slice(path.indexOf(t)), t].map((p) => relative(lib, p)).join(' -> '));
      else if (!state.has(t)) visit(t, [...path, t]);
    }
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f, [f]);
  assert.deepEqual(cycles, []);
});
