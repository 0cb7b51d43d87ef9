// gzip and zstd decompressed in a worker thread (src/node/decompress-worker.ts): the same bytes
// as the uncompressed archive, whatever the ring's slot size; one-line errors with offsets for
// bad input. Small odd slot sizes make the ring wrap thousands of times per fixture, so a consumer
// that kept a chunk past the next one would see it overwritten.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { canDecompressInWorker, CkptError, openSource, searchCheckpoint, type WorkerRing } from '../src/node/index.js';
import { readFiles } from '../src/source/memory.js';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { fixture, procsFacts, ROOT } from './helpers.js';

const FIXTURES = ['procs', 'net', 'files'];
const FORMATS = (['gzip', 'zstd'] as const).filter((f) => canDecompressInWorker(f));
const RINGS: [string, WorkerRing][] = [
  ['2 slots of 4093 bytes', { slotSize: 4093, slots: 2 }],
  ['3 slots of 64 KiB', { slotSize: 64 << 10, slots: 3 }],
  ['the default ring', {}],
];

const secrets = procsFacts().secrets;

async function allFiles(file: string, options: Parameters<typeof openSource>[1] = {}) {
  const s = await openSource(file, options);
  try {
    return { entries: await s.entries(), files: await readFiles(s, () => true) };
  } finally {
    await s.close();
  }
}

it('gzip decompression in a worker is available on this runtime (Node >= 20.15)', () => {
  expect(canDecompressInWorker('gzip')).toBe(true);
  expect(canDecompressInWorker('zstd')).toBe(typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === 'function');
});

describe.each(FORMATS)('%s in a worker', (format) => {
  describe.each(FIXTURES)('%s', (name) => {
    let none: Awaited<ReturnType<typeof allFiles>>;
    beforeAll(async () => {
      none = await allFiles(fixture('podman', `${name}-none.tar`));
    });

    it.each(RINGS)('every member byte for byte as in the uncompressed archive, with %s', async (_, ring) => {
      const got = await allFiles(fixture('podman', `${name}-${format}.tar`), { decompression: 'worker', workerRing: ring });
      expect(got.entries).toEqual(none.entries);
      expect([...got.files.keys()]).toEqual([...none.files.keys()]);
      for (const [p, b] of none.files) expect(Buffer.compare(got.files.get(p)!, b), p).toBe(0);
    });
  });

  it('read(), stream() and a search give the same bytes and matches as the stream API', async () => {
    const ring = { slotSize: 4093, slots: 2 };
    const w = await openSource(fixture('podman', `procs-${format}.tar`), { decompression: 'worker', workerRing: ring });
    const none = await openSource(fixture('podman', 'procs-none.tar'));
    try {
      const pstree = await w.read('checkpoint/pstree.img');
      expect(Buffer.compare(pstree, await none.read('checkpoint/pstree.img'))).toBe(0);
      const parts: Buffer[] = [];
      for await (const c of w.stream('checkpoint/inventory.img')) parts.push(Buffer.from(c)); // copied: chunks are lent
      expect(Buffer.compare(Buffer.concat(parts), await none.read('checkpoint/inventory.img'))).toBe(0);
      for (const s of secrets) {
        const found: { pid?: number; address?: bigint }[] = [];
        for await (const m of searchCheckpoint(w, { pattern: s.marker })) found.push({ pid: m.pid, address: m.address });
        expect(found, s.kind).toContainEqual({ pid: s.pid, address: BigInt(s.addr) });
      }
    } finally {
      await w.close();
      await none.close();
    }
  });

  it('stops the worker when the consumer stops early', async () => {
    const w = await openSource(fixture('podman', `procs-${format}.tar`), { decompression: 'worker', workerRing: { slotSize: 4096, slots: 2 } });
    let n = 0;
    for await (const c of w.stream('checkpoint/pages-1.img')) {
      n += c.length;
      break;
    }
    expect(n).toBeGreaterThan(0);
    // a second pass on the same source starts a new worker and reads everything
    expect((await w.entries()).length).toBeGreaterThan(10);
  });
});

