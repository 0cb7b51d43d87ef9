/**
 * Per-page hashes of the pages files of a checkpoint, computed while they stream by, and the
 * same hashes laid out by process address (for `ckpt diff`: which pages of a region changed).
 *
 * A page's hash is 53 bits (see page-hash-kernel.ts); two different pages share one with a
 * probability of about 2^-53, and never when they differ in a single 32-bit word. Only the
 * hashes are kept (8 bytes per 4 KiB page), never the pages.
 */
import { imageName, isImageMember } from '../../source/layout.js';
import { CkptError } from '../../errors.js';
import type { CheckpointSource } from '../../source/types.js';
import type { CheckpointMemory, MemoryRegion } from './checkpoint-memory.js';
import { pageHashKernel, type PageHashKernel } from './page-hash-kernel.js';

/** The hash of every page of every pages file, by file path and page index in the file. */
export interface PageHashes {
  readonly pageSize: number;
  readonly files: Map<string, Float64Array>;
}

/** True for the path of a CRIU pages file (`checkpoint/pages-<id>.img`). */
export function isPagesFile(path: string): boolean {
  return isImageMember(path) && /^pages-\d+\.img$/.test(imageName(path)!);
}

/** Hashes one pages file fed in chunks of any size and alignment. */
export class PageHasher {
  readonly hashes: Float64Array;
  private pages = 0;
  /** A partial page carried to the next chunk. */
  private readonly carry: Uint8Array;
  private carried = 0;

  constructor(
    readonly size: number,
    private readonly pageSize: number,
    private readonly kernel: PageHashKernel = pageHashKernel(pageSize, 1 << 20),
  ) {
    if (pageSize % 64 !== 0) throw new CkptError(`page size ${pageSize} is not a multiple of 64`);
    this.hashes = new Float64Array(Math.floor(size / pageSize));
    this.carry = new Uint8Array(pageSize);
  }

  push(chunk: Uint8Array): void {
    const ps = this.pageSize;
    let c = chunk;
    if (this.carried > 0) {
      const take = Math.min(ps - this.carried, c.length);
      this.carry.set(c.subarray(0, take), this.carried);
      this.carried += take;
      c = c.subarray(take);
      if (this.carried < ps) return;
      this.emit(this.carry, 1);
      this.carried = 0;
    }
    const whole = Math.floor(c.length / ps);
    if (whole > 0) this.emit(c.subarray(0, whole * ps), whole);
    const rest = c.subarray(whole * ps);
    if (rest.length) {
      this.carry.set(rest, 0);
      this.carried = rest.length;
    }
  }

  private emit(bytes: Uint8Array, count: number): void {
    const n = Math.min(count, this.hashes.length - this.pages);
    if (n > 0) this.kernel.hash(bytes, n, this.hashes, this.pages);
    this.pages += n;
  }

  /** Pages hashed so far. */
  get done(): number {
    return this.pages;
  }
}

/** The hash of one page of bytes held in memory (inline SysV shm contents, tests). */
export function pageHash(bytes: Uint8Array, pageSize = bytes.length): number {
  const padded = new Uint8Array(pageSize);
  padded.set(bytes.subarray(0, pageSize));
  const out = new Float64Array(1);
  pageHashKernel(pageSize, pageSize).hash(padded, 1, out, 0);
  return out[0]!;
}

/**
 * Hashes the pages files of a random-access source by positioned reads, file after file, in
 * chunks of `chunkSize` bytes read straight into the kernel's scratch area (two halves: one is
 * read into while the other is hashed).
 */
export async function hashPagesFilesAt(source: CheckpointSource, pageSize: number, chunkSize = 4 << 20): Promise<PageHashes> {
  const files = new Map<string, Float64Array>();
  const chunk = Math.max(pageSize, chunkSize - (chunkSize % pageSize));
  const kernel = pageHashKernel(pageSize, 2 * chunk);
  const bufs = [kernel.scratch.subarray(0, chunk), kernel.scratch.subarray(chunk, 2 * chunk)];
  for (const e of await source.entries()) {
    if (e.type !== 'file' || !isPagesFile(e.path)) continue;
    const hasher = new PageHasher(e.size, pageSize, kernel);
    const reads: number[] = [];
    for (let o = 0; o < e.size; o += chunk) reads.push(o);
    let pending = reads.length ? source.readRange(e.path, 0, Math.min(chunk, e.size), bufs[0]) : undefined;
    for (let k = 0; k < reads.length; k++) {
      const got = await pending!;
      const next = reads[k + 1];
      pending = next !== undefined ? source.readRange(e.path, next, Math.min(chunk, e.size - next), bufs[(k + 1) % 2]) : undefined;
      hasher.push(got);
      if (got.length < Math.min(chunk, e.size - reads[k]!)) throw new CkptError(`pages file ended early (${reads[k]! + got.length} of ${e.size} bytes)`, `${source.label}:${e.path}`, reads[k]! + got.length);
    }
    files.set(e.path, hasher.hashes);
  }
  return { pageSize, files };
}

/** A run of pages of a region that are in the checkpoint, with their hashes. */
export interface HashedRun {
  /** Page number (address / page size) of the first page: exact as a double for any 64-bit address. */
  firstPage: number;
  hashes: Float64Array;
}

