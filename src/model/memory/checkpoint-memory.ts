/**
 * The memory of a checkpoint: per process, the VMAs of mm-<pid>.img joined with
 * pagemap-<pid>.img and pages-<pages_id>.img; and the shared memory objects (MAP_SHARED anonymous
 * memory, memfd, SysV shm) with their own pagemap-shmem-<shmid>.img.
 *
 * Reads go through the source: positioned reads on a random-access source; on a compressed
 * archive every batch of reads (readMany) is served by ONE streaming pass.
 */
import { CkptError } from '../../errors.js';
import type { CheckpointProblem } from '../types.js';
import type { CheckpointSource, SourceEntry } from '../../source/types.js';
import { imageMember } from '../../source/layout.js';
import { pullFiles, readFiles } from '../../source/memory.js';
import { decodeImage, type CriuImage, type CoreEntry, type FileEntry, type IpcShmEntry, type MemfdInodeEntry, type MmEntry, type PstreeEntry, type RegFileEntry, type RemapFilePathEntry, type TaskKobjIdsEntry, type VmaEntry } from '../../images/index.js';
import { PageMap, PE_PARENT, type MissingReason, type Piece } from './pagemap.js';

/** A piece of memory whose bytes are in a pages file. */
export type FilePiece = Extract<Piece, { kind: 'file' }>;
import { isSharedVma, labelFor, protString, VMA_AREA_MEMFD, VMA_AREA_SYSVIPC, VMA_ANON_SHARED, VMA_FILE_PRIVATE, VMA_FILE_SHARED, type MappingTarget, type RegionLabel } from './regions.js';

/** What the memory model needs of the decoded images (ImageSet provides it). */
export interface ImageLookup {
  readonly source: CheckpointSource;
  /** Every entry of the archive, in archive order. */
  readonly entries: readonly SourceEntry[];
  image(name: string): CriuImage | undefined;
  imageEntries<T = Record<string, unknown>>(name: string): T[];
  /** Archive paths of the protobuf images read, e.g. `checkpoint/core-1.img`. */
  imagePaths(): string[];
}

export interface MemoryOptions {
  /** Page size of the checkpointed machine (default 4096). */
  pageSize?: number;
  /** Path of a file by its files.img id, when the caller already has it (default: files.img is decoded here). */
  resolveFile?: (fileId: number) => string | undefined;
}

export type SharedKind = 'anon shared' | 'memfd' | 'sysv shm';

/** A mapping of a shared object into a process. */
export interface SharedMapping {
  pid: number;
  start: bigint;
  end: bigint;
  /** Offset of `start` in the object. */
  pgoff: bigint;
}

/** A shared memory object: MAP_SHARED anonymous memory, a memfd, or a SysV shm segment. */
export interface SharedMemoryObject {
  /** Unique key, e.g. `shmem:33`, `sysv:11:0`. */
  readonly key: string;
  readonly kind: SharedKind;
  /** CRIU's shmid: the id of pagemap-shmem-<shmid>.img (for SysV: the shm id). */
  readonly shmid: number;
  /** memfd name (`ckpt-memfd`), or for MAP_SHARED anonymous memory dumped as memfd: `/dev/zero`. */
  readonly name?: string;
  /** SysV key. */
  readonly sysvKey?: number;
  /** Size of the object in bytes, when the images say. */
  readonly size?: bigint;
  /** Pages of the object, when it has a pagemap. */
  readonly pagemap?: PageMap;
  /** Contents stored inline (SysV shm of old images, without in_pagemaps). */
  readonly inline?: Uint8Array;
  /** Processes that map it. */
  readonly mappings: SharedMapping[];
  /** Pages with data in the checkpoint. */
  readonly pagesPresent: number;
}

export interface MemoryRegion {
  start: bigint;
  end: bigint;
  /** PROT_* bits. */
  prot: number;
  /** MAP_* bits. */
  flags: number;
  /** CRIU's VMA_* status bits. */
  status: number;
  /** "rw-p" like /proc/pid/maps. */
  perms: string;
  label: RegionLabel;
  /** File-backed regions: the file's path (memfd: `memfd:<name>`). */
  path?: string;
  /** File-backed regions: offset of `start` in the file. */
  offset?: bigint;
  /** File-backed regions: the file was deleted while mapped (CRIU kept it as a ghost or linked remap). */
  deleted?: boolean;
  /** Shared regions: the object holding the pages. */
  shared?: SharedMemoryObject;
  /** Pages of the region whose bytes are in the checkpoint. */
  pagesPresent: number;
  /** Pages of the region. */
  pages: number;
}

export interface MissingRange {
  address: bigint;
  length: number;
  reason: MissingReason;
}

export interface ReadResult {
  /** The bytes; what is missing (see `missing`) is zeros here, which is why `missing` must be read too. */
  bytes: Uint8Array;
  /** Ranges that are not in the checkpoint, in address order. */
  missing: MissingRange[];
}