describe('the worker and the process', () => {
  it('an iterator dropped without being closed does not keep the process alive', () => {
    const code = `
      import { openSource } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'node', 'index.js')).href)};
      const s = await openSource(${JSON.stringify(fixture('podman', 'procs-gzip.tar'))}, { decompression: 'worker', workerRing: { slotSize: 4096, slots: 2 } });
      const it = s.stream('checkpoint/pages-1.img')[Symbol.asyncIterator]();
      const first = await it.next();
      console.log(first.value.length);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal).toBeNull(); // not killed by the time limit
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(0);
  });

  it('both workers (decompression, regex) run in a process started with --input-type=module', () => {
    const code = `
      import { openSource, searchCheckpoint, workerRegexRunner } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'node', 'index.js')).href)};
      const s = await openSource(${JSON.stringify(fixture('podman', 'procs-gzip.tar'))}, { decompression: 'worker' });
      const found = [];
      for await (const m of searchCheckpoint(s, { pattern: /${secrets[0]!.marker}/, regexRunner: workerRegexRunner })) found.push(m.pid + '@0x' + m.address.toString(16));
      console.log(found.join(' '));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split(' ')).toContain(`${secrets[0]!.pid}@0x${BigInt(secrets[0]!.addr).toString(16)}`);
  });

  it('a file gone between opening and reading: a read error, not a data error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-gone-'));
    try {
      const p = join(dir, 'gone.tar.gz');
      writeFileSync(p, readFileSync(fixture('podman', 'procs-gzip.tar')));
      const s = await openSource(p, { decompression: 'worker' });
      rmSync(p);
      const e = await s.entries().then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(CkptError);
      expect((e as CkptError).message).toMatch(/cannot read \(ENOENT\)/);
      expect((e as CkptError).file).toBe(p);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('gzip in a worker: members, headers and bad input', () => {
  let dir: string;
  let tar: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ckpt-gz-'));
    tar = readFileSync(fixture('podman', 'procs-none.tar'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, b: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, b);
    return p;
  };
  async function expectSame(p: string) {
    const got = await allFiles(p, { decompression: 'worker', workerRing: { slotSize: 8191, slots: 2 } });
    const want = await allFiles(fixture('podman', 'procs-none.tar'));
    expect([...got.files.keys()]).toEqual([...want.files.keys()]);
    for (const [k, b] of want.files) expect(Buffer.compare(got.files.get(k)!, b), k).toBe(0);
  }
  async function failure(p: string): Promise<CkptError> {
    try {
      await allFiles(p, { decompression: 'worker' });
    } catch (e) {
      expect(e).toBeInstanceOf(CkptError);
      expect((e as CkptError).file).toBe(p);
      return e as CkptError;
    }
    throw new Error('expected a CkptError');
  }
  /** Damage part-way is salvaged: what lies before it is read, the damage is reported by the source. */
  async function damage(p: string): Promise<{ file: string; offset: number | null; message: string }> {
    const s = await openSource(p, { decompression: 'worker' });
    try {
      await readFiles(s, () => true);
      const d = s.damage?.() ?? [];
      expect(d).toHaveLength(1);
      return d[0]!;
    } finally {
      await s.close();
    }
  }
  const gz = () => zlib.gzipSync(tar);

  it('reads concatenated members (gzip -c a b > ab.gz) and ignores zero padding after the last', async () => {
    const cut = 123457;
    await expectSame(write('members.tar.gz', Buffer.concat([zlib.gzipSync(tar.subarray(0, cut)), zlib.gzipSync(tar.subarray(cut)), Buffer.alloc(1000)])));
  });

  it('skips the optional header fields FEXTRA, FNAME, FCOMMENT and FHCRC', async () => {
    const raw = zlib.deflateRawSync(tar);
    const extra = Buffer.from([4, 0, 0x41, 0x42, 0, 0]); // XLEN 4, one subfield AB of length 0... and 2 bytes
    const header = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 4 | 8 | 16 | 2, 0, 0, 0, 0, 0, 3]), extra, Buffer.from('procs.tar\0comment\0'), Buffer.from([0x12, 0x34])]);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(zlib.crc32(tar), 0);
    trailer.writeUInt32LE(tar.length, 4);
    await expectSame(write('fields.tar.gz', Buffer.concat([header, raw, trailer])));
  });

  it('a CRC-32 that does not match the data: the offset of the trailer', async () => {
    const b = gz();
    b[b.length - 8]! ^= 0x01;
    const e = await failure(write('crc.tar.gz', b));
    expect(e.message).toMatch(/CRC-32 of the data is 0x[0-9a-f]{8}, the trailer says 0x[0-9a-f]{8}/);
    expect(e.offset).toBe(b.length - 8);
  });

  it('a size that does not match the data', async () => {
    const b = gz();
    b[b.length - 2]! ^= 0x10;
    const e = await failure(write('isize.tar.gz', b));
    expect(e.message).toMatch(/bytes \(mod 2\^32\) decompressed, the trailer says/);
    expect(e.offset).toBe(b.length - 4);
  });

  it('truncated inside the data, and inside the trailer', async () => {
    const b = gz();
    const e = await damage(write('trunc.tar.gz', b.subarray(0, Math.floor(b.length * 0.6))));
    expect(e.message).toMatch(new RegExp(`truncated gzip data.* at byte ${Math.floor(b.length * 0.6)} of the gzip file`));
    const t = await damage(write('trunc-trailer.tar.gz', b.subarray(0, b.length - 3)));
    expect(t.message).toMatch(/truncated gzip trailer.*after the end of the tar: every member was read whole/);
    expect(t.offset).toBe(b.length - 8);
  });

  it('corrupt deflate data', async () => {
    const b = gz();
    b.fill(0xff, 2000, 2100);
    const e = await failure(write('corrupt.tar.gz', b));
    expect(e.message).toMatch(/corrupt/);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(b.length);
  });

  it('bytes after the last member that are not a gzip member', async () => {
    const b = gz();
    const e = await damage(write('garbage.tar.gz', Buffer.concat([b, Buffer.from('trailing garbage')])));
    expect(e.message).toMatch(/not a gzip member \(bad magic\).*after the end of the tar/);
    expect(e.offset).toBe(b.length);
  });

  it('a header cut short', async () => {
    const e = await failure(write('header.tar.gz', Buffer.from([0x1f, 0x8b, 8, 0, 0])));
    expect(e.message).toMatch(/truncated gzip header/);
    expect(e.offset).toBe(0);
  });
});

