/**
 * Per-page hashes of the pages files of a checkpoint, computed while they stream by, and the
 * same hashes laid out by process address (for `ckpt diff`: which pages of a region changed).
 *
 * A page's hash is 53 bits (it fits a double exactly) made of eight 32-bit lanes over the page's
 * 32-bit words, each step `h = (h ^ word) * prime` (a bijection of h for a fixed word, and of the
 * word for a fixed h): a page that differs from another in a single word always gets another
 * lane value; otherwise two different pages share a hash with a probability of about 2^-53.
 * Only the hashes are kept (8 bytes per 4 KiB page), never the pages.
 */
import { CkptError } from '../../errors.js';
import type { CheckpointSource } from '../../source/types.js';
import type { CheckpointMemory, MemoryRegion } from './checkpoint-memory.js';

/** The hash of every page of every pages file, by file path and page index in the file. */
export interface PageHashes {
  readonly pageSize: number;
  readonly files: Map<string, Float64Array>;
}

/** True for the path of a CRIU pages file (`checkpoint/pages-<id>.img`). */
export function isPagesFile(path: string): boolean {
  return /^checkpoint\/pages-\d+\.img$/.test(path);
}

/** Hashes `count` pages of `words` starting at word `first`, into out[at…]. */
function hashPages(words: Int32Array, first: number, count: number, pageWords: number, out: Float64Array, at: number): void {
  for (let p = 0; p < count; p++) {
    let h1 = 0x811c9dc5 | 0;
    let h2 = 0x01000193 | 0;
    let h3 = 0x9e3779b9 | 0;
    let h4 = 0x85ebca6b | 0;
    let h5 = 0x27d4eb2f | 0;
    let h6 = 0x165667b1 | 0;
    let h7 = 0xc2b2ae35 | 0;
    let h8 = 0x61c88647 | 0;
    const start = first + p * pageWords;
    const end = start + pageWords;
    for (let i = start; i < end; i += 8) {
      h1 = Math.imul(h1 ^ words[i]!, 0x01000193);
      h2 = Math.imul(h2 ^ words[i + 1]!, 0x01000193);
      h3 = Math.imul(h3 ^ words[i + 2]!, 0x01000193);
      h4 = Math.imul(h4 ^ words[i + 3]!, 0x01000193);
      h5 = Math.imul(h5 ^ words[i + 4]!, 0x01000193);
      h6 = Math.imul(h6 ^ words[i + 5]!, 0x01000193);
      h7 = Math.imul(h7 ^ words[i + 6]!, 0x01000193);
      h8 = Math.imul(h8 ^ words[i + 7]!, 0x01000193);
    }
    let a = mix(mix(mix(h1, h2), h3), h4);
    let b = mix(mix(mix(h5, h6), h7), h8);
    a = Math.imul(a ^ (a >>> 16), 0x7feb352d);
    b = Math.imul(b ^ (b >>> 15), 0x846ca68b);
    out[at + p] = (a >>> 0) * 0x200000 + ((b ^ (b >>> 16)) >>> 11);
  }
}

function mix(h: number, k: number): number {
  return Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ Math.imul(k, 0xc2b2ae35);
}

/** Hashes one pages file fed in chunks of any size and alignment. */
export class PageHasher {
  readonly hashes: Float64Array;
  private pages = 0;
  /** A partial page carried to the next chunk (aligned scratch). */
  private readonly carry: Uint8Array;
  private carried = 0;
  private scratch = new Uint8Array(0);

  constructor(
    readonly size: number,
    private readonly pageSize: number,
  ) {
    if (pageSize % 32 !== 0) throw new CkptError(`page size ${pageSize} is not a multiple of 32`);
    this.hashes = new Float64Array(Math.floor(size / pageSize));
    this.carry = new Uint8Array(pageSize);
  }

  private words(bytes: Uint8Array): Int32Array {
    return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
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
    if (whole > 0) {
      let body = c.subarray(0, whole * ps);
      if (body.byteOffset % 4 !== 0) {
        if (this.scratch.length < body.length) this.scratch = new Uint8Array(body.length);
        this.scratch.set(body);
        body = this.scratch.subarray(0, body.length);
      }
      this.emit(body, whole);
    }
    const rest = c.subarray(whole * ps);
    if (rest.length) {
      this.carry.set(rest, 0);
      this.carried = rest.length;
    }
  }

  private emit(bytes: Uint8Array, count: number): void {
    const n = Math.min(count, this.hashes.length - this.pages);
    if (n > 0) hashPages(this.words(bytes), 0, n, this.pageSize >>> 2, this.hashes, this.pages);
    this.pages += n;
  }

