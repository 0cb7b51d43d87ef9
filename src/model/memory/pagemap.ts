/**
 * Page locations, as CRIU writes and reads them (criu/pagemap.c, images/pagemap.proto):
 *
 *  - the page count of an entry is `nr_pages` (field 5, CRIU >= 4.2) or, in older images,
 *    `compat_nr_pages` (field 2, which was `nr_pages` before 4.2);
 *  - flags are normalised as CRIU does on read: `in_parent: true` means PE_PARENT, and an entry
 *    with no flags at all means PE_PRESENT;
 *  - the pages of an entry are in the pages file only when PE_PRESENT is set, and the offset into
 *    the pages file advances only over such entries, in the order the entries are written;
 *  - PE_PARENT pages are in the parent image directory (a pre-dump), PE_LAZY pages without
 *    PE_PRESENT carry no data in the image at all.
 *
 * The index is built once per pagemap and looked up by binary search.
 */
import { CkptError } from '../../errors.js';
import type { PagemapEntry, PagemapHead } from '../../images/index.js';

export const PE_PARENT = 1 << 0;
export const PE_LAZY = 1 << 1;
export const PE_PRESENT = 1 << 2;

/** One pagemap entry, normalised. Keys are addresses (process pagemaps) or object offsets (shmem). */
export interface PageRun {
  /** First byte covered (vaddr of the entry). */
  readonly start: bigint;
  /** One past the last byte covered. */
  readonly end: bigint;
  /** Number of pages. */
  readonly pages: number;
  /** Normalised flags (PE_PARENT, PE_LAZY, PE_PRESENT). */
  readonly flags: number;
  /** Byte offset of the first page in the pages file, or -1 when the entry has no data there. */
  readonly offset: number;
}

/** Why bytes could not be read. */
export type MissingReason =
  /** no VMA covers the address */
  | 'unmapped'
  /** mapped, but CRIU did not dump the page (a zero page never touched, or file contents left in the file) */
  | 'not-dumped'
  /** the page lives in a parent (pre-dump) image that is not in this checkpoint */
  | 'in-parent'
  /** a lazy page (PE_LAZY without PE_PRESENT): served by a page server, not stored */
  | 'lazy'
  /** the page's bytes lie past the point where the archive is cut short or corrupt */
  | 'damaged';

/** Where a piece of a requested range lives. */
export type Piece =
  | { kind: 'file'; at: bigint; length: number; file: string; offset: number }
  | { kind: 'bytes'; at: bigint; length: number; bytes: Uint8Array; offset: number }
  | { kind: 'missing'; at: bigint; length: number; reason: MissingReason };

export function normaliseFlags(e: PagemapEntry): number {
  if (e.in_parent === true) return (e.flags ?? 0) | PE_PARENT;
  if (e.flags === undefined) return PE_PRESENT;
  return e.flags;
}

export function pageCount(e: PagemapEntry): number {
  if (e.nr_pages !== undefined && (e.nr_pages > 0n || !e.compat_nr_pages)) return Number(e.nr_pages);
  return e.compat_nr_pages ?? 0;
}

/** The pages of one pagemap image (a process's private memory, or one shared memory object). */
export class PageMap {
  /** Runs sorted by start. */
  readonly runs: PageRun[];
  /** Runs with data in the pages file, in file order (the order they were written). */
  readonly fileRuns: PageRun[];
  /** Bytes of data this pagemap has in its pages file. */
  readonly dataBytes: number;
  /** The same pagemap in the parent (pre-dump) images, when those are in the checkpoint. */
  parent?: PageMap;
  /**
   * Bytes of the pages file that can be read, when the archive is cut short inside it (salvage):
   * pages past this offset are missing with the reason 'damaged'. Infinity when the file is whole.
   */
  intactBytes = Infinity;

