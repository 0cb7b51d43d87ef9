/**
 * Progress on stderr for long runs: only when stderr is a terminal, only after the run has taken a
 * second, never with --quiet. It counts the bytes the command reads through its source (bytes of
 * archive members: decompressed ones for gzip and zstd) and shows them with the total when it is
 * known (plain archives and directories) and the rate.
 */
import { byteSize, type CheckpointSource, type SourceEntry } from '../node/index.js';

let quiet = false;

/** `--quiet` (set once by main before the command runs). */
export function setQuiet(q: boolean): void {
  quiet = q;
}

export interface Progress {
  /** The source to read through (the same one when progress is off). */
  readonly source: CheckpointSource;
  /** Clears the progress line; call before the run ends (also on failure). */
  stop(): void;
}

const START_AFTER_MS = 1000;
const EVERY_MS = 250;

/** Wraps `source` so that what is read through it is counted and shown on a terminal. */
export function withProgress(source: CheckpointSource): Progress {
  const stderr = process.stderr;
  if (quiet || !stderr.isTTY) return { source, stop() {} };
  let done = 0;
  let total: number | undefined;
  let shown = false;
  const started = Date.now();
  if (source.randomAccess) {
    source
      .entries()
      .then((es: SourceEntry[]) => (total = es.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0)))
      .catch(() => undefined);
  }
  const draw = () => {
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    stderr.write(`\r\x1b[Kckpt: ${byteSize(done)}${total ? ` of ${byteSize(total)}` : ''} read, ${byteSize(Math.round(rate))}/s`);
    shown = true;
  };
  let timer: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, EVERY_MS);
    timer.unref();
  }, START_AFTER_MS);
  delay.unref();
  async function* counted(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
    for await (const c of chunks) {
      done += c.length;
      yield c;
    }
  }
  const wrapped: CheckpointSource = {
    get label() {
      return source.label;
    },
    get randomAccess() {
      return source.randomAccess;
    },
    entries: () => source.entries(),
    read: async (path) => {
      const b = await source.read(path);
      done += b.length;
      return b;
    },
    readRange: async (path, offset, length, into) => {
      const b = await source.readRange(path, offset, length, into);
      done += b.length;
      return b;
    },
    stream: (path) => counted(source.stream(path)),
    walk: (want, visit) => source.walk(want, (e, body) => visit(e, counted(body))),
    damage: () => source.damage?.() ?? [],
    close: () => source.close(),
  };
  return {
    source: wrapped,
    stop() {
      clearTimeout(delay);
      if (timer) clearInterval(timer);
      if (shown) stderr.write('\r\x1b[K');
    },
  };
}
