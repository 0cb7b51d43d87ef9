/**
 * `writeCore`: an ELF64 core file of one checkpointed x86_64 process, for gdb, eu-stack and other
 * ELF tools. Notes: NT_PRSTATUS per thread (registers, ids, pending and blocked signals),
 * NT_PRPSINFO, NT_SIGINFO (where CRIU recorded a queued signal), NT_AUXV, NT_FILE, and per thread
 * NT_PRFPREG and NT_X86_XSTATE. One PT_LOAD per memory region (split where file pages are left to
 * the debugger), with the region's protection as flags.
 *
 * The file is written in one pass over the pages through a sink with positioned writes: pages
 * absent from the checkpoint are holes (a sparse file), so memory stays flat whatever the process
 * size. File-backed pages CRIU did not dump (it never dumps unmodified file pages) are taken from
 * the mapped-file sources given (the container image's root, the root file-system diff); where no
 * source has the file, they are left out of the core (a PT_LOAD without file bytes, as the kernel
 * does for file pages) and the debugger reads them from the file named in NT_FILE when it has it.
 */
import { CkptError } from '../../errors.js';
import type { CheckpointSource } from '../../source/types.js';
import { imageMember } from '../../source/layout.js';
import type { CoreEntry, MmEntry, PagemapHead, PstreeEntry } from '../../images/index.js';
import type { Checkpoint } from '../checkpoint.js';
import type { Process } from '../types.js';
import { CheckpointMemory, copyFilePieces, type FilePiece } from '../memory/checkpoint-memory.js';
import { PageMap, type MissingReason, type Piece } from '../memory/pagemap.js';
import { rootfsDiffFiles } from './rootfs-diff-files.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../memory/regions.js';
import type { MemoryRegion } from '../memory/checkpoint-memory.js';
import {
  auxv,
  auxvPageSize,
  elfHeader,
  ELF_HEADER_SIZE,
  fileNote,
  fpregset,
  note,
  NT_AUXV,
  NT_FILE,
  NT_PRFPREG,
  NT_PRPSINFO,
  NT_PRSTATUS,
  NT_SIGINFO,
  NT_X86_XSTATE,
  PF_R,
  PF_W,
  PF_X,
  prpsinfo,
  prstatus,
  programHeaders,
  PROGRAM_HEADER_SIZE,
  PT_LOAD,
  PT_NOTE,
  siginfo,
  siginfoHead,
  xstate,
  type FileMapping,
  type ProgramHeader,
} from './elf-x86_64.js';

/** Where the core goes: positioned writes; the file grows with holes where nothing is written. */
export interface CoreSink {
  writeAt(data: Uint8Array, position: number): Promise<void>;
  /** Sets the final length (the core may end in a hole). */
  truncate(length: number): Promise<void>;
}

/** Bytes of a mapped file wanted for the core. */
export interface FileRange {
  /** The path as the process saw it (inside the container), e.g. `/usr/lib/libc.so.6`. */
  readonly path: string;
  /** Offset in the file. */
  readonly offset: number;
  readonly length: number;
}

/** A place mapped files can be read from: the container image's root, the root file-system diff. */
export interface MappedFileSource {
  /** Named in messages, e.g. `--rootfs /mnt/image` or `rootfs-diff.tar`. */
  readonly label: string;
  /** The paths (of those asked) this source has as regular files. */
  has(paths: readonly string[]): Promise<Set<string>>;
  /**
   * Reads the ranges (of files it has) and hands the bytes over, a range possibly in several parts
   * (`offset` is inside the range). Bytes past the end of a file are not delivered.
   */
  read(ranges: readonly FileRange[], deliver: (range: FileRange, bytes: Uint8Array, offset: number) => Promise<void>): Promise<void>;
}

/** The parent (pre-dump) images, for pages the checkpoint marks as being in its parent. */
export interface ParentImages {
  readonly source: CheckpointSource;
  /** The decoded pagemap image of a process (`pagemap-<pid>.img`): entries, head first; undefined when absent. */
  pagemap(pid: number): { file: string; entries: unknown[] } | undefined;
}

export interface WriteCoreOptions {
  /** The checkpoint the process is in. */
  checkpoint: Checkpoint;
  /**
   * Sources of file-backed pages CRIU did not dump (e.g. the container image's root), tried in
   * order after the checkpoint's own rootfs-diff.tar.
   */
  files?: readonly MappedFileSource[];
  /** Take file pages from the checkpoint's rootfs-diff.tar (default true). */
  rootfsDiff?: boolean;
  /** The parent images, for PE_PARENT pages. */
  parent?: ParentImages;
  /** Largest read of the pages files (default 4 MiB): bounds the memory a core takes to write. */
  blockSize?: number;
}

