import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string; name: string } | undefined;

function locate(): { root: string; version: string; name: string } {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tangent-lab') return (cached = { root: dir, version: pkg.version ?? '0.0.0', name: pkg.name });
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the tangent-lab package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Directory holding the project's package.json (works from lib/ and from dist/lib/). */
export function projectRoot(): string {
  return locate().root;
}

/** The `version` field of the project's package.json. */
export function libraryVersion(): string {
  return locate().version;
}

/** `<project>/data`, where data sets and results live. */
export function dataDir(): string {
  return join(projectRoot(), 'data');
}
