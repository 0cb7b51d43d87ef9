/**
 * Compression detection by magic bytes, and the pure-JS zstd stream used where the runtime's own
 * zlib has no zstd (Node < 22.15, browsers).
 */
import { Decompress } from 'fzstd';
import { CkptError } from '../errors.js';
import { looksLikeTarHeader } from './tar.js';

export type ContainerFormat = 'tar' | 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'criu-image' | 'unknown';

const IMG_COMMON = 0x54564319;
const IMG_SERVICE = 0x55105940;

/** What the first bytes of a file say it is (at least 512 bytes should be given for tar). */
export function detectFormat(head: Uint8Array): ContainerFormat {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 6 && head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58 && head[4] === 0x5a) return 'xz';
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (looksLikeTarHeader(head)) return 'tar';
  if (head.length >= 4) {
    const m = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, true);
    if (m === IMG_COMMON || m === IMG_SERVICE) return 'criu-image';
  }
  return 'unknown';
}

/** Decompresses a zstd byte stream with the pure-JS decoder, chunk by chunk. */
export async function* zstdDecompressFallback(input: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  const d = new Decompress((chunk) => {
    out.push(chunk);
  });
  let fed = 0;
  for await (const chunk of input) {
    try {
      d.push(chunk);
    } catch (e) {
      throw new CkptError(`corrupt zstd data (${(e as Error).message})`, label, fed);
    }
    fed += chunk.length;
    if (out.length > 0) {
      const ready = out;
      out = [];
      yield* ready;
    }
  }
  try {
    d.push(new Uint8Array(0), true);
  } catch (e) {
    throw new CkptError(`truncated or corrupt zstd data (${(e as Error).message})`, label, fed);
  }
  yield* out;
}
