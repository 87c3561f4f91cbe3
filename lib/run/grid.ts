/** Parameter lists of a sweep, e.g. `{ width: [64, 256], seed: [0, 1, 2], lr: [0.5, 2] }`. */
export type Grid = Record<string, readonly unknown[]>;
export type GridPoint<G extends Grid> = { [K in keyof G]: G[K][number] };

/**
 * Most points a sweep grid may have. The points are listed before the sweep starts (each keyed and, once computed,
 * kept with its result), so a grid of 10⁸ points (10⁴ × 10⁴) filled the V8 heap (4.7 GB) and killed the kernel;
 * 10⁶ points take ~100 MB. A larger study is several sweeps over slices of the grid.
 */
export const GRID_POINT_LIMIT = 1_000_000;

/**
 * Where a grid value would not key its point apart from another: `undefined` (dropped from the key, so
 * `{ a: [undefined] }` got the key of a grid without `a`) and `__proto__` keys (dropped too: two points, one key).
 */
function unkeyable(v: unknown, path: string, seen: Set<unknown>): string | undefined {
  if (v === undefined) return `${path} = undefined`;
  if (typeof v === 'function' || typeof v === 'bigint' || typeof v === 'symbol') return `${path} is a ${typeof v}`;
  if (v === null || typeof v !== 'object' || seen.has(v)) return undefined;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = unkeyable(v[i], `${path}[${i}]`, seen);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    if (k === '__proto__') return `${path} has the key '__proto__'`;
    const bad = unkeyable((v as Record<string, unknown>)[k], `${path}.${k}`, seen);
    if (bad) return bad;
  }
  return undefined;
}

/** Points of a valid grid (see gridPoints), without listing them. */
export function gridSize(grid: Grid): number {
  if (!grid || typeof grid !== 'object' || Array.isArray(grid)) throw new Error(`sweep grid = ${JSON.stringify(grid)}; expected an object of non-empty arrays`);
  const keys = Object.keys(grid);
  if (keys.length === 0) throw new Error('sweep grid has no parameters; expected an object of non-empty arrays');
  let size = 1;
  for (const k of keys) {
    if (k === '__proto__') throw new Error("sweep grid has the key '__proto__'; expected parameter names that key their points (the store's key drops '__proto__', so two points would share one key)");
    const values = grid[k];
    if (!Array.isArray(values) || values.length === 0) throw new Error(`sweep grid.${k} = ${JSON.stringify(values)}; expected a non-empty array`);
    for (let i = 0; i < values.length; i++) {
      const bad = unkeyable(values[i], `grid.${k}[${i}]`, new Set());
      if (bad) throw new Error(`sweep ${bad}; expected plain data that keys the point (numbers, strings, booleans, null, arrays, plain objects; null instead of undefined, no '__proto__' keys: the store's key drops those, and two points would share one key)`);
    }
    size *= values.length;
  }
  return size;
}

/**
 * Cartesian product of a grid; the first key varies slowest. Refused: empty lists, values the store cannot key
 * apart (undefined, '__proto__' keys), and grids of more than GRID_POINT_LIMIT points (checked before listing any).
 *
 * @example
 * gridPoints({ a: [1, 2], b: ['x', 'y'] });   // [{ a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }]
 */
export function gridPoints<G extends Grid>(grid: G): GridPoint<G>[] {
  const size = gridSize(grid);
  const keys = Object.keys(grid);
  if (size > GRID_POINT_LIMIT) {
    throw new Error(
      `sweep grid has ${size.toExponential(2)} points (${keys.map((k) => `${k}: ${grid[k].length}`).join(' × ')}); expected at most ${GRID_POINT_LIMIT} (GRID_POINT_LIMIT): ` +
        'sweep slices of the grid one after another (each is stored, so they add up to the whole study)',
    );
  }
  let points: Record<string, unknown>[] = [{}];
  for (const k of keys) points = points.flatMap((p) => grid[k].map((v) => ({ ...p, [k]: v })));
  return points as GridPoint<G>[];
}

/**
 * The arguments of sweep besides the grid, checked before any point runs (a bad one failed at the first point, as
 * "options.onProgress is not a function" or "The "path" argument must be of type string").
 */
export function checkSweepArgs(fn: unknown, options: { store?: { dir?: unknown }; onProgress?: unknown; config?: unknown; workers?: unknown; code?: unknown }): void {
  if (typeof fn !== 'function') throw new Error(`sweep: fn = ${JSON.stringify(fn) ?? String(fn)}; expected the function of a point (or remote(name, args))`);
  if (typeof options.store?.dir !== 'string') throw new Error('sweep: options.store is not a result store; expected openStore(experiment)');
  for (const k of ['onProgress', 'config'] as const) {
    if (options[k] !== undefined && typeof options[k] !== 'function') throw new Error(`sweep: options.${k} = ${JSON.stringify(options[k])}; expected a function`);
  }
  const w = options.workers;
  if (w !== undefined && w !== 'auto' && !(typeof w === 'number' && Number.isInteger(w) && w >= 1)) throw new Error(`sweep: options.workers = ${JSON.stringify(w)}; expected an integer ≥ 1 or 'auto'`);
  const c = options.code;
  if (c !== undefined && typeof c !== 'string' && !(Array.isArray(c) && c.every((m) => typeof m === 'string'))) throw new Error(`sweep: options.code = ${JSON.stringify(c)}; expected a module URL or specifier, or a list of them`);
}
