import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import { type ParamSpec, type Params, checkStructure } from '../core/params.js';

/**
 * Parameters as NumPy .npz (an uncompressed zip of .npy arrays, little-endian float32), readable by
 * `numpy.load(path)` (and so by PyTorch / JAX): one array per parameter, keyed by its name. The zip container
 * (a few fixed headers) is written here; CRC-32 and inflate (for `numpy.savez_compressed` files) are node:zlib's.
 * fflate was measured as the alternative: faster than the hand-written CRC it would have replaced, but its unzip
 * does not verify CRCs, which is how a damaged file is caught here.
 */
export function encodeNpz(arrays: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of Object.entries(arrays)) {
    const body = Buffer.concat([npyHeader(shape), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
    const fileName = Buffer.from(`${name}.npy`, 'utf8');
    const crc = crc32(body);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0, 10); // time, date
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(body.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, body);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + body.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

export function decodeNpz(bytes: Uint8Array, source = 'npz'): Record<string, { shape: number[]; data: Float32Array }> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${source} is not a zip/npz file (no end-of-central-directory record)`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (let k = 0; k < count; k++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${source}: corrupt central directory (entry ${k + 1} of ${count})`);
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localAt = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (method !== 0 && method !== 8) throw new Error(`${source}: entry '${name}' uses zip method ${method}; expected 0 (numpy.savez) or 8 (savez_compressed)`);
    if (localAt + 30 > buf.length) throw new Error(`${source}: entry '${name}' starts at byte ${localAt}; expected an offset inside the ${buf.length}-byte file (truncated?)`);
    const dataAt = localAt + 30 + buf.readUInt16LE(localAt + 26) + buf.readUInt16LE(localAt + 28);
    if (dataAt + size > buf.length) throw new Error(`${source}: entry '${name}' has ${size} bytes at byte ${dataAt}; expected them inside the ${buf.length}-byte file (truncated?)`);
    const stored = buf.subarray(dataAt, dataAt + size);
    const body = method === 8 ? inflateRawSync(stored) : stored;
    if (crc32(body) !== buf.readUInt32LE(localAt + 14)) throw new Error(`${source}: entry '${name}' fails its CRC check (corrupt file)`);
    out[name.replace(/\.npy$/, '')] = parseNpy(body, `${source}:${name}`);
  }
  return out;
}

function npyHeader(shape: number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre.writeUInt8(1, 6);
  pre.writeUInt8(0, 7);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1')]);
}

function parseNpy(body: Buffer, what: string): { shape: number[]; data: Float32Array } {
  if (body.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error(`${what} is not a .npy array`);
  const major = body.readUInt8(6);
  const hlen = major === 1 ? body.readUInt16LE(8) : body.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = body.subarray(start, start + hlen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`${what}: unreadable .npy header ${header.trim()}`);
  if (fortran === 'True') throw new Error(`${what}: Fortran-ordered arrays are not supported; save a C-contiguous array`);
  const shape = shapeText.split(',').map((t) => t.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`${what}: header shape = (${shapeText}); expected non-negative integers`);
  if (descr !== '<f4' && descr !== '<f8') throw new Error(`${what}: dtype ${descr} is not supported; expected little-endian float32 ('<f4') or float64 ('<f8')`);
  const raw = body.subarray(start + hlen);
  const n = shape.reduce((a, b) => a * b, 1);
  const itemBytes = descr === '<f8' ? 8 : 4;
  if (raw.length !== n * itemBytes) {
    throw new Error(`${what}: header shape = (${shapeText}) with dtype ${descr} needs ${n * itemBytes} data bytes; expected the entry to hold them, found ${raw.length}`);
  }
  const data = new Float32Array(n);
  // Typed-array views read in machine byte order: little-endian on every platform Node supports here (x86, ARM).
  const aligned = Uint8Array.from(raw).buffer;
  data.set(descr === '<f4' ? new Float32Array(aligned) : new Float64Array(aligned));
  return { shape, data };
}

/** Writes params to `path` (.npz) atomically. */
export function saveParams(path: string, params: Params): void {
  const arrays = Object.fromEntries(Object.entries(params).map(([k, t]) => [k, { shape: t.shape, data: Float32Array.from(t.dataSync()) }]));
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, encodeNpz(arrays));
    renameSync(tmp, path);
  } catch (e) {
    // A full disk leaves no partial file behind.
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Reads params from an .npz; with specs, checks names and shapes. */
export function loadParams(path: string, specs?: readonly ParamSpec[]): Params {
  if (typeof path !== 'string' || path === '') throw new Error(`loadParams: path = ${JSON.stringify(path) ?? String(path)}; expected the path of an .npz file`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EISDIR' ? 'is a folder' : code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`;
    throw new Error(`loadParams: path = '${path}' ${why}; expected an .npz file (as saveParams writes)`, { cause: e });
  }
  const arrays = decodeNpz(bytes, path);
  const params = Object.fromEntries(Object.entries(arrays).map(([k, a]) => [k, tf.tensor(a.data, a.shape, 'float32')]));
  try {
    if (specs) checkStructure(params, specs, `params in ${path}`);
  } catch (e) {
    tf.dispose(Object.values(params));
    throw e;
  }
  return params;
}
