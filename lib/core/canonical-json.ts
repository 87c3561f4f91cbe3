import { createHash } from 'node:crypto';

/**
 * Plain data as stored by the result store: JSON values plus non-finite numbers and typed arrays,
 * which are encoded as tagged objects so that they survive a round trip exactly:
 * NaN → {"$nonfinite":"NaN"}, Float32Array → {"$typed":"Float32Array","data":[…]}.
 */
export type PlainData = unknown;

const TYPED = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
  Uint8ClampedArray,
} as const;
type TypedName = keyof typeof TYPED;
const TAGS = ['$nonfinite', '$typed'];

function typedName(v: unknown): TypedName | undefined {
  for (const name of Object.keys(TYPED) as TypedName[]) if (v instanceof TYPED[name]) return name;
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object without prototype';
  return typeof v;
}

/** Replaces non-finite numbers and typed arrays by tagged objects; rejects anything that is not plain data. */
export function encodePlain(value: unknown, path = '$'): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return Object.is(value, -0) ? 0 : value;
    return { $nonfinite: String(value) };
  }
  if (Array.isArray(value)) {
    return value.map((v, i) => {
      if (v === undefined) throw new Error(`${path}[${i}] is undefined; arrays of stored data cannot hold undefined`);
      return encodePlain(v, `${path}[${i}]`);
    });
  }
  const t = typedName(value);
  if (t) return { $typed: t, data: Array.from(value as ArrayLike<number>, (v, i) => encodePlain(v, `${path}[${i}]`)) };
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new Error(`${path} is a ${describe(value)}; stored configs and results must be plain data (numbers, strings, booleans, null, arrays, plain objects, typed arrays)`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (TAGS.includes(k)) throw new Error(`${path}.${k}: the key '${k}' is reserved by the store's encoding`);
      if (v === undefined) continue;
      out[k] = encodePlain(v, `${path}.${k}`);
    }
    return out;
  }
  throw new Error(`${path} is a ${describe(value)} (${String(value)}); stored configs and results must be plain data`);
}

/** Inverse of encodePlain. */
export function decodePlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodePlain);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$nonfinite === 'string' && Object.keys(o).length === 1) {
      const v = Number(o.$nonfinite);
      if (Number.isNaN(v) && o.$nonfinite !== 'NaN') throw new Error(`bad non-finite tag ${o.$nonfinite}`);
      return v;
    }
    if (typeof o.$typed === 'string' && Array.isArray(o.data) && Object.keys(o).length === 2) {
      const C = TYPED[o.$typed as TypedName];
      if (!C) throw new Error(`unknown typed array tag ${o.$typed}`);
      return C.from(o.data.map((v) => decodePlain(v) as number));
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = decodePlain(v);
    return out;
  }
  return value;
}

/** JSON with keys sorted at every level, for values that are already plain JSON (e.g. encoded data). */
export function sortedStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedStringify(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Canonical JSON: encodePlain, then keys sorted at every level, no whitespace. */
export function canonicalJson(value: unknown): string {
  return sortedStringify(encodePlain(value));
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
