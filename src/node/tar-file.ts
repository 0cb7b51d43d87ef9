/** An uncompressed tar on disk (Node): indexed once by its headers, entries read at their offsets. */
import { promises as fsp } from 'node:fs';
import { CkptError } from '../errors.js';
import { BaseSource, notFound } from '../source/base.js';
import { indexTar, tarEntries, type TarEntry } from '../source/tar.js';
import type { SourceDamage, SourceEntry } from '../source/types.js';
import { CHUNK, fileSha256, passHash, readFileChunks, teeChunks } from './file-io.js';

/** An uncompressed tar on disk: indexed once by its headers, entries read at their offsets. */
export class TarFileSource extends BaseSource {
  readonly randomAccess = true;
  private readonly byPath = new Map<string, TarEntry>();

  private constructor(
    readonly label: string,
    private readonly handle: fsp.FileHandle,
    private readonly index: TarEntry[],
    private sha256?: string,
    private readonly damaged: SourceDamage[] = [],
  ) {
    super();
    for (const e of index) this.byPath.set(e.path, e);
  }

  /** Where the archive is cut short or corrupt (found by the index: salvage reads what lies before). */
  damage(): readonly SourceDamage[] {
    return this.damaged;
  }

  /** The archive's SHA-256: from the opening read with `hashArchive`, else read for it. */
  async archiveSha256(): Promise<string | null> {
    return (this.sha256 ??= await fileSha256(this.label));
  }

  static async open(file: string, size: number, options: { hashArchive?: boolean } = {}): Promise<TarFileSource> {
    const handle = await fsp.open(file, 'r');
    const damaged: SourceDamage[] = [];
    const onDamage = (d: SourceDamage) => void damaged.push(d);
    try {
      if (options.hashArchive) {
        // one sequential read of every byte: the index from the headers, the hash from all of it
        let sha: string | undefined;
        const index: TarEntry[] = [];
        const chunks = teeChunks(readFileChunks(file), passHash((hex) => (sha = hex)));
        for await (const { entry, header, body } of tarEntries(chunks, file, { onDamage })) {
          index.push({ ...entry, headerOffset: header.headerOffset, dataOffset: header.dataOffset });
          // read the body here, so that a member cut short is listed with the bytes that are there
          if (entry.type === 'file') for await (const _ of body);
        }
        if (index.length === 0) throw new CkptError('empty or truncated tar archive', file, 0);
        for (const d of damaged) {
          const i = d.intact !== undefined ? index.findIndex((e) => e.path === d.file) : -1;
          if (i >= 0) index[i] = { ...index[i]!, size: d.intact! };
        }
        return new TarFileSource(file, handle, index, sha ?? (await fileSha256(file)), damaged);
      }
      const readAt = async (offset: number, length: number) => {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        return buf.subarray(0, bytesRead);
      };
      const index = await indexTar(readAt, size, file, onDamage);
      return new TarFileSource(file, handle, index, undefined, damaged);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async entries(): Promise<SourceEntry[]> {
    return this.index.map(({ path: p, size, type }) => ({ path: p, size, type }));
  }

  /** Where a file member's bytes start in the archive, and how many there are. */
  memberRange(p: string): { offset: number; size: number } {
    const e = this.entry(p);
    return { offset: e.dataOffset, size: e.size };
  }

  private entry(p: string): TarEntry {
    const e = this.byPath.get(p);
    if (!e || e.type !== 'file') throw notFound(this.label, p);
    return e;
  }

  override async read(p: string): Promise<Uint8Array> {
    const e = this.entry(p);
    return this.readRange(p, 0, e.size);
  }

  override async readRange(p: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const e = this.entry(p);
    const len = Math.max(0, Math.min(length, e.size - offset));
    const buf = into && into.length >= len ? into.subarray(0, len) : Buffer.allocUnsafeSlow(len);
    if (len === 0) return buf;
    const { bytesRead } = await this.handle.read(buf, 0, len, e.dataOffset + offset);
    if (bytesRead < len) throw new CkptError(`archive ends inside "${p}": truncated`, this.label, e.dataOffset + offset + bytesRead);
    return buf;
  }

  async *stream(p: string): AsyncIterable<Uint8Array> {
    const e = this.entry(p);
    // one buffer, lent until the next chunk is asked for (the CheckpointSource contract)
    const buf = Buffer.allocUnsafeSlow(Math.min(CHUNK, e.size));
    for (let off = 0; off < e.size; off += CHUNK) yield await this.readRange(p, off, Math.min(CHUNK, e.size - off), buf);
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    for (const e of this.index) {
      const entry: SourceEntry = { path: e.path, size: e.size, type: e.type };
      if (e.type === 'file' && want(entry)) await visit(entry, this.stream(e.path));
    }
  }

  override async close(): Promise<void> {
    await this.handle.close();
  }
}
