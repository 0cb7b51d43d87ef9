/**
 * Sources over a Blob (a browser `File`, or Node's `fs.openAsBlob`): runtime-neutral, no `fs`.
 *
 *  - an uncompressed tar is indexed by its headers and read at offsets with `Blob.slice`
 *    (random access: opening a 1 GiB archive reads its headers and small images only);
 *  - a gzip tar is decompressed with the platform's `DecompressionStream` (gunzipStream), a zstd tar with a
 *    decoder the caller gives (the web page runs one in a Web Worker) or the pure-JS one in
 *    this thread; both are read in streaming passes, never held whole.
 */
import { CkptError } from '../errors.js';
import { detectFormat, gunzipStream, zstdDecompressFallback } from './compression.js';
import { BaseSource, notFound } from './base.js';
import { StreamedTarSource } from './streamed-tar.js';
import { indexTar, BLOCK, type TarEntry } from './tar.js';
import type { CheckpointSource, SourceDamage, SourceEntry } from './types.js';

/** What this module needs of a ReadableStream reader (DOM and Node typings differ). */
interface ByteStreamReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}
export interface ByteStream {
  getReader(): ByteStreamReader;
  pipeThrough(transform: { writable: unknown; readable: unknown }): ByteStream;
}

/** What this module needs of a Blob or File. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): BlobLike;
  arrayBuffer(): Promise<ArrayBuffer>;
  stream(): unknown;
}

export interface BlobSourceOptions {
  /**
   * Decompresses a zstd blob into chunks (`onRead` to be called with the compressed bytes consumed).
   * Default: the pure-JS decoder in this thread.
   */
  zstd?: (blob: BlobLike, label: string, onRead: (position: number) => void) => AsyncIterable<Uint8Array>;
  /** Called as the blob is read, with the byte position the latest read reached and the blob's size (progress bars). */
  onRead?: (position: number, total: number) => void;
  /**
   * Aborts reads: every read after the abort throws the signal's reason. It is looked up at every
   * read, so a getter may hand out a new signal per task (the web page does).
   */
  signal?: AbortSignal;
}

const CHUNK = 1 << 20;
/** Header reads of the tar index fetch this much at once (small members sit back to back). */
const HEADER_READ_AHEAD = 64 << 10;

async function sliceBytes(blob: BlobLike, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await blob.slice(start, end).arrayBuffer());
}

