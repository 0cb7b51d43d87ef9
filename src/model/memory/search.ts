/**
 * Streaming search over the pages files of a checkpoint.
 *
 * The pages files are read in archive order (one pass on a compressed archive; large positioned
 * reads on a random-access one), never held whole. Each pages file is cut into segments: maximal
 * runs of pages that are contiguous in the file AND in memory (same VMA for private memory, same
 * object for shared memory). A pattern is searched across the chunks of a segment with a carried
 * overlap of (longest match - 1 + 2 x context) bytes, so matches across page and pagemap-entry
 * boundaries inside a contiguous region are found; file offsets map back to addresses through
 * the segment. Shared objects are searched once, and each match is reported for every process
 * that maps it (or once with no pid when no process maps it).
 *
 * Regular expressions run over bounded windows (at most `regexWindow` bytes plus the overlap),
 * a match is at most `maxMatchLength` bytes (longer ones are reported truncated); in Node the
 * CLI runs them in a worker thread with a time limit per window (src/node/regex-worker.ts,
 * `regexRunner: workerRegexRunner`), so that a catastrophic pattern stops with an error instead
 * of hanging.
 */
import { CkptError } from '../../errors.js';
import type { CheckpointSource, SourceEntry } from '../../source/types.js';
import { collectBody, WHOLE_FILE_LIMIT } from '../../source/memory.js';
import { isProtobufImageMember } from '../../images/index.js';
import { ImageSet } from '../image-set.js';
import { CheckpointMemory, type ImageLookup, type MemoryOptions, type MemoryRegion, type SharedMemoryObject } from './checkpoint-memory.js';
import { asBuffer, hitsFrom, HIT_BATCH, indexOfBytes, inThreadRunner, isWindowMatcher, regexLiteralPrefix, type RegexRunner, type WindowHit, type WindowMatcher } from './matchers.js';
import type { PageMap } from './pagemap.js';
import { isPagesFile } from './page-hashes.js';

export interface SearchOptions {
  /** Only these processes (default: every process, and shared objects nobody maps). */
  pids?: readonly number[];
  /**
   * A string (searched as UTF-8 bytes), bytes, a regular expression (over bytes as latin1), or a
   * WindowMatcher (many literals at once: literalSetMatcher; YARA rules).
   */
  pattern: string | RegExp | Uint8Array | WindowMatcher;
  /** Bytes of context to give before and after each match (default 0). */
  context?: number;
  signal?: AbortSignal;
  /** Regex: the longest match reported in full; longer ones are truncated (default 1024). */
  maxMatchLength?: number;
  /**
   * Regex: how to run it. Default: in this thread, window by window (no time limit: V8 cannot
   * interrupt a regex). In Node, pass `workerRegexRunner` (src/node/regex-worker.ts) to run it in a worker
   * thread with a time limit per window, as the CLI does.
   */
  regexRunner?: (re: RegExp) => RegexRunner;
  /** Bytes read at a time (default 8 MiB). */
  chunkSize?: number;
}

export interface MemoryMatch {
  /** The process whose memory it is; undefined for a shared object no process maps. */
  pid?: number;
  /** Virtual address of the first byte of the match (undefined with pid). */
  address?: bigint;
  /** The region (VMA) it is in. */
  region?: MemoryRegion;
  /** The region's label, or the shared object's kind when no process maps it. */
  label: string;
  /** The shared memory object, for matches in shared memory. */
  object?: SharedMemoryObject;
  /** Offset in the object (shared memory only). */
  objectOffset?: bigint;
  /** The pages file and the offset of the match in it. */
  file: string;
  fileOffset: number;
  /** The matched bytes (at most maxMatchLength for a regex). */
  match: Uint8Array;
  /** True when a regex match was longer than maxMatchLength. */
  truncated: boolean;
  /** Up to `context` bytes before and after, within the same contiguous region. */
  before: Uint8Array;
  after: Uint8Array;
  /** With a WindowMatcher: which of its patterns matched (a literal's index, a YARA `rule:$string`). */
  tag?: number | string;
}

