import { describe, expect, it } from 'vitest';
import { openSource } from '../src/node/index.js';
import { ImageSet } from '../src/model/image-set.js';
import { CheckpointMemory, memoryMaps, parseAddressFilter, parseProtFilter, parseRegionKinds } from '../src/model/memory/index.js';
import { ckpt, fixture, procsFacts } from './helpers.js';

const facts = procsFacts();
const archive = fixture('podman', 'procs-none.tar');

async function load(): Promise<CheckpointMemory> {
  const source = await openSource(archive);
  return CheckpointMemory.load(await ImageSet.load(source));
}

describe('memory maps (model)', () => {
  it('lists each planted secret inside the region of the kind and backing the facts name', async () => {
    const memory = await load();
    const backing: Record<string, RegExp> = { heap: /^\[heap\]$/, stack: /^\[stack\]$/, memfd: /^memfd:ckpt-memfd$/, 'sysv-shm': /^SYSV[0-9a-f]{8} shmid \d+$/, 'shared-anon': /^\/dev\/zero/, 'page-straddle': /^$/ };
    for (const s of facts.secrets) {
      const [p] = memoryMaps(memory, { pids: [s.pid], filter: { range: parseAddressFilter(s.addr) } });
      expect(p?.entries, s.kind).toHaveLength(1);
      const e = p!.entries[0]!;
      expect(e.region.start <= BigInt(s.addr) && BigInt(s.addr) < e.region.end).toBe(true);
      expect(e.backing, s.kind).toMatch(backing[s.kind]!);
      expect(e.pagesPresent + e.pagesAbsent).toBe(e.region.pages);
      expect(e.pagesPresent).toBeGreaterThan(0);
    }
    const sysv = facts.secrets.find((s) => s.kind === 'sysv-shm') as unknown as { key: number; shmid: number };
    const [p] = memoryMaps(memory, { pids: [1], filter: { kinds: ['shm'] } });
    expect(p!.entries.map((e) => e.backing)).toEqual([`SYSV${sysv.key.toString(16).padStart(8, '0')} shmid ${sysv.shmid}`]);
  });

  it('filters by protection, kind and address', async () => {
    const memory = await load();
    const all = memoryMaps(memory).flatMap((p) => p.entries);
    const rx = memoryMaps(memory, { filter: { prot: parseProtFilter('r-x') } }).flatMap((p) => p.entries);
    expect(rx.length).toBeGreaterThan(0);
    expect(rx.every((e) => e.region.perms[0] === 'r' && e.region.perms[2] === 'x')).toBe(true);
    expect(rx.length).toBe(all.filter((e) => /^r.x/.test(e.region.perms)).length);
    const shared = memoryMaps(memory, { filter: { kinds: parseRegionKinds(['shared']) } }).flatMap((p) => p.entries);
    expect(shared.every((e) => e.region.perms.endsWith('s'))).toBe(true);
    expect(shared.length).toBe(all.filter((e) => e.region.perms.endsWith('s')).length);
    // the clean procs fixture has no writable and executable memory
    expect(memoryMaps(memory, { filter: { prot: parseProtFilter('wx') } })).toEqual([]);
    const heap = facts.secrets.find((s) => s.kind === 'heap')!;
    const h = BigInt(heap.addr);
    const around = memoryMaps(memory, { pids: [1], filter: { range: parseAddressFilter(`${(h - 0x10n).toString(16)}-0x${(h + 0x10n).toString(16)}`) } });
    expect(around[0]!.entries.map((e) => e.backing)).toEqual(['[heap]']);
    expect(() => parseProtFilter('rwz')).toThrow(/not a protection/);
    expect(() => parseAddressFilter('0x20-0x10')).toThrow(/empty address range/);
    expect(() => parseRegionKinds(['bss'])).toThrow(/unknown region kind "bss"/);
  });
});

describe('ckpt memparse --maps', () => {
  it('prints a /proc/PID/maps-like table, a tree and JSON', () => {
    const memfd = facts.secrets.find((s) => s.kind === 'memfd')! as unknown as { addr: string; map_start: string };
    const t = ckpt(['memparse', archive, '--maps', '--pid', '1', '--region', 'memfd']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout.split('\n')[0]).toMatch(/^PID\s+START\s+END\s+PERMS\s+OFFSET\s+PRESENT\s+ABSENT\s+BACKING$/);
    expect(t.stdout).toMatch(new RegExp(`^1\\s+${memfd.map_start}\\s+0x[0-9a-f]+\\s+rw-s\\s+0x0\\s+1\\s+0\\s+memfd:ckpt-memfd$`, 'm'));
    const tree = ckpt(['memparse', archive, '--maps', '--region', 'heap', '--format', 'tree']);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/── 1 ckpt-main \(1 regions\)/);
    const j = ckpt(['memparse', archive, '--maps', '--pid', '1', '--address', memfd.addr, '--format', 'json']);
    expect(j.code).toBe(0);
    const v = JSON.parse(j.stdout) as { pid: number; regions: Record<string, unknown>[] }[];
    expect(v.map((p) => p.pid)).toEqual([1]);
    expect(v[0]!.regions[0]).toMatchObject({ start: memfd.map_start, perms: 'rw-s', kind: 'memfd', memfd: 'ckpt-memfd', deleted: false, shmid: null, pages_absent: 0 });
    expect(j.stdout).toMatch(/^\[\n  \{\n    "pid": 1,/);
  });

  it('names the option in a usage error', () => {
    for (const [args, msg] of [
      [['--prot', 'rwx'], /--prot needs --maps/],
      [['--maps', '--prot', 'q'], /not a protection: "q"/],
      [['--maps', '--region', 'bss'], /unknown region kind "bss"/],
      [['--maps', '--address', 'zz'], /not an address: "zz"/],
      [['--format', 'tree'], /--format tree needs --maps/],
      [['--maps', '--search', 'x'], /--maps cannot be combined with --search/],
    ] as const) {
      const r = ckpt(['memparse', archive, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });
});
