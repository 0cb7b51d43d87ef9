/**
 * Issue 15, "Stream everything": memory streamed in bounded chunks, a closed stdout stops the
 * work, the pure-JS zstd decoder holds at most one block's output, and refuses huge windows.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSource } from '../src/node/index.js';
import { zstdDecompressFallback, ZSTD_MAX_WINDOW } from '../src/source/compression.js';
import { ImageSet } from '../src/model/image-set.js';
import { CheckpointMemory } from '../src/model/memory/index.js';
import { ckpt, fixture, procsFacts, ROOT } from './helpers.js';

const facts = procsFacts();

/** A hand-made zstd frame (hostile input): `blocks` RLE blocks of 128 KiB of `byte` each. */
function zstdRleBomb(blocks: number, byte = 0, windowDescriptor = 0x58 /* 8 MiB */): Uint8Array {
  const head = [0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor];
  const out = new Uint8Array(head.length + blocks * 4);
  out.set(head);
  for (let i = 0; i < blocks; i++) {
    const last = i === blocks - 1 ? 1 : 0;
    const h = ((128 << 10) << 3) | (1 << 1) | last; // RLE block of 128 KiB
    out.set([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff, byte], head.length + i * 4);
  }
  return out;
}

async function* once(b: Uint8Array): AsyncGenerator<Uint8Array> {
  yield b;
}

describe('pure-JS zstd (Node < 22.15): bounded memory', () => {
  it('a small file that expands to 512 MiB is given out block by block, never held whole', async () => {
    const bomb = zstdRleBomb(4096); // 16 KiB in, 512 MiB out
    const before = process.memoryUsage().arrayBuffers;
    let total = 0;
    let biggest = 0;
    let peak = 0;
    for await (const c of zstdDecompressFallback(once(bomb), 'bomb.zst')) {
      if (total === 0) peak = process.memoryUsage().arrayBuffers - before;
      total += c.length;
      biggest = Math.max(biggest, c.length);
    }
    expect(total).toBe(512 << 20);
    expect(biggest).toBeLessThanOrEqual(128 << 10);
    // when the first block is given out, far less than the whole output exists
    expect(peak).toBeLessThan(64 << 20);
  });

  it('refuses a frame whose window is over 128 MiB before allocating it', async () => {
    const huge = zstdRleBomb(1, 0, 0xf8); // window descriptor: 2^41 bytes
    await expect(async () => {
      for await (const c of zstdDecompressFallback(once(huge), 'huge.zst')) void c;
    }).rejects.toThrow(new RegExp(`huge.zst at byte 0: zstd frame needs a window of \\d+ bytes, over the limit of ${ZSTD_MAX_WINDOW}`));
  });

  it('a truncated frame and a file that is not zstd are one-line errors with the offset', async () => {
    const bomb = zstdRleBomb(8);
    await expect(async () => {
      for await (const c of zstdDecompressFallback(once(bomb.subarray(0, 20)), 'cut.zst')) void c;
    }).rejects.toThrow(/cut.zst at byte 20: truncated zstd data/);
    await expect(async () => {
      for await (const c of zstdDecompressFallback(once(new TextEncoder().encode('hello world')), 'x.zst')) void c;
    }).rejects.toThrow(/x.zst at byte 0: not zstd data/);
  });

  it('decodes the committed zstd fixtures as the native decoder does (same members, same bytes)', async () => {
    for (const name of ['procs-zstd.tar', 'procs-podman-zstd.tar']) {
      const fallback = await openSource(fixture('podman', name), { forceZstdFallback: true });
      const plain = await openSource(fixture('podman', 'procs-none.tar'));
      const a = await fallback.entries();
      expect(a.length).toBeGreaterThan(10);
      if (name === 'procs-zstd.tar') {
        const pages = a.find((e) => /pages-\d+\.img$/.test(e.path))!;
        expect(Buffer.from(await fallback.read(pages.path)).equals(Buffer.from(await plain.read(pages.path)))).toBe(true);
      }
      await fallback.close();
      await plain.close();
    }
  });
});

