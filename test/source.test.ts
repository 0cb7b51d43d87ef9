import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openSource } from '../src/node/index.js';
import { CompressedTarSource } from '../src/node/compressed-tar.js';
import { readFiles, tarBytesSource } from '../src/source/memory.js';
import { detectFormat } from '../src/source/compression.js';
import { CkptError } from '../src/errors.js';
import type { CheckpointSource, SourceDamage } from '../src/source/types.js';

const fixture = (n: string) => join(__dirname, '..', 'testdata', n);
const FIXTURES = ['procs', 'net', 'files'].filter((f) => existsSync(fixture(`podman/${f}-none.tar`)));

async function digestAll(path: string, opts = {}) {
  const s = await openSource(path, opts);
  try {
    const files = await readFiles(s, (e) => e.type === 'file');
    const out: Record<string, string> = {};
    for (const [p, b] of files) out[p] = `${b.length}:${createHash('sha256').update(b).digest('hex').slice(0, 16)}`;
    return out;
  } finally {
    await s.close();
  }
}

describe('sources: the same checkpoint through every container format', () => {
  it('has fixtures to read', () => {
    expect(FIXTURES.length).toBeGreaterThan(0);
  });

  for (const f of FIXTURES) {
    it(`${f}: none, gzip, zstd (native and pure-JS) and the extracted directory give identical files`, async () => {
      const none = await digestAll(fixture(`podman/${f}-none.tar`));
      expect(Object.keys(none)).toContain('checkpoint/pstree.img');
      expect(await digestAll(fixture(`podman/${f}-gzip.tar`))).toEqual(none);
      expect(await digestAll(fixture(`podman/${f}-zstd.tar`))).toEqual(none);
      expect(await digestAll(fixture(`podman/${f}-zstd.tar`), { forceZstdFallback: true })).toEqual(none);
      const dir = mkdtempSync(join(tmpdir(), 'ckpt-src-'));
      execFileSync('tar', ['-xf', fixture(`podman/${f}-none.tar`), '-C', dir]);
      expect(await digestAll(dir)).toEqual(none);
    });
  }

  it('detects each format by its magic bytes, not its name', async () => {
    for (const f of FIXTURES.slice(0, 1)) {
      for (const [c, fmt] of [['none', 'tar'], ['gzip', 'gzip'], ['zstd', 'zstd']] as const) {
        const head = readFileSync(fixture(`podman/${f}-${c}.tar`)).subarray(0, 512);
        expect(detectFormat(head)).toBe(fmt);
      }
    }
  });

  it('reads an uncompressed tar at offsets: readRange returns the bytes tar -xO gives', async () => {
    const f = FIXTURES[0]!;
    const s = await openSource(fixture(`podman/${f}-none.tar`));
    expect(s.randomAccess).toBe(true);
    const pages = (await s.entries()).find((e) => /^checkpoint\/pages-\d+\.img$/.test(e.path))!;
    const whole = execFileSync('tar', ['-xOf', fixture(`podman/${f}-none.tar`), pages.path], { maxBuffer: 1 << 28 });
    expect(whole.length).toBe(pages.size);
    const part = await s.readRange(pages.path, 4096 + 100, 300);
    expect(Buffer.from(part).equals(whole.subarray(4196, 4496))).toBe(true);
    await s.close();
  });

  it('streams a member of a compressed archive without reading the ones after it whole', async () => {
    const f = FIXTURES[0]!;
    const s = await openSource(fixture(`podman/${f}-zstd.tar`));
    expect(s).toBeInstanceOf(CompressedTarSource);
    const pstree = await s.read('checkpoint/pstree.img');
    const ref = execFileSync('tar', ['-xOf', fixture(`podman/${f}-none.tar`), 'checkpoint/pstree.img']);
    expect(Buffer.from(pstree).equals(ref)).toBe(true);
  });
});