/** A region of a process and the hashes of its pages that are in the checkpoint, in address order. */
export interface HashedRegion {
  region: MemoryRegion;
  runs: HashedRun[];
}

/**
 * The page hashes of every region of process `pid`, by address: private pages from the process's
 * pagemap, shared ones from their object's pagemap, inline SysV contents hashed here.
 */
export function regionHashes(memory: CheckpointMemory, pid: number, hashes: PageHashes): HashedRegion[] {
  const ps = hashes.pageSize;
  const bps = BigInt(ps);
  const out: HashedRegion[] = [];
  for (const region of memory.forPid(pid).regions()) {
    const parts: HashedRun[] = [];
    const length = Number(region.end - region.start);
    for (const piece of memory.locate(pid, region.start, length)) {
      if (piece.kind === 'missing') continue;
      const pages = Math.floor(piece.length / ps);
      if (pages === 0) continue;
      let h: Float64Array;
      if (piece.kind === 'file') {
        const fileHashes = hashes.files.get(piece.file);
        const first = Math.floor(piece.offset / ps);
        if (fileHashes && first + pages <= fileHashes.length) h = fileHashes.subarray(first, first + pages);
        else {
          h = new Float64Array(pages).fill(NaN);
          if (fileHashes && first < fileHashes.length) h.set(fileHashes.subarray(first, Math.min(fileHashes.length, first + pages)));
        }
      } else {
        h = new Float64Array(pages);
        for (let i = 0; i < pages; i++) h[i] = pageHash(piece.bytes.subarray(piece.offset + i * ps, piece.offset + (i + 1) * ps), ps);
      }
      parts.push({ firstPage: Number(piece.at / bps), hashes: h });
    }
    // adjacent pieces joined into one run
    const runs: HashedRun[] = [];
    for (let i = 0; i < parts.length; ) {
      let j = i + 1;
      let n = parts[i]!.hashes.length;
      while (j < parts.length && parts[j]!.firstPage === parts[i]!.firstPage + n) n += parts[j++]!.hashes.length;
      if (j === i + 1) runs.push(parts[i]!);
      else {
        const joined = new Float64Array(n);
        let o = 0;
        for (let k = i; k < j; k++) {
          joined.set(parts[k]!.hashes, o);
          o += parts[k]!.hashes.length;
        }
        runs.push({ firstPage: parts[i]!.firstPage, hashes: joined });
      }
      i = j;
    }
    out.push({ region, runs });
  }
  return out;
}

/** How a page differs: both present with other contents, only in B, only in A. */
export type PageChangeKind = 'changed' | 'added' | 'removed';

export interface ChangedPages {
  start: bigint;
  end: bigint;
  kind: PageChangeKind;
  pages: number;
}

/** The pages of [lo, hi) that differ between two regions' hashed runs, as merged ranges. */
export function comparePages(a: HashedRun[], b: HashedRun[], lo: bigint, hi: bigint, pageSize: number): ChangedPages[] {
  const bps = BigInt(pageSize);
  const loP = Number(lo / bps);
  const hiP = Number(hi / bps);
  const ranges: { from: number; to: number; kind: PageChangeKind }[] = [];
  const add = (from: number, to: number, kind: PageChangeKind) => {
    const last = ranges[ranges.length - 1];
    if (last && last.kind === kind && last.to === from) last.to = to;
    else ranges.push({ from, to, kind });
  };
  // the pages where a run starts or ends, so that absent stretches are skipped whole
  const cuts = new Set<number>([loP, hiP]);
  for (const runs of [a, b])
    for (const r of runs) {
      const e = r.firstPage + r.hashes.length;
      if (r.firstPage > loP && r.firstPage < hiP) cuts.add(r.firstPage);
      if (e > loP && e < hiP) cuts.add(e);
    }
  const edges = [...cuts].sort((x, y) => x - y);
  let ia = 0;
  let ib = 0;
  const runAt = (runs: HashedRun[], i: number, page: number): [number, HashedRun | undefined] => {
    while (i < runs.length && runs[i]!.firstPage + runs[i]!.hashes.length <= page) i++;
    const r = runs[i];
    return [i, r && r.firstPage <= page ? r : undefined];
  };
  for (let k = 0; k + 1 < edges.length; k++) {
    const from = edges[k]!;
    const to = edges[k + 1]!;
    let ra: HashedRun | undefined;
    let rb: HashedRun | undefined;
    [ia, ra] = runAt(a, ia, from);
    [ib, rb] = runAt(b, ib, from);
    if (!ra && !rb) continue;
    if (!ra || !rb) {
      add(from, to, ra ? 'removed' : 'added');
      continue;
    }
    const ha = ra.hashes;
    const hb = rb.hashes;
    const oa = from - ra.firstPage;
    const ob = from - rb.firstPage;
    const n = to - from;
    let runStart = -1;
    for (let i = 0; i < n; i++) {
      const x = ha[oa + i]!;
      const differs = x !== hb[ob + i]! || x !== x;
      if (differs) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        add(from + runStart, from + i, 'changed');
        runStart = -1;
      }
    }
    if (runStart >= 0) add(from + runStart, to, 'changed');
  }
  return ranges.map((r) => ({ start: BigInt(r.from) * bps, end: BigInt(r.to) * bps, kind: r.kind, pages: r.to - r.from }));
}