describe('ProcessMemory.stream', () => {
  for (const f of ['none', 'gzip', 'zstd']) {
    it(`gives the present bytes of a process in order, in bounded chunks, as read() does (${f})`, async () => {
      const src = await openSource(fixture('podman', `procs-${f}.tar`), { forceZstdFallback: f === 'zstd' });
      try {
        const mem = await CheckpointMemory.load(await ImageSet.load(src));
        const s = facts.secrets.find((x) => x.kind === 'heap')!;
        const proc = mem.forPid(s.pid);
        const present = proc.regions().flatMap((r) => proc.layout(r.start, r.end).filter((x) => x.present));
        let last = -1n;
        let bytes = 0;
        let sawSecret = false;
        for await (const c of proc.stream(present, { chunkSize: 4096 })) {
          expect(c.bytes.length).toBeLessThanOrEqual(4096);
          expect(c.address).toBeGreaterThan(last);
          last = c.address;
          bytes += c.bytes.length;
          const addr = BigInt(s.addr);
          if (addr >= c.address && addr + BigInt(s.marker.length) <= c.address + BigInt(c.bytes.length)) {
            const at = Number(addr - c.address);
            expect(Buffer.from(c.bytes.subarray(at, at + s.marker.length)).toString('latin1')).toBe(s.marker);
            sawSecret = true;
          }
        }
        expect(sawSecret).toBe(true);
        expect(bytes).toBe(present.reduce((n, r) => n + Number(r.end - r.start), 0));
      } finally {
        await src.close();
      }
    });
  }
});

describe('a reader that goes away stops the work', () => {
  it('out() throws once stdout is closed, instead of carrying on in silence', async () => {
    const io = pathToFileURL(join(ROOT, 'dist', 'cli', 'io.js')).href;
    const code = `
      const { out } = await import(${JSON.stringify(io)});
      let n = 0;
      try { for (; n < 200000; n++) await out('x'.repeat(65536) + '\\n'); } catch (e) { process.stderr.write('stopped ' + e.code + ' after ' + n + '\\n'); process.exit(0); }
      process.stderr.write('never stopped after ' + n + '\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy();
    await new Promise((r) => child.on('close', r));
    expect(err).toMatch(/^stopped EPIPE after \d+/);
    expect(Number(/after (\d+)/.exec(err)![1])).toBeLessThan(1000);
  });

  it('memparse --pid | head: exit 0, nothing on stderr', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'ckpt.js'), 'memparse', fixture('podman', 'procs-gzip.tar'), '--pid', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.stdout.destroy();
    const code = await new Promise((r) => child.on('close', r));
    expect(err).toBe('');
    expect(code).toBe(0);
  });
});

describe('memparse --pid on a compressed archive', () => {
  it('prints the same dump as on the plain tar', () => {
    const a = ckpt(['memparse', fixture('podman', 'procs-none.tar'), '--pid', '1']);
    const b = ckpt(['memparse', fixture('podman', 'procs-zstd.tar'), '--pid', '1']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout.replace(/procs-\w+\.tar/g, '')).toBe(a.stdout.replace(/procs-\w+\.tar/g, ''));
    expect(a.stdout).toContain('|CKPT-');
  });
});

describe('regex matches stream out of the worker', () => {
  it('a window with a million matches comes out in batches of at most 512, the worker waiting for the consumer', async () => {
    const { workerRegexRunner } = await import('../src/node/regex-worker.js');
    const runner = workerRegexRunner(/a/);
    try {
      const window = new Uint8Array(1 << 20).fill(0x61);
      let n = 0;
      let biggest = 0;
      for await (const batch of runner.run(window, 0, window.length - 1, 16, 0)) {
        n += batch.length;
        biggest = Math.max(biggest, batch.length);
      }
      expect(n).toBe(1 << 20);
      expect(biggest).toBeLessThanOrEqual(512);
    } finally {
      await runner.close();
    }
  }, 60_000);

  it('--max-matches N stops after N matches with a note on stderr', () => {
    const r = ckpt(['memparse', fixture('podman', 'procs-zstd.tar'), '--search-regex', '[a-z]{6}', '--max-matches', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(4); // header + 3
    expect(r.stderr).toBe('ckpt: note: stopped after 3 matches (--max-matches 3); there are more\n');
    const u = ckpt(['memparse', fixture('podman', 'procs-zstd.tar'), '--search', 'x', '--max-matches', '0']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--max-matches/);
  });

  it('V8 flags on the node command line do not stop the workers (regex search, gzip worker)', () => {
    for (const flag of ['--max-old-space-size=300', '--expose-gc']) {
      const r = spawnSync(process.execPath, [flag, join(ROOT, 'bin', 'ckpt.js'), 'memparse', fixture('podman', 'procs-gzip.tar'), '--search-regex', 'CKPT-[A-Z]+'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/CKPT-/);
    }
  });
});
