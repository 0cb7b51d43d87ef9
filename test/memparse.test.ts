import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSource } from '../src/node/index.js';
import { ImageSet } from '../src/model/image-set.js';
import { CheckpointMemory, findMemoryMatches, searchCheckpoint, parseHex, type MemoryMatch, type SearchOptions } from '../src/model/memory/index.js';
import { workerRegexRunner } from '../src/node/regex-worker.js';
import { Hexdump } from '../src/views/hexdump.js';
import type { CheckpointSource } from '../src/source/types.js';
import { ckpt, fixture, procsFacts } from './helpers.js';

const facts = procsFacts();
const tmp = mkdtempSync(join(tmpdir(), 'ckpt-memparse-'));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const archive = (f: string) => fixture('podman', `procs-${f}.tar`);

async function collect(it: AsyncIterable<MemoryMatch>): Promise<MemoryMatch[]> {
  const out: MemoryMatch[] = [];
  for await (const m of it) out.push(m);
  return out;
}

async function search(format: string, opts: SearchOptions): Promise<MemoryMatch[]> {
  const source = await openSource(archive(format));
  try {
    return await collect(searchCheckpoint(source, opts));
  } finally {
    await source.close();
  }
}

/** A compact, comparable form of a match. */
const key = (m: MemoryMatch) => `${m.pid}@${m.address?.toString(16)}:${m.label}:${text(m.before)}[${text(m.match)}]${text(m.after)}`;

describe.each(['none', 'gzip', 'zstd'])('search (procs-%s.tar)', (format) => {
  it('finds every planted secret with the right pid, address and region', async () => {
    const kinds: Record<string, string> = { heap: 'heap', stack: 'stack', 'shared-anon': 'anon shared', memfd: 'memfd', 'sysv-shm': 'sysv shm', 'page-straddle': 'anon' };
    for (const s of facts.secrets) {
      const found = await search(format, { pattern: s.marker });
      expect(found.map((m) => [m.pid, m.address, m.label]), s.kind).toEqual([[s.pid, BigInt(s.addr), kinds[s.kind]]]);
      expect(text(found[0]!.match)).toBe(s.marker);
    }
  });

  it('finds the one secret that crosses a page boundary', async () => {
    const s = facts.secrets.find((x) => x.kind === 'page-straddle')!;
    const addr = BigInt(s.addr);
    expect(addr / 4096n).not.toBe((addr + BigInt(s.len) - 1n) / 4096n);
    const [m] = await search(format, { pattern: s.marker, context: 16 });
    expect(m?.address).toBe(addr);
  });

  it('finds environment secrets in every process that has them (env of the stack)', async () => {
    const value = facts.container.env_secret.split('=').slice(1).join('=');
    const found = await search(format, { pattern: value });
    expect(found.length).toBeGreaterThan(0);
    for (const m of found) expect(m.label).toBe('stack');
    const p9 = facts.processes.find((p) => p.pid === 9)!;
    const db = facts.longargv.env.find((e) => e.startsWith('DB_PASSWORD='))!;
    const [m] = await search(format, { pattern: db, pids: [9] });
    expect(m!.pid).toBe(9);
    expect(m!.address! >= BigInt(p9.env_start!) && m!.address! < BigInt(p9.env_end!)).toBe(true);
  });
});

