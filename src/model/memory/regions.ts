/** VMA flags from CRIU (criu/include/image.h, mmap.h) and the label a region gets. */
import type { MmEntry, VmaEntry } from '../../images/index.js';

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;

export const MAP_SHARED = 0x1;
export const MAP_PRIVATE = 0x2;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x100;

export const VMA_AREA_REGULAR = 1 << 0;
export const VMA_AREA_STACK = 1 << 1;
export const VMA_AREA_VSYSCALL = 1 << 2;
export const VMA_AREA_VDSO = 1 << 3;
export const VMA_AREA_HEAP = 1 << 5;
export const VMA_FILE_PRIVATE = 1 << 6;
export const VMA_FILE_SHARED = 1 << 7;
export const VMA_ANON_SHARED = 1 << 8;
export const VMA_ANON_PRIVATE = 1 << 9;
export const VMA_AREA_SYSVIPC = 1 << 10;
export const VMA_AREA_SOCKET = 1 << 11;
export const VMA_AREA_VVAR = 1 << 12;
export const VMA_AREA_AIORING = 1 << 13;
export const VMA_AREA_MEMFD = 1 << 14;
export const VMA_AREA_SHSTK = 1 << 15;
export const VMA_AREA_UPROBES = 1 << 17;

export type RegionLabel =
  | 'heap'
  | 'stack'
  | 'vdso'
  | 'vvar'
  | 'vsyscall'
  | 'file'
  | 'anon'
  | 'anon shared'
  | 'memfd'
  | 'sysv shm'
  | 'guard'
  | 'aio'
  | 'socket'
  | 'shadow stack'
  | 'uprobes'
  /** mm-<pid>.img is missing: the region is a run of the pagemap, with no VMA to name it. */
  | 'unknown';

/** What a shared mapping is backed by, as far as the images say. */
export interface MappingTarget {
  kind: 'file' | 'memfd' | 'anon shared' | 'sysv shm';
  /** For files: the path; for memfd: `memfd:<name>`. */
  path?: string;
}

/** "rw-p" style permissions. */
export function protString(prot: number, flags: number): string {
  return (prot & PROT_READ ? 'r' : '-') + (prot & PROT_WRITE ? 'w' : '-') + (prot & PROT_EXEC ? 'x' : '-') + (flags & MAP_SHARED ? 's' : 'p');
}

export function isSharedVma(v: VmaEntry): boolean {
  return (v.status & (VMA_ANON_SHARED | VMA_FILE_SHARED | VMA_AREA_SYSVIPC)) !== 0 || ((v.flags & MAP_SHARED) !== 0 && (v.status & VMA_ANON_PRIVATE) === 0 && (v.status & VMA_FILE_PRIVATE) === 0);
}

export function labelFor(v: VmaEntry, mm: MmEntry | undefined, target: MappingTarget | undefined): RegionLabel {
  const s = v.status;
  if (s & VMA_AREA_VSYSCALL) return 'vsyscall';
  if (s & VMA_AREA_VVAR) return 'vvar';
  if (s & VMA_AREA_VDSO) return 'vdso';
  if (s & VMA_AREA_UPROBES) return 'uprobes';
  if (s & VMA_AREA_SHSTK) return 'shadow stack';
  if (s & VMA_AREA_AIORING) return 'aio';
  if (s & VMA_AREA_SOCKET) return 'socket';
  if (s & VMA_AREA_HEAP) return 'heap';
  if (s & VMA_AREA_SYSVIPC) return 'sysv shm';
  if (target?.kind === 'anon shared') return 'anon shared';
  if (s & VMA_AREA_MEMFD || target?.kind === 'memfd') return 'memfd';
  if (s & VMA_ANON_SHARED) return 'anon shared';
  if (s & (VMA_FILE_PRIVATE | VMA_FILE_SHARED)) return 'file';
  if (s & VMA_AREA_STACK || v.flags & MAP_GROWSDOWN) return 'stack';
  if (mm && mm.mm_start_stack >= v.start && mm.mm_start_stack < v.end) return 'stack';
  if (v.prot === 0) return 'guard';
  return 'anon';
}