describe('tar dialects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-tar-'));
  const long = 'checkpoint/' + 'd'.repeat(120) + '/' + 'f'.repeat(130) + '.img';
  mkdirSync(join(dir, 'in', 'checkpoint', 'd'.repeat(120)), { recursive: true });
  writeFileSync(join(dir, 'in', long), 'long-name-payload');
  writeFileSync(join(dir, 'in', 'checkpoint', 'short.img'), 'short');
  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`reads ${format} long names in plain and gzip archives`, async () => {
      const tarPath = join(dir, `${format}.tar`);
      const args = ['--format', format, '-cf', tarPath, '-C', join(dir, 'in'), 'checkpoint'];
      try {
        execFileSync('tar', args, { stdio: 'pipe' });
      } catch {
        // ustar cannot store a 130-byte base name; the other two must
        expect(format).toBe('ustar');
        return;
      }
      execFileSync('sh', ['-c', `gzip -c '${tarPath}' > '${tarPath}.gz'`]);
      for (const p of [tarPath, `${tarPath}.gz`]) {
        const s = await openSource(p);
        const paths = (await s.entries()).map((e) => e.path);
        expect(paths).toContain(long);
        expect(new TextDecoder().decode(await s.read(long))).toBe('long-name-payload');
        expect(new TextDecoder().decode(await s.read('checkpoint/short.img'))).toBe('short');
        await s.close();
      }
      const mem = await tarBytesSource('mem', readFileSync(tarPath));
      expect(new TextDecoder().decode(await mem.read(long))).toBe('long-name-payload');
    });
  }
});

describe('bad input names the file and the byte offset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-bad-'));
  const base = FIXTURES[0] ? readFileSync(fixture(`podman/${FIXTURES[0]}-none.tar`)) : Buffer.alloc(0);

  async function failure(path: string, read = true): Promise<CkptError> {
    try {
      const s = await openSource(path);
      if (read) await readFiles(s, () => true);
      await s.close();
    } catch (e) {
      expect(e).toBeInstanceOf(CkptError);
      expect((e as Error).message).not.toContain('\n');
      return e as CkptError;
    }
    throw new Error('expected a CkptError');
  }

  /** Salvage: an archive damaged part-way opens; what lies before the damage is read, the source says where it is. */
  async function damage(path: string, options: Parameters<typeof openSource>[1] = {}): Promise<{ entries: Awaited<ReturnType<CheckpointSource['entries']>>; damage: readonly SourceDamage[] }> {
    const s = await openSource(path, options);
    try {
      await readFiles(s, () => true);
      return { entries: await s.entries(), damage: s.damage?.() ?? [] };
    } finally {
      await s.close();
    }
  }

  it('a truncated uncompressed archive: the member cut short is kept with its intact bytes, the damage names it and the end', async () => {
    const p = join(dir, 'trunc.tar');
    const n = Math.floor(base.length / 2) + 7;
    writeFileSync(p, base.subarray(0, n));
    const r = await damage(p);
    expect(r.damage).toHaveLength(1);
    const d = r.damage[0]!;
    expect(d.offset).toBe(n);
    expect(d.message).toMatch(/the archive ends inside it: \d+ of \d+ bytes intact/);
    const last = r.entries[r.entries.length - 1]!;
    expect(last.path).toBe(d.file);
    expect(last.size).toBe(d.intact);
  });

  it('a truncated gzip archive', async () => {
    const gz = readFileSync(fixture(`podman/${FIXTURES[0]}-gzip.tar`));
    const p = join(dir, 'trunc.tar.gz');
    writeFileSync(p, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const r = await damage(p);
    expect(r.damage).toHaveLength(1);
    expect(r.damage[0]!.offset).toBeTypeOf('number');
    expect(r.damage[0]!.message).toMatch(/gzip/);
  });

  it('a truncated zstd archive, native and pure-JS decoders alike', async () => {
    const zs = readFileSync(fixture(`podman/${FIXTURES[0]}-zstd.tar`));
    const p = join(dir, 'trunc.tar.zst');
    writeFileSync(p, zs.subarray(0, Math.floor(zs.length * 0.6)));
    const native = await damage(p);
    const js = await damage(p, { forceZstdFallback: true });
    for (const r of [native, js]) {
      expect(r.damage).toHaveLength(1);
      expect(r.damage[0]!.message).toMatch(/zstd/);
    }
    expect(js.entries.map((e) => e.path)).toEqual(native.entries.map((e) => e.path));
  });

  it('a file that is not a tar', async () => {
    const p = join(dir, 'notes.txt');
    writeFileSync(p, 'these are not the bytes you are looking for\n'.repeat(40));
    const e = await failure(p);
    expect(e.message).toContain('not a checkpoint');
    expect(e.offset).toBe(0);
  });

  it('a corrupt tar header checksum: the header offset', async () => {
    const p = join(dir, 'badsum.tar');
    const b = Buffer.from(base);
    const firstSize = parseInt(b.subarray(124, 136).toString().replace(/\0.*$/, '').trim() || '0', 8);
    const second = 512 + Math.ceil(firstSize / 512) * 512;
    b[second + 1] ^= 0xff; // a byte of the second member's name
    writeFileSync(p, b);
    // the first member stands (salvage); the damage names the archive and the header's offset
    const r = await damage(p);
    expect(r.entries).toHaveLength(1);
    expect(r.damage).toEqual([{ file: p, offset: second, message: 'tar header checksum mismatch (not a tar archive, or corrupt): the members from here on are not read' }]);
  });

  it('an empty file and a missing one', async () => {
    const p = join(dir, 'empty.tar');
    writeFileSync(p, '');
    expect((await failure(p)).message).toContain('empty');
    expect((await failure(join(dir, 'nope.tar'))).message).toContain('no such file');
  });
});

