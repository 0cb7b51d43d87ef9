/**
 * Sources over bytes already in memory (runtime-neutral: browsers, tests, embedders).
 */
import { CkptError } from '../errors.js';
import { imageMember } from './layout.js';
import { indexTar, type TarEntry } from './tar.js';
import type { CheckpointSource, SourceEntry } from './types.js';

/** A source over named files in memory, laid out like an archive (`checkpoint/pstree.img`, ...). */
export class MemorySource implements CheckpointSource {
  readonly randomAccess = true;
  constructor(
    readonly label: string,
    private readonly files: Map<string, Uint8Array>,
  ) {}

  async entries(): Promise<SourceEntry[]> {
    return [...this.files].map(([path, b]) => ({ path, size: b.length, type: 'file' as const }));
  }

  async read(path: string): Promise<Uint8Array> {
    const b = this.files.get(path);
    if (!b) throw new CkptError(`no entry "${path}" in the checkpoint`, this.label);
    return b;
  }

  async readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.read(path)).subarray(offset, offset + length);
  }

  async *stream(path: string): AsyncIterable<Uint8Array> {
    yield await this.read(path);
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    for (const e of await this.entries()) if (want(e)) await visit(e, this.stream(e.path));
  }

  async close(): Promise<void> {}
}

/** An uncompressed tar archive held in memory. */
export async function tarBytesSource(label: string, bytes: Uint8Array): Promise<CheckpointSource> {
  const index: TarEntry[] = await indexTar(async (o, n) => bytes.subarray(o, o + n), bytes.length, label);
  const files = new Map<string, Uint8Array>();
  for (const e of index) if (e.type === 'file') files.set(e.path, bytes.subarray(e.dataOffset, e.dataOffset + e.size));
  return new MemorySource(label, files);
}

/** A single CRIU image held in memory, placed at `checkpoint/<name>`. */
export function imageBytesSource(name: string, bytes: Uint8Array): CheckpointSource {
  const base = name.split('/').pop() ?? name;
  return new MemorySource(name, new Map([[imageMember(base), bytes]]));
}

/**
 * The largest file read whole (a CRIU protobuf image, an engine metadata file): 16 MiB. Real ones
 * are far smaller (a pagemap of a 1 GiB process: 21 KB; a pstree of 50,000 processes: 700 KB); a
 * larger one is a damaged or hostile archive (a decompression bomb), refused before it is read.
 */
export const WHOLE_FILE_LIMIT = 16 << 20;

/** The error for a file over WHOLE_FILE_LIMIT, naming it (`file`: label and member). */
export function tooLargeError(file: string, size: number): CkptError {
  return new CkptError(`${size} bytes: larger than the ${WHOLE_FILE_LIMIT >> 20} MiB limit for an image or metadata file (damaged, or a decompression bomb)`, file);
}

/**
 * Reads the files `want` accepts in one pass (one decompression for a compressed archive).
 * Meant for small files: CRIU protobuf images and engine metadata, never pages. A file over
 * WHOLE_FILE_LIMIT is a CkptError naming it, before any of it is read.
 */
export async function readFiles(source: CheckpointSource, want: (e: SourceEntry) => boolean): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  await source.walk(want, async (e, body) => {
    out.set(e.path, await collectBody(body, e.size, `${source.label}:${e.path}`));
  });
  return out;
}

/**
 * The whole of a body or stream, copied out chunk by chunk (a chunk is only valid until the next
 * one is asked for). `size`, when known, is the expected length (what the archive declares: the
 * buffer grows with what actually arrives). More than WHOLE_FILE_LIMIT bytes, declared or read, is
 * a CkptError naming `file`.
 */
export async function collectBody(body: AsyncIterable<Uint8Array>, size?: number, file?: string): Promise<Uint8Array> {
  if (size !== undefined && size > WHOLE_FILE_LIMIT) throw tooLargeError(file ?? 'file', size);
  let buf = new Uint8Array(Math.min(size ?? 0, 1 << 20));
  let n = 0;
  for await (const c of body) {
    if (n + c.length > buf.length) {
      if (n + c.length > WHOLE_FILE_LIMIT) throw tooLargeError(file ?? 'file', n + c.length);
      const grown = new Uint8Array(Math.min(WHOLE_FILE_LIMIT, Math.max(n + c.length, buf.length * 2)));
      grown.set(buf.subarray(0, n));
      buf = grown;
    }
    buf.set(c, n);
    n += c.length;
  }
  return n === buf.length ? buf : buf.slice(0, n);
}

/** One chunk of a file's body in a pulled pass (see `pullFiles`). */
export interface PulledChunk {
  entry: SourceEntry;
  /** Offset of the chunk in the file. */
  offset: number;
  /** Valid until the next chunk is asked for. */
  chunk: Uint8Array;
}

/**
 * One pass over the files `want` accepts, as chunks pulled one at a time: `walk` turned inside
 * out, so that a consumer can stop (or be slow) without the pass running ahead of it. Nothing is
 * buffered: the pass waits until the consumer asks for the next chunk. Leaving the loop early
 * (break, return, an exception) ends the pass.
 */
export async function* pullFiles(source: CheckpointSource, want: (e: SourceEntry) => boolean): AsyncGenerator<PulledChunk> {
  let item: PulledChunk | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let cancelled = false;
  const stop = Symbol('stop');
  const producer = source
    .walk(want, async (entry, body) => {
      let offset = 0;
      for await (const chunk of body) {
        if (cancelled) throw stop;
        item = { entry, offset, chunk };
        offset += chunk.length;
        const w = wakeConsumer;
        wakeConsumer = undefined;
        w?.();
        await new Promise<void>((r) => (wakeProducer = r));
        if (cancelled) throw stop;
      }
    })
    .then(
      () => {},
      (e: unknown) => {
        if (e !== stop) failure = { error: e };
      },
    )
    .finally(() => {
      finished = true;
      const w = wakeConsumer;
      wakeConsumer = undefined;
      w?.();
    });
  try {
    for (;;) {
      if (item === undefined && !finished) await new Promise<void>((r) => (wakeConsumer = r));
      if (item !== undefined) {
        const it = item;
        item = undefined;
        yield it;
        const w = wakeProducer;
        wakeProducer = undefined;
        w?.();
        continue;
      }
      if (finished) {
        if (failure) throw failure.error;
        return;
      }
    }
  } finally {
    cancelled = true;
    const w = wakeProducer;
    wakeProducer = undefined;
    w?.();
    await producer;
  }
}
