/**
 * The plan of a memory dump (`ckpt memdump`): for one process, each region (or only the region
 * holding an address) as one raw file of the region's size, with where each present run of bytes
 * is in the checkpoint (pages file and offset, or bytes already in memory); what is absent stays
 * a hole. Runtime-neutral: a writer (src/node/memdump.ts) turns the plan into sparse files.
 */
import { CkptError } from '../../errors.js';
import type { Piece } from './pagemap.js';
import type { CheckpointMemory } from './checkpoint-memory.js';
import { memoryMaps, regionIsKind, type MapsEntry, type RegionKind } from './maps.js';

export interface RegionDump {
  /** The region as `memoryMaps` lists it (backing, offset, pages present and absent). */
  map: MapsEntry;
  /** Kind of backing: heap, stack, anon, file, memfd, shm (SysV), shared (MAP_SHARED anonymous), or other (vdso, vvar, …). */
  kind: RegionKind | 'other';
  /** Output file name: `<start>-<end>.raw` (hex addresses without 0x). */
  name: string;
  /** Bytes of the region (end - start). */
  size: number;
  /** Where its bytes are; `missing` pieces are holes. Addresses in `at` are absolute. */
  pieces: Piece[];
}

const KIND_ORDER: RegionKind[] = ['heap', 'stack', 'memfd', 'shm', 'file', 'anon', 'shared'];

/** The dump plan of process `pid`: every region, or only the one holding `address`. */
export function planMemoryDump(memory: CheckpointMemory, pid: number, options: { address?: bigint } = {}): RegionDump[] {
  if (!memory.has(pid)) throw new CkptError(`no memory images for pid ${pid} (a zombie or a process without mm-${pid}.img)`);
  const filter = options.address !== undefined ? { range: { start: options.address, end: options.address + 1n } } : undefined;
  const maps = memoryMaps(memory, { pids: [pid], filter })[0]?.entries ?? [];
  if (memory.forPid(pid).regions().length === 0) throw new CkptError(`no memory images for pid ${pid} (a zombie or a process without mm-${pid}.img)`);
  if (options.address !== undefined && maps.length === 0) throw new CkptError(`no region of pid ${pid} holds the address 0x${options.address.toString(16)}`);
  return maps.map((m) => {
    const r = m.region;
    const size = Number(r.end - r.start);
    return {
      map: m,
      kind: KIND_ORDER.find((k) => regionIsKind(r, k)) ?? 'other',
      name: `${r.start.toString(16).padStart(12, '0')}-${r.end.toString(16).padStart(12, '0')}.raw`,
      size,
      pieces: memory.locate(pid, r.start, size),
    };
  });
}
