/**
 * A gzip or zstd tar on disk (Node): read in streaming passes, never extracted, never held whole.
 */
import { createReadStream } from 'node:fs';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { CkptError } from '../errors.js';
import { zstdDecompressFallback } from '../source/compression.js';
import { StreamedTarSource } from '../source/streamed-tar.js';
import { canDecompressInWorker, decompressInWorker, type WorkerRing } from './decompress-worker.js';
import { CHUNK, fileSha256, ioError, passHash, readFileChunks, teeChunks, type RawTee } from './file-io.js';

/** True when Node's own zlib can decompress zstd (Node >= 22.15 / 23.8). */
export const hasNativeZstd = typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';

export interface OpenSourceOptions {
  /** Use the pure-JS zstd decoder even where node:zlib has zstd (for tests and benchmarks). */
  forceZstdFallback?: boolean;
  /** How gzip and zstd are decompressed (default `auto`; see DecompressionMode). */
  decompression?: DecompressionMode;
  /** The worker's ring of shared buffers (default 8 slots of 1 MiB). */
  workerRing?: WorkerRing;
  /**
   * Hash the archive (SHA-256, `archiveSha256()`) in the pass that reads it anyway: a plain tar is
   * then indexed by one sequential read of every byte instead of by its headers; a compressed one
   * is decompressed with the stream API (the worker reads the file itself).
   */
  hashArchive?: boolean;
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
export async function* decompressFile(file: string, format: 'gzip' | 'zstd', options: OpenSourceOptions = {}, size = Infinity, raw?: RawTee): AsyncGenerator<Uint8Array> {
  if (format === 'zstd' && (!hasNativeZstd || options.forceZstdFallback)) {
    yield* zstdDecompressFallback(raw ? teeChunks(readFileChunks(file), raw) : readFileChunks(file), file);
    return;
  }
  const mode = options.decompression ?? 'auto';
  // hashing needs the compressed bytes, which the worker reads itself: the stream API then
  if (!raw && mode !== 'stream' && (mode === 'worker' || size >= WORKER_MIN_SIZE) && canDecompressInWorker(format)) {
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
  if (raw) {
    src.on('data', (c) => raw.update(c as Buffer));
    src.on('end', () => raw.end());
  }
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

/** A gzip or zstd tar on disk: read in streaming passes (StreamedTarSource). */
export class CompressedTarSource extends StreamedTarSource {
  constructor(
    readonly label: string,
    readonly format: 'gzip' | 'zstd',
    private readonly options: OpenSourceOptions = {},
    /** The file's size on disk (small files skip the worker). */
    private readonly size = Infinity,
  ) {
    super();
  }

  private sha256?: string;

  protected override get tarOptions() {
    return { compression: `${this.format}-compressed` };
  }

  protected bytes(): AsyncIterable<Uint8Array> {
    // with hashArchive, every pass hashes the compressed bytes until one has read them all
    const raw = this.options.hashArchive && this.sha256 === undefined ? passHash((hex) => (this.sha256 ??= hex)) : undefined;
    return decompressFile(this.label, this.format, this.options, this.size, raw);
  }

  /** The archive's SHA-256: from a full pass with `hashArchive`, else read for it. */
  async archiveSha256(): Promise<string | null> {
    return (this.sha256 ??= await fileSha256(this.label));
  }
}
