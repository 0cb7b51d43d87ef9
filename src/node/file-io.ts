/** File reading shared by the Node sources: chunked reads and one-line errors naming the file. */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { CkptError } from '../errors.js';

/** Chunk size of file reads (1 MiB). */
export const CHUNK = 1 << 20;

/** A file-system error as a one-line CkptError naming `label`. */
export function ioError(e: unknown, label: string): CkptError {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof CkptError) return err;
  const what = err.code === 'ENOENT' ? 'no such file or directory' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EISDIR' ? 'is a directory' : (err.message ?? String(e));
  return new CkptError(what, label);
}

/** The bytes of `file` from `start` to `end` (exclusive), in chunks of CHUNK. */
export async function* readFileChunks(file: string, start = 0, end?: number): AsyncGenerator<Uint8Array> {
  const s = createReadStream(file, { start, end: end === undefined ? undefined : end - 1, highWaterMark: CHUNK });
  try {
    for await (const c of s) yield c as Buffer;
  } catch (e) {
    throw ioError(e, file);
  } finally {
    s.destroy();
  }
}

/** Sees the raw bytes of one pass over a file, in order; `end` when the pass reached the file's end. */
export interface RawTee {
  update(chunk: Uint8Array): void;
  end(): void;
}

/** `chunks`, each also given to `raw`; `raw.end()` once they are all read. */
export async function* teeChunks(chunks: AsyncIterable<Uint8Array>, raw: RawTee): AsyncGenerator<Uint8Array> {
  for await (const c of chunks) {
    raw.update(c);
    yield c;
  }
  raw.end();
}

/** A SHA-256 over one pass; `onDone` gets it only when the pass read the whole file. */
export function passHash(onDone: (hex: string) => void): RawTee {
  const h = createHash('sha256');
  return { update: (c) => void h.update(c), end: () => onDone(h.digest('hex')) };
}

/** The SHA-256 of a whole file, read for it. */
export async function fileSha256(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of readFileChunks(file)) h.update(c);
  return h.digest('hex');
}

/** A small text file (an indicator list, YARA rules) read whole, at most `max` bytes; one-line errors naming it. */
export async function readTextFile(file: string, max = 64 << 20): Promise<string> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of readFileChunks(file)) {
    n += c.length;
    if (n > max) throw new CkptError(`larger than ${max} bytes: not an indicator list or rules file`, file);
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}
