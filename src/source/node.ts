/**
 * Sources backed by the file system: the only module of the library that touches `fs`.
 *
 *  - an uncompressed tar is indexed by its headers and read at offsets (random access);
 *  - a gzip or zstd tar is read in streaming passes, never extracted, never held whole;
 *  - an image directory (an extracted archive, or a bare `criu dump` directory) and a single
 *    `.img` file are mapped to the archive layout (`checkpoint/<name>.img`).
 */
import { createReadStream, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { CkptError } from '../errors.js';
import { detectFormat, zstdDecompressFallback, type ContainerFormat } from './compression.js';
import { canDecompressInWorker, decompressInWorker, type WorkerRing } from './decompress-worker.js';
import { collectBody } from './memory.js';
import { indexTar, walkTarStream, tarEntries, BLOCK, type TarEntry } from './tar.js';
import type { CheckpointSource, SourceEntry } from './types.js';

const CHUNK = 1 << 20;

function ioError(e: unknown, label: string): CkptError {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof CkptError) return err;
  const what = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : (err.message ?? String(e));
  return new CkptError(what, label);
}

function notFound(label: string, p: string): CkptError {
  return new CkptError(`no entry "${p}" in the checkpoint`, label);
}

/** True when Node's own zlib can decompress zstd (Node >= 22.15 / 23.8). */
export const hasNativeZstd = typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

async function* readFileChunks(file: string, start = 0, end?: number): AsyncGenerator<Uint8Array> {
  const s = createReadStream(file, { start, end: end === undefined ? undefined : end - 1, highWaterMark: CHUNK });
  try {
    for await (const c of s) yield c as Buffer;
  } catch (e) {
    throw ioError(e, file);
  } finally {
    s.destroy();
  }
}

/**
 * How a gzip or zstd archive is decompressed: `worker` in a worker thread (decompress-worker.ts,
 * the fastest), `stream` with node:zlib's stream API on the thread pool; `auto` (the default)
 * takes the worker for archives of 4 MiB or more when the runtime allows it (a worker costs some
 * 30 ms to start, and a small archive is read in several passes).
 */
export type DecompressionMode = 'auto' | 'worker' | 'stream';
const WORKER_MIN_SIZE = 4 << 20;

/** The decompressed bytes of a gzip or zstd file (of `size` bytes on disk), chunk by chunk. */
export async function* decompressFile(file: string, format: 'gzip' | 'zstd', options: OpenSourceOptions = {}, size = Infinity): AsyncGenerator<Uint8Array> {
  if (format === 'zstd' && (!hasNativeZstd || options.forceZstdFallback)) {
    yield* zstdDecompressFallback(readFileChunks(file), file);
    return;
  }
  const mode = options.decompression ?? 'auto';
  if (mode !== 'stream' && (mode === 'worker' || size >= WORKER_MIN_SIZE) && canDecompressInWorker(format)) {
    yield* decompressInWorker(file, format, options.workerRing);
    return;
  }
  const src = createReadStream(file, { highWaterMark: CHUNK });
  // Large output chunks and a deep read-ahead let inflate run on the thread pool while the
  // consumer (tar parsing, search) works on the previous chunks (a 1.07 GiB gzip search: 2.98 s -> 2.6 s).
  // Deeper read-ahead is faster still but pushes peak RSS past 200 MB on a regex search.
  const opts = { chunkSize: 1 << 20, readableHighWaterMark: 4 << 20 } as zlib.ZlibOptions;
  const z: Readable & NodeJS.WritableStream =
    format === 'gzip' ? zlib.createGunzip(opts) : (zlib as unknown as { createZstdDecompress(o?: object): zlib.Gunzip }).createZstdDecompress(opts);
  src.on('error', (e) => z.destroy(e));
  src.pipe(z);
  try {
    for await (const c of z) yield c as Buffer;
  } catch (e) {
    if (e instanceof CkptError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.code.startsWith('Z_') || /unexpected end|incorrect header|invalid|corrupt|ZSTD/i.test(err.message)) {
      throw new CkptError(`corrupt or truncated ${format} data (${err.message})`, file, src.bytesRead);
    }
    throw ioError(e, file);
  } finally {
    src.unpipe(z);
    src.destroy();
    z.destroy();
  }
}