/** Why part of the process's memory is not in the core. */
export type CoreGapReason =
  /** file pages CRIU did not dump and no mapped-file source has */
  | 'file not available'
  /** PE_PARENT pages without the parent images */
  | 'in parent'
  /** lazy pages (served by a page server, not stored) */
  | 'lazy'
  /** pages past the point where the archive is cut short or corrupt (a salvaged archive) */
  | 'damaged';

export interface CoreGap {
  start: bigint;
  end: bigint;
  reason: CoreGapReason;
  /** For file pages: the file. */
  path?: string;
}

export interface CoreReport {
  pid: number;
  comm: string;
  /** Thread ids, the main thread first (NT_PRSTATUS order). */
  threads: number[];
  pageSize: number;
  /** PT_LOAD segments. */
  segments: number;
  /** Length of the core file (holes included). */
  size: number;
  /** Bytes of memory written from the checkpoint's pages (and the parent's). */
  pageBytes: number;
  /** Bytes of file-backed pages written from mapped-file sources, per source label. */
  fileBytes: Record<string, number>;
  /** Memory left out of the core, merged per reason and file, in address order. */
  gaps: CoreGap[];
  /** Notes written, by name (`NT_PRSTATUS` …) and count. */
  notes: Record<string, number>;
}

const MARCH: Record<number, string> = { 0: 'unknown', 1: 'x86_64', 2: 'arm', 3: 'aarch64', 4: 'ppc64', 5: 's390', 6: 'mips', 7: 'loongarch64', 8: 'riscv64' };
const REGS_COMPAT = 2;
const utf8 = new TextEncoder();

/** A run of a region: bytes in the core, or left out (PT_LOAD without file bytes). */
interface Segment {
  start: bigint;
  end: bigint;
  flags: number;
  inFile: boolean;
  offset: number;
}

type Source = { kind: 'pages'; piece: FilePiece } | { kind: 'bytes'; piece: Extract<Piece, { kind: 'bytes' }> } | { kind: 'file'; range: FileRange; at: bigint } | { kind: 'parent'; at: bigint; length: number };

function segmentFlags(prot: number): number {
  return (prot & PROT_READ ? PF_R : 0) | (prot & PROT_WRITE ? PF_W : 0) | (prot & PROT_EXEC ? PF_X : 0);
}

function isRealFile(r: MemoryRegion): boolean {
  return r.label === 'file' && r.path !== undefined && !r.path.startsWith('memfd:');
}

/** The path NT_FILE names: as the kernel writes it, with ` (deleted)` for a file deleted while mapped. */
function mappedPath(r: MemoryRegion): string {
  return r.deleted ? `${r.path!} (deleted)` : r.path!;
}

/** Signal mask bits (bit n-1 for signal n) of queued siginfos. */
function pendingMask(signals: { siginfo: Uint8Array }[] | undefined): bigint {
  let m = 0n;
  for (const s of signals ?? []) {
    const n = siginfoHead(s.siginfo).signo;
    if (n >= 1 && n <= 64) m |= 1n << BigInt(n - 1);
  }
  return m;
}

/**
 * The checks writeCore makes before writing anything: an x86_64 process with memory. Throws a
 * CkptError naming the image otherwise.
 */