describe('search: regex, hex, context, pids', () => {
  it('a regex finds every secret marker, in a worker with a time limit', async () => {
    const found = await search('none', { pattern: /CKPT-(HEAP|STACK|SHANON|MEMFD|SYSVSHM|STRADDLE)-SECRET-[0-9a-f]{4}/, regexRunner: (re) => workerRegexRunner(re) });
    const got = found.map((m) => `${m.pid}@0x${m.address!.toString(16)}`).sort();
    expect(got).toEqual(facts.secrets.map((s) => `${s.pid}@${s.addr}`).sort());
  });

  it('a hex search finds the bytes', async () => {
    const s = facts.secrets.find((x) => x.kind === 'heap')!;
    const hex = Buffer.from(s.marker, 'latin1').toString('hex');
    const found = await search('zstd', { pattern: parseHex(hex.replace(/(..)/g, '$1 ')) });
    expect(found.map((m) => m.address)).toEqual([BigInt(s.addr)]);
    expect(() => parseHex('abc')).toThrow(/hex/);
    expect(() => parseHex('zz')).toThrow(/hex/);
  });

  it('context bytes are the bytes around the match in memory', async () => {
    const source = await openSource(archive('none'));
    try {
      const memory = await CheckpointMemory.load(await ImageSet.load(source));
      for (const s of facts.secrets) {
        const [m] = await collect(findMemoryMatches(memory, { pattern: s.marker, context: 40 }));
        const around = await memory.forPid(s.pid).read(BigInt(s.addr) - 40n, s.len + 80);
        const want = text(around!);
        // context stops at the edges of the contiguous region, never beyond
        expect(want).toContain(text(m!.before) + s.marker + text(m!.after));
        expect(m!.before.length + m!.after.length).toBeGreaterThan(0);
      }
    } finally {
      await source.close();
    }
  });

  it('pids limit the search; shared objects are reported for the processes that map them', async () => {
    const shared = facts.secrets.find((x) => x.kind === 'memfd')!;
    expect(await search('none', { pattern: shared.marker, pids: [2] })).toEqual([]);
    expect((await search('none', { pattern: shared.marker, pids: [1] })).map((m) => m.pid)).toEqual([1]);
    await expect(search('none', { pattern: 'x', pids: [4242] })).rejects.toThrow(/no process with pid 4242/);
    await expect(search('gzip', { pattern: 'x', pids: [4242] })).rejects.toThrow(/no process with pid 4242/);
  });

  it('a memfd no process maps is searched too, reported without a pid', async () => {
    const source = await openSource(fixture('podman', 'files-none.tar'));
    try {
      const found = await collect(searchCheckpoint(source, { pattern: 'CKPT-MEMFD-CONTENT' }));
      expect(found).toHaveLength(1);
      expect(found[0]!.pid).toBeUndefined();
      expect(found[0]!.object?.kind).toBe('memfd');
      expect(found[0]!.object?.name).toBe('ckpt-files-memfd');
      expect(found[0]!.objectOffset).toBe(0n);
    } finally {
      await source.close();
    }
  });

  it('finds the same matches whatever the chunk size and context (random access)', async () => {
    const source = await openSource(archive('none'));
    try {
      const memory = await CheckpointMemory.load(await ImageSet.load(source));
      const pattern = /CKPT-[A-Z]+-[A-Z0-9-]+/;
      const base = async (context: number) => (await collect(findMemoryMatches(memory, { pattern, context, chunkSize: 1 << 20, maxMatchLength: 64 }))).map(key);
      const expected = new Map<number, string[]>();
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 200, max: 9000 }), fc.integer({ min: 0, max: 64 }), async (chunkSize, context) => {
          if (!expected.has(context)) expected.set(context, await base(context));
          const got = (await collect(findMemoryMatches(memory, { pattern, context, chunkSize, maxMatchLength: 64 }))).map(key);
          expect(got).toEqual(expected.get(context));
          const lit = (await collect(findMemoryMatches(memory, { pattern: 'SECRET', context, chunkSize }))).length;
          expect(lit).toBeGreaterThanOrEqual(facts.secrets.length);
        }),
        { numRuns: 25 },
      );
    } finally {
      await source.close();
    }
  });

  it('reads a compressed archive in ONE pass, whatever the chunks its decompressor gives', async () => {
    const inner = await openSource(archive('gzip'));
    let walks = 0;
    let reads = 0;
    // re-chunks every body into pieces of 1..4099 bytes
    const rechunk = async function* (body: AsyncIterable<Uint8Array>) {
      let n = 7;
      for await (const c of body) {
        for (let o = 0; o < c.length; ) {
          n = (n * 1103515245 + 12345) % 4099;
          const k = Math.max(1, n);
          yield c.subarray(o, o + k);
          o += k;
        }
      }
    };
    const spy: CheckpointSource = {
      label: inner.label,
      randomAccess: false,
      entries: () => inner.entries(),
      read: (p) => (reads++, inner.read(p)),
      readRange: (p, o, n) => (reads++, inner.readRange(p, o, n)),
      stream: (p) => (reads++, inner.stream(p)),
      walk: (want, visit) => (walks++, inner.walk(want, (e, body) => visit(e, rechunk(body)))),
      close: () => inner.close(),
    };
    const found = await collect(searchCheckpoint(spy, { pattern: /CKPT-[A-Z]+-SECRET-[0-9a-f]{4}/, context: 8 }));
    expect(walks).toBe(1);
    expect(reads).toBe(0);
    const direct = await search('none', { pattern: /CKPT-[A-Z]+-SECRET-[0-9a-f]{4}/, context: 8 });
    expect(found.map(key).sort()).toEqual(direct.map(key).sort());
    await spy.close();
  });

  it('stops when the signal aborts', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(search('none', { pattern: 'CKPT', signal: ac.signal })).rejects.toThrow();
  });
});