abstract class BaseSource implements CheckpointSource {
  abstract readonly label: string;
  abstract readonly randomAccess: boolean;
  abstract entries(): Promise<SourceEntry[]>;
  abstract stream(p: string): AsyncIterable<Uint8Array>;
  abstract walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void>;

  async read(p: string): Promise<Uint8Array> {
    return collectBody(this.stream(p));
  }

  async readRange(p: string, offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let pos = 0;
    let filled = 0;
    for await (const c of this.stream(p)) {
      const end = pos + c.length;
      if (end > offset && pos < offset + length) {
        const from = Math.max(0, offset - pos);
        const to = Math.min(c.length, offset + length - pos);
        out.set(c.subarray(from, to), pos + from - offset);
        filled += to - from;
      }
      pos = end;
      if (pos >= offset + length) break;
    }
    return out.subarray(0, filled);
  }

  async close(): Promise<void> {}
}

/** An uncompressed tar on disk: indexed once by its headers, entries read at their offsets. */
export class TarFileSource extends BaseSource {
  readonly randomAccess = true;
  private readonly byPath = new Map<string, TarEntry>();

  private constructor(
    readonly label: string,
    private readonly handle: fsp.FileHandle,
    private readonly index: TarEntry[],
  ) {
    super();
    for (const e of index) this.byPath.set(e.path, e);
  }

  static async open(file: string, size: number): Promise<TarFileSource> {
    const handle = await fsp.open(file, 'r');
    try {
      const readAt = async (offset: number, length: number) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        return buf.subarray(0, bytesRead);
      };
      const index = await indexTar(readAt, size, file);
      return new TarFileSource(file, handle, index);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async entries(): Promise<SourceEntry[]> {
    return this.index.map(({ path: p, size, type }) => ({ path: p, size, type }));
  }

  private entry(p: string): TarEntry {
    const e = this.byPath.get(p);
    if (!e || e.type !== 'file') throw notFound(this.label, p);
    return e;
  }

  override async read(p: string): Promise<Uint8Array> {
    const e = this.entry(p);
    return this.readRange(p, 0, e.size);
  }

  override async readRange(p: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const e = this.entry(p);
    const len = Math.max(0, Math.min(length, e.size - offset));
    const buf = into && into.length >= len ? into.subarray(0, len) : Buffer.allocUnsafeSlow(len);
    if (len === 0) return buf;
    const { bytesRead } = await this.handle.read(buf, 0, len, e.dataOffset + offset);
    if (bytesRead < len) throw new CkptError(`archive ends inside "${p}": truncated`, this.label, e.dataOffset + offset + bytesRead);
    return buf;
  }

  async *stream(p: string): AsyncIterable<Uint8Array> {
    const e = this.entry(p);
    // one buffer, lent until the next chunk is asked for (the CheckpointSource contract)
    const buf = Buffer.allocUnsafeSlow(Math.min(CHUNK, e.size));
    for (let off = 0; off < e.size; off += CHUNK) yield await this.readRange(p, off, Math.min(CHUNK, e.size - off), buf);
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    for (const e of this.index) {
      const entry: SourceEntry = { path: e.path, size: e.size, type: e.type };
      if (e.type === 'file' && want(entry)) await visit(entry, this.stream(e.path));
    }
  }

  override async close(): Promise<void> {
    await this.handle.close();
  }
}

/** A gzip or zstd tar on disk: read in streaming passes. The entry list is kept after the first. */
export class CompressedTarSource extends BaseSource {
  readonly randomAccess = false;
  private list?: SourceEntry[];

  constructor(
    readonly label: string,
    readonly format: 'gzip' | 'zstd',
    private readonly options: OpenSourceOptions = {},
    /** The file's size on disk (small files skip the worker). */
    private readonly size = Infinity,
  ) {
    super();
  }

  private bytes(): AsyncIterable<Uint8Array> {
    return decompressFile(this.label, this.format, this.options, this.size);
  }

