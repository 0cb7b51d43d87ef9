/**
 * Issue 15, "What a fuzz campaign found": one test per signature the campaign (npm run fuzz)
 * turned up, each on a small hostile input built here from a real fixture
 * (testdata/podman/procs-none.tar with one member replaced or added). Hand-made bytes are only the
 * damage: a wrong image under a right name, a gzip/zstd bomb, a PAX size, hostile JSON.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CkptError } from '../src/errors.js';
import { decodeImage } from '../src/images/decode.js';
import { collectBody, WHOLE_FILE_LIMIT } from '../src/source/memory.js';
import { plainTar, tarMembers, ustarHeader, type TarMemberBytes } from './tar-build.js';
import { ckpt, fixture, ROOT } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-fuzzreg-'));
const FIXTURE = fixture('podman', 'procs-none.tar');

const real = tarMembers(readFileSync(FIXTURE));
const member = (name: string) => real.find((m) => m.name === name)!.data;

/** procs-none.tar with these members replaced (or added in front), written to a file. */
function withMembers(file: string, replace: Record<string, Buffer | string>): string {
  const out = real.map((m) => (m.name in replace ? { ...m, data: Buffer.from(replace[m.name]!) } : m));
  for (const [name, data] of Object.entries(replace)) if (!real.some((m) => m.name === name)) out.unshift({ name, data: Buffer.from(data) });
  const path = join(tmp, file);
  writeFileSync(path, plainTar(out));
  return path;
}

/** No internal error, no stack trace, every stderr line one `ckpt:` line without control characters. */
function clean(r: { code: number | null; stderr: string }): void {
  expect(r.code).not.toBe(3);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at |call stack/);
  for (const line of r.stderr.split('\n').filter(Boolean)) {
    expect(line).toMatch(/^ckpt: /);
    expect(line).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
  }
}

/** A zstd frame of raw blocks holding `data`, then `zeros` zero bytes as RLE blocks (4 bytes per 128 KiB). */
function zstdFrame(data: Buffer, zeros: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])]; // magic, no checksum or size, 8 MiB window
  const B = 128 << 10;
  const blocks: Array<[number, Buffer | number]> = [];
  for (let o = 0; o < data.length; o += B) blocks.push([0, data.subarray(o, o + B)]);
  for (let o = 0; o < zeros; o += B) blocks.push([1, Math.min(B, zeros - o)]);
  blocks.forEach(([type, v], i) => {
    const size = typeof v === 'number' ? v : v.length;
    const h = (i === blocks.length - 1 ? 1 : 0) | (type << 1) | (size << 3);
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), typeof v === 'number' ? Buffer.from([0]) : v);
  });
  return Buffer.concat(parts);
}

describe("an image's magic against the kind its name promises", () => {
  it('an fs image saved as pstree.img is an error naming pstree.img, not a TypeError', () => {
    const file = withMembers('fs-as-pstree.tar', { 'checkpoint/pstree.img': member('checkpoint/fs-1.img') });
    for (const args of [['inspect', file, '--all'], ['memparse', file], ['decode', file, 'pstree.img']]) {
      const r = ckpt(args);
      clean(r);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/checkpoint\/pstree\.img at byte 4: the image's magic is FS \(0x51403912\), but its name promises PSTREE/);
    }
  });
  it('a pagemap saved as ipcns-shm-11.img, and a core image saved as mm-1.img, are refused by name', () => {
    expect(() => decodeImage('checkpoint/ipcns-shm-11.img', member('checkpoint/pagemap-1.img'))).toThrow(/ipcns-shm-11\.img at byte 4: .*magic is PAGEMAP.*promises IPCNS_SHM/);
    const file = withMembers('core-as-mm.tar', { 'checkpoint/mm-1.img': member('checkpoint/core-1.img') });
    const r = ckpt(['memparse', file, '--search', 'CKPT']);
    clean(r);
    expect(r.stderr).toMatch(/mm-1\.img at byte 4: the image's magic is CORE .* promises MM/);
  });
  it('images under their own names still decode (every fixture image)', () => {
    for (const m of real.filter((x) => x.name.startsWith('checkpoint/') && x.name.endsWith('.img'))) expect(() => decodeImage(m.name, m.data)).not.toThrow();
  });
});

describe('times the input declares out of range', () => {
  // containerd's status file: CreatedAt in nanoseconds
  const spec = JSON.stringify({ annotations: { 'io.container.manager': 'containerd' } });
  it('1e400 (Infinity) and a 28-digit nanosecond count give no creation time, not a RangeError', () => {
    for (const [name, status] of [['inf', '{"CreatedAt": 1e400}'], ['digits', '{"CreatedAt": "9999999999999999999999999999"}']] as const) {
      const file = withMembers(`status-${name}.tar`, { 'spec.dump': spec, 'config.dump': '{}', status });
      const r = ckpt(['inspect', file, '--metadata', '--format', 'json']);
      clean(r);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)[0].container_creation_date ?? null).toBeNull();
    }
  });
});