/** The chunks of a byte stream (a ReadableStream), with a count of bytes read. */
export async function* readStream(stream: ByteStream, onChunk?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      if (r.value && r.value.length > 0) {
        onChunk?.(r.value.length);
        yield r.value;
      }
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Reads of this size or more go through Blob.stream() (see BlobTarSource.readRange). */
const STREAM_READ_MIN = 256 << 10;

/** The bytes of a (sliced) blob, streamed into `out`; a view of what was filled. */
async function streamInto(blob: BlobLike, out: Uint8Array): Promise<Uint8Array> {
  let n = 0;
  for await (const c of readStream(blob.stream() as ByteStream)) {
    const k = Math.min(c.length, out.length - n);
    out.set(k === c.length ? c : c.subarray(0, k), n);
    n += k;
    if (n === out.length) break;
  }
  return out.subarray(0, n);
}

/** An uncompressed tar in a Blob: indexed once by its headers, entries read with Blob.slice. */
export class BlobTarSource extends BaseSource {
  readonly randomAccess = true;
  private readonly byPath = new Map<string, TarEntry>();

  private constructor(
    readonly label: string,
    private readonly blob: BlobLike,
    private readonly index: TarEntry[],
    private readonly options: BlobSourceOptions,
    private readonly damaged: SourceDamage[] = [],
  ) {
    super();
    for (const e of index) this.byPath.set(e.path, e);
  }

  /** Where the archive is cut short or corrupt (salvage: what lies before it is read). */
  damage(): readonly SourceDamage[] {
    return this.damaged;
  }

  static async open(blob: BlobLike, label: string, options: BlobSourceOptions = {}): Promise<BlobTarSource> {
    let cache: Uint8Array = new Uint8Array(0);
    let cacheAt = 0;
    const readAt = async (offset: number, length: number): Promise<Uint8Array> => {
      if (offset < cacheAt || offset + length > cacheAt + cache.length) {
        cacheAt = offset;
        cache = await sliceBytes(blob, offset, Math.min(blob.size, offset + Math.max(length, HEADER_READ_AHEAD)));
      }
      return cache.subarray(offset - cacheAt, Math.min(cache.length, offset - cacheAt + length));
    };
    const damaged: SourceDamage[] = [];
    const index = await indexTar(readAt, blob.size, label, (d) => void damaged.push(d));
    return new BlobTarSource(label, blob, index, options, damaged);
  }

  async entries(): Promise<SourceEntry[]> {
    return this.index.map(({ path, size, type }) => ({ path, size, type }));
  }

  private entry(p: string): TarEntry {
    const e = this.byPath.get(p);
    if (!e || e.type !== 'file') throw notFound(this.label, p);
    return e;
  }

  override async read(p: string): Promise<Uint8Array> {
    return this.readRange(p, 0, this.entry(p).size);
  }

  override async readRange(p: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const e = this.entry(p);
    const len = Math.max(0, Math.min(length, e.size - offset));
    if (len === 0) return new Uint8Array(0);
    this.options.signal?.throwIfAborted();
    const start = e.dataOffset + offset;
    // Large reads stream the slice into one buffer (the caller's when it lends one): in Chromium
    // this is about twice as fast as arrayBuffer() on the same slice, and allocates nothing new.
    const bytes = len >= STREAM_READ_MIN ? await streamInto(this.blob.slice(start, start + len), into && into.length >= len ? into.subarray(0, len) : new Uint8Array(len)) : await sliceBytes(this.blob, start, start + len);
    if (bytes.length < len) throw new CkptError(`archive ends inside "${p}": truncated`, this.label, start + bytes.length);
    this.options.onRead?.(start + len, this.blob.size);
    return bytes;
  }

  async *stream(p: string): AsyncIterable<Uint8Array> {
    const e = this.entry(p);
    for (let off = 0; off < e.size; off += CHUNK) yield await this.readRange(p, off, Math.min(CHUNK, e.size - off));
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    for (const e of this.index) {
      const entry: SourceEntry = { path: e.path, size: e.size, type: e.type };
      if (e.type === 'file' && want(entry)) await visit(entry, this.stream(e.path));
    }
  }
}

/** A gzip or zstd tar in a Blob: read in streaming passes (StreamedTarSource). */
export class BlobCompressedTarSource extends StreamedTarSource {
  constructor(
    readonly label: string,
    readonly format: 'gzip' | 'zstd',
    private readonly blob: BlobLike,
    private readonly options: BlobSourceOptions = {},
  ) {
    super();
  }

  /** The decompressed bytes, one pass. */
  protected bytes(): AsyncIterable<Uint8Array> {
    const { blob, label } = this;
    const report = (pos: number) => {
      this.options.signal?.throwIfAborted();
      this.options.onRead?.(pos, blob.size);
    };
    if (this.format === 'zstd' && this.options.zstd) return this.options.zstd(blob, label, report);
    let consumed = 0;
    const input = readStream(blob.stream() as ByteStream, (n) => report((consumed += n)));
    return this.format === 'zstd' ? zstdDecompressFallback(input, label) : gunzipStream(input, label);
  }
}

/**
 * Opens a checkpoint archive held in a Blob or File: a tar (random access), or a gzip or zstd tar
 * (streaming). `label` names it in messages (default: the file's name).
 */
export async function openBlobSource(blob: BlobLike, label?: string, options: BlobSourceOptions = {}): Promise<CheckpointSource> {
  const name = label ?? (blob as { name?: string }).name ?? 'checkpoint';
  if (blob.size === 0) throw new CkptError('empty file', name, 0);
  const format = detectFormat(await sliceBytes(blob, 0, BLOCK));
  switch (format) {
    case 'tar':
      return BlobTarSource.open(blob, name, options);
    case 'gzip':
    case 'zstd':
      return new BlobCompressedTarSource(name, format, blob, options);
    case 'xz':
    case 'bzip2':
      throw new CkptError(`${format} compression is not supported (checkpoint archives are tar, gzip or zstd)`, name, 0);
    default:
      throw new CkptError('not a checkpoint archive: neither a plain, gzip nor zstd tar', name, 0);
  }
}