  async entries(): Promise<SourceEntry[]> {
    if (!this.list) {
      const all: SourceEntry[] = [];
      await walkTarStream(this.bytes(), this.label, (e) => (all.push(e), false), async () => {});
      this.list = all;
    }
    return this.list;
  }

  async *stream(p: string): AsyncIterable<Uint8Array> {
    for await (const { entry, body } of tarEntries(this.bytes(), this.label)) {
      if (entry.path === p && entry.type === 'file') {
        yield* body;
        return;
      }
    }
    throw notFound(this.label, p);
  }

  override async read(p: string): Promise<Uint8Array> {
    let out: Uint8Array | undefined;
    await walkTarStream(this.bytes(), this.label, (e) => e.path === p, async (e, body) => {
      out = await collectBody(body, e.size);
      return 'stop';
    });
    if (!out) throw notFound(this.label, p);
    return out;
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    const all: SourceEntry[] = [];
    await walkTarStream(this.bytes(), this.label, (e) => (all.push(e), want(e)), visit);
    this.list ??= all;
  }
}

/** Files on disk mapped to archive paths: an image directory, or a single image. */
export class FilesSource extends BaseSource {
  readonly randomAccess = true;

  constructor(
    readonly label: string,
    private readonly files: Map<string, { disk: string; size: number; type: SourceEntry['type'] }>,
  ) {
    super();
  }

  async entries(): Promise<SourceEntry[]> {
    return [...this.files].map(([p, f]) => ({ path: p, size: f.size, type: f.type }));
  }

  private file(p: string) {
    const f = this.files.get(p);
    if (!f || f.type !== 'file') throw notFound(this.label, p);
    return f;
  }

  override async read(p: string): Promise<Uint8Array> {
    const f = this.file(p);
    try {
      return await fsp.readFile(f.disk);
    } catch (e) {
      throw ioError(e, f.disk);
    }
  }