describe.runIf(FORMATS.includes('zstd'))('zstd in a worker: bad input', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ckpt-zst-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('truncated and corrupt frames: salvaged up to the damage, or one-line errors, with an offset', async () => {
    const zs = readFileSync(fixture('podman', 'procs-zstd.tar'));
    const outcome = async (name: string, bytes: Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, bytes);
      const s = await openSource(p, { decompression: 'worker' });
      try {
        const e = await readFiles(s, () => true).then(
          () => undefined,
          (x: unknown) => x,
        );
        return { p, e, damage: s.damage?.() ?? [] };
      } finally {
        await s.close();
      }
    };
    // cut short part-way: what lies before the cut is read; the damage names the byte of the zstd file
    const cut = Math.floor(zs.length * 0.6);
    const t = await outcome('trunc.tar.zst', zs.subarray(0, cut));
    expect(t.e).toBeUndefined();
    expect(t.damage).toHaveLength(1);
    expect(t.damage[0]!.message).toMatch(/unexpected end of file/);
    expect(t.damage[0]!.offset).toBeTypeOf('number');
    // corrupt at byte 3000, before any member is whole: nothing to salvage, a one-line CkptError naming the file and a byte
    const c = await outcome('corrupt.tar.zst', Buffer.concat([zs.subarray(0, 3000), Buffer.alloc(200, 0xff), zs.subarray(3200)]));
    expect(c.e).toBeInstanceOf(CkptError);
    expect((c.e as CkptError).message).toMatch(/corrupt/);
    expect((c.e as CkptError).file).toBe(c.p);
    expect((c.e as CkptError).offset).toBeTypeOf('number');
  });
});