async function all<T>(batches: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

describe('regex safety', () => {
  it('a catastrophic regex is stopped by the worker time limit, with a clear error', async () => {
    const runner = workerRegexRunner(/(a+)+$/, { timeoutMs: 300 });
    const window = new Uint8Array(5000).fill(0x61);
    window[4999] = 0x21;
    const t0 = Date.now();
    await expect(all(runner.run(window, 0, 4999, 1024, 0))).rejects.toThrow(/ran for more than 0.3 s .*catastrophic backtracking/);
    expect(Date.now() - t0).toBeLessThan(5000);
    await runner.close();
  });

  it('a well-behaved regex in the worker gives matches with their length', async () => {
    const runner = workerRegexRunner(/b+/);
    const window = new TextEncoder().encode('aabbbab');
    expect((await all(runner.run(window, 0, 6, 2, 1))).map((h) => [h.index, Buffer.from(h.before).toString(), Buffer.from(h.match).toString(), Buffer.from(h.after).toString(), h.truncated])).toEqual([[2, "a", "bb", "b", true], [6, "a", "b", "", false]]);
    await runner.close();
  });
});

describe('Hexdump', () => {
  it('collapses a run of rows only when the bytes are identical', () => {
    const b = new Uint8Array(80);
    b[33] = 1; // row 2 differs from rows 0-1 only in a non-printable byte
    const rows = new Hexdump({ collapse: true }).write(0x1000n, b).trimEnd().split('\n');
    expect(rows).toEqual([
      '0000000000001000  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
      '*',
      '0000000000001020  00 01 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
      '0000000000001030  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|',
      '*',
    ]);
    expect(new Hexdump({ collapse: false }).write(0x1000n, b).trimEnd().split('\n')).toHaveLength(5);
  });

  it('continues a dump across writes and restarts after a gap', () => {
    const h = new Hexdump({ collapse: true });
    const z = new Uint8Array(16);
    expect(h.write(0n, z)).toContain('0000000000000000');
    expect(h.write(16n, z)).toBe('*\n');
    expect(h.write(64n, z)).toContain('0000000000000040');
    expect(h.write(0xffffffff0n, new Uint8Array(32).fill(0x41))).toContain('0000000ffffffff0  41');
  });
});

describe('ckpt memparse', () => {
  it('prints a table of private and shared memory per process', () => {
    for (const f of ['none', 'zstd']) {
      const r = ckpt(['memparse', archive(f)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/PID.*PROCESS NAME.*PRIVATE MEMORY.*SHARED MEMORY/);
      expect(r.stdout).toMatch(/│ 1 +│ ckpt-main +│ [\d.]+ KiB \(\d+ pages\) +│ 12\.0 KiB \(3 pages\)/);
      expect(r.stdout).toMatch(/ckpt-zombie +│ 0 B \(0 pages\)/);
    }
    const j = ckpt(['memparse', archive('none'), '--format', 'json']);
    const rows = JSON.parse(j.stdout).processes as { pid: number; comm: string; shared_pages: number; private_pages: number }[];
    expect(rows.find((x) => x.pid === 1)).toMatchObject({ comm: 'ckpt-main', shared_pages: 3 });
  });

  it('--pid dumps the known bytes at a known address', () => {
    const s = facts.secrets.find((x) => x.kind === 'heap')!;
    const addr = BigInt(s.addr);
    const rowAddr = addr - (addr % 16n);
    for (const f of ['none', 'gzip']) {
      const r = ckpt(['memparse', archive(f), '--pid', String(s.pid)]);
      expect(r.code, r.stderr).toBe(0);
      const row = r.stdout.split('\n').find((l) => l.startsWith(rowAddr.toString(16).padStart(16, '0')))!;
      expect(row).toBeDefined();
      const off = Number(addr - rowAddr);
      const hex = row.slice(18, 18 + 49).replace(/ /g, '');
      const ascii = row.slice(row.indexOf('|') + 1, row.lastIndexOf('|'));
      expect(hex.slice(off * 2)).toBe(Buffer.from(s.marker.slice(0, 16 - off), 'latin1').toString('hex'));
      expect(ascii.slice(off)).toBe(s.marker.slice(0, 16 - off));
      expect(r.stdout).toMatch(/heap \(\d+ of \d+ pages in the checkpoint\)/);
      expect(r.stdout).toMatch(/-- \d+ pages? not dumped --/);
    }
  });

  it('--output writes the full dump, without * lines', () => {
    const file = join(tmp, 'dump.txt');
    const r = ckpt(['memparse', archive('none'), '--pid', '1', '--output', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(file);
    const dump = readFileSync(file, 'utf8');
    expect(dump.split('\n')).not.toContain('*');
    expect(dump).toContain('|CKPT-');
  });

  it('--search gives pid, address, region and the match with context; non-printable bytes as "."', () => {
    const s = facts.secrets.find((x) => x.kind === 'memfd')!;
    const r = ckpt(['memparse', archive('zstd'), '--search', s.marker, '--context', '4']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PID +ADDRESS +REGION +MATCH$/);
    expect(lines[1]).toBe(`1       ${s.addr.padEnd(18)} memfd memfd:ckpt-memfd ....[${s.marker}]....`);
  });

  it('--search-regex and --search-hex, with --format json', () => {
    const r = ckpt(['memparse', archive('gzip'), '--search-regex', 'CKPT-[A-Z]+-SECRET-[0-9a-f]{4}', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const all = JSON.parse(r.stdout) as { pid: number; address: string; region: string; match: string }[];
    expect(all.map((m) => `${m.pid}@${m.address}`).sort()).toEqual(facts.secrets.map((s) => `${s.pid}@${s.addr}`).sort());
    const heap = all.find((m) => m.region === 'heap')!;
    expect(heap.match).toBe(facts.secrets.find((s) => s.kind === 'heap')!.marker);
    const h = ckpt(['memparse', archive('none'), '--search-hex', Buffer.from('CKPT-STACK-SECRET').toString('hex'), '--format', 'json', '--pid', '1']);
    const hm = JSON.parse(h.stdout) as { region: string; match_hex: string }[];
    expect(hm.map((m) => m.region)).toEqual(['stack']);
    const none = ckpt(['memparse', archive('none'), '--search', 'no-such-thing-anywhere']);
    expect(none.code).toBe(0);
    expect(none.stdout).toMatch(/^No matches for no-such-thing-anywhere/);
  });

  it('a bad regex, bad hex, an unknown pid are one-line usage errors', () => {
    for (const args of [
      ['--search-regex', '(unclosed'],
      ['--search-hex', 'xyz'],
      ['--pid', '4242'],
      ['--search', 'x', '--search-regex', 'y'],
      ['--context', '-1', '--search', 'x'],
    ]) {
      const r = ckpt(['memparse', archive('none'), ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trimEnd().split('\n')[0]).toMatch(/^ckpt: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(ckpt(['memparse', archive('none'), '--search-regex', '(unclosed']).stderr).toMatch(/invalid regular expression \/\(unclosed\/: Unterminated group/);
  });

  it('a catastrophic regex cannot hang the tool', () => {
    const t0 = Date.now();
    const r = ckpt(['memparse', archive('none'), '--search-regex', '(.*.*)*QXZ', '--regex-timeout', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ckpt: the regular expression .* was stopped \(catastrophic backtracking/);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