/** Bytes of memory at an address (see ProcessMemory.stream). */
export interface MemoryChunk {
  address: bigint;
  bytes: Uint8Array;
}

/** A run of addresses that is in the checkpoint (`present`) or not (with the reason). */
export interface MemoryRun {
  start: bigint;
  end: bigint;
  present: boolean;
  reason?: MissingReason;
}

export interface ProcessMemory {
  readonly pid: number;
  /** The VMAs with labels, in address order ([] for a zombie). */
  regions(): MemoryRegion[];
  /** The region containing an address. */
  regionAt(address: bigint): MemoryRegion | undefined;
  /**
   * `length` bytes at `address`, or undefined when any of them is not in the checkpoint (unmapped,
   * not dumped, in a parent image, lazy, or past the damage of a salvaged archive): zeros there
   * would be false evidence. `readDetailed` gives what is there with the missing ranges named.
   */
  read(address: bigint, length: number): Promise<Uint8Array | undefined>;
  /** Bytes plus the ranges that were not in the checkpoint. */
  readDetailed(address: bigint, length: number): Promise<ReadResult>;
  /**
   * The address range [start, end) cut into runs that are in the checkpoint and runs that are not
   * (with the reason), in address order; adjacent runs of the same kind are merged.
   */
  layout(start: bigint, end: bigint): MemoryRun[];
  /** Many reads, served by one pass over a compressed archive. */
  readMany(requests: readonly { address: bigint; length: number }[]): Promise<ReadResult[]>;
  /**
   * The bytes of the given address ranges that are in the checkpoint, in the order given, as
   * chunks of at most `chunkSize` bytes (default 1 MiB); what is not in the checkpoint is skipped
   * (`layout` says what and why). Memory stays flat whatever the size: a chunk is valid until the
   * next one is asked for. On a compressed archive the ranges are read in one streaming pass (one
   * more each time the next bytes lie behind the last ones in the archive), and leaving the loop
   * early stops the pass.
   */
  stream(ranges: readonly { start: bigint; end: bigint }[], options?: { chunkSize?: number }): AsyncIterable<MemoryChunk>;
  /** Bytes of private memory with data in the checkpoint (pages of pagemap-<pid>.img). */
  readonly privateBytes: number;
  /** Bytes of shared memory mapped by this process with data in the checkpoint. */
  readonly sharedBytes: number;
  /** mm-<pid>.img's entry, when there is one. */
  readonly mm?: MmEntry;
  /** The private pagemap, when there is one. */
  readonly pagemap?: PageMap;
}

/** A read request for CheckpointMemory.readMany. */
export interface MemoryReadRequest {
  pid: number;
  address: bigint;
  length: number;
}

/** remap-fpath.img remap types: a deleted file kept by a link (LINKED) or its contents (GHOST). */
const REMAP_LINKED = 0;
const REMAP_GHOST = 1;

function imageName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

interface FileTarget {
  kind: 'reg' | 'memfd';
  path?: string;
  inodeId?: number;
  /** remap-fpath.img has an entry for it: deleted while open or mapped. */
  deleted?: boolean;
}

/** Per-region resolution of where bytes come from. */
interface RegionBacking {
  region: MemoryRegion;
  /** For shared (and private memfd) mappings: the object, keyed by object offset. */
  object?: SharedMemoryObject;
  /** True when pages come from the object first (MAP_SHARED); false when the private pagemap is first. */
  sharedFirst: boolean;
}

class ProcessMemoryImpl implements ProcessMemory {
  readonly privateBytes: number;
  readonly sharedBytes: number;
  constructor(
    private readonly owner: CheckpointMemory,
    readonly pid: number,
    private readonly backings: RegionBacking[],
    readonly mm: MmEntry | undefined,
    readonly pagemap: PageMap | undefined,
  ) {
    let shared = 0;
    for (const b of backings) if (b.sharedFirst) shared += b.region.pagesPresent;
    this.sharedBytes = shared * owner.pageSize;
    this.privateBytes = pagemap ? pagemap.fileRuns.reduce((n, r) => n + r.pages, 0) * owner.pageSize + parentOnlyBytes(pagemap) : 0;
  }

  regions(): MemoryRegion[] {
    return this.backings.map((b) => b.region);
  }