  override async readRange(p: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const f = this.file(p);
    const len = Math.max(0, Math.min(length, f.size - offset));
    const h = await fsp.open(f.disk, 'r').catch((e) => Promise.reject(ioError(e, f.disk)));
    try {
      const buf = into && into.length >= len ? into.subarray(0, len) : Buffer.allocUnsafeSlow(len);
      const { bytesRead } = await h.read(buf, 0, len, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  }

  stream(p: string): AsyncIterable<Uint8Array> {
    return readFileChunks(this.file(p).disk);
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    for (const e of await this.entries()) if (e.type === 'file' && want(e)) await visit(e, this.stream(e.path));
  }
}

async function listDir(root: string, rel: string, out: Map<string, { disk: string; size: number; type: SourceEntry['type'] }>, depth: number): Promise<void> {
  if (depth > 16) return;
  const dirents = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of dirents) {
    const relPath = rel ? `${rel}/${d.name}` : d.name;
    const disk = path.join(root, relPath);
    if (d.isDirectory()) {
      out.set(relPath, { disk, size: 0, type: 'directory' });
      await listDir(root, relPath, out, depth + 1);
    } else if (d.isFile()) {
      const st = await fsp.stat(disk);
      out.set(relPath, { disk, size: st.size, type: 'file' });
    } else {
      out.set(relPath, { disk, size: 0, type: d.isSymbolicLink() ? 'symlink' : 'other' });
    }
  }
}

async function openDirectory(dir: string): Promise<FilesSource> {
  const files = new Map<string, { disk: string; size: number; type: SourceEntry['type'] }>();
  const top = await fsp.readdir(dir);
  if (top.includes('checkpoint')) {
    await listDir(dir, '', files, 0); // an extracted archive: the layout is already ours
  } else {
    // a bare CRIU image directory: its images go under checkpoint/
    const inner = new Map<string, { disk: string; size: number; type: SourceEntry['type'] }>();
    await listDir(dir, '', inner, 0);
    files.set('checkpoint', { disk: dir, size: 0, type: 'directory' });
    for (const [p, f] of inner) files.set(`checkpoint/${p}`, f);
    if (![...inner.keys()].some((p) => p.endsWith('.img'))) throw new CkptError('directory holds no CRIU images (*.img) and no checkpoint/ folder', dir);
  }
  return new FilesSource(dir, files);
}

export interface OpenSourceOptions {
  /** Use the pure-JS zstd decoder even where node:zlib has zstd (for tests and benchmarks). */
  forceZstdFallback?: boolean;
  /** How gzip and zstd are decompressed (default `auto`; see DecompressionMode). */
  decompression?: DecompressionMode;
  /** The worker's ring of shared buffers (default 8 slots of 1 MiB). */
  workerRing?: WorkerRing;
}

/** What a path holds, by its first bytes. */
export async function sniffFile(file: string): Promise<{ format: ContainerFormat; stat: Stats }> {
  let stat: Stats;
  try {
    stat = await fsp.stat(file);
  } catch (e) {
    throw ioError(e, file);
  }
  if (!stat.isFile()) return { format: 'unknown', stat };
  const h = await fsp.open(file, 'r').catch((e) => Promise.reject(ioError(e, file)));
  try {
    const buf = Buffer.alloc(BLOCK);
    const { bytesRead } = await h.read(buf, 0, BLOCK, 0);
    return { format: detectFormat(buf.subarray(0, bytesRead)), stat };
  } finally {
    await h.close();
  }
}

/**
 * Opens a checkpoint: a tar archive (compression detected from its magic bytes: none, gzip,
 * zstd), an image directory, or a single CRIU `.img` file.
 */
export async function openSource(file: string, options: OpenSourceOptions = {}): Promise<CheckpointSource> {
  const { format, stat } = await sniffFile(file);
  if (stat.isDirectory()) {
    try {
      return await openDirectory(file);
    } catch (e) {
      throw ioError(e, file);
    }
  }
  switch (format) {
    case 'tar':
      return TarFileSource.open(file, stat.size);
    case 'gzip':
    case 'zstd':
      return new CompressedTarSource(file, format, options, stat.size);
    case 'criu-image':
      return new FilesSource(file, new Map([['checkpoint/' + path.basename(file), { disk: file, size: stat.size, type: 'file' }]]));
    case 'xz':
    case 'bzip2':
      throw new CkptError(`${format} compression is not supported (checkpoint archives are tar, gzip or zstd)`, file, 0);
    default:
      if (stat.size === 0) throw new CkptError('empty file', file, 0);
      if (/\.img$/.test(file)) {
        // Images without a head magic (inventory-less raw images) are still images.
        return new FilesSource(file, new Map([['checkpoint/' + path.basename(file), { disk: file, size: stat.size, type: 'file' }]]));
      }
      throw new CkptError('not a checkpoint: neither a tar archive (plain, gzip or zstd), an image directory, nor a CRIU image', file, 0);
  }
}

/**
 * Names of the checkpoint archives in a directory (the kubelet names them
 * `checkpoint-<pod>_<namespace>-<container>-<time>.tar`), sorted; undefined when there is no such
 * directory.
 */
export async function checkpointFiles(dir: string): Promise<string[] | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError(e, dir);
  }
  return names.filter((n) => n.startsWith('checkpoint-')).sort();
}

/**
 * Opens a file for the CLI's `--output` (the only file ckpt writes): created or truncated, written
 * in order; errors become one-line CkptErrors naming the file.
 */
export async function fileWriter(file: string): Promise<{ write(text: string): Promise<void>; close(): Promise<void> }> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, 'w');
  } catch (e) {
    throw ioError(e, file);
  }
  let written = 0;
  let pending: string[] = [];
  let pendingLength = 0;
  const flush = async () => {
    if (pendingLength === 0) return;
    const text = pending.join('');
    pending = [];
    pendingLength = 0;
    try {
      written += (await handle.write(text)).bytesWritten;
    } catch (e) {
      throw new CkptError(`cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file, written);
    }
  };
  return {
    async write(text: string) {
      pending.push(text);
      pendingLength += text.length;
      if (pendingLength >= 1 << 20) await flush();
    },
    async close() {
      try {
        await flush();
      } finally {
        await handle.close();
      }
    },
  };
}
