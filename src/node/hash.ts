/** Node's native SHA-256 behind the runtime-neutral `Sha256Factory` (src/source/hash.ts), and file hashes. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { CkptError } from '../errors.js';
import type { Sha256Factory } from '../source/hash.js';

export const nodeSha256: Sha256Factory = () => {
  const h = createHash('sha256');
  return {
    update: (bytes) => void h.update(bytes),
    hex: () => h.digest('hex'),
  };
};

/** The SHA-256 of a file on disk (streamed, in one read), or null when the path is a directory. */
export async function hashFile(file: string): Promise<string | null> {
  try {
    const s = await fsp.stat(file);
    if (!s.isFile()) return null;
    const h = createHash('sha256');
    for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
    return h.digest('hex');
  } catch (e) {
    throw new CkptError(`cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
}
