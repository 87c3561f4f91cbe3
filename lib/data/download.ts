import { createHash } from 'node:crypto';
import { closeSync, createWriteStream, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CIFAR10_ARCHIVE, CIFAR10_RECORD_BYTES, CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES, CIFAR10_URL, cifar10Dir, missingCifar10Files } from './cifar10.js';

export interface DownloadOptions {
  /** Must be true (or TANGENT_ALLOW_DOWNLOAD=1): nothing touches the network otherwise. */
  allowNetwork?: boolean;
  log?: (line: string) => void;
}

/** Whether downloads were explicitly allowed by the option or by TANGENT_ALLOW_DOWNLOAD=1. */
export function downloadsAllowed(options: DownloadOptions = {}, env: NodeJS.ProcessEnv = process.env): boolean {
  return options.allowNetwork === true || env.TANGENT_ALLOW_DOWNLOAD === '1';
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Downloads `url` to `dest`, hashing while writing, and renames into place only if the SHA-256 (and
 * the size, when given) match; a mismatch deletes the partial file and throws.
 */
export async function downloadVerified(url: string, dest: string, expect: { sha256: string; bytes?: number }, options: DownloadOptions = {}): Promise<void> {
  if (!downloadsAllowed(options)) {
    throw new Error(`refusing to download ${url}: network downloads are off; pass { allowNetwork: true } or set TANGENT_ALLOW_DOWNLOAD=1`);
  }
  const log = options.log ?? ((l: string) => console.log(l));
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  log(`downloading ${url} → ${dest}`);
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`download of ${url} failed: HTTP ${res.status} ${res.statusText}`);
  const hash = createHash('sha256');
  const out = createWriteStream(tmp);
  let bytes = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    const sha = hash.digest('hex');
    if (expect.bytes !== undefined && bytes !== expect.bytes) throw new Error(`download of ${url}: got ${bytes} bytes, expected ${expect.bytes}`);
    if (sha !== expect.sha256.toLowerCase()) throw new Error(`download of ${url}: sha256 ${sha} does not match the expected ${expect.sha256}`);
    const fh = await open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    renameSync(tmp, dest);
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Regular-file members of a (ustar / GNU) tar archive held in memory. */
export function tarMembers(tar: Uint8Array): { name: string; data: Uint8Array }[] {
  const out: { name: string; data: Uint8Array }[] = [];
  const text = (a: number, b: number) => {
    const s = Buffer.from(tar.subarray(a, b)).toString('utf8');
    const z = s.indexOf('\0');
    return z >= 0 ? s.slice(0, z) : s;
  };
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= tar.length) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    const sizeField = text(at + 124, at + 136).trim();
    const size = parseInt(sizeField || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new Error(`tar: bad size field '${sizeField}' at offset ${at}`);
    const type = String.fromCharCode(tar[at + 156] || 48);
    const magic = text(at + 257, at + 263);
    const prefix = magic.startsWith('ustar') ? text(at + 345, at + 500) : '';
    let name = prefix ? `${prefix}/${text(at, at + 100)}` : text(at, at + 100);
    const start = at + 512;
    if (start + size > tar.length) throw new Error(`tar: member '${name}' runs past the end of the archive (truncated?)`);
    const data = tar.subarray(start, start + size);
    if (type === 'L') longName = text(start, start + size);
    else {
      if (longName) name = longName;
      longName = undefined;
      if (type === '0' || type === '\0') out.push({ name, data });
    }
    at = start + Math.ceil(size / 512) * 512;
  }
  return out;
}

/**
 * Downloads cifar-10-binary.tar.gz (only when allowed), verifies its SHA-256 and size, and extracts the
 * six .bin files into the CIFAR-10 directory. Does nothing if they are already there.
 */
export async function downloadCifar10(options: DownloadOptions & { dir?: string; url?: string } = {}): Promise<string> {
  const dir = cifar10Dir(options.dir);
  if (missingCifar10Files(dir).length === 0) return dir;
  const archive = join(dirname(dir), 'cifar-10-binary.tar.gz');
  if (!existsSync(archive) || statSync(archive).size !== CIFAR10_ARCHIVE.bytes || sha256File(archive) !== CIFAR10_ARCHIVE.sha256) {
    await downloadVerified(options.url ?? CIFAR10_URL, archive, { sha256: CIFAR10_ARCHIVE.sha256, bytes: CIFAR10_ARCHIVE.bytes }, options);
  }
  extractCifar10Archive(archive, dir);
  return dir;
}

/** Extracts the six CIFAR-10 .bin members of a .tar.gz into `dir` (each written then renamed). */
export function extractCifar10Archive(archive: string, dir: string): string[] {
  const wanted = new Set<string>([...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const m of tarMembers(gunzipSync(readFileSync(archive)))) {
    const base = m.name.split('/').pop()!;
    if (!wanted.has(base)) continue;
    if (m.data.length % CIFAR10_RECORD_BYTES !== 0) throw new Error(`${archive}: member ${m.name} has ${m.data.length} bytes, not a multiple of ${CIFAR10_RECORD_BYTES}`);
    writeFileAtomicSync(join(dir, base), m.data);
    written.push(base);
  }
  const missing = [...wanted].filter((w) => !written.includes(w));
  if (missing.length) throw new Error(`${archive} does not contain ${missing.join(', ')}`);
  return written;
}

function writeFileAtomicSync(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