export function checkCoreable(checkpoint: Checkpoint, process: Process): CoreEntry {
  const name = imageMember(`core-${process.pid}.img`);
  const core = checkpoint.images.imageEntries<CoreEntry>(`core-${process.pid}.img`)[0];
  if (!core) throw new CkptError(`no core image for pid ${process.pid}: no registers to write a core from`, `${checkpoint.label}:${name}`);
  if (core.mtype !== 1) throw new CkptError(`architecture ${MARCH[core.mtype] ?? `#${core.mtype}`} is not supported: ckpt coredump writes x86_64 cores only`, `${checkpoint.label}:${name}`);
  if (process.state === 'zombie') throw new CkptError(`pid ${process.pid} is a zombie: it has no memory or registers to dump`, `${checkpoint.label}:${name}`);
  if (!core.thread_info) throw new CkptError(`pid ${process.pid} has no x86 thread state`, `${checkpoint.label}:${name}`);
  if (core.thread_info.gpregs.mode === REGS_COMPAT) throw new CkptError(`pid ${process.pid} is a 32-bit (ia32 compat) task: not supported, ckpt coredump writes x86_64 cores only`, `${checkpoint.label}:${name}`);
  if (!checkpoint.images.imageEntries<MmEntry>(`mm-${process.pid}.img`)[0]) throw new CkptError(`no memory image for pid ${process.pid}`, `${checkpoint.label}:${imageMember(`mm-${process.pid}.img`)}`);
  return core;
}

/** Writes the ELF core of `process` into `sink`. The sink is written at positions, not in order. */
export async function writeCore(process: Process, sink: CoreSink, options: WriteCoreOptions): Promise<CoreReport> {
  const cp = options.checkpoint;
  const pid = process.pid;
  const mainCore = checkCoreable(cp, process);
  const mm = cp.images.imageEntries<MmEntry>(`mm-${pid}.img`)[0]!;
  const blockSize = options.blockSize ?? 4 << 20;

  // page size from the images: AT_PAGESZ of the saved auxiliary vector
  let memory = await cp.memory();
  const pageSize = auxvPageSize(mm.mm_saved_auxv) ?? memory.pageSize;
  if (pageSize !== memory.pageSize) memory = await CheckpointMemory.load(cp.images, { pageSize });
  const pm = memory.forPid(pid);
  const regions = pm.regions();
  const ps = BigInt(pageSize);

  // 1. where every byte of every region comes from
  const plan: { region: MemoryRegion; sources: Source[]; holes: { start: bigint; end: bigint; reason: CoreGapReason; path?: string }[] }[] = [];
  const fileWants = new Map<string, FileRange[]>();
  const parentPagemap = options.parent ? parentPageMap(options.parent, pid, pageSize) : undefined;
  for (const r of regions) {
    const sources: Source[] = [];
    const holes: (typeof plan)[number]['holes'] = [];
    const length = Number(r.end - r.start);
    for (const p of memory.locate(pid, r.start, length)) {
      if (p.kind === 'file') sources.push({ kind: 'pages', piece: p });
      else if (p.kind === 'bytes') sources.push({ kind: 'bytes', piece: p });
      else if (p.reason === 'not-dumped' && isRealFile(r)) {
        // a file deleted while mapped: the file now at that path is another one, never read
        const range: FileRange = { path: mappedPath(r), offset: Number((r.offset ?? 0n) + (p.at - r.start)), length: p.length };
        sources.push({ kind: 'file', range, at: p.at });
        if (!r.deleted) {
          let l = fileWants.get(range.path);
          if (!l) fileWants.set(range.path, (l = []));
          l.push(range);
        }
      } else if (p.reason === 'in-parent' && parentPagemap) {
        sources.push({ kind: 'parent', at: p.at, length: p.length });
      } else if (p.reason === 'in-parent' || p.reason === 'lazy' || p.reason === 'damaged') {
        holes.push({ start: p.at, end: p.at + BigInt(p.length), reason: reasonOf(p.reason) });
      }
    }
    plan.push({ region: r, sources, holes });
  }

  // 2. which files the mapped-file sources have (the first source having a file serves it)
  const fileSourceOf = new Map<string, MappedFileSource>();
  let wanted = [...fileWants.keys()];
  const fileSources = [...(options.rootfsDiff === false ? [] : [rootfsDiffFiles(cp)]), ...(options.files ?? [])];
  for (const src of fileSources) {
    if (wanted.length === 0) break;
    const has = await src.has(wanted);
    for (const p of has) fileSourceOf.set(p, src);
    wanted = wanted.filter((p) => !has.has(p));
  }

  // 3. segments: a region in the core, except file pages no source has (left to the debugger),
  //    and regions with nothing at all in the checkpoint (vvar, untouched reservations)
  const segments: Segment[] = [];
  const gaps: CoreGap[] = [];
  for (const { region: r, sources, holes } of plan) {
    const flags = segmentFlags(r.prot);
    const out: { start: bigint; end: bigint; inFile: boolean }[] = [];
    const push = (start: bigint, end: bigint, inFile: boolean) => {
      const last = out[out.length - 1];
      if (last && last.inFile === inFile && last.end === start) last.end = end;
      else out.push({ start, end, inFile });
    };
    let anyContent = false;
    for (const s of sources) {
      if (s.kind === 'file' && !fileSourceOf.has(s.range.path)) continue;
      anyContent = true;
    }
    if (!anyContent) out.push({ start: r.start, end: r.end, inFile: false });
    else if (isRealFile(r)) {
      // pages in order; pieces not listed in sources are zero pages of the region (kept in the core)
      let pos = r.start;
      for (const s of sources) {
        if (s.kind !== 'file' || fileSourceOf.has(s.range.path)) continue;
        if (s.at > pos) push(pos, s.at, true);
        push(s.at, s.at + BigInt(s.range.length), false);
        pos = s.at + BigInt(s.range.length);
      }
      if (pos < r.end) push(pos, r.end, true);
    } else out.push({ start: r.start, end: r.end, inFile: true });
    for (const o of out) segments.push({ ...o, flags, offset: 0 });
    for (const s of sources) {
      if (s.kind === 'file' && !fileSourceOf.has(s.range.path)) addGap(gaps, { start: s.at, end: s.at + BigInt(s.range.length), reason: 'file not available', path: s.range.path });
    }
    for (const h of holes) addGap(gaps, h);
  }
  gaps.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));

  // 4. notes
  const notes = await buildNotes(cp, process, mainCore, mm, memory, regions, pageSize);

  // 5. layout: headers, notes, then the segments at page-aligned offsets
  const phnum = 1 + segments.length;
  if (phnum >= 0xffff) throw new CkptError(`pid ${pid} has ${segments.length} memory segments: more than an ELF core without section headers can hold (65534)`, cp.label);
  const notesOffset = ELF_HEADER_SIZE + phnum * PROGRAM_HEADER_SIZE;
  let cursor = alignUp(notesOffset + notes.bytes.length, pageSize);
  for (const s of segments) {
    s.offset = cursor;
    if (s.inFile) cursor = alignUp(cursor + Number(s.end - s.start), pageSize);
  }
  const size = segments.reduce((n, s) => (s.inFile ? Math.max(n, s.offset + Number(s.end - s.start)) : n), notesOffset + notes.bytes.length);
  const phdrs: ProgramHeader[] = [{ type: PT_NOTE, flags: 0, offset: notesOffset, vaddr: 0n, filesz: notes.bytes.length, memsz: 0n, align: 0 }];
  for (const s of segments) phdrs.push({ type: PT_LOAD, flags: s.flags, offset: s.offset, vaddr: s.start, filesz: s.inFile ? Number(s.end - s.start) : 0, memsz: s.end - s.start, align: pageSize });

  const head = new Uint8Array(notesOffset + notes.bytes.length);
  head.set(elfHeader(phnum), 0);
  head.set(programHeaders(phdrs), ELF_HEADER_SIZE);
  head.set(notes.bytes, notesOffset);
  await sink.writeAt(head, 0);

  // 6. the pages: core offset of an address (only asked for addresses in in-file segments)
  const segStarts = segments.filter((s) => s.inFile);
  const coreOffset = (address: bigint): number => {
    let lo = 0;
    let hi = segStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segStarts[mid]!.end <= address) lo = mid + 1;
      else hi = mid;
    }
    const s = segStarts[lo];
    if (!s || s.start > address) throw new Error(`internal: address 0x${address.toString(16)} is not in a written segment`);
    return s.offset + Number(address - s.start);
  };

  let pageBytes = 0;
  const pieces: FilePiece[] = [];
  const parentWants: { at: bigint; length: number }[] = [];
  const fileRanges = new Map<MappedFileSource, { range: FileRange; at: bigint }[]>();
  for (const { sources } of plan) {
    for (const s of sources) {
      if (s.kind === 'pages') pieces.push(...cut(s.piece, blockSize));
      else if (s.kind === 'bytes') {
        await sink.writeAt(s.piece.bytes.subarray(s.piece.offset, s.piece.offset + s.piece.length), coreOffset(s.piece.at));
        pageBytes += s.piece.length;
      } else if (s.kind === 'parent') parentWants.push(s);
      else {
        const src = fileSourceOf.get(s.range.path);
        if (!src) continue;
        let l = fileRanges.get(src);
        if (!l) fileRanges.set(src, (l = []));
        l.push({ range: s.range, at: s.at });
      }
    }
  }
  // small chunks (a decompressor's) are gathered into large writes
  const out = new CoalescingWriter(sink, Math.min(blockSize, 4 << 20));
  const pieceAt = new Map<FilePiece, number>();
  for (const p of pieces) pieceAt.set(p, coreOffset(p.at));
  await copyFilePieces(
    memory.source,
    pieces,
    async (p, bytes, off) => {
      await out.write(bytes, pieceAt.get(p)! + off);
      pageBytes += bytes.length;
    },
    blockSize,
  );

  // PE_PARENT pages from the parent images
  if (parentPagemap && options.parent) {
    const fromParent: FilePiece[] = [];
    for (const w of parentWants) {
      for (const p of parentPagemap.locate(w.at, w.length)) {
        if (p.kind === 'file') fromParent.push(...cut(p, blockSize));
        else if (p.kind === 'missing') addGap(gaps, { start: p.at, end: p.at + BigInt(p.length), reason: reasonOf(p.reason) });
      }
    }
    const at = new Map<FilePiece, number>();
    for (const p of fromParent) at.set(p, coreOffset(p.at));
    await copyFilePieces(
      options.parent.source,
      fromParent,
      async (p, bytes, off) => {
        await out.write(bytes, at.get(p)! + off);
        pageBytes += bytes.length;
      },
      blockSize,
    );
    gaps.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  // file-backed pages from the mapped-file sources
  const fileBytes: Record<string, number> = {};
  for (const [src, list] of fileRanges) {
    const at = new Map<FileRange, bigint>(list.map((x) => [x.range, x.at]));
    fileBytes[src.label] = 0;
    await src.read(
      list.map((x) => x.range),
      async (range, bytes, off) => {
        await out.write(bytes, coreOffset(at.get(range)!) + off);
        fileBytes[src.label]! += bytes.length;
      },
    );
  }

  await out.flush();
  await sink.truncate(size);
  return {
    pid,
    comm: process.comm,
    threads: notes.threads,
    pageSize,
    segments: segments.length,
    size,
    pageBytes,
    fileBytes,
    gaps,
    notes: notes.counts,
  };
}

