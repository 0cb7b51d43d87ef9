/**
 * `ckpt diff` on a real pair: testdata/diff/{a,b}.tar, one container checkpointed twice
 * (testdata/diff/make-diff-pair.sh). Every expected change comes from the workload's facts
 * (testdata/diff/facts.json); the page-level memory diff is checked against a byte-by-byte
 * comparison of the same pages read through the memory model.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSource, openForDiff, diffCheckpoints, type CheckpointDiff, type DiffInput } from '../src/node/index.js';
import { ckpt, fixture } from './helpers.js';

interface DiffFacts {
  container: { name: string; id: string };
  a: { pid: number; sleeper: number; doomed: number; stable: string; stable_len: number; keep: string; keep_len: number; listen_port: number };
  b: { pid: number; newchild: number; client_port: number; fresh: string; fresh_len: number; changed_page: string; marker_at: string; grow_size: number; unread: number };
}
const facts = JSON.parse(readFileSync(fixture('diff', 'facts.json'), 'utf8')) as DiffFacts;
const A = fixture('diff', 'a.tar');
const B = fixture('diff', 'b.tar');

async function open(path: string): Promise<DiffInput> {
  return openForDiff(await openSource(path));
}

let a: DiffInput;
let b: DiffInput;
let d: CheckpointDiff;
beforeAll(async () => {
  a = await open(A);
  b = await open(B);
  d = await diffCheckpoints(a, b);
});

describe('diff of a real pair: processes', () => {
  it('reports exactly the added, removed and changed processes', () => {
    const changed = d.processes.filter((p) => p.status !== 'unchanged');
    expect(changed.map((p) => [p.status, p.pid]).sort()).toEqual(
      [
        ['added', facts.b.newchild],
        ['changed', facts.a.pid],
        ['changed', facts.a.sleeper],
        ['removed', facts.a.doomed],
      ].sort(),
    );
    const added = d.processes.find((p) => p.status === 'added')!;
    expect(added.comm).toBe('diff-newchild');
    expect(added.argv).toEqual(['/diff-workload', 'newchild']);
    expect(d.processes.find((p) => p.status === 'removed')!.comm).toBe('diff-doomed');
  });

  it('the stopped child: state only', () => {
    const s = d.processes.find((p) => p.pid === facts.a.sleeper)!;
    expect(s.matchedBy).toBe('pid');
    expect(s.changes).toEqual([{ field: 'state', before: 'alive', after: 'stopped (SIGSTOP)' }]);
    expect(s.threads).toEqual({ added: [], removed: [] });
  });

  it('pid 1: CAP_KILL dropped from the bounding set and one new thread, nothing else', () => {
    const p = d.processes.find((x) => x.pid === facts.a.pid)!;
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0]).toMatchObject({ field: 'capabilities.bounding', added: [], removed: ['CAP_KILL'] });
    expect(p.threads.removed).toEqual([]);
    expect(p.threads.added.map((t) => t.comm)).toEqual(['diff-newthread']);
    expect(p.environment).toEqual({ added: [], removed: [], changed: [] });
  });
});

describe('diff of a real pair: files and sockets', () => {
  it('pid 1: grow.txt moved, closeme.txt closed, opened.txt and two sockets opened; nothing else', () => {
    const f = d.files.filter((x) => x.pid === facts.a.pid && x.status !== 'unchanged');
    const byFd = new Map(f.map((x) => [x.fd, x]));
    expect([...byFd.keys()].sort((x, y) => x - y)).toEqual([3, 4, 6, 7, 8]);
    expect(byFd.get(3)).toMatchObject({ status: 'changed', path: '/data/grow.txt' });
    expect(byFd.get(3)!.changes).toEqual([
      { field: 'pos', before: 10, after: facts.b.grow_size },
      { field: 'size', before: 10, after: facts.b.grow_size },
    ]);
    expect(byFd.get(4)).toMatchObject({ status: 'removed', path: '/data/closeme.txt' });
    expect(byFd.get(6)).toMatchObject({ status: 'added', path: '/data/opened.txt' });
    expect(byFd.get(7)).toMatchObject({ status: 'added', type: 'INETSK' });
    expect(byFd.get(8)).toMatchObject({ status: 'added', type: 'INETSK' });
  });

  it('the new connection with its unread bytes; the listener unchanged', () => {
    const mine = d.sockets.filter((s) => s.socket.pid === facts.a.pid);
    const added = mine.filter((s) => s.status === 'added');
    expect(added).toHaveLength(2);
    const client = added.find((s) => s.socket.local?.port === facts.b.client_port)!;
    const server = added.find((s) => s.socket.local?.port === facts.a.listen_port)!;
    expect(client.socket).toMatchObject({ state: 'ESTABLISHED', remote: { address: '127.0.0.1', port: facts.a.listen_port } });
    expect(server.socket).toMatchObject({ state: 'ESTABLISHED', remote: { address: '127.0.0.1', port: facts.b.client_port } });
    expect(server.socket.queued.in).toBe(facts.b.unread);
    const listener = mine.filter((s) => s.status === 'unchanged');
    expect(listener.map((s) => [s.socket.state, s.socket.local?.port])).toEqual([['LISTEN', facts.a.listen_port]]);
    expect(mine.filter((s) => s.status === 'changed' || s.status === 'removed')).toEqual([]);
  });

  it('mounts: nothing changed', () => {
    expect(d.mounts.length).toBeGreaterThan(0);
    expect(d.mounts.filter((m) => m.status !== 'unchanged')).toEqual([]);
  });
});

describe('diff of a real pair: root file system', () => {
  it('added, changed and removed files, each hashed as tar itself extracts them; nothing else', async () => {
    const { spawnSync } = await import('node:child_process');
    const { createHash } = await import('node:crypto');
    const content = (archive: string, path: string) => {
      const inner = spawnSync('tar', ['-xOf', archive, 'rootfs-diff.tar'], { maxBuffer: 64 << 20 }).stdout as Buffer;
      const r = spawnSync('tar', ['-xOf', '-', path.slice(1)], { input: inner, maxBuffer: 64 << 20 });
      return createHash('sha256').update(r.stdout as Buffer).digest('hex');
    };
    const changed = d.rootfs!.filter((r) => r.status !== 'unchanged');
    expect(changed.map((r) => [r.status, r.path]).sort()).toEqual(
      [
        ['added', '/data/added.txt'],
        ['added', '/data/opened.txt'],
        ['changed', '/data/changed.txt'],
        ['changed', '/data/grow.txt'],
        ['removed', '/data/removed.txt'],
      ].sort(),
    );
    const c = changed.find((r) => r.path === '/data/changed.txt')!;
    expect(c.changes.find((x) => x.field === 'sha256')).toMatchObject({ before: content(A, c.path), after: content(B, c.path) });
    const g = changed.find((r) => r.path === '/data/grow.txt')!;
    expect(g.changes.find((x) => x.field === 'size')).toMatchObject({ before: 10, after: facts.b.grow_size });
  });
});

describe('diff of a real pair: memory', () => {
  const big = (s: string) => BigInt(s);
  it('the new mapping is reported as added, with its one touched page', () => {
    const r = d.memory.regions.find((x) => x.pid === facts.a.pid && x.start === big(facts.b.fresh))!;
    expect(r.status).toBe('added');
    expect(r.end - r.start).toBe(BigInt(facts.b.fresh_len));
    expect(r.pagesPresentAfter).toBe(1);
  });

  it('exactly one page of the stable mapping changed; the kept mapping did not', () => {
    const changedPage = big(facts.b.changed_page);
    const r = d.memory.regions.find((x) => x.pid === facts.a.pid && x.start <= changedPage && changedPage < x.end)!;
    expect(r.status).toBe('changed');
    const stable = big(facts.a.stable);
    const stableEnd = stable + BigInt(facts.a.stable_len);
    const inStable = r.pages.filter((p) => p.start < stableEnd && p.end > stable);
    expect(inStable).toEqual([{ start: changedPage, end: changedPage + 4096n, kind: 'changed', pages: 1, bytes: 4096 }]);
    const keep = big(facts.a.keep);
    const keepEnd = keep + BigInt(facts.a.keep_len);
    for (const reg of d.memory.regions) for (const p of reg.pages) expect(p.start < keepEnd && p.end > keep && reg.pid === facts.a.pid).toBe(false);
  });

  it('the hash diff equals a byte-by-byte comparison of every page in both', async () => {
    const ma = await a.checkpoint.memory();
    const mb = await b.checkpoint.memory();
    for (const pid of [facts.a.pid, facts.a.sleeper]) {
      const fromDiff = new Set<bigint>();
      for (const r of d.memory.regions) if (r.pid === pid && r.status === 'changed') for (const p of r.pages) for (let x = p.start; x < p.end; x += 4096n) fromDiff.add(x);
      const fromBytes = new Set<bigint>();
      const pa = ma.forPid(pid);
      const pb = mb.forPid(pid);
      for (const ra of pa.regions()) {
        const rb = pb.regions().find((x) => x.start === ra.start);
        if (!rb) continue;
        const end = ra.end < rb.end ? ra.end : rb.end;
        const len = Number(end - ra.start);
        if (len > 64 << 20) continue;
        const [xa, xb] = [await pa.readDetailed(ra.start, len), await pb.readDetailed(ra.start, len)];
        const absent = (res: typeof xa, addr: bigint) => res.missing.some((m) => m.address <= addr && addr < m.address + BigInt(m.length));
        for (let off = 0; off < len; off += 4096) {
          const addr = ra.start + BigInt(off);
          const ga = absent(xa, addr);
          const gb = absent(xb, addr);
          if (ga && gb) continue;
          if (ga !== gb || Buffer.compare(xa.bytes.subarray(off, off + 4096), xb.bytes.subarray(off, off + 4096)) !== 0) fromBytes.add(addr);
        }
      }
      expect([...fromDiff].sort()).toEqual([...fromBytes].sort());
      expect(fromBytes.size).toBeGreaterThan(0);
    }
    expect(d.memory.bytesChanged).toBe(d.memory.pagesChanged * 4096);
  });
});

describe('diff of a checkpoint against itself', () => {
  it('reports nothing changed', async () => {
    const same = await diffCheckpoints(a, await open(A));
    expect(same.processes.every((p) => p.status === 'unchanged')).toBe(true);
    expect(same.files.every((f) => f.status === 'unchanged')).toBe(true);
    expect(same.sockets.every((s) => s.status === 'unchanged')).toBe(true);
    expect(same.memory.regions.every((r) => r.status === 'unchanged')).toBe(true);
    expect(same.memory.pagesChanged).toBe(0);
    expect(same.memory.pagesCompared).toBeGreaterThan(0);
    expect(same.statistics.every((s) => s.delta === 0)).toBe(true);
    expect(same.rootfs!.length).toBeGreaterThan(0);
    expect(same.rootfs!.every((r) => r.status === 'unchanged')).toBe(true);
    expect(same.mounts.every((m) => m.status === 'unchanged')).toBe(true);
  });
});

describe('ckpt diff (CLI)', () => {
  it('tree: the sections and summary', () => {
    const r = ckpt(['diff', A, B, '--files', '--sockets']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const s of ['Checkpoint Diff', 'Container:', 'Image:', 'Checkpoint A:', 'Checkpoint B:', 'Memory Changes', 'Process Tree', 'File Descriptor Changes', 'Socket Changes', 'Summary']) expect(r.stdout).toContain(s);
    expect(r.stdout).toContain(`+ PID ${String(facts.b.newchild).padEnd(5)} diff-newchild`);
    expect(r.stdout).toContain(`- PID ${String(facts.a.doomed).padEnd(5)} diff-doomed`);
    expect(r.stdout).toContain('Processes: +1 -1 ~2');
    expect(r.stdout).toContain(`changed ${facts.b.changed_page}-`);
  });

  it('json: checkpointctl field names, memory ranges as hex strings', () => {
    const r = ckpt(['diff', A, B, '--format', 'json', '--sockets']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.container_id).toBe(facts.container.id);
    expect(j.container_name).toBe(facts.container.name);
    expect(j.checkpoint_a.total_size).toBeGreaterThan(0);
    expect(j.process_changes.added.map((p: { pid: number }) => p.pid)).toEqual([facts.b.newchild]);
    expect(j.socket_changes.added.filter((s: { pid: number }) => s.pid === facts.a.pid).map((s: { src_port: number }) => s.src_port).sort()).toEqual([facts.a.listen_port, facts.b.client_port].sort());
    expect(j.file_changes).toBeNull();
    const regions = j.memory_changes.regions as { start: string; pages: { start: string }[] }[];
    expect(regions.some((x) => x.pages.some((p) => p.start === facts.b.changed_page))).toBe(true);
  });

  it('identical checkpoints: "No change" in memory and processes', () => {
    const r = ckpt(['diff', A, A]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/No change/g)!.length).toBeGreaterThanOrEqual(2);
  });

  it('a missing checkpoint: one line, exit 1', () => {
    const r = ckpt(['diff', A, '/does-not-exist.tar']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('diff of compressed archives (one streaming pass each)', () => {
  it('gives the same changes as the plain archives', async () => {
    const { gzipSync } = await import('node:zlib');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-diff-'));
    const gzA = join(dir, 'a.tar.gz');
    writeFileSync(gzA, gzipSync(readFileSync(A)));
    const ga = await open(gzA);
    expect(ga.checkpoint.source.randomAccess).toBe(false);
    const z = await diffCheckpoints(ga, b);
    const strip = (x: CheckpointDiff) => ({ p: x.processes, f: x.files, m: x.memory, r: x.rootfs, s: x.sockets.map((s) => [s.status, s.socket.pid, s.socket.fd]) });
    expect(strip(z)).toEqual(strip(d));
    await ga.checkpoint.close();
  });
});

describe('page hash kernel', () => {
  it('WebAssembly and JS give the same hashes; one changed word changes the hash', async () => {
    const { pageHashKernel } = await import('../src/model/memory/page-hash-kernel.js');
    const pages = readFileSync(A).subarray(0, 64 * 4096);
    const w = pageHashKernel(4096, 16 * 4096);
    const j = pageHashKernel(4096, 16 * 4096, { wasm: false });
    const hw = new Float64Array(64);
    const hj = new Float64Array(64);
    w.hash(pages, 64, hw, 0);
    j.hash(pages, 64, hj, 0);
    expect([...hw]).toEqual([...hj]);
    for (const at of [0, 4095, 2048]) {
      const p = Uint8Array.from(pages.subarray(0, 4096));
      p[at]! ^= 0x80;
      const x = new Float64Array(1);
      w.hash(p, 1, x, 0);
      expect(x[0]).not.toBe(hw[0]);
    }
  });
});