  private backingIndex(address: bigint): number {
    let lo = 0;
    let hi = this.backings.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.backings[mid]!.region.end <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  regionAt(address: bigint): MemoryRegion | undefined {
    const b = this.backings[this.backingIndex(address)];
    return b && b.region.start <= address ? b.region : undefined;
  }

  /** Where the bytes [address, address+length) are, as pieces keyed by address. */
  locate(address: bigint, length: number): Piece[] {
    const out: Piece[] = [];
    const end = address + BigInt(length);
    let pos = address;
    let i = this.backingIndex(address);
    while (pos < end) {
      const b = this.backings[i];
      if (!b || b.region.start >= end) {
        out.push({ kind: 'missing', at: pos, length: Number(end - pos), reason: 'unmapped' });
        break;
      }
      const r = b.region;
      if (r.start > pos) {
        out.push({ kind: 'missing', at: pos, length: Number(r.start - pos), reason: 'unmapped' });
        pos = r.start;
      }
      const to = r.end < end ? r.end : end;
      const n = Number(to - pos);
      if (b.sharedFirst) {
        this.fromObject(b, pos, n, out);
      } else if (this.pagemap) {
        const own = this.pagemap.locate(pos, n);
        for (const p of own) {
          if (p.kind === 'missing' && p.reason === 'not-dumped' && b.object) this.fromObject(b, p.at, p.length, out);
          else out.push(p);
        }
      } else {
        out.push({ kind: 'missing', at: pos, length: n, reason: 'not-dumped' });
      }
      pos = to;
      i++;
    }
    return out;
  }

  layout(start: bigint, end: bigint): MemoryRun[] {
    const out: MemoryRun[] = [];
    if (end <= start) return out;
    for (const p of this.locate(start, Number(end - start))) {
      const present = p.kind !== 'missing';
      const reason = p.kind === 'missing' ? p.reason : undefined;
      const last = out[out.length - 1];
      const pEnd = p.at + BigInt(p.length);
      if (last && last.present === present && last.reason === reason && last.end === p.at) last.end = pEnd;
      else out.push(present ? { start: p.at, end: pEnd, present } : { start: p.at, end: pEnd, present, reason });
    }
    return out;
  }

  private fromObject(b: RegionBacking, at: bigint, length: number, out: Piece[]): void {
    const o = b.object;
    const delta = (b.region.offset ?? 0n) - b.region.start; // object offset = address + delta
    if (o?.pagemap) {
      for (const p of o.pagemap.locate(at + delta, length)) out.push({ ...p, at: p.at - delta });
    } else if (o?.inline) {
      const off = Number(at + delta);
      const have = Math.max(0, Math.min(length, o.inline.length - off));
      if (have > 0) out.push({ kind: 'bytes', at, length: have, bytes: o.inline, offset: off });
      if (have < length) out.push({ kind: 'missing', at: at + BigInt(have), length: length - have, reason: 'not-dumped' });
    } else {
      out.push({ kind: 'missing', at, length, reason: 'not-dumped' });
    }
  }

  async read(address: bigint, length: number): Promise<Uint8Array | undefined> {
    const r = await this.readDetailed(address, length);
    return r.missing.length === 0 ? r.bytes : undefined;
  }

  async readDetailed(address: bigint, length: number): Promise<ReadResult> {
    return (await this.readMany([{ address, length }]))[0]!;
  }

  async readMany(requests: readonly { address: bigint; length: number }[]): Promise<ReadResult[]> {
    return this.owner.readMany(requests.map((r) => ({ pid: this.pid, ...r })));
  }

  stream(ranges: readonly { start: bigint; end: bigint }[], options: { chunkSize?: number } = {}): AsyncIterable<MemoryChunk> {
    const pieces: Piece[] = [];
    for (const r of ranges) if (r.end > r.start) for (const p of this.locate(r.start, Number(r.end - r.start))) if (p.kind !== 'missing') pieces.push(p);
    return this.owner.streamPieces(pieces, options.chunkSize ?? 1 << 20);
  }
}

function parentOnlyBytes(pm: PageMap): number {
  if (!pm.parent) return 0;
  let n = 0;
  for (const r of pm.runs) if (!(r.flags & 4) && r.flags & PE_PARENT) n += pm.parent.pagesWithData(r.start, r.end) * pm.pageSize;
  return n;
}

/** The memory of every process of a checkpoint, and the shared memory objects. */
export class CheckpointMemory {
  readonly pageSize: number;
  private readonly procs = new Map<number, ProcessMemoryImpl>();
  private readonly objects = new Map<string, SharedMemoryObject>();
  private readonly comms = new Map<number, string>();
  readonly source: CheckpointSource;
  /**
   * Missing parts of the checkpoint's memory, found while building it: a process with a pagemap but
   * no mm-<pid>.img (its regions are the pagemap's runs, labelled 'unknown'), no pstree.img.
   */
  readonly problems: CheckpointProblem[] = [];

  private constructor(
    private readonly images: ImageLookup,
    options: MemoryOptions,
    parents: Map<string, PageMap>,
  ) {
    this.source = images.source;
    const ps = options.pageSize ?? 4096;
    if (!Number.isInteger(ps) || ps < 512 || (ps & (ps - 1)) !== 0) throw new CkptError(`page size ${ps} is not a power of two of at least 512`);
    this.pageSize = ps;
    this.build(options, parents);
  }