/** A piece of a pages file that is contiguous in memory. */
interface Segment {
  file: string;
  start: number;
  end: number;
  /** Address (private memory) or object offset (shared memory) of `start`. */
  key: bigint;
  pid?: number;
  region?: MemoryRegion;
  object?: SharedMemoryObject;
}

const DEFAULT_CHUNK = 4 << 20;
const REGEX_WINDOW = 2 << 20;
/** Bytes gathered before a window is scanned, when the data comes in small pieces. */
const MIN_SCAN = 64 << 10;

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The segments of every pages file the search reads, by file, in file order. */
export function planSearch(memory: CheckpointMemory, pids?: readonly number[]): Map<string, Segment[]> {
  const want = pids ? new Set(pids) : undefined;
  const raw: Segment[] = [];
  const addPieces = (pm: PageMap, owner: (at: bigint, len: number) => Omit<Segment, 'file' | 'start' | 'end'>[] | undefined) => {
    for (const run of pm.runs) {
      for (const p of pm.locate(run.start, run.pages * pm.pageSize)) {
        if (p.kind !== 'file') continue;
        const parts = owner(p.at, p.length);
        if (!parts) continue;
        for (const part of parts) {
          const off = p.offset + Number(part.key - p.at);
          const len = (part as { length?: number }).length ?? p.length;
          raw.push({ ...part, file: p.file, start: off, end: off + len });
        }
      }
    }
  };
  for (const proc of memory.processes()) {
    if (want && !want.has(proc.pid)) continue;
    const pm = proc.pagemap;
    if (!pm) continue;
    const regions = proc.regions();
    addPieces(pm, (at, length) => {
      // split by VMA
      const out: (Omit<Segment, 'file' | 'start' | 'end'> & { length: number })[] = [];
      const end = at + BigInt(length);
      let lo = 0;
      let hi = regions.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (regions[mid]!.end <= at) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < regions.length && regions[i]!.start < end; i++) {
        const r = regions[i]!;
        const a = r.start > at ? r.start : at;
        const b = r.end < end ? r.end : end;
        if (b > a) out.push({ key: a, pid: proc.pid, region: r, length: Number(b - a) });
      }
      return out;
    });
  }
  for (const o of memory.sharedObjects()) {
    if (!o.pagemap) continue;
    if (want && !o.mappings.some((m) => want.has(m.pid))) continue;
    addPieces(o.pagemap, (at, length) => [{ key: at, object: o, length } as Omit<Segment, 'file' | 'start' | 'end'>]);
  }
  const byFile = new Map<string, Segment[]>();
  for (const s of raw) {
    let l = byFile.get(s.file);
    if (!l) byFile.set(s.file, (l = []));
    l.push(s);
  }
  for (const [f, l] of byFile) {
    l.sort((a, b) => a.start - b.start);
    const merged: Segment[] = [];
    for (const s of l) {
      const last = merged[merged.length - 1];
      if (last && last.end === s.start && last.pid === s.pid && last.region === s.region && last.object === s.object && last.key + BigInt(last.end - last.start) === s.key) {
        last.end = s.end;
      } else if (last && s.start < last.end) {
        // overlapping pieces (a broken pagemap): search what was not searched yet
        if (s.end > last.end) merged.push({ ...s, key: s.key + BigInt(last.end - s.start), start: last.end });
      } else merged.push({ ...s });
    }
    byFile.set(f, merged);
  }
  return byFile;
}

type Emit = (m: MemoryMatch) => Promise<void>;