describe('deeply nested JSON in the engine metadata', () => {
  it('config.dump nested 100,000 deep: a warning naming it at the byte where it passes 256 levels, exit 4', () => {
    const file = withMembers('deep-config.tar', { 'config.dump': '['.repeat(100000) + ']'.repeat(100000) });
    for (const format of ['tree', 'json']) {
      const r = ckpt(['inspect', file, '--all', '--format', format]);
      clean(r);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/warning: config\.dump at byte 256: JSON nested deeper than 256 levels/);
    }
  });
  it('an annotation holding JSON 100,000 deep stays a string (not expanded), no stack overflow', () => {
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    const file = withMembers('deep-annotation.tar', { 'spec.dump': JSON.stringify({ annotations: { 'io.container.manager': 'libpod', deep } }) });
    const r = ckpt(['inspect', file, '--all', '--format', 'json']);
    clean(r);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"deep": "[[[[');
    const t = ckpt(['inspect', file, '--metadata']);
    clean(t);
    expect(t.code).toBe(0);
  });
});

describe('sizes the archive declares, checked before anything is allocated', () => {
  it('a body declared 1 TiB long is a CkptError naming the member, not "Invalid typed array length"', async () => {
    const body = (async function* () {
      yield new Uint8Array(10);
    })();
    await expect(collectBody(body, 2 ** 40, 'a.tar:checkpoint/core-1.img')).rejects.toThrow(CkptError);
    await expect(collectBody((async function* () {})(), 2 ** 40, 'a.tar:checkpoint/core-1.img')).rejects.toThrow(/a\.tar:checkpoint\/core-1\.img: 1099511627776 bytes: larger than the 16 MiB limit/);
  });
  it('a PAX size of 1 TiB on an image of a gzip archive: one line naming the image', () => {
    const out: TarMemberBytes[] = [];
    for (const m of real) {
      if (m.name === 'checkpoint/core-1.img') out.push({ name: 'PaxHeader', type: 'x', data: Buffer.from('22 size=1099511627776\n') });
      out.push(m);
    }
    const file = join(tmp, 'pax-size.tar.gz');
    writeFileSync(file, gzipSync(plainTar(out)));
    const r = ckpt(['inspect', file, '--ps-tree']);
    clean(r);
    // the archive ends long before the 1 TiB it declares: salvaged as an archive cut short inside
    // core-1.img (exit 4, the warning naming it); nothing of that size is allocated
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^ckpt: warning: checkpoint\/core-1\.img at byte \d+: the archive ends inside it: \d+ of 1099511627776 bytes intact$/m);
  });
});

describe('decompression bombs: an image or metadata member far larger than any real one', () => {
  const head = (name: string, size: number) => {
    const kept = real.filter((m) => m.name !== name);
    return Buffer.concat([plainTar(kept, false), ustarHeader(name, size)]);
  };
  it('zstd: core-1.img of 64 MiB of zeros (RLE blocks, a 4 KB frame) is refused by name, not read', () => {
    const size = 64 << 20;
    const file = join(tmp, 'bomb-core.tar.zst');
    writeFileSync(file, zstdFrame(head('checkpoint/core-1.img', size), size + 1024));
    const r = ckpt(['inspect', file, '--ps-tree']);
    clean(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ckpt: ${file}:checkpoint/core-1.img: ${size} bytes: larger than the ${WHOLE_FILE_LIMIT >> 20} MiB limit for an image or metadata file (damaged, or a decompression bomb)\n`);
    const d = ckpt(['decode', file]);
    clean(d);
    expect(d.stderr).toMatch(/core-1\.img: 67108864 bytes: larger than the 16 MiB limit/);
  });
  it('gzip: config.dump of 64 MiB of zeros is a warning naming it; the processes are still shown (exit 4)', () => {
    const size = 64 << 20;
    const file = join(tmp, 'bomb-config.tar.gz');
    writeFileSync(file, gzipSync(Buffer.concat([head('config.dump', size), Buffer.alloc(size + 1024)]), { level: 1 }));
    const r = ckpt(['inspect', file, '--ps-tree']);
    clean(r);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/warning: config\.dump: 67108864 bytes: larger than the 16 MiB limit/);
    expect(r.stdout).toMatch(/\[1\]\s+ckpt-main/);
  });
});

describe('a working directory that has been removed', () => {
  it('an absolute path still works; a relative one is one line saying why (exit 1), not "uv_cwd"', () => {
    const gone = join(tmp, 'gone');
    mkdirSync(gone);
    // the child enters the directory, which is then removed under it
    const run = (target: string) =>
      spawnSync('sh', ['-c', `cd "${gone}" && rmdir "${gone}" && exec "${process.execPath}" "${join(ROOT, 'bin', 'ckpt.js')}" show "${target}"`], { encoding: 'utf8' });
    const abs = run(FIXTURE);
    expect(abs.stderr).toBe('');
    expect(abs.status).toBe(0);
    expect(abs.stdout).toMatch(/ckpt-procs/);
    mkdirSync(gone);
    const rel = run('procs-none.tar');
    expect(rel.status).toBe(1);
    expect(rel.stderr).not.toMatch(/uv_cwd|internal error/);
    expect(rel.stderr.trim().split('\n')).toHaveLength(1);
    try {
      rmdirSync(gone);
    } catch {
      // removed by the child
    }
  });
});