  /**
   * Builds the memory model from decoded images (an ImageSet). When pagemaps have PE_PARENT pages
   * and the parent images are in the source, they are read too (one pass).
   */
  static async load(images: ImageLookup, options: MemoryOptions = {}): Promise<CheckpointMemory> {
    const first = new CheckpointMemory(images, options, new Map());
    if (!first.needsParent()) return first;
    const parents = await loadParents(images, first.pageSize);
    return parents.size ? new CheckpointMemory(images, options, parents) : first;
  }

  /** Synchronous build without parent images (PE_PARENT pages report 'in-parent'). */
  static fromImages(images: ImageLookup, options: MemoryOptions = {}): CheckpointMemory {
    return new CheckpointMemory(images, options, new Map());
  }

  private needsParent(): boolean {
    const maps = [...[...this.procs.values()].map((p) => p.pagemap), ...[...this.objects.values()].map((o) => o.pagemap)];
    return maps.some((m) => m?.runs.some((r) => r.flags & PE_PARENT && !(r.flags & 4)));
  }

  /** Pids of the processes, in pstree order. */
  pids(): number[] {
    return [...this.procs.keys()];
  }

  /** The process's name (core-<pid>.img task_core_entry.comm), when known. */
  comm(pid: number): string | undefined {
    return this.comms.get(pid);
  }

  /** The memory of one process; a CkptError for a pid not in the checkpoint. */
  forPid(pid: number): ProcessMemory {
    const p = this.procs.get(pid);
    if (!p) throw new CkptError(`no process with pid ${pid} in the checkpoint (pids: ${this.pids().join(', ')})`, this.source.label);
    return p;
  }

  has(pid: number): boolean {
    return this.procs.has(pid);
  }

  /** Every process's memory, in pstree order. */
  processes(): ProcessMemory[] {
    return [...this.procs.values()];
  }

  /** The shared memory objects (MAP_SHARED anonymous, memfd, SysV shm). */
  sharedObjects(): SharedMemoryObject[] {
    return [...this.objects.values()];
  }

  /** Every pagemap with data: private ones by pid, and the shared objects'. */
  pagemaps(): { pagemap: PageMap; pid?: number; object?: SharedMemoryObject }[] {
    const out: { pagemap: PageMap; pid?: number; object?: SharedMemoryObject }[] = [];
    for (const p of this.procs.values()) if (p.pagemap) out.push({ pagemap: p.pagemap, pid: p.pid });
    for (const o of this.objects.values()) if (o.pagemap) out.push({ pagemap: o.pagemap, object: o });
    return out;
  }

  /** @internal: where the bytes of a process's range are. */
  locate(pid: number, address: bigint, length: number): Piece[] {
    return (this.forPid(pid) as ProcessMemoryImpl).locate(address, length);
  }

  /**
   * Many reads at once, over any processes. On a compressed archive they are served by one pass
   * over the archive; on a random-access source by positioned reads, adjacent ones merged.
   */
  async readMany(requests: readonly MemoryReadRequest[]): Promise<ReadResult[]> {
    const results: ReadResult[] = [];
    const jobs: { piece: FilePiece; dest: Uint8Array; at: number }[] = [];
    for (const req of requests) {
      if (!Number.isSafeInteger(req.length) || req.length < 0) throw new CkptError(`bad read length ${req.length}`);
      const bytes = new Uint8Array(req.length);
      const missing: MissingRange[] = [];
      for (const p of this.locate(req.pid, req.address, req.length)) {
        const at = Number(p.at - req.address);
        if (p.kind === 'file') jobs.push({ piece: p, dest: bytes, at });
        else if (p.kind === 'bytes') bytes.set(p.bytes.subarray(p.offset, p.offset + p.length), at);
        else {
          const last = missing[missing.length - 1];
          if (last && last.reason === p.reason && last.address + BigInt(last.length) === p.at) last.length += p.length;
          else missing.push({ address: p.at, length: p.length, reason: p.reason });
        }
      }
      results.push({ bytes, missing });
    }
    await this.fetch(jobs);
    return results;
  }

