/**
 * Hand-made tar bytes for hostile-input tests (never pretending to be CRIU: the CRIU images in
 * the archives built here are copied from the real fixtures). Writes any name, type and mode,
 * including what a well-behaved tar writer would refuse (`../x`, absolute paths, devices).
 */
import { readFileSync } from 'node:fs';
import { tarBytesSource } from '../src/source/memory.js';

export interface TarSpec {
  name: string;
  /** tar typeflag: '0' file, '1' hard link, '2' symlink, '3' char, '4' block, '5' dir, '6' fifo. */
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  content?: Uint8Array | string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  uname?: string;
  gname?: string;
}

const enc = new TextEncoder();

function put(block: Uint8Array, offset: number, length: number, text: string): void {
  const b = enc.encode(text);
  if (b.length > length) throw new Error(`tar field too long: ${text}`);
  block.set(b, offset);
}

function octal(block: Uint8Array, offset: number, length: number, value: number): void {
  put(block, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function header(s: TarSpec, size: number, typeflag: string, name: string): Uint8Array {
  const h = new Uint8Array(512);
  put(h, 0, 100, name);
  octal(h, 100, 8, s.mode ?? 0o644);
  octal(h, 108, 8, s.uid ?? 0);
  octal(h, 116, 8, s.gid ?? 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, s.mtime ?? 1_764_000_000);
  h[156] = typeflag.charCodeAt(0);
  put(h, 157, 100, s.linkname ?? '');
  put(h, 257, 6, 'ustar');
  put(h, 263, 2, '00');
  put(h, 265, 32, s.uname ?? '');
  put(h, 297, 32, s.gname ?? '');
  octal(h, 329, 8, s.devmajor ?? 0);
  octal(h, 337, 8, s.devminor ?? 0);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function pad(n: number): number {
  return Math.ceil(n / 512) * 512;
}

/** A tar archive of the given members (names over 100 bytes get a PAX path record). */
export function tarBytes(specs: TarSpec[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of specs) {
    const content = typeof s.content === 'string' ? enc.encode(s.content) : (s.content ?? new Uint8Array());
    const type = s.type ?? '0';
    let name = s.name;
    if (enc.encode(name).length > 100) {
      const rec = (k: string, v: string) => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 2;
        while (String(len).length + enc.encode(body).length !== len) len++;
        return `${len}${body}`;
      };
      const pax = enc.encode(rec('path', name));
      parts.push(header({ name: 'PaxHeader' }, pax.length, 'x', 'PaxHeader'));
      const body = new Uint8Array(pad(pax.length));
      body.set(pax);
      parts.push(body);
      name = name.slice(0, 99);
    }
    parts.push(header(s, content.length, type, name));
    const body = new Uint8Array(pad(content.length));
    body.set(content);
    parts.push(body);
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A checkpoint archive made of a real fixture's members with some replaced or added (e.g. a
 * hostile rootfs-diff.tar); `drop` removes members.
 */
export async function checkpointWith(fixturePath: string, replace: Record<string, Uint8Array>, drop: string[] = []): Promise<Uint8Array> {
  const src = await tarBytesSource(fixturePath, new Uint8Array(readFileSync(fixturePath)));
  const specs: TarSpec[] = [];
  for (const e of await src.entries()) {
    if (drop.includes(e.path) || e.path in replace) continue;
    specs.push({ name: e.path, content: await src.read(e.path) });
  }
  for (const [name, content] of Object.entries(replace)) specs.push({ name, content });
  return tarBytes(specs);
}

/** A member of a plain tar as bytes: its name, its data and its type flag ('0' when not given). */
export interface TarMemberBytes {
  name: string;
  data: Buffer;
  type?: string;
}

/** The regular files of a plain (ustar) tar, in order, with their bytes (a view into `tar`). */
export function tarMembers(tar: Buffer): TarMemberBytes[] {
  const out: TarMemberBytes[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (h[156] === 0x30 || h[156] === 0) out.push({ name, data: tar.subarray(off + 512, off + 512 + size) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** One ustar header block for a regular file (or `type`) of `size` bytes named `name` (as given). */
export function ustarHeader(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write(type, 156);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

/** A plain tar of `files` (any name, as given), with the two zero blocks at the end unless `end` is false. */
export function plainTar(files: TarMemberBytes[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) parts.push(ustarHeader(f.name, f.data.length, f.type ?? '0'), f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