interface Matcher {
  /** Longest match (literal: its length; regex: maxMatchLength). */
  readonly maxLen: number;
  readonly minLen: number;
  /**
   * Matches with start in [from, limit], bytes and context copied out, in batches. A synchronous
   * iterable reads the window as it is iterated (the caller iterates it before changing the
   * window); an asynchronous one has taken what it needs when this returns.
   */
  scan(window: Uint8Array, from: number, limit: number, context: number): Iterable<WindowHit[]> | AsyncIterable<WindowHit[]>;
  close(): Promise<void>;
  /** Window size to feed at most (regex), or Infinity. */
  readonly window: number;
  /** New bytes to gather before a scan, when the data comes in smaller pieces. */
  readonly gather: number;
}

function literalMatcher(needle: Uint8Array): Matcher {
  if (needle.length === 0) throw new CkptError('the search pattern is empty');
  return {
    maxLen: needle.length,
    minLen: needle.length,
    window: Infinity,
    gather: MIN_SCAN,
    *scan(window, from, limit, context) {
      const buf = asBuffer(window);
      let out: number[] = [];
      for (let i = indexOfBytes(window, buf, needle, from); i !== -1 && i <= limit; i = indexOfBytes(window, buf, needle, i + 1)) {
        out.push(i, needle.length, 0);
        if (out.length >= 3 * HIT_BATCH) {
          yield hitsFrom(window, out, context);
          out = [];
        }
      }
      if (out.length) yield hitsFrom(window, out, context);
    },
    async close() {},
  };
}

function regexMatcher(runner: RegexRunner, maxLen: number, prefix?: Uint8Array): Matcher {
  // A literal every match starts with: windows without it are not given to the regex at all.
  const lead = prefix && prefix.length <= maxLen ? prefix : undefined;
  return {
    maxLen,
    minLen: 1,
    window: REGEX_WINDOW,
    // a worker round trip per window: gather whole windows (decompressors give small chunks)
    gather: REGEX_WINDOW,
    scan(window, from, limit, context) {
      if (lead) {
        const first = indexOfBytes(window, asBuffer(window), lead, from);
        if (first === -1 || first > limit) return [];
        from = first;
      }
      return runner.run(window, from, limit, maxLen, context);
    },
    close: () => runner.close(),
  };
}

type Report = (seg: Segment, segOffset: number, hit: WindowHit) => Promise<void>;

/**
 * Searches one segment fed in pieces, with a carried overlap. A scan that returns a promise (the
 * regex worker) is left running while the next window is gathered; its hits are reported before
 * the next scan's, so matches come out in order.
 */
class SegmentScanner {
  private win: Uint8Array;
  private len = 0;
  /** Segment-relative offset of win[0]. */
  private base = 0;
  /** Window-relative index from which matches have not been reported yet. */
  private from = 0;
  private readonly keep: number;
  private pending?: Promise<void>;

  constructor(
    private readonly seg: Segment,
    private readonly matcher: Matcher,
    private readonly context: number,
    private readonly report: Report,
  ) {
    this.keep = matcher.maxLen + 2 * context - 1;
    this.win = new Uint8Array(0);
  }

  async write(data: Uint8Array): Promise<void> {
    const step = this.matcher.window;
    for (let o = 0; o < data.length; o += step) {
      const part = step === Infinity && o === 0 ? data : data.subarray(o, Math.min(data.length, o + step));
      const need = this.len + part.length;
      if (this.win.length < need) {
        const grown = new Uint8Array(Math.max(need, Math.min(this.win.length * 2, need + (8 << 20))));
        grown.set(this.win.subarray(0, this.len));
        this.win = grown;
      }
      this.win.set(part, this.len);
      this.len = need;
      if (this.len < this.keep + this.matcher.gather) continue; // small pieces: gather before scanning
      await this.scan(false);
      // carry the tail
      const cut = Math.max(0, this.len - this.keep);
      if (cut > 0) {
        this.win.copyWithin(0, cut, this.len);
        this.len -= cut;
        this.base += cut;
        this.from = Math.max(0, this.from - cut);
      }
    }
  }

  async end(): Promise<void> {
    await this.scan(true);
    await this.pending;
    this.pending = undefined;
  }