  /** @internal: the bytes of located pieces, in order, in chunks (ProcessMemory.stream). */
  async *streamPieces(pieces: Piece[], chunkSize: number): AsyncGenerator<MemoryChunk> {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new CkptError(`bad chunk size ${chunkSize}`);
    const src = this.source;
    const inline = function* (p: Extract<Piece, { kind: 'bytes' }>): Generator<MemoryChunk> {
      for (let o = 0; o < p.length; o += chunkSize) yield { address: p.at + BigInt(o), bytes: p.bytes.subarray(p.offset + o, p.offset + Math.min(p.length, o + chunkSize)) };
    };
    const short = (file: string, size: number, needs: number) => new CkptError(`pages file is shorter than its pagemap says (${size} bytes, needs ${needs})`, file);
    if (src.randomAccess) {
      const buf = new Uint8Array(chunkSize);
      for (const p of pieces) {
        if (p.kind === 'bytes') {
          yield* inline(p);
          continue;
        }
        if (p.kind !== 'file') continue;
        for (let o = 0; o < p.length; o += chunkSize) {
          const n = Math.min(chunkSize, p.length - o);
          const b = await src.readRange(p.file, p.offset + o, n, buf);
          if (b.length < n) throw short(p.file, p.offset + o + b.length, p.offset + p.length);
          yield { address: p.at + BigInt(o), bytes: b };
        }
      }
      return;
    }
    // a compressed archive: passes, each over pieces whose place in the archive only moves forward
    const order = new Map<string, number>();
    this.images.entries.forEach((e, i) => {
      if (!order.has(e.path)) order.set(e.path, i);
    });
    let i = 0;
    while (i < pieces.length) {
      let j = i;
      let lastFile = -1;
      let lastEnd = -1;
      for (; j < pieces.length; j++) {
        const p = pieces[j]!;
        if (p.kind !== 'file') continue;
        const at = order.get(p.file);
        if (at === undefined) throw new CkptError(`pages file ${imageName(p.file)} is missing from the checkpoint`, src.label);
        if (at < lastFile || (at === lastFile && p.offset < lastEnd)) break;
        lastFile = at;
        lastEnd = p.offset + p.length;
      }
      const pass = pieces.slice(i, j);
      i = j;
      let k = 0;
      while (k < pass.length && pass[k]!.kind === 'bytes') yield* inline(pass[k++] as Extract<Piece, { kind: 'bytes' }>);
      if (k === pass.length) continue;
      const files = new Set(pass.map((p) => (p.kind === 'file' ? p.file : '')));
      const seen = new Set<string>();
      let size = 0;
      for await (const { entry, offset: pos, chunk } of pullFiles(src, (e) => files.has(e.path) && !seen.has(e.path) && (seen.add(e.path), true))) {
        const cEnd = pos + chunk.length;
        size = cEnd;
        while (k < pass.length) {
          const p = pass[k]!;
          if (p.kind === 'bytes') {
            yield* inline(p);
            k++;
            continue;
          }
          if (p.kind !== 'file' || p.file !== entry.path || p.offset >= cEnd) break;
          const a = Math.max(p.offset, pos);
          const b = Math.min(p.offset + p.length, cEnd);
          for (let o = a; o < b; o += chunkSize) yield { address: p.at + BigInt(o - p.offset), bytes: chunk.subarray(o - pos, Math.min(b, o + chunkSize) - pos) };
          if (p.offset + p.length <= cEnd) k++;
          else break;
        }
        if (k >= pass.length) break;
      }
      while (k < pass.length && pass[k]!.kind === 'bytes') yield* inline(pass[k++] as Extract<Piece, { kind: 'bytes' }>);
      if (k < pass.length) {
        const p = pass[k] as Extract<Piece, { kind: 'file' }>;
        if (!seen.has(p.file)) throw new CkptError(`pages file ${imageName(p.file)} is missing from the checkpoint`, src.label);
        throw short(p.file, size, p.offset + p.length);
      }
    }
  }

  /** Copies file pieces into their destinations: positioned reads, or one streaming pass. */
  private async fetch(jobs: { piece: FilePiece; dest: Uint8Array; at: number }[]): Promise<void> {
    const byPiece = new Map<FilePiece, { dest: Uint8Array; at: number }>();
    for (const j of jobs) byPiece.set(j.piece, j);
    await copyFilePieces(this.source, jobs.map((j) => j.piece), (piece, bytes, offset) => {
      const j = byPiece.get(piece)!;
      j.dest.set(bytes, j.at + offset);
    });
  }