describe('PAX size records', () => {
  // Hand-made bytes: a PAX header whose size record replaces a zero ustar size field, as tar
  // writers do for members over 8 GiB (the header field cannot hold the size in octal).
  function header(name: string, size: number, typeflag: string): Uint8Array {
    const b = new Uint8Array(512);
    const put = (s: string, at: number) => b.set(new TextEncoder().encode(s), at);
    put(name, 0);
    put('0000644\0', 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(size.toString(8).padStart(11, '0') + '\0', 124);
    put('00000000000\0', 136);
    put('        ', 148);
    put(typeflag, 156);
    put('ustar\0' + '00', 257);
    const sum = b.reduce((a, x) => a + x, 0);
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    return b;
  }
  function block(data: string): Uint8Array {
    const b = new Uint8Array(Math.ceil(data.length / 512) * 512);
    b.set(new TextEncoder().encode(data));
    return b;
  }
  const rec = (k: string, v: string) => {
    const body = ` ${k}=${v}\n`;
    let n = body.length + 1;
    if (String(n).length + body.length !== n) n = String(n + 1).length + body.length;
    return `${n}${body}`;
  };
  const pax = rec('size', '11');
  const parts = [header('PaxHeader', pax.length, 'x'), block(pax), header('checkpoint/pages-1.img', 0, '0'), block('hello pages'), header('checkpoint/after.img', 3, '0'), block('end'), new Uint8Array(1024)];
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  parts.reduce((o, p) => (bytes.set(p, o), o + p.length), 0);

  it('the indexed and the streaming readers both take the PAX size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-pax-'));
    const p = join(dir, 'pax.tar');
    writeFileSync(p, bytes);
    const s = await openSource(p);
    expect(await s.entries()).toEqual([
      { path: 'checkpoint/pages-1.img', size: 11, type: 'file' },
      { path: 'checkpoint/after.img', size: 3, type: 'file' },
    ]);
    expect(new TextDecoder().decode(await s.read('checkpoint/pages-1.img'))).toBe('hello pages');
    expect(new TextDecoder().decode(await s.read('checkpoint/after.img'))).toBe('end');
    execFileSync('sh', ['-c', `gzip -c '${p}' > '${p}.gz'`]);
    const files = await readFiles(await openSource(`${p}.gz`), () => true);
    expect(new TextDecoder().decode(files.get('checkpoint/pages-1.img'))).toBe('hello pages');
    expect(new TextDecoder().decode(files.get('checkpoint/after.img'))).toBe('end');
  });
});