  constructor(
    /** Archive path of the pagemap image, e.g. `checkpoint/pagemap-1.img`. */
    readonly image: string,
    /** Archive path of the pages file, e.g. `checkpoint/pages-3.img`. */
    readonly pagesFile: string,
    readonly pagesId: number,
    entries: PagemapEntry[],
    readonly pageSize: number,
  ) {
    const ps = BigInt(pageSize);
    const runs: PageRun[] = [];
    let offset = 0;
    for (const e of entries) {
      const pages = pageCount(e);
      const flags = normaliseFlags(e);
      if (pages <= 0) continue;
      const start = e.vaddr;
      if (start % ps !== 0n) {
        throw new CkptError(`pagemap entry at 0x${start.toString(16)} is not aligned to the page size ${pageSize} (wrong --page-size?)`, image);
      }
      const present = (flags & PE_PRESENT) !== 0;
      runs.push({ start, end: start + BigInt(pages) * ps, pages, flags, offset: present ? offset : -1 });
      if (present) offset += pages * pageSize;
    }
    this.fileRuns = runs.filter((r) => r.offset >= 0);
    this.dataBytes = offset;
    this.runs = runs.slice().sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }

  /** Builds the index from a decoded PAGEMAP image's entries (head first). */
  static fromEntries(image: string, entries: unknown[], pageSize: number, pagesFile?: (id: number) => string): PageMap {
    if (entries.length === 0) throw new CkptError('pagemap image has no head entry', image);
    const head = entries[0] as PagemapHead;
    const dir = image.slice(0, image.lastIndexOf('/') + 1);
    const pf = pagesFile ? pagesFile(head.pages_id) : `${dir}pages-${head.pages_id}.img`;
    return new PageMap(image, pf, head.pages_id, entries.slice(1) as PagemapEntry[], pageSize);
  }

  /** Index of the run containing `key`, or of the first run after it (runs.length when none). */
  private lowerBound(key: bigint): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.runs[mid]!.end <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The run containing `key`, or undefined. */
  find(key: bigint): PageRun | undefined {
    const r = this.runs[this.lowerBound(key)];
    return r && r.start <= key ? r : undefined;
  }

  /**
   * Where the bytes [at, at + length) are: pieces in key order, covering the range exactly.
   * PE_PARENT pages are looked up in the parent pagemap when there is one.
   */
  locate(at: bigint, length: number, out: Piece[] = []): Piece[] {
    const endKey = at + BigInt(length);
    let i = this.lowerBound(at);
    let pos = at;
    while (pos < endKey) {
      const r = this.runs[i];
      if (!r || r.start >= endKey) {
        out.push({ kind: 'missing', at: pos, length: Number(endKey - pos), reason: 'not-dumped' });
        break;
      }
      if (r.start > pos) {
        out.push({ kind: 'missing', at: pos, length: Number(r.start - pos), reason: 'not-dumped' });
        pos = r.start;
      }
      const to = r.end < endKey ? r.end : endKey;
      const n = Number(to - pos);
      if (r.flags & PE_PRESENT) {
        const offset = r.offset + Number(pos - r.start);
        const have = Math.max(0, Math.min(n, this.intactBytes - offset));
        if (have > 0) out.push({ kind: 'file', at: pos, length: have, file: this.pagesFile, offset });
        if (have < n) out.push({ kind: 'missing', at: pos + BigInt(have), length: n - have, reason: 'damaged' });
      } else if (r.flags & PE_PARENT) {
        if (this.parent) this.parent.locate(pos, n, out);
        else out.push({ kind: 'missing', at: pos, length: n, reason: 'in-parent' });
      } else {
        out.push({ kind: 'missing', at: pos, length: n, reason: r.flags & PE_LAZY ? 'lazy' : 'not-dumped' });
      }
      pos = to;
      i++;
    }
    return out;
  }

  /** Pages with data (here or in the parent) inside [from, to). */
  pagesWithData(from: bigint, to: bigint): number {
    let n = 0n;
    for (let i = this.lowerBound(from); i < this.runs.length; i++) {
      const r = this.runs[i]!;
      if (r.start >= to) break;
      const a = r.start > from ? r.start : from;
      const b = r.end < to ? r.end : to;
      if (b <= a) continue;
      if (r.flags & PE_PRESENT) n += this.intactBytes === Infinity ? b - a : BigInt(Math.max(0, Math.min(Number(b - a), this.intactBytes - (r.offset + Number(a - r.start)))));
      else if (r.flags & PE_PARENT && this.parent) n += BigInt(this.parent.pagesWithData(a, b)) * BigInt(this.pageSize);
    }
    return Number(n / BigInt(this.pageSize));
  }
}