  private async scan(final: boolean): Promise<void> {
    const m = this.matcher;
    const limit = final ? this.len - m.minLen : this.len - m.maxLen - this.context;
    if (limit < this.from) return;
    const base = this.base;
    const found = m.scan(this.win.subarray(0, this.len), this.from, limit, this.context);
    this.from = limit + 1;
    if (Symbol.iterator in found) {
      await this.pending;
      this.pending = undefined;
      for (const batch of found) for (const h of batch) await this.report(this.seg, base + h.index, h);
      return;
    }
    // this scan runs while the next window is gathered; its hits are reported after the ones of
    // the scan before, as they come, and at most two scans are queued
    const before = this.pending;
    const p = (async () => {
      await before;
      for await (const batch of found) for (const h of batch) await this.report(this.seg, base + h.index, h);
    })();
    p.catch(() => {}); // awaited later (next scan or end); not an unhandled rejection meanwhile
    this.pending = p;
    if (before) await before;
  }
}

/** Feeds the chunks of one pages file to the scanners of its segments. */
class FileFeeder {
  private i = 0;
  private scanner?: SegmentScanner;
  constructor(
    private readonly segs: Segment[],
    private readonly make: (s: Segment) => SegmentScanner,
  ) {}

  /** The next file offset the feeder wants, or -1 when done. */
  get next(): number {
    const s = this.segs[this.i];
    return s ? s.start : -1;
  }

  async push(chunk: Uint8Array, pos: number): Promise<void> {
    const cEnd = pos + chunk.length;
    while (this.i < this.segs.length) {
      const s = this.segs[this.i]!;
      if (s.start >= cEnd) return;
      const a = Math.max(s.start, pos);
      const b = Math.min(s.end, cEnd);
      if (b > a) {
        this.scanner ??= this.make(s);
        await this.scanner.write(chunk.subarray(a - pos, b - pos));
      }
      if (s.end <= cEnd) {
        if (this.scanner) await this.scanner.end();
        this.scanner = undefined;
        this.i++;
      } else return;
    }
  }

  async finish(file: string, size: number): Promise<void> {
    if (this.scanner) await this.scanner.end();
    this.scanner = undefined;
    if (this.i < this.segs.length) throw new CkptError(`pages file is shorter than its pagemap says (${size} bytes, needs ${this.segs[this.segs.length - 1]!.end})`, file);
  }
}

/** A caller's WindowMatcher as a Matcher: its matches with their bytes and context copied out. */
function windowMatcher(w: WindowMatcher): Matcher {
  const hits = (window: Uint8Array, found: { index: number; length: number; tag: number | string }[], context: number): WindowHit[] =>
    found.map((h) => ({ ...hitsFrom(window, [h.index, h.length, 0], context)[0]!, tag: h.tag }));
  return {
    maxLen: w.maxLength,
    minLen: w.minLength,
    window: w.window ?? Infinity,
    gather: w.window ?? MIN_SCAN,
    scan(window, from, limit, context) {
      const found = w.scan(window, from, limit);
      // one batch of hits, their bytes copied out of the window now (it is reused after this call)
      if (Array.isArray(found)) return [hits(window, found, context)];
      const copy = window.slice();
      return (async function* () {
        yield hits(copy, await found, context);
      })();
    },
    close: async () => {
      await w.close?.();
    },
  };
}

function makeMatcher(opts: SearchOptions): Matcher {
  const p = opts.pattern;
  if (isWindowMatcher(p)) return windowMatcher(p);
  if (p instanceof RegExp) {
    const maxLen = opts.maxMatchLength ?? 1024;
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new CkptError(`bad maxMatchLength ${maxLen}`);
    const runner = (opts.regexRunner ?? inThreadRunner)(p);
    return regexMatcher(runner, maxLen, regexLiteralPrefix(p));
  }
  return literalMatcher(typeof p === 'string' ? new TextEncoder().encode(p) : p);
}

