/**
 * Searches the files of the root file-system diff with a WindowMatcher (YARA rules, an indicator
 * list): one pass over rootfs-diff.tar, each file in windows that overlap by the matcher's longest
 * match, each match reported once with the file's path and the offset in it. For `rootfs --yara`
 * and `recover --yara`.
 */
import type { Checkpoint } from './checkpoint.js';
import type { WindowMatcher } from './memory/matchers.js';

export interface FileMatch {
  /** The file in the container (`/tmp/payload`). */
  path: string;
  /** Offset of the match in the file. */
  offset: number;
  length: number;
  /** What matched (a literal's index, a YARA `rule:$string`). */
  tag: number | string;
  /** The matched bytes. */
  bytes: Uint8Array;
}

const DEFAULT_WINDOW = 4 << 20;

/** Every match of `matcher` in the regular files of the diff, in archive order, then by offset. */
export async function* findRootfsMatches(checkpoint: Checkpoint, matcher: WindowMatcher): AsyncGenerator<FileMatch> {
  const window = matcher.window ?? DEFAULT_WINDOW;
  const keep = matcher.maxLength - 1;
  for await (const m of checkpoint.rootfsMembers()) {
    if (!m.entry || m.entry.type !== 'file') continue;
    const path = m.entry.path;
    let buf = new Uint8Array(Math.min(m.entry.size, window + keep) || 1);
    let len = 0;
    /** File offset of buf[0]. */
    let base = 0;
    /** Buffer index from which matches have not been reported. */
    let from = 0;
    const scan = async function* (final: boolean): AsyncGenerator<FileMatch> {
      const limit = final ? len - matcher.minLength : len - matcher.maxLength;
      if (limit < from) return;
      const w = buf.subarray(0, len);
      for (const h of await matcher.scan(w, from, limit)) yield { path, offset: base + h.index, length: h.length, tag: h.tag, bytes: w.slice(h.index, h.index + h.length) };
      from = limit + 1;
    };
    for await (const chunk of m.body) {
      let o = 0;
      while (o < chunk.length) {
        if (len === buf.length) {
          const grown = new Uint8Array(Math.max(buf.length * 2, window + keep));
          grown.set(buf);
          buf = grown;
        }
        const n = Math.min(chunk.length - o, buf.length - len);
        buf.set(chunk.subarray(o, o + n), len);
        len += n;
        o += n;
        if (len >= window + keep) {
          yield* scan(false);
          const cut = len - keep;
          buf.copyWithin(0, cut, len);
          len -= cut;
          base += cut;
          from = Math.max(0, from - cut);
        }
      }
    }
    yield* scan(true);
  }
}
