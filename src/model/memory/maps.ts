/**
 * The memory maps of a checkpoint, like /proc/PID/maps: per region its range, protection, offset,
 * backing (file path with `(deleted)`, `[heap]`, `[stack]`, `[vdso]`, anon, memfd name, SysV shm
 * id) and how many of its pages are in the checkpoint; with filters by protection, kind of region
 * and address. Built on the regions of CheckpointMemory (no second reading of mm-<pid>.img).
 */
import { CkptError } from '../../errors.js';
import type { CheckpointMemory, MemoryRegion } from './checkpoint-memory.js';
import { MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from './regions.js';

/** Kinds of region the `region` filter selects. */
export const REGION_KINDS = ['heap', 'stack', 'anon', 'file', 'shared', 'memfd', 'shm'] as const;
export type RegionKind = (typeof REGION_KINDS)[number];

export interface MapsFilter {
  /** Regions with at least these PROT_* bits (and MAP_SHARED when `shared` is set). */
  prot?: { bits: number; shared?: boolean; private?: boolean };
  /** Regions of any of these kinds. */
  kinds?: readonly RegionKind[];
  /** Regions that overlap [start, end). */
  range?: { start: bigint; end: bigint };
}

/** One line of the maps. */
export interface MapsEntry {
  pid: number;
  region: MemoryRegion;
  /** What backs the region, as /proc/PID/maps names it: a path (with ` (deleted)`), `[heap]`, `[stack]`, `[vdso]`, `memfd:NAME`, `SYSV<key> shmid N`, or `` for anonymous memory. */
  backing: string;
  /** Offset of `start` in the file or object (0 for anonymous memory). */
  offset: bigint;
  /** Pages with data in the checkpoint, and pages without. */
  pagesPresent: number;
  pagesAbsent: number;
}

export interface ProcessMaps {
  pid: number;
  comm?: string;
  entries: MapsEntry[];
}

/** Does the region belong to this kind? */
export function regionIsKind(r: MemoryRegion, kind: RegionKind): boolean {
  switch (kind) {
    case 'heap':
      return r.label === 'heap';
    case 'stack':
      return r.label === 'stack';
    case 'anon':
      return r.label === 'anon' || r.label === 'guard' || r.label === 'anon shared';
    case 'file':
      return r.label === 'file';
    case 'shared':
      return (r.flags & MAP_SHARED) !== 0;
    case 'memfd':
      return r.label === 'memfd';
    case 'shm':
      return r.label === 'sysv shm';
  }
}

/** The backing as /proc/PID/maps' last column shows it. */
export function regionBacking(r: MemoryRegion): string {
  switch (r.label) {
    case 'heap':
    case 'stack':
    case 'vdso':
    case 'vvar':
    case 'vsyscall':
    case 'uprobes':
      return `[${r.label}]`;
    case 'memfd':
      return r.path ?? 'memfd:';
    case 'sysv shm': {
      const o = r.shared;
      const key = o?.sysvKey !== undefined ? (o.sysvKey >>> 0).toString(16).padStart(8, '0') : '????????';
      return `SYSV${key} shmid ${o?.shmid ?? '?'}`;
    }
    case 'anon shared':
      return '/dev/zero (shared anon)';
    default:
      if (r.path !== undefined) return r.deleted ? `${r.path} (deleted)` : r.path;
      return '';
  }
}

export function matchesFilter(r: MemoryRegion, f: MapsFilter): boolean {
  if (f.prot) {
    if ((r.prot & f.prot.bits) !== f.prot.bits) return false;
    if (f.prot.shared && !(r.flags & MAP_SHARED)) return false;
    if (f.prot.private && r.flags & MAP_SHARED) return false;
  }
  if (f.kinds && f.kinds.length > 0 && !f.kinds.some((k) => regionIsKind(r, k))) return false;
  if (f.range && !(r.start < f.range.end && r.end > f.range.start)) return false;
  return true;
}

/** The maps of every process (or of `pids`), in pstree order; with a filter, processes without a matching region are left out. */
export function memoryMaps(memory: CheckpointMemory, options: { pids?: readonly number[]; filter?: MapsFilter } = {}): ProcessMaps[] {
  const out: ProcessMaps[] = [];
  const pids = options.pids ?? memory.pids();
  for (const pid of pids) {
    const proc = memory.forPid(pid);
    const entries: MapsEntry[] = [];
    for (const r of proc.regions()) {
      if (options.filter && !matchesFilter(r, options.filter)) continue;
      entries.push({ pid, region: r, backing: regionBacking(r), offset: r.offset ?? 0n, pagesPresent: r.pagesPresent, pagesAbsent: r.pages - r.pagesPresent });
    }
    if (options.filter && entries.length === 0) continue;
    const comm = memory.comm(pid);
    out.push(comm !== undefined ? { pid, comm, entries } : { pid, entries });
  }
  return out;
}

/** Parses `rwx`, `r-x`, `wx`, `rwxs`, `---p`: the bits a region must have at least. */
export function parseProtFilter(text: string): NonNullable<MapsFilter['prot']> {
  if (!/^[rwxsp-]{1,4}$/.test(text) || (text.includes('s') && text.includes('p'))) {
    throw new CkptError(`not a protection: "${text}" (give the letters a region must have, e.g. rwx, wx, r-xp, rw-s)`);
  }
  let bits = 0;
  if (text.includes('r')) bits |= PROT_READ;
  if (text.includes('w')) bits |= PROT_WRITE;
  if (text.includes('x')) bits |= PROT_EXEC;
  const p: NonNullable<MapsFilter['prot']> = { bits };
  if (text.includes('s')) p.shared = true;
  if (text.includes('p')) p.private = true;
  return p;
}

function parseAddress(text: string, whole: string): bigint {
  const t = text.trim();
  if (!/^(0x)?[0-9a-f]+$/i.test(t)) throw new CkptError(`not an address: "${whole}" (give A or A-B in hex, e.g. 0x7f0000001000 or 7f0000000000-7f0000100000)`);
  return BigInt(t.toLowerCase().startsWith('0x') ? t : `0x${t}`);
}

/** Parses `A` (the region holding A) or `A-B` (regions overlapping [A, B)); hex, with or without 0x. */
export function parseAddressFilter(text: string): NonNullable<MapsFilter['range']> {
  const dash = text.indexOf('-');
  if (dash === -1) {
    const a = parseAddress(text, text);
    return { start: a, end: a + 1n };
  }
  const start = parseAddress(text.slice(0, dash), text);
  const end = parseAddress(text.slice(dash + 1), text);
  if (end <= start) throw new CkptError(`empty address range "${text}": the end must be above the start`);
  return { start, end };
}

/** Parses a region kind list (`heap`, `stack,anon`). */
export function parseRegionKinds(values: readonly string[]): RegionKind[] {
  const out: RegionKind[] = [];
  for (const v of values.flatMap((x) => x.split(','))) {
    const k = v.trim() as RegionKind;
    if (!REGION_KINDS.includes(k)) throw new CkptError(`unknown region kind "${v}" (one of ${REGION_KINDS.join(', ')})`);
    if (!out.includes(k)) out.push(k);
  }
  return out;
}