/** Turns a segment hit into the matches it means (one per process mapping a shared object). */
function reporter(memory: CheckpointMemory, pids: readonly number[] | undefined, emit: Emit) {
  const want = pids ? new Set(pids) : undefined;
  return async (seg: Segment, segOffset: number, hit: WindowHit) => {
    const { match, truncated, before, after, tag } = hit;
    const fileOffset = seg.start + segOffset;
    const key = seg.key + BigInt(segOffset);
    const common = tag !== undefined ? { file: seg.file, fileOffset, match, truncated, before, after, tag } : { file: seg.file, fileOffset, match, truncated, before, after };
    if (seg.object === undefined) {
      await emit({ pid: seg.pid, address: key, region: seg.region, label: seg.region?.label ?? 'unmapped', ...common });
      return;
    }
    const o = seg.object;
    const end = key + BigInt(match.length);
    let any = false;
    for (const m of o.mappings) {
      if (want && !want.has(m.pid)) continue;
      if (key < m.pgoff || end > m.pgoff + (m.end - m.start)) continue;
      const address = m.start + (key - m.pgoff);
      const region = memory.forPid(m.pid).regionAt(address);
      any = true;
      await emit({ pid: m.pid, address, region, label: region?.label ?? o.kind, object: o, objectOffset: key, ...common });
    }
    if (!any && !want) await emit({ label: o.kind, object: o, objectOffset: key, ...common });
  };
}

/** Reads the planned segments of each pages file and feeds them (random access: positioned reads). */
async function feedRandomAccess(source: CheckpointSource, plan: Map<string, Segment[]>, order: readonly SourceEntry[], make: (s: Segment) => SegmentScanner, chunk: number, signal?: AbortSignal): Promise<void> {
  const files = order.filter((e) => plan.has(e.path)).map((e) => e.path);
  for (const f of plan.keys()) if (!files.includes(f)) throw new CkptError(`pages file ${f.slice(f.lastIndexOf('/') + 1)} is missing from the checkpoint`, source.label);
  for (const file of files) {
    const segs = plan.get(file)!;
    const feeder = new FileFeeder(segs, make);
    // spans of segments with small gaps, read in chunks with one read ahead
    const reads: [number, number][] = [];
    let i = 0;
    while (i < segs.length) {
      const a = segs[i]!.start;
      let b = segs[i]!.end;
      while (i + 1 < segs.length && segs[i + 1]!.start - b < 1 << 20) b = segs[++i]!.end;
      i++;
      for (let o = a; o < b; o += chunk) reads.push([o, Math.min(chunk, b - o)]);
    }
    // two buffers: one is read into while the other is searched (the scanners copy what they keep)
    const bufs = [new Uint8Array(chunk), new Uint8Array(chunk)];
    let pending = reads.length ? source.readRange(file, reads[0]![0], reads[0]![1], bufs[0]) : undefined;
    let size = 0;
    for (let k = 0; k < reads.length; k++) {
      signal?.throwIfAborted();
      const buf = await pending!;
      pending = k + 1 < reads.length ? source.readRange(file, reads[k + 1]![0], reads[k + 1]![1], bufs[(k + 1) % 2]) : undefined;
      size = reads[k]![0] + buf.length;
      await feeder.push(buf, reads[k]![0]);
      if (buf.length < reads[k]![1]) break;
    }
    await feeder.finish(file, size);
  }
}

/** Feeds a pages file's body, as a streaming pass hands it over. */
async function feedStream(path: string, body: AsyncIterable<Uint8Array>, feeder: FileFeeder, signal?: AbortSignal): Promise<void> {
  let pos = 0;
  for await (const c of body) {
    signal?.throwIfAborted();
    const next = feeder.next;
    if (next === -1) break;
    if (pos + c.length > next) await feeder.push(c, pos);
    pos += c.length;
  }
  await feeder.finish(path, pos);
}

