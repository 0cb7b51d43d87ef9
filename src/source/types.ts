/**
 * A checkpoint source: the bytes of a checkpoint, however they are stored (an uncompressed or
 * compressed tar, an image directory, a single .img file, bytes in memory). Paths inside a
 * source are archive-relative with `/` separators, e.g. `checkpoint/pstree.img`, `config.dump`.
 * For a bare image directory or a single image the images sit under `checkpoint/` all the same,
 * so that every layer above sees one layout.
 */
export interface SourceEntry {
  /** Archive-relative path, e.g. `checkpoint/pages-1.img`. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
}

/**
 * A part of a source that could not be read whole: an archive cut short or corrupt from some byte
 * on. The source still offers everything before it (salvage); `file` is the member cut (or the
 * archive itself when the damage lies between members), `offset` the byte of the (decompressed)
 * tar stream where the readable data ends, `intact` the bytes of the member still readable.
 */
export interface SourceDamage {
  readonly file: string;
  readonly offset: number | null;
  readonly message: string;
  /** For a member cut short: how many of its bytes are intact (its entry's size is this). */
  readonly intact?: number;
}

export interface CheckpointSource {
  /** What to name in messages: the path the user gave, or a label for in-memory bytes. */
  readonly label: string;
  /** True when entries can be read in any order without decompressing what lies before them. */
  readonly randomAccess: boolean;
  /** Every entry, in archive order. For a compressed archive this costs one full pass. */
  entries(): Promise<SourceEntry[]>;
  /** The whole contents of one file entry. Use only for small files (images, metadata). */
  read(path: string): Promise<Uint8Array>;
  /**
   * A byte range of one file entry (random-access sources only; otherwise a streaming read).
   * A source may read the bytes into `into` (when it is long enough) and return a view of it, so
   * that a caller reading a large file piece by piece can reuse its buffers; it may also ignore it.
   */
  readRange(path: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * The contents of one entry in chunks, without holding it whole. A chunk is valid until the
   * next one is asked for (a source may hand out views of a buffer it reuses): copy what you
   * keep, e.g. with `collectBody`.
   */
  stream(path: string): AsyncIterable<Uint8Array>;
  /**
   * One pass over the entries in archive order. `visit` is called for every file entry that
   * `want` accepts, with the body as chunks; the body must be consumed or left (the pass skips
   * what is left). This is how a compressed archive is read once for many files. As with
   * `stream`, a chunk of a body is valid until the next one is asked for.
   */
  walk(want: (entry: SourceEntry) => boolean, visit: (entry: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void>;
  /**
   * The SHA-256 (hex) of the archive's bytes as stored on disk, for the chain of custody; null
   * when the source is not one file (a directory, bytes in memory). A source opened with
   * `hashArchive` computes it in the pass that reads the archive anyway (its index, or the first
   * full decompression pass), so asking costs nothing more; otherwise the file is read for it.
   */
  archiveSha256?(): Promise<string | null>;
  /**
   * The damage found so far (an archive cut short or corrupt part-way): the source gives what lies
   * before it, as if the archive ended there. Empty for an intact source. A compressed archive's
   * damage is known after the first full pass (opening a Checkpoint makes one).
   */
  damage?(): readonly SourceDamage[];
  /** Release file handles. */
  close(): Promise<void>;
}
