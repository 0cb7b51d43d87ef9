import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, fixture, procsFacts } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface MapsRegion {
  file: string;
  start: string;
  end: string;
  size: number;
  perms: string;
  kind: string;
  backing: string | null;
  pagesPresent: number;
  pagesAbsent: number;
  bytesPresent: number;
  sha256: string;
  absent: { start: string; end: string; reason: string }[];
}
interface Maps {
  kind: string;
  archiveSha256: string;
  pid: number;
  comm: string | null;
  address: string | null;
  regions: MapsRegion[];
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ckpt-memdump-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function memdump(archive: string, args: string[]): { dir: string; code: number; stdout: string; stderr: string; maps: Maps } {
  const dir = join(tmp, `out-${n++}`);
  const r = ckpt(['memdump', archive, '--output-dir', dir, ...args]);
  let maps = {} as Maps;
  try {
    maps = JSON.parse(readFileSync(join(dir, 'maps.json'), 'utf8')) as Maps;
  } catch {
    // none
  }
  return { dir, ...r, maps };
}

describe('ckpt memdump on the procs fixture', () => {
  const f = procsFacts();
  const main = f.processes.find((p) => p.role === 'main')!;
  const zombiePid = String(f.processes.find((p) => p.role === 'zombie')!.pid);
  let whole: ReturnType<typeof memdump>;
  beforeAll(() => {
    whole = memdump(fixture('podman', 'procs-none.tar'), ['--pid', String(main.pid)]);
  });

  it("one file per VMA of mm-1.img (crit's decoding), each the region's size, hashes in maps.json", () => {
    expect(whole.code, whole.stderr).toBe(0);
    const crit = JSON.parse(readFileSync(fixture('oracle', 'procs', `mm-${main.pid}.json`), 'utf8')).entries[0].vmas as { start: string; end: string }[];
    expect(whole.maps.regions.map((r) => [r.start, r.end])).toEqual(crit.map((v) => [v.start, v.end]));
    expect(readdirSync(whole.dir).sort()).toEqual([...whole.maps.regions.map((r) => r.file), 'maps.json'].sort());
    for (const r of whole.maps.regions) {
      const bytes = readFileSync(join(whole.dir, r.file));
      expect(bytes.length).toBe(Number(BigInt(r.end) - BigInt(r.start)));
      expect(sha(bytes), r.file).toBe(r.sha256);
      expect(r.bytesPresent).toBe(r.pagesPresent * 4096);
    }
    expect(whole.maps).toMatchObject({ kind: 'memdump', pid: main.pid, comm: main.comm, address: null });
    expect(whole.maps.archiveSha256).toBe(sha(readFileSync(fixture('podman', 'procs-none.tar'))));
  });

  it('every planted secret of pid 1 is in its region file at its address (heap, stack, shared anon, memfd, SysV shm, across a page)', () => {
    const secrets = f.secrets.filter((s) => s.pid === 1);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const s of secrets) {
      const addr = BigInt(s.addr);
      const r = whole.maps.regions.find((x) => BigInt(x.start) <= addr && addr < BigInt(x.end))!;
      expect(r, s.kind).toBeDefined();
      const bytes = readFileSync(join(whole.dir, r.file));
      const at = Number(addr - BigInt(r.start));
      expect(bytes.subarray(at, at + s.len).toString(), s.kind).toBe(s.marker);
    }
  });

  it('absent pages are holes: zeros, and no disk blocks for a region with no page in the checkpoint', () => {
    const empty = whole.maps.regions.find((r) => r.pagesPresent === 0 && r.size >= 65536)!;
    expect(empty).toBeDefined();
    expect(empty.absent.length).toBeGreaterThan(0);
    const p = join(whole.dir, empty.file);
    expect(readFileSync(p).every((b) => b === 0)).toBe(true);
    expect(statSync(p).blocks).toBe(0);
  });

  it('--address: only the region holding it; the same bytes from a gzip archive', () => {
    const s = f.secrets.find((x) => x.kind === 'heap')!;
    const one = memdump(fixture('podman', 'procs-gzip.tar'), ['--pid', String(main.pid), '--address', s.addr]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.maps.regions).toHaveLength(1);
    expect(one.maps.address).toBe(s.addr);
    const same = whole.maps.regions.find((r) => r.start === one.maps.regions[0]!.start)!;
    expect(one.maps.regions[0]!.sha256).toBe(same.sha256);
    expect(readFileSync(join(one.dir, same.file)).equals(readFileSync(join(whole.dir, same.file)))).toBe(true);
  });

  it('a zstd archive gives the same files as the plain one', () => {
    const z = memdump(fixture('podman', 'procs-zstd.tar'), ['--pid', String(main.pid)]);
    expect(z.code, z.stderr).toBe(0);
    expect(z.maps.regions.map((r) => [r.file, r.sha256])).toEqual(whole.maps.regions.map((r) => [r.file, r.sha256]));
  });

  it('usage errors: an address in no region, an unknown pid, a zombie without memory', () => {
    const bad = ckpt(['memdump', fixture('podman', 'procs-none.tar'), '--pid', String(main.pid), '-o', join(tmp, 'x1'), '--address', '0x10']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no region of pid 1 holds the address 0x10/);
    expect(ckpt(['memdump', fixture('podman', 'procs-none.tar'), '--pid', '99', '-o', join(tmp, 'x2')]).code).toBe(2);
    const zombie = ckpt(['memdump', fixture('podman', 'procs-none.tar'), '--pid', zombiePid, '-o', join(tmp, 'x3')]);
    expect(zombie.code).toBe(1);
    expect(zombie.stderr).toMatch(/no memory images for pid 7/);
  });
});
