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

/**
 * Decompresses a gzip byte stream with the runtime's DecompressionStream (Node >= 18, browsers),
 * chunk by chunk. Errors name `label` and the compressed bytes fed so far.
 */
export async function* gunzipStream(input: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const reader = ds.readable.getReader();
  let fed = 0;
  let failure: unknown;
  // feed in the background: the writer waits for the reader (back-pressure)
  const feeding = (async () => {
    try {
      for await (const chunk of input) {
        await writer.write(chunk.slice());
        fed += chunk.length;
      }
      await writer.close();
    } catch (e) {
      failure ??= e;
      await writer.abort(e).catch(() => undefined);
    }
  })();
  try {
    for (;;) {
      let r: Awaited<ReturnType<typeof reader.read>>;
      try {
        r = await reader.read();
      } catch (e) {
        if (failure instanceof CkptError) throw failure;
        throw new CkptError(`corrupt or truncated gzip data (${(e as Error).message})`, label, fed);
      }
      if (r.done) break;
      yield r.value;
    }
    await feeding;
    if (failure !== undefined) throw failure instanceof CkptError ? failure : new CkptError(`corrupt or truncated gzip data (${(failure as Error).message})`, label, fed);
  } finally {
    await reader.cancel().catch(() => undefined);
    await feeding;
  }
}

/**
 * A stream of bytes that may be gzip- or zstd-compressed (an inner tar such as containerd's
 * rootfs-diff.tar), decompressed when its first bytes say so. `format` tells what was found.
 */
export async function sniffDecompress(input: AsyncIterable<Uint8Array>, label: string): Promise<{ format: 'none' | 'gzip' | 'zstd'; bytes: AsyncIterable<Uint8Array> }> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? new Uint8Array(0) : first.value.slice(0, 4);
  const rest: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let sentFirst = first.done === true;
      return {
        next: async () => {
          if (!sentFirst) {
            sentFirst = true;
            return { done: false, value: first.value as Uint8Array };
          }
          return it.next();
        },
        return: async () => (await it.return?.(), { done: true, value: undefined }),
      };
    },
  };
  const format = detectFormat(head);
  if (format === 'gzip') return { format, bytes: gunzipStream(rest, label) };
  if (format === 'zstd') return { format, bytes: zstdDecompressFallback(rest, label) };
  return { format: 'none', bytes: rest };
}