  /** Pages hashed so far. */
  get done(): number {
    return this.pages;
  }
}

/** The hash of one page of bytes held in memory (inline SysV shm contents, tests). */
export function pageHash(bytes: Uint8Array, pageSize = bytes.length): number {
  const h = new PageHasher(pageSize, pageSize);
  const padded = new Uint8Array(pageSize);
  padded.set(bytes.subarray(0, pageSize));
  h.push(padded);
  return h.hashes[0]!;
}

/**
 * Hashes the pages files of a random-access source by positioned reads, file after file, in
 * chunks of `chunkSize` bytes (two buffers, one read ahead).
 */
export async function hashPagesFilesAt(source: CheckpointSource, pageSize: number, chunkSize = 8 << 20): Promise<PageHashes> {
  const files = new Map<string, Float64Array>();
  const chunk = Math.max(pageSize, chunkSize - (chunkSize % pageSize));
  const bufs = [new Uint8Array(chunk), new Uint8Array(chunk)];
  for (const e of await source.entries()) {
    if (e.type !== 'file' || !isPagesFile(e.path)) continue;
    const hasher = new PageHasher(e.size, pageSize);
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
  /** Address of the first page. */
  start: bigint;
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
    const runs: HashedRun[] = [];
    const length = Number(region.end - region.start);
    for (const piece of memory.locate(pid, region.start, length)) {
      if (piece.kind === 'missing') continue;
      const pages = Math.floor(piece.length / ps);
      if (pages === 0) continue;
      const h = new Float64Array(pages);
      if (piece.kind === 'file') {
        const fileHashes = hashes.files.get(piece.file);
        const first = Math.floor(piece.offset / ps);
        for (let i = 0; i < pages; i++) h[i] = fileHashes?.[first + i] ?? NaN;
      } else {
        for (let i = 0; i < pages; i++) h[i] = pageHash(piece.bytes.subarray(piece.offset + i * ps, piece.offset + (i + 1) * ps), ps);
      }
      const last = runs[runs.length - 1];
      if (last && last.start + BigInt(last.hashes.length) * bps === piece.at) {
        const joined = new Float64Array(last.hashes.length + pages);
        joined.set(last.hashes);
        joined.set(h, last.hashes.length);
        last.hashes = joined;
      } else runs.push({ start: piece.at, hashes: h });
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
  const out: ChangedPages[] = [];
  const hashAt = (runs: HashedRun[], state: { i: number }, addr: bigint): number | undefined => {
    while (state.i < runs.length && runs[state.i]!.start + BigInt(runs[state.i]!.hashes.length) * bps <= addr) state.i++;
    const r = runs[state.i];
    if (!r || r.start > addr) return undefined;
    return r.hashes[Number((addr - r.start) / bps)];
  };
  // the addresses where something starts or ends, so that absent stretches are skipped whole
  const cuts = new Set<bigint>([lo, hi]);
  for (const runs of [a, b])
    for (const r of runs) {
      const e = r.start + BigInt(r.hashes.length) * bps;
      if (r.start > lo && r.start < hi) cuts.add(r.start);
      if (e > lo && e < hi) cuts.add(e);
    }
  const edges = [...cuts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const sa = { i: 0 };
  const sb = { i: 0 };
  const add = (addr: bigint, kind: PageChangeKind) => {
    const last = out[out.length - 1];
    if (last && last.kind === kind && last.end === addr) {
      last.end += bps;
      last.pages++;
    } else out.push({ start: addr, end: addr + bps, kind, pages: 1 });
  };
  for (let k = 0; k + 1 < edges.length; k++) {
    const from = edges[k]!;
    const to = edges[k + 1]!;
    const ha = hashAt(a, sa, from);
    const hb = hashAt(b, sb, from);
    if (ha === undefined && hb === undefined) continue;
    if (ha === undefined || hb === undefined) {
      const kind: PageChangeKind = ha === undefined ? 'added' : 'removed';
      for (let addr = from; addr < to; addr += bps) add(addr, kind);
      continue;
    }
    const ra = a[sa.i]!;
    const rb = b[sb.i]!;
    const oa = Number((from - ra.start) / bps);
    const ob = Number((from - rb.start) / bps);
    const n = Number((to - from) / bps);
    for (let i = 0; i < n; i++) {
      const x = ra.hashes[oa + i]!;
      const y = rb.hashes[ob + i]!;
      if (x !== y || Number.isNaN(x)) add(from + BigInt(i) * bps, 'changed');
    }
  }
  return out;
}