  private build(options: MemoryOptions, parents: Map<string, PageMap>): void {
    const im = this.images;
    const ps = this.pageSize;
    const paths = new Set(im.imagePaths());
    const entrySizes = new Map(im.entries.map((e) => [e.path, e.size]));
    const pagemapOf = (image: string): PageMap | undefined => {
      const img = im.image(image);
      if (!img || img.magic !== 'PAGEMAP') return undefined;
      const pm = PageMap.fromEntries(img.file, img.entries, ps);
      // pages file absent: every present page is reported missing by the reads that need it;
      // cut short (a damaged archive, salvaged): the pages past its end are missing as 'damaged'
      // (or missing because the archive ends before it: every page of it is 'damaged')
      const size = entrySizes.get(pm.pagesFile);
      const damage = im.source.damage?.() ?? [];
      if (size === undefined && damage.length) pm.intactBytes = 0;
      else if (size !== undefined && size < pm.dataBytes && damage.some((d) => d.file === pm.pagesFile)) pm.intactBytes = size;
      pm.parent = parents.get(imageName(img.file));
      return pm;
    };

    // files.img (CRIU >= 3.?) or the older per-type reg-files.img
    const files = new Map<number, FileTarget>();
    for (const f of im.imageEntries<FileEntry>('files.img')) {
      if (f.reg) files.set(f.id, { kind: 'reg', path: f.reg.name });
      else if (f.memfd) files.set(f.id, { kind: 'memfd', inodeId: f.memfd.inode_id });
    }
    for (const r of im.imageEntries<RegFileEntry>('reg-files.img')) if (!files.has(r.id)) files.set(r.id, { kind: 'reg', path: r.name });
    for (const r of im.imageEntries<RemapFilePathEntry>('remap-fpath.img')) {
      const f = files.get(r.orig_id & 0x7fffffff);
      if (f?.kind === 'reg' && (r.remap_type === undefined || r.remap_type === REMAP_LINKED || r.remap_type === REMAP_GHOST)) f.deleted = true;
    }
    const memfdInodes = new Map<number, MemfdInodeEntry>();
    for (const m of im.imageEntries<MemfdInodeEntry>('memfd.img')) memfdInodes.set(Number(m.inode_id), m);

    // SysV shm segments, per IPC namespace (ipcns-shm-<nsid>.img)
    const sysv = new Map<number, Map<number, IpcShmEntry & { extra?: unknown }>>();
    for (const p of paths) {
      const m = /\/ipcns-shm-(\d+)\.img$/.exec(p);
      if (!m) continue;
      const byId = new Map<number, IpcShmEntry & { extra?: unknown }>();
      for (const e of im.imageEntries<IpcShmEntry & { extra?: unknown }>(imageName(p))) byId.set(e.desc.id, e);
      sysv.set(Number(m[1]), byId);
    }

    const object = (key: string, make: () => Omit<SharedMemoryObject, 'key' | 'mappings' | 'pagesPresent'>): SharedMemoryObject => {
      let o = this.objects.get(key);
      if (!o) {
        const base = make();
        const pagesPresent = base.pagemap ? base.pagemap.pagesWithData(0n, 1n << 63n) : base.inline ? Math.ceil(base.inline.length / ps) : 0;
        o = { ...base, key, mappings: [], pagesPresent };
        this.objects.set(key, o);
      }
      return o;
    };
    const shmemObject = (shmid: number, kind: SharedKind, extra: { name?: string; size?: bigint; sysvKey?: number; inline?: Uint8Array }): SharedMemoryObject =>
      object(kind === 'sysv shm' ? `sysv:${shmid}` : `shmem:${shmid}`, () => ({ kind, shmid, ...extra, pagemap: pagemapOf(`pagemap-shmem-${shmid}.img`) }));

    // processes: pstree order; without pstree.img (a streaming pass that has not reached it yet,
    // 'pages-' sorts before 'pstree'), every process with an mm image
    let pids = im.imageEntries<PstreeEntry>('pstree.img').map((t) => t.pid);
    if (pids.length === 0) {
      pids = [...new Set([...paths].map((p) => /\/(?:mm|pagemap)-(\d+)\.img$/.exec(p)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1])))].sort((a, b) => a - b);
    }
    for (const pid of pids) {
      const core = im.imageEntries<CoreEntry>(`core-${pid}.img`)[0];
      if (core?.tc?.comm !== undefined) this.comms.set(pid, core.tc.comm);
      const mm = im.imageEntries<MmEntry>(`mm-${pid}.img`)[0];
      const pagemap = pagemapOf(`pagemap-${pid}.img`);
      const ids = im.imageEntries<TaskKobjIdsEntry>(`ids-${pid}.img`)[0] ?? core?.ids;
      const backings: RegionBacking[] = [];
      const vmas = mm ? mm.vmas.slice().sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0)) : pagemap ? pagemapAreas(pagemap) : [];
      if (!mm && pagemap) {
        this.problems.push({ kind: 'missing', file: imageMember(`mm-${pid}.img`), offset: null, message: `no memory map of process ${pid}: its regions are the runs of pagemap-${pid}.img, unlabelled` });
      }
      for (const v of vmas) backings.push(this.backing(pid, v, mm, pagemap, files, memfdInodes, sysv, ids?.ipc_ns_id, shmemObject, options));
      this.procs.set(pid, new ProcessMemoryImpl(this, pid, backings, mm, pagemap));
    }
    // objects nobody maps (a memfd only held open, a SysV segment not attached) are objects too
    for (const [ino, m] of memfdInodes) {
      void ino;
      if (paths.has(imageMember(`pagemap-shmem-${m.shmid}.img`))) shmemObject(m.shmid, m.name.startsWith('/dev/zero') ? 'anon shared' : 'memfd', { name: m.name, size: m.size });
    }
    for (const byId of sysv.values()) {
      for (const e of byId.values()) {
        const inline = e.extra instanceof Uint8Array ? e.extra : undefined;
        shmemObject(e.desc.id, 'sysv shm', { size: e.size, sysvKey: e.desc.key, inline });
      }
    }
  }

  private backing(
    pid: number,
    v: VmaEntry,
    mm: MmEntry | undefined,
    pagemap: PageMap | undefined,
    files: Map<number, FileTarget>,
    memfdInodes: Map<number, MemfdInodeEntry>,
    sysv: Map<number, Map<number, IpcShmEntry & { extra?: unknown }>>,
    ipcNs: number | undefined,
    shmemObject: (shmid: number, kind: SharedKind, extra: { name?: string; size?: bigint; sysvKey?: number; inline?: Uint8Array }) => SharedMemoryObject,
    options: MemoryOptions,
  ): RegionBacking {
    const ps = BigInt(this.pageSize);
    let target: MappingTarget | undefined;
    let obj: SharedMemoryObject | undefined;
    let path: string | undefined;
    let offset: bigint | undefined;
    let deleted = false;
    const shared = isSharedVma(v);
    const shmid = Number(v.shmid);
    if (v.status & VMA_AREA_SYSVIPC) {
      const ns = (ipcNs !== undefined ? sysv.get(ipcNs) : undefined) ?? [...sysv.values()].find((m) => m.has(shmid));
      const e = ns?.get(shmid);
      const inline = e?.extra instanceof Uint8Array ? e.extra : undefined;
      obj = shmemObject(shmid, 'sysv shm', { size: e?.size, sysvKey: e?.desc.key, inline });
      target = { kind: 'sysv shm' };
      offset = v.pgoff;
    } else if (v.status & (VMA_FILE_PRIVATE | VMA_FILE_SHARED) || v.status & VMA_AREA_MEMFD) {
      const f = files.get(shmid);
      offset = v.pgoff;
      if (f?.kind === 'memfd') {
        const ino = f.inodeId !== undefined ? memfdInodes.get(f.inodeId) : undefined;
        if (ino) {
          const anon = ino.name.startsWith('/dev/zero');
          obj = shmemObject(ino.shmid, anon ? 'anon shared' : 'memfd', { name: ino.name, size: ino.size });
          target = anon ? { kind: 'anon shared' } : { kind: 'memfd', path: `memfd:${ino.name}` };
          path = anon ? undefined : `memfd:${ino.name}`;
        } else target = { kind: 'memfd' };
      } else {
        path = options.resolveFile?.(shmid) ?? f?.path;
        target = { kind: 'file', path };
        deleted = f?.deleted === true;
      }
    } else if (v.status & VMA_ANON_SHARED) {
      obj = shmemObject(shmid, 'anon shared', {});
      target = { kind: 'anon shared' };
      offset = v.pgoff;
    }
    const label: RegionLabel = mm ? labelFor(v, mm, target) : 'unknown';
    const sharedFirst = shared && obj !== undefined;
    if (obj && sharedFirst) obj.mappings.push({ pid, start: v.start, end: v.end, pgoff: v.pgoff });
    const pages = Number((v.end - v.start) / ps);
    const region: MemoryRegion = {
      start: v.start,
      end: v.end,
      prot: v.prot,
      flags: v.flags,
      status: v.status,
      perms: protString(v.prot, v.flags),
      label,
      pagesPresent: 0,
      pages,
    };
    if (path !== undefined) region.path = path;
    if (deleted) region.deleted = true;
    if (offset !== undefined && (label === 'file' || label === 'memfd' || path !== undefined)) region.offset = offset;
    else if (offset !== undefined && obj) region.offset = offset;
    if (obj) region.shared = obj;
    // pages with data: private first, then the object for what the private map lacks
    let present = 0;
    if (sharedFirst) {
      if (obj!.pagemap) present = obj!.pagemap.pagesWithData(v.pgoff, v.pgoff + (v.end - v.start));
      else if (obj!.inline) present = Math.min(pages, Math.max(0, Math.ceil((obj!.inline.length - Number(v.pgoff)) / this.pageSize)));
    } else {
      present = pagemap ? pagemap.pagesWithData(v.start, v.end) : 0;
      if (obj?.pagemap && pagemap) {
        // private mapping of a memfd: pages not copied-on-write come from the object
        const own = pagemap.pagesWithData(v.start, v.end);
        const fromObj = obj.pagemap.pagesWithData(v.pgoff, v.pgoff + (v.end - v.start));
        present = Math.min(pages, Math.max(own, fromObj));
      }
    }
    region.pagesPresent = present;
    return { region, object: obj, sharedFirst };
  }
}