/**
 * A bounded queue between a producer (the reading pass) and the async iterator: the producer
 * waits when the consumer is behind, and stops when the consumer goes away.
 */
class Channel<T> {
  private items: T[] = [];
  private wake?: () => void;
  private room?: () => void;
  private done = false;
  private error?: unknown;
  cancelled = false;

  async push(x: T): Promise<void> {
    if (this.cancelled) throw CANCELLED;
    this.items.push(x);
    this.wake?.();
    if (this.items.length >= 64) await new Promise<void>((r) => (this.room = r));
    if (this.cancelled) throw CANCELLED;
  }
  close(error?: unknown): void {
    this.done = true;
    this.error = error;
    this.wake?.();
  }
  cancel(): void {
    this.cancelled = true;
    this.room?.();
  }
  async *drain(): AsyncGenerator<T> {
    for (;;) {
      if (this.items.length) {
        const batch = this.items;
        this.items = [];
        this.room?.();
        this.room = undefined;
        yield* batch;
        continue;
      }
      if (this.done) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}
const CANCELLED = Symbol('cancelled');

async function* run(opts: SearchOptions, body: (emit: Emit, matcher: Matcher, signal: AbortSignal) => Promise<void>): AsyncGenerator<MemoryMatch> {
  const context = opts.context ?? 0;
  if (!Number.isInteger(context) || context < 0) throw new CkptError(`bad context ${context}: give a number of bytes >= 0`);
  opts.signal?.throwIfAborted();
  // the reading stops as soon as the consumer leaves the loop (or the caller's signal fires)
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const matcher = makeMatcher(opts);
  const ch = new Channel<MemoryMatch>();
  const producer = body((m) => ch.push(m), matcher, stop.signal).then(
    () => ch.close(),
    (e) => ch.close(e === CANCELLED || (stop.signal.aborted && e === stop.signal.reason && !opts.signal?.aborted) ? undefined : e),
  );
  try {
    yield* ch.drain();
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    ch.cancel();
    if (!stop.signal.aborted) stop.abort(CANCELLED);
    await matcher.close();
    await producer;
  }
}

/**
 * Every match of a pattern in the memory of the checkpoint (or of some processes), in archive
 * order of the pages files. Memory use is bounded by the chunk size, whatever the archive size.
 * On a compressed archive the pages files are read in one streaming pass.
 */
export function findMemoryMatches(memory: CheckpointMemory, opts: SearchOptions): AsyncIterable<MemoryMatch> {
  if (opts.pids) for (const p of opts.pids) memory.forPid(p); // unknown pid: error before reading
  return run(opts, async (emit, matcher, signal) => {
    const plan = planSearch(memory, opts.pids);
    const report = reporter(memory, opts.pids, emit);
    const make = (s: Segment) => new SegmentScanner(s, matcher, opts.context ?? 0, report);
    const source = memory.source;
    if (source.randomAccess) {
      await feedRandomAccess(source, plan, await source.entries(), make, opts.chunkSize ?? DEFAULT_CHUNK, signal);
      return;
    }
    const seen = new Set<string>();
    await source.walk(
      (e) => plan.has(e.path) && !seen.has(e.path),
      async (e, body) => {
        seen.add(e.path);
        await feedStream(e.path, body, new FileFeeder(plan.get(e.path)!, make), signal);
      },
    );
    for (const f of plan.keys()) if (!seen.has(f)) throw new CkptError(`pages file ${f.slice(f.lastIndexOf('/') + 1)} is missing from the checkpoint`, source.label);
  });
}

function isImagePath(e: SourceEntry): boolean {
  return e.type === 'file' && isProtobufImageMember(e.path) && e.size <= WHOLE_FILE_LIMIT;
}

export interface CheckpointSearchOptions extends SearchOptions, MemoryOptions {
  /** Called with the memory model of the whole checkpoint (on a compressed archive: after the pass). */
  onMemory?: (memory: CheckpointMemory) => void;
}

/**
 * Searches a checkpoint straight from its source. On a compressed archive this is ONE pass: the
 * images (mm, pagemap, files, memfd, ipcns-shm, ...) come before the pages files in archive order,
 * so the memory model is built when the first pages file arrives, and the pages files are searched
 * as they stream by. (Should a pages file come before its pagemap, it is read in a second pass.)
 * On a random-access source the images are read first and the pages files by positioned reads.
 */
export function searchCheckpoint(source: CheckpointSource, opts: CheckpointSearchOptions): AsyncIterable<MemoryMatch> {
  if (source.randomAccess) {
    return (async function* () {
      const { ImageSet } = await import('../image-set.js');
      const images = await ImageSet.load(source);
      const memory = await CheckpointMemory.load(images, opts);
      opts.onMemory?.(memory);
      yield* findMemoryMatches(memory, opts);
    })();
  }
  return run(opts, async (emit, matcher, signal) => {
    const files = new Map<string, Uint8Array>();
    const seen: SourceEntry[] = [];
    let memory: CheckpointMemory | undefined;
    let plan: Map<string, Segment[]> | undefined;
    let make: ((s: Segment) => SegmentScanner) | undefined;
    const passed = new Set<string>();
    const searched = new Set<string>();
    const build = () => {
      const lookup = ImageSet.fromFiles(source, seen, files);
      memory = CheckpointMemory.fromImages(lookup, opts);
      // pstree.img sorts after the pages files: pids are checked once the pass is over
      plan = planSearch(memory, opts.pids);
      const report = reporter(memory, opts.pids, emit);
      make = (s: Segment) => new SegmentScanner(s, matcher, opts.context ?? 0, report);
    };
    await source.walk(
      (e) => {
        seen.push(e);
        return isImagePath(e) || (isPagesFile(e.path) && e.type === 'file');
      },
      async (e, body) => {
        if (isPagesFile(e.path)) {
          passed.add(e.path);
          if (!memory) build();
          const segs = plan!.get(e.path);
          if (!segs || searched.has(e.path)) return;
          searched.add(e.path);
          await feedStream(e.path, body, new FileFeeder(segs, make!), signal);
          return;
        }
        files.set(e.path, await collectBody(body, e.size, `${source.label}:${e.path}`));
      },
    );
    // images that came after a pages file: rebuild the model and read what was missed
    const lookup = ImageSet.fromFiles(source, seen, files);
    if (!lookup.image('pstree.img')) throw new CkptError('no CRIU images in it (no checkpoint/pstree.img): not a container checkpoint', source.label);
    {
      const full = CheckpointMemory.fromImages(lookup, opts);
      opts.onMemory?.(full);
      if (opts.pids) for (const p of opts.pids) full.forPid(p);
      const fullPlan = planSearch(full, opts.pids);
      const missed = [...fullPlan.keys()].filter((f) => !searched.has(f));
      if (missed.length) {
        const report = reporter(full, opts.pids, emit);
        const make2 = (s: Segment) => new SegmentScanner(s, matcher, opts.context ?? 0, report);
        const want = new Set(missed);
        const done = new Set<string>();
        await source.walk(
          (e) => want.has(e.path) && !done.has(e.path),
          async (e, body) => {
            done.add(e.path);
            await feedStream(e.path, body, new FileFeeder(fullPlan.get(e.path)!, make2), signal);
          },
        );
        for (const f of missed) if (!done.has(f)) throw new CkptError(`pages file ${f.slice(f.lastIndexOf('/') + 1)} is missing from the checkpoint`, source.label);
      }
    }
  });
}

/** Compiles a user's regular expression, with a one-line error for a bad one. */
export function compileRegex(text: string, flags = ''): RegExp {
  try {
    return new RegExp(text, flags);
  } catch (e) {
    throw new CkptError(`invalid regular expression /${text}/: ${(e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, '')}`);
  }
}
