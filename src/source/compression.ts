/**
 * Compression detection by magic bytes, and the pure-JS zstd stream used where the runtime's own
 * zlib has no zstd (Node < 22.15, browsers).
 */
import { Decompress } from 'fzstd';
import { CkptError } from '../errors.js';
import { IMG_COMMON, IMG_SERVICE } from './layout.js';
import { looksLikeTarHeader } from './tar.js';

export type ContainerFormat = 'tar' | 'gzip' | 'zstd' | 'xz' | 'bzip2' | 'criu-image' | 'unknown';

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

/** Largest zstd window accepted: libzstd's default limit for decoding (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 2^27). */
export const ZSTD_MAX_WINDOW = 1 << 27;
/** Largest block of a zstd frame (RFC 8878, Block_Maximum_Size). */
const ZSTD_MAX_BLOCK = 128 << 10;

/**
 * Decompresses a zstd byte stream with the pure-JS decoder (fzstd), with bounded memory: the
 * frames are cut here into their blocks (RFC 8878: frame header, blocks of at most 128 KiB of
 * output each, optional checksum; skippable frames) and fzstd is given one block at a time, so
 * that no more than one block's output is held whatever the ratio (a small file of zeros that
 * expands to gigabytes is one 4-byte RLE block per 128 KiB). A frame whose window is larger than
 * libzstd's default limit (128 MiB) is refused before anything is allocated for it.
 */
export async function* zstdDecompressFallback(input: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  const d = new Decompress((chunk) => {
    if (chunk.length > 0) out.push(chunk);
  });
  // the input not yet given to the decoder: pieces, and the offset in the file of the first byte
  let pending: Uint8Array[] = [];
  let have = 0;
  let base = 0;
  const take = (n: number): Uint8Array => {
    const piece = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = pending[0]!;
      const k = Math.min(c.length, n - filled);
      piece.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) pending.shift();
      else pending[0] = c.subarray(k);
    }
    have -= n;
    base += n;
    return piece;
  };
  const peek = (i: number): number => {
    for (const c of pending) {
      if (i < c.length) return c[i]!;
      i -= c.length;
    }
    return -1;
  };
  // fzstd keeps a list of input it could not use yet; given whole blocks it adds an empty view of
  // each block to it and never clears it (every block's input would stay reachable): cleared here
  const internals = d as unknown as { c?: Uint8Array[]; l?: number };
  const feed = (piece: Uint8Array, at: number) => {
    try {
      d.push(piece);
    } catch (e) {
      throw new CkptError(`corrupt zstd data (${(e as Error).message})`, label, at);
    }
    if (internals.l === 0 && Array.isArray(internals.c) && internals.c.length > 0) internals.c = [];
  };
  // parser state: what the next bytes are
  type State = { kind: 'frame' } | { kind: 'block'; checksum: boolean } | { kind: 'skip'; left: number } | { kind: 'checksum' };
  let state: State = { kind: 'frame' };
  let frames = 0;
  const step = (): boolean => {
    const at = base;
    switch (state.kind) {
      case 'frame': {
        if (have < 4) return false;
        const m0 = peek(0), m1 = peek(1), m2 = peek(2), m3 = peek(3);
        if (m0 === 0x28 && m1 === 0xb5 && m2 === 0x2f && m3 === 0xfd) {
          if (have < 6) return false;
          const fhd = peek(4);
          if (fhd & 0x08) throw new CkptError('corrupt zstd data (reserved bit set in the frame header)', label, at + 4);
          const single = (fhd >> 5) & 1;
          const fcsFlag = fhd >> 6;
          const dictBytes = [0, 1, 2, 4][fhd & 3]!;
          const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
          const headerLength = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
          if (have < headerLength) return false;
          let window: number;
          if (!single) {
            const wd = peek(5);
            const exp = 10 + (wd >> 3);
            window = 2 ** exp + (2 ** exp / 8) * (wd & 7);
          } else {
            let fcs = 0;
            const p = 5 + dictBytes;
            for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + peek(p + i);
            if (fcsBytes === 2) fcs += 256;
            window = fcs;
          }
          if (window > ZSTD_MAX_WINDOW) {
            throw new CkptError(`zstd frame needs a window of ${window} bytes, over the limit of ${ZSTD_MAX_WINDOW} (libzstd's default): refused`, label, at);
          }
          feed(take(headerLength), at);
          state = { kind: 'block', checksum: ((fhd >> 2) & 1) === 1 };
          frames++;
          return true;
        }
        if (m0 >= 0x50 && m0 <= 0x5f && m1 === 0x2a && m2 === 0x4d && m3 === 0x18) {
          if (have < 8) return false;
          const size = (peek(4) | (peek(5) << 8) | (peek(6) << 16)) + peek(7) * 0x1000000;
          take(8);
          state = { kind: 'skip', left: size };
          return true;
        }
        throw new CkptError(frames === 0 ? 'not zstd data (bad magic)' : 'corrupt zstd data (bad frame magic after a frame)', label, at);
      }
      case 'skip': {
        if (have === 0) return false;
        const n = Math.min(have, state.left);
        take(n);
        state.left -= n;
        if (state.left === 0) state = { kind: 'frame' };
        return true;
      }
      case 'checksum': {
        if (have < 4) return false;
        feed(take(4), at);
        state = { kind: 'frame' };
        return true;
      }
      case 'block': {
        if (have < 3) return false;
        const h = peek(0) | (peek(1) << 8) | (peek(2) << 16);
        const last = h & 1;
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) throw new CkptError('corrupt zstd data (reserved block type)', label, at);
        if (size > ZSTD_MAX_BLOCK) throw new CkptError(`corrupt zstd data (a block of ${size} bytes, over 128 KiB)`, label, at);
        const length = 3 + (type === 1 ? 1 : size);
        if (have < length) return false;
        feed(take(length), at);
        if (last) state = state.checksum ? { kind: 'checksum' } : { kind: 'frame' };
        return true;
      }
    }
  };
  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    have += chunk.length;
    while (step()) {
      if (out.length > 0) {
        const ready = out;
        out = [];
        yield* ready;
      }
    }
  }
  if (have > 0 || state.kind !== 'frame' || frames === 0) {
    const what = frames === 0 && have === 0 && state.kind === 'frame' ? 'empty zstd file' : 'truncated zstd data (the file ends inside a frame)';
    throw new CkptError(what, label, base + have);
  }
  pending = [];
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