/** Without mm-<pid>.img: one area per run of adjacent pagemap pages, with no protection, flags or file known. */
function pagemapAreas(pm: PageMap): VmaEntry[] {
  const out: VmaEntry[] = [];
  for (const r of pm.runs) {
    const last = out[out.length - 1];
    if (last && last.end === r.start) last.end = r.end;
    else out.push({ start: r.start, end: r.end, pgoff: 0n, shmid: 0n, prot: 0, flags: 0, status: 0, fd: -1n });
  }
  return out;
}

/** Reads the parent (pre-dump) pagemaps when the checkpoint has them, in one pass. */
async function loadParents(images: ImageLookup, pageSize: number): Promise<Map<string, PageMap>> {
  const out = new Map<string, PageMap>();
  const all = images.entries.map((e) => e.path);
  const prefixes = [imageMember('parent/'), 'parent/', 'pre-checkpoint/'];
  const prefix = prefixes.find((p) => all.some((x) => x.startsWith(p) && /\/pagemap-/.test(x)));
  if (!prefix) return out;
  // the chain: prefix, prefix + 'parent/', ... as far as images go
  const chain: string[] = [];
  for (let p = prefix; all.some((x) => x.startsWith(p) && /pagemap-[^/]*\.img$/.test(x.slice(p.length))) && chain.length < 16; p += 'parent/') chain.push(p);
  const wanted = (path: string) => chain.some((c) => path.startsWith(c) && /^pagemap-[^/]*\.img$/.test(path.slice(c.length)));
  const bytes = await readFiles(images.source, (e) => e.type === 'file' && wanted(e.path));
  // deepest first, so each level can point at the next one up
  let below = new Map<string, PageMap>();
  for (const dir of chain.slice().reverse()) {
    const level = new Map<string, PageMap>();
    for (const [path, b] of bytes) {
      if (!path.startsWith(dir) || path.slice(dir.length).includes('/')) continue;
      const img = decodeImage(path, b);
      const pm = PageMap.fromEntries(path, img.entries, pageSize);
      pm.parent = below.get(imageName(path));
      level.set(imageName(path), pm);
    }
    below = level;
  }
  return below;
}