/** Positioned writes gathered: bytes that continue the previous write are buffered, up to `capacity`. */
class CoalescingWriter {
  private readonly buf: Uint8Array;
  private start = 0;
  private length = 0;
  constructor(
    private readonly sink: CoreSink,
    capacity: number,
  ) {
    this.buf = new Uint8Array(capacity);
  }
  async write(bytes: Uint8Array, position: number): Promise<void> {
    if (this.length > 0 && position === this.start + this.length && this.length + bytes.length <= this.buf.length) {
      this.buf.set(bytes, this.length);
      this.length += bytes.length;
      return;
    }
    await this.flush();
    if (bytes.length >= this.buf.length) {
      await this.sink.writeAt(bytes, position);
      return;
    }
    this.buf.set(bytes, 0);
    this.start = position;
    this.length = bytes.length;
  }
  async flush(): Promise<void> {
    if (this.length === 0) return;
    const n = this.length;
    this.length = 0;
    await this.sink.writeAt(this.buf.subarray(0, n), this.start);
  }
}

function reasonOf(r: MissingReason): CoreGapReason {
  return r === 'lazy' ? 'lazy' : r === 'damaged' ? 'damaged' : 'in parent';
}

function addGap(gaps: CoreGap[], g: CoreGap): void {
  const last = gaps[gaps.length - 1];
  if (last && last.reason === g.reason && last.path === g.path && last.end === g.start) last.end = g.end;
  else gaps.push(g.path === undefined ? { start: g.start, end: g.end, reason: g.reason } : { ...g });
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** A file piece cut into pieces of at most `max` bytes (reads of the pages files stay bounded). */
function cut(p: FilePiece, max: number): FilePiece[] {
  if (p.length <= max) return [p];
  const out: FilePiece[] = [];
  for (let done = 0; done < p.length; done += max) {
    const n = Math.min(max, p.length - done);
    out.push({ kind: 'file', at: p.at + BigInt(done), length: n, file: p.file, offset: p.offset + done });
  }
  return out;
}

function parentPageMap(parent: ParentImages, pid: number, pageSize: number): PageMap | undefined {
  const img = parent.pagemap(pid);
  if (!img || img.entries.length === 0) return undefined;
  void (img.entries[0] as PagemapHead);
  return PageMap.fromEntries(img.file, img.entries, pageSize);
}

/** The notes of the core, in the kernel's order. */
async function buildNotes(
  cp: Checkpoint,
  process: Process,
  mainCore: CoreEntry,
  mm: MmEntry,
  memory: CheckpointMemory,
  regions: MemoryRegion[],
  pageSize: number,
): Promise<{ bytes: Uint8Array; threads: number[]; counts: Record<string, number> }> {
  const pid = process.pid;
  const parts: Uint8Array[] = [];
  const counts: Record<string, number> = {};
  const add = (name: string, bytes: Uint8Array) => {
    parts.push(bytes);
    counts[name] = (counts[name] ?? 0) + 1;
  };
  const pstree = cp.images.imageEntries<PstreeEntry>('pstree.img').find((e) => e.pid === pid);
  const tids = process.threads.map((t) => t.tid);
  if (!tids.includes(pid)) tids.unshift(pid);
  const tc = mainCore.tc;

  // argv for pr_psargs, read from memory (the kernel keeps the first 79 bytes, NULs as spaces)
  let psargs = new Uint8Array(0);
  const argLen = Number(mm.mm_arg_end - mm.mm_arg_start);
  if (argLen > 0) {
    // what of it is in the checkpoint (a page of it not dumped: the bytes before it)
    const r = await memory.forPid(pid).readDetailed(mm.mm_arg_start, Math.min(argLen, 79));
    const have = r.missing.length ? Number(r.missing[0]!.address - mm.mm_arg_start) : r.bytes.length;
    const bytes = r.bytes.slice(0, have);
    let n = bytes.length;
    while (n > 0 && bytes[n - 1] === 0) n--;
    for (let i = 0; i < n; i++) if (bytes[i] === 0) bytes[i] = 0x20;
    psargs = bytes.subarray(0, n);
  }

  const fileMappings: FileMapping[] = regions.filter(isRealFile).map((r) => ({ start: r.start, end: r.end, offset: r.offset ?? 0n, path: mappedPath(r) }));
  const shared = tc?.signals_s?.signals ?? [];
  const threads: number[] = [];
  for (const tid of tids) {
    const core = tid === pid ? mainCore : cp.images.imageEntries<CoreEntry>(`core-${tid}.img`)[0];
    if (!core?.thread_info) {
      if (tid === pid) throw new CkptError(`no registers for pid ${pid}`, `${cp.label}:${imageMember(`core-${tid}.img`)}`);
      cp.noteProblem({ kind: 'missing', file: imageMember(`core-${tid}.img`), offset: null, message: `thread ${tid} of pid ${pid} has no core image: left out of the core` });
      continue;
    }
    threads.push(tid);
    const own = core.thread_core?.signals_p?.signals ?? [];
    const first = own[0] ?? (tid === pid ? shared[0] : undefined);
    const head = first ? siginfoHead(first.siginfo) : { signo: 0, errno: 0, code: 0 };
    add(
      'NT_PRSTATUS',
      note(
        'CORE',
        NT_PRSTATUS,
        prstatus({
          signo: head.signo,
          code: head.code,
          errno: head.errno,
          cursig: 0,
          sigpend: pendingMask(own) | (tid === pid ? pendingMask(shared) : 0n),
          sighold: core.thread_core?.blk_sigset ?? tc?.blk_sigset ?? 0n,
          pid: tid,
          ppid: process.ppid,
          pgrp: pstree?.pgid ?? process.pgid,
          sid: pstree?.sid ?? process.sid,
          regs: core.thread_info.gpregs,
        }),
      ),
    );
    if (tid === pid) {
      const state = process.state === 'stopped' ? 3 : 0;
      add(
        'NT_PRPSINFO',
        note(
          'CORE',
          NT_PRPSINFO,
          prpsinfo({
            state,
            zombie: false,
            nice: core.thread_core?.sched_nice ?? 0,
            flags: tc?.flags ?? 0,
            uid: process.credentials?.uid ?? 0,
            gid: process.credentials?.gid ?? 0,
            pid,
            ppid: process.ppid,
            pgrp: process.pgid,
            sid: process.sid,
            fname: utf8.encode(tc?.comm ?? process.comm),
            psargs,
          }),
        ),
      );
    }
    if (first) add('NT_SIGINFO', note('CORE', NT_SIGINFO, siginfo(first.siginfo)));
    if (tid === pid) {
      add('NT_AUXV', note('CORE', NT_AUXV, auxv(mm.mm_saved_auxv)));
      add('NT_FILE', note('CORE', NT_FILE, fileNote(fileMappings, pageSize)));
    }
    add('NT_PRFPREG', note('CORE', NT_PRFPREG, fpregset(core.thread_info.fpregs)));
    const xs = xstate(core.thread_info.fpregs);
    if (xs) add('NT_X86_XSTATE', note('LINUX', NT_X86_XSTATE, xs));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, threads, counts };
}
