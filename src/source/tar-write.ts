/**
 * Tar writing, runtime-neutral: ustar headers (with a PAX extended header before any name or size
 * that ustar cannot hold), padding and the end-of-archive blocks. Used to lay out OCI image
 * layers and archives (model/oci-image.ts) as streams, never a whole archive in memory.
 */
import { BLOCK } from './tar.js';

export interface TarHeaderFields {
  /** Member name, `/`-separated; directories end with `/`. */
  name: string;
  type: 'file' | 'directory';
  size: number;
  /** Permission bits (default 0644 for files, 0755 for directories). */
  mode?: number;
  /** Seconds since the epoch (default 0, for reproducible output). */
  mtime?: number;
}

const enc = new TextEncoder();

function putString(block: Uint8Array, offset: number, length: number, s: string): void {
  block.set(enc.encode(s).subarray(0, length), offset);
}

function putOctal(block: Uint8Array, offset: number, length: number, n: number): void {
  putString(block, offset, length, n.toString(8).padStart(length - 1, '0'));
}

function ustarBlock(name: string, prefix: string, typeflag: string, size: number, mode: number, mtime: number): Uint8Array {
  const b = new Uint8Array(BLOCK);
  putString(b, 0, 100, name);
  putOctal(b, 100, 8, mode);
  putOctal(b, 108, 8, 0);
  putOctal(b, 116, 8, 0);
  putOctal(b, 124, 12, size);
  putOctal(b, 136, 12, mtime);
  b.fill(0x20, 148, 156);
  putString(b, 156, 1, typeflag);
  putString(b, 257, 6, 'ustar');
  putString(b, 263, 2, '00');
  putString(b, 345, 155, prefix);
  let sum = 0;
  for (const x of b) sum += x;
  putString(b, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return b;
}

/** ustar's name/prefix split, or undefined when the name does not fit. */
function splitName(name: string): [string, string] | undefined {
  const bytes = enc.encode(name).length;
  if (bytes <= 100) return [name, ''];
  for (let i = name.indexOf('/'); i >= 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(rest).length <= 100 && rest.length > 0) return [rest, prefix];
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  // "<length> <key>=<value>\n", where the length counts its own digits
  const base = enc.encode(` ${key}=${value}\n`).length;
  let len = base + String(base).length;
  while (base + String(len).length !== len) len = base + String(len).length;
  return `${len} ${key}=${value}\n`;
}

/** The header block(s) of one member: a PAX header first when ustar cannot hold the name or size. */
export function tarHeader(f: TarHeaderFields): Uint8Array {
  const mode = f.mode ?? (f.type === 'directory' ? 0o755 : 0o644);
  const mtime = f.mtime ?? 0;
  const typeflag = f.type === 'directory' ? '5' : '0';
  const split = splitName(f.name);
  const bigSize = f.size > 0o77777777777;
  if (split && !bigSize) return ustarBlock(split[0], split[1], typeflag, f.size, mode, mtime);
  let pax = '';
  if (!split) pax += paxRecord('path', f.name);
  if (bigSize) pax += paxRecord('size', String(f.size));
  const data = enc.encode(pax);
  const out = new Uint8Array(BLOCK + paddedSize(data.length) + BLOCK);
  out.set(ustarBlock('././@PaxHeader', '', 'x', data.length, 0o644, mtime), 0);
  out.set(data, BLOCK);
  const short = f.name.slice(-99).replace(/^\/+/, '');
  out.set(ustarBlock(short, '', typeflag, bigSize ? 0 : f.size, mode, mtime), BLOCK + paddedSize(data.length));
  return out;
}

/** `size` rounded up to whole blocks. */
export function paddedSize(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** The zeros that pad a member of `size` bytes to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array(paddedSize(size) - size);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}
