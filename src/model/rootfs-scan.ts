/**
 * Searches files with a WindowMatcher (YARA rules, an indicator list): the regular files of the
 * root file-system diff (one pass over rootfs-diff.tar) or the artifacts `recover` saves (ghost
 * files, memfds, queues…: model/evidence.ts). Each file is fed in windows that overlap by the
 * matcher's longest match, and each match is reported once with the file's path and the offset
 * in it. For `rootfs --yara` and `recover --yara`.
 */
import { CkptError } from '../errors.js';
import type { Checkpoint } from './checkpoint.js';
import { artifactBytes, type Artifact } from './evidence.js';
import type { WindowMatcher } from './memory/matchers.js';

export interface FileMatch {
  /** The file in the container (`/tmp/payload`); for an artifact, its file name under recover's output directory. */
  path: string;
  /** Offset of the match in the file. */
  offset: number;
  length: number;
  /** What matched (a literal's index, a YARA `rule:$string`). */
  tag: number | string;
  /** The matched bytes. */
  bytes: Uint8Array;
}

/** A match in a recovered artifact: the FileMatch (path = the artifact's name) and the artifact. */
export interface ArtifactMatch extends FileMatch {
  artifact: Artifact;
}

const DEFAULT_WINDOW = 4 << 20;

/** A match in a stream of bytes: offset from its start. */
interface StreamMatch {
  offset: number;
  length: number;
  tag: number | string;
  bytes: Uint8Array;
}

/**
 * Every match of `matcher` in a stream of chunks (`size` bytes, or fewer), by offset: windows of
 * `matcher.window` bytes carried over by `maxLength - 1` bytes, each match reported at the window
 * it starts in. Memory stays at one window plus the overlap.
 */
export async function* scanByteStream(chunks: AsyncIterable<Uint8Array>, size: number, matcher: WindowMatcher): AsyncGenerator<StreamMatch> {
  const window = matcher.window ?? DEFAULT_WINDOW;
  const keep = matcher.maxLength - 1;
  let buf = new Uint8Array(Math.min(size, window + keep) || 1);
  let len = 0;
  /** Stream offset of buf[0]. */
  let base = 0;
  /** Buffer index from which matches have not been reported. */
  let from = 0;
  const scan = async function* (final: boolean): AsyncGenerator<StreamMatch> {
    const limit = final ? len - matcher.minLength : len - matcher.maxLength;
    if (limit < from) return;
    const w = buf.subarray(0, len);
    for (const h of await matcher.scan(w, from, limit)) yield { offset: base + h.index, length: h.length, tag: h.tag, bytes: w.slice(h.index, h.index + h.length) };
    from = limit + 1;
  };
  for await (const chunk of chunks) {
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

/**
 * Every match of `matcher` in the regular files of the diff, in archive order, then by offset. A
 * damaged diff ends the scan where the damage is: it becomes a problem of the checkpoint
 * (`checkpoint.problems`) and the matches found before it stand.
 */
export async function* findRootfsMatches(checkpoint: Checkpoint, matcher: WindowMatcher): AsyncGenerator<FileMatch> {
  try {
    for await (const m of checkpoint.rootfsMembers()) {
      if (!m.entry || m.entry.type !== 'file') continue;
      const path = m.entry.path;
      for await (const h of scanByteStream(m.body, m.entry.size, matcher)) yield { path, ...h };
    }
  } catch (e) {
    if (!(e instanceof CkptError)) throw e;
    checkpoint.noteProblem({ kind: 'damaged', file: e.file ?? 'rootfs-diff.tar', offset: e.offset ?? null, message: `${e.reason}; files after it were not scanned` });
  }
}

/**
 * Every match of `matcher` in the bytes of these artifacts (what `recover` writes for each), in
 * order, then by offset. An artifact whose bytes cannot be read (a short member) becomes a
 * problem of the checkpoint and the scan goes on with the next.
 */
export async function* findArtifactMatches(checkpoint: Checkpoint, artifacts: readonly Artifact[], matcher: WindowMatcher): AsyncGenerator<ArtifactMatch> {
  for (const artifact of artifacts) {
    try {
      for await (const h of scanByteStream(artifactBytes(checkpoint, artifact), artifact.size, matcher)) yield { path: artifact.name, artifact, ...h };
    } catch (e) {
      if (!(e instanceof CkptError)) throw e;
      checkpoint.noteProblem({ kind: 'damaged', file: e.file ?? artifact.member, offset: e.offset ?? null, message: `${e.reason}; the rest of ${artifact.name} was not scanned` });
    }
  }
}
