/** File reading shared by the Node sources: chunked reads and one-line errors naming the file. */
import { createReadStream } from 'node:fs';
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
