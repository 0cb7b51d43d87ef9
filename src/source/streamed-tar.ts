/**
 * A tar read in streaming passes (any runtime): a gzip or zstd archive, whatever decompresses it.
 * A subclass gives `bytes()`, one pass of the decompressed tar; entries, reads and walks are
 * passes over it. The entry list is kept after the first pass.
 *
 * Salvage: an archive cut short or corrupt part-way reads as the archive up to the damage (every
 * pass ends there; a member cut short has the bytes that are there), and `damage()` says where.
 */
import { BaseSource, notFound } from './base.js';
import { collectBody } from './memory.js';
import { tarEntries, walkTarStream, type TarStreamOptions } from './tar.js';
import type { SourceDamage, SourceEntry } from './types.js';

export abstract class StreamedTarSource extends BaseSource {
  readonly randomAccess = false;
  private list?: SourceEntry[];
  private readonly damaged: SourceDamage[] = [];
  /** Members cut short by the damage: the bytes of each that are intact. */
  private readonly intact = new Map<string, number>();

  /** One pass over the decompressed tar, chunk by chunk. */
  protected abstract bytes(): AsyncIterable<Uint8Array>;

  /** Options for the tar reader (e.g. the compression, named when the bytes are not a tar). */
  protected get tarOptions(): { compression?: string } {
    return {};
  }

  /** What was found damaged so far (every pass meets the same damage; it is recorded once). */
  damage(): readonly SourceDamage[] {
    return this.damaged;
  }

  private get passOptions(): TarStreamOptions {
    return {
      ...this.tarOptions,
      onDamage: (d) => {
        if (d.intact !== undefined) this.intact.set(d.file, d.intact);
        if (!this.damaged.some((x) => x.file === d.file && x.offset === d.offset)) this.damaged.push(d);
      },
    };
  }

  /** An entry as it can be read: a member cut short has the size of its intact bytes. */
  private sized(e: SourceEntry): SourceEntry {
    const n = this.intact.get(e.path);
    return n !== undefined && n < e.size ? { ...e, size: n } : e;
  }

  async entries(): Promise<SourceEntry[]> {
    if (!this.list) {
      const all: SourceEntry[] = [];
      await walkTarStream(this.bytes(), this.label, (e) => (all.push(e), false), async () => {}, this.passOptions);
      this.list = all.map((e) => this.sized(e));
    }
    return this.list;
  }

  async *stream(p: string): AsyncIterable<Uint8Array> {
    for await (const { entry, body } of tarEntries(this.bytes(), this.label, this.passOptions)) {
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
      out = await collectBody(body, this.sized(e).size, `${this.label}:${p}`);
      return 'stop';
    }, this.passOptions);
    if (!out) throw notFound(this.label, p);
    return out;
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    const all: SourceEntry[] = [];
    await walkTarStream(this.bytes(), this.label, (e) => (all.push(e), want(this.sized(e))), (e, body) => visit(this.sized(e), body), this.passOptions);
    this.list ??= all.map((e) => this.sized(e));
  }
}
