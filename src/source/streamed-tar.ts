/**
 * A tar read in streaming passes (any runtime): a gzip or zstd archive, whatever decompresses it.
 * A subclass gives `bytes()`, one pass of the decompressed tar; entries, reads and walks are
 * passes over it. The entry list is kept after the first pass.
 */
import { BaseSource, notFound } from './base.js';
import { collectBody } from './memory.js';
import { tarEntries, walkTarStream } from './tar.js';
import type { SourceEntry } from './types.js';

export abstract class StreamedTarSource extends BaseSource {
  readonly randomAccess = false;
  private list?: SourceEntry[];

  /** One pass over the decompressed tar, chunk by chunk. */
  protected abstract bytes(): AsyncIterable<Uint8Array>;

  /** Options for the tar reader (e.g. the compression, named when the bytes are not a tar). */
  protected get tarOptions(): { compression?: string } {
    return {};
  }

  async entries(): Promise<SourceEntry[]> {
    if (!this.list) {
      const all: SourceEntry[] = [];
      await walkTarStream(this.bytes(), this.label, (e) => (all.push(e), false), async () => {}, this.tarOptions);
      this.list = all;
    }
    return this.list;
  }

  async *stream(p: string): AsyncIterable<Uint8Array> {
    for await (const { entry, body } of tarEntries(this.bytes(), this.label, this.tarOptions)) {
      if (entry.path === p && entry.type === 'file') {
        yield* body;
        return;
      }
    }
    throw notFound(this.label, p);
  }

  override async read(p: string): Promise<Uint8Array> {
    let out: Uint8Array | undefined;
    await walkTarStream(this.bytes(), this.label, (e) => e.path === p, async (e, body) => {
      out = await collectBody(body, e.size, `${this.label}:${p}`);
      return 'stop';
    }, this.tarOptions);
    if (!out) throw notFound(this.label, p);
    return out;
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    const all: SourceEntry[] = [];
    await walkTarStream(this.bytes(), this.label, (e) => (all.push(e), want(e)), visit, this.tarOptions);
    this.list ??= all;
  }
}
