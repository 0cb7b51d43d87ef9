/**
 * The part of a CheckpointSource that every source can share (any runtime): `read` and
 * `readRange` on top of `stream`, and a `close` that does nothing. A source over a file, a
 * browser File or anything else extends it and adds `entries`, `stream` and `walk`.
 */
import { CkptError } from '../errors.js';
import { collectBody } from './memory.js';
import type { CheckpointSource, SourceEntry } from './types.js';

/** The error for a path that is not a file entry of the source. */
export function notFound(label: string, p: string): CkptError {
  return new CkptError(`no entry "${p}" in the checkpoint`, label);
}

export abstract class BaseSource implements CheckpointSource {
  abstract readonly label: string;
  abstract readonly randomAccess: boolean;
  abstract entries(): Promise<SourceEntry[]>;
  abstract stream(p: string): AsyncIterable<Uint8Array>;
  abstract walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void>;

  async read(p: string): Promise<Uint8Array> {
    return collectBody(this.stream(p), undefined, `${this.label}:${p}`);
  }

  async readRange(p: string, offset: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let pos = 0;
    let filled = 0;
    for await (const c of this.stream(p)) {
      const end = pos + c.length;
      if (end > offset && pos < offset + length) {
        const from = Math.max(0, offset - pos);
        const to = Math.min(c.length, offset + length - pos);
        out.set(c.subarray(from, to), pos + from - offset);
        filled += to - from;
      }
      pos = end;
      if (pos >= offset + length) break;
    }
    return out.subarray(0, filled);
  }

  async close(): Promise<void> {}
}