/**
 * Reads the bytes of file pieces (pages files of `source`) and hands each to `deliver` with the
 * offset of the bytes inside the piece; a piece may arrive in several parts. On a random-access
 * source: positioned reads, close pieces merged up to `maxSpan` bytes per read; otherwise one
 * streaming pass over the archive (pieces in file order, whatever order they were given in).
 * `deliver` may be asynchronous (a write): the next read waits for it. A piece longer than
 * `maxSpan` is read whole: callers that need bounded memory cut their pieces first.
 */
export async function copyFilePieces(
  source: CheckpointSource,
  pieces: readonly FilePiece[],
  deliver: (piece: FilePiece, bytes: Uint8Array, offset: number) => void | Promise<void>,
  maxSpan = 64 << 20,
): Promise<void> {
  if (pieces.length === 0) return;
  const byFile = new Map<string, FilePiece[]>();
  for (const p of pieces) {
    let l = byFile.get(p.file);
    if (!l) byFile.set(p.file, (l = []));
    l.push(p);
  }
  for (const l of byFile.values()) l.sort((a, b) => a.offset - b.offset);
  if (source.randomAccess) {
    for (const [file, l] of byFile) {
      // merge pieces whose file ranges are close, read each merged span once
      let i = 0;
      while (i < l.length) {
        let j = i;
        let spanEnd = l[i]!.offset + l[i]!.length;
        while (j + 1 < l.length && l[j + 1]!.offset <= spanEnd + 65536 && l[j + 1]!.offset + l[j + 1]!.length - l[i]!.offset <= maxSpan) {
          j++;
          spanEnd = Math.max(spanEnd, l[j]!.offset + l[j]!.length);
        }
        const base = l[i]!.offset;
        const buf = await source.readRange(file, base, spanEnd - base);
        if (buf.length < spanEnd - base) throw new CkptError(`pages file is shorter than its pagemap says (${buf.length + base} bytes, needs ${spanEnd})`, file);
        for (let k = i; k <= j; k++) {
          const p = l[k]!;
          await deliver(p, buf.subarray(p.offset - base, p.offset - base + p.length), 0);
        }
        i = j + 1;
      }
    }
    return;
  }
  const seen = new Set<string>();
  await source.walk(
    (e) => byFile.has(e.path),
    async (e, body) => {
      if (seen.has(e.path)) return; // a later duplicate member: the first one wins, as in indexing
      seen.add(e.path);
      const l = byFile.get(e.path)!;
      let pos = 0;
      let k = 0;
      for await (const chunk of body) {
        const cEnd = pos + chunk.length;
        // pieces overlapping this chunk; pieces are sorted by offset
        while (k < l.length && l[k]!.offset + l[k]!.length <= pos) k++;
        for (let m = k; m < l.length && l[m]!.offset < cEnd; m++) {
          const p = l[m]!;
          const a = Math.max(p.offset, pos);
          const b = Math.min(p.offset + p.length, cEnd);
          if (b > a) await deliver(p, chunk.subarray(a - pos, b - pos), a - p.offset);
        }
        pos = cEnd;
        if (k >= l.length) break;
      }
      const last = l[l.length - 1]!;
      if (pos < last.offset + last.length && k < l.length) throw new CkptError(`pages file is shorter than its pagemap says (${pos} bytes)`, e.path);
    },
  );
  for (const f of byFile.keys()) if (!seen.has(f)) throw new CkptError(`pages file ${imageName(f)} is missing from the checkpoint`, source.label);
}
