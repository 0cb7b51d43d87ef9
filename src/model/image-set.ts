/**
 * The decoded images and engine metadata files of one checkpoint, read in one pass over the
 * source (one decompression for a compressed archive) and decoded on first use. Raw images
 * (pages-*.img, network dumps, tmpfs tarballs) and the root-fs diff are not read here: memory and
 * file-system views stream them from the source when asked.
 */
import { CkptError } from '../errors.js';
import type { CheckpointSource, SourceEntry } from '../source/types.js';
import { CHECKPOINT_DIR, imageMember, inCheckpointDir, MEMBERS } from '../source/layout.js';
import { collectBody, tooLargeError, WHOLE_FILE_LIMIT } from '../source/memory.js';
import { decodeImage, isProtobufImageMember, type CriuImage } from '../images/index.js';

/** Engine metadata files read with the images (small JSON or text files at the archive top). */
const METADATA_FILES = new Set([
  MEMBERS.config,
  MEMBERS.spec,
  MEMBERS.statsDump,
  MEMBERS.networkStatus,
  MEMBERS.deletedFiles,
  MEMBERS.dumpLog,
  'status',
  'status.dump',
  MEMBERS.bindMounts,
  imageMember('descriptors.json'),
  imageMember(MEMBERS.dumpLog),
  imageMember(MEMBERS.statsDump),
]);

/**
 * Other members read in the same pass as the images (e.g. the pages holding command lines, so that
 * a compressed archive is read once): `visit` gets each member `want` accepts, with the images
 * read so far (members come in archive order: in a Podman archive the images precede the pages).
 */
export interface AlsoRead {
  want(e: SourceEntry): boolean;
  visit(e: SourceEntry, body: AsyncIterable<Uint8Array>, imagesSoFar: () => ImageSet): Promise<void>;
}

export class ImageSet {
  private readonly decoded = new Map<string, CriuImage>();
  /** Files over WHOLE_FILE_LIMIT (not read), by path: built when first needed. */
  private oversize?: Map<string, number>;

  /** Every entry of the archive, in archive order (a member cut short: the size of its intact bytes). */
  readonly entries: SourceEntry[];

  private constructor(
    readonly source: CheckpointSource,
    entries: SourceEntry[],
    private readonly files: Map<string, Uint8Array>,
  ) {
    // salvage: a member the archive's damage cut short is not decoded (an image cut short is a
    // damaged image, reported by the source), and it counts with the bytes that are there
    const cut = new Map<string, number | undefined>();
    for (const d of source.damage?.() ?? []) cut.set(d.file, d.intact);
    if (cut.size) {
      for (const p of cut.keys()) files.delete(p);
      entries = entries.map((e) => (cut.get(e.path) !== undefined && cut.get(e.path)! < e.size ? { ...e, size: cut.get(e.path)! } : e));
    }
    this.entries = entries;
  }

  /** An ImageSet over files already collected (e.g. by a search's own pass over the archive). */
  static fromFiles(source: CheckpointSource, entries: SourceEntry[], files: Map<string, Uint8Array>): ImageSet {
    return new ImageSet(source, entries, files);
  }

  /**
   * Reads the protobuf images and metadata files of `source` in one pass. With `metadataOnly`,
   * only the engine's metadata files are read (for listings: container facts and sizes).
   */
  static async load(source: CheckpointSource, options: { metadataOnly?: boolean; allowEmpty?: boolean; alsoRead?: AlsoRead } = {}): Promise<ImageSet> {
    const seen: SourceEntry[] = [];
    const also = options.alsoRead;
    const want = (e: SourceEntry) => (options.metadataOnly ? e.type === 'file' && METADATA_FILES.has(e.path) && e.size <= WHOLE_FILE_LIMIT : wanted(e));
    const files = new Map<string, Uint8Array>();
    await source.walk(
      (e) => {
        seen.push(e);
        return want(e) || (also !== undefined && e.type === 'file' && also.want(e));
      },
      async (e, body) => {
        if (want(e)) files.set(e.path, await collectBody(body, e.size, `${source.label}:${e.path}`));
        else await also!.visit(e, body, () => new ImageSet(source, seen.slice(), new Map(files)));
      },
    );
    // walk reports every entry it passes; a random-access source can list them directly
    const entries = source.randomAccess ? await source.entries() : seen;
    // a checkpoint/ directory, even empty (metadata only: show and list work, the rest says what is missing)
    // (an archive cut short before its checkpoint/ directory: the metadata before the damage is shown)
    const cutShort = (source.damage?.().length ?? 0) > 0 && entries.some((e) => METADATA_FILES.has(e.path));
    if (!options.allowEmpty && !cutShort && !entries.some((e) => e.path === CHECKPOINT_DIR || inCheckpointDir(e.path))) {
      throw new CkptError('no checkpoint/ directory in it: not a container checkpoint', source.label);
    }
    return new ImageSet(source, entries, files);
  }

  /** True for an archive entry that load() reads: a protobuf image or an engine metadata file. */
  static wants(e: SourceEntry): boolean {
    return wanted(e);
  }

  /** True when the archive holds this path (image or any other member). */
  has(path: string): boolean {
    return this.files.has(path) || this.entries.some((e) => e.path === path);
  }

  /** Archive paths of the protobuf images that were read, e.g. `checkpoint/core-1.img`. */
  imagePaths(): string[] {
    return [...this.files.keys()].filter((p) => inCheckpointDir(p) && p.endsWith('.img'));
  }

  /** The decoded image at `checkpoint/<name>` (name like `core-1.img`), or undefined when absent. */
  image(name: string): CriuImage | undefined {
    const path = name.includes('/') ? name : imageMember(name);
    const cached = this.decoded.get(path);
    if (cached) return cached;
    const bytes = this.present(path);
    if (!bytes) return undefined;
    let img: CriuImage;
    try {
      img = decodeImage(path, bytes);
    } catch (e) {
      throw e instanceof CkptError ? e.within(this.source.label) : e;
    }
    this.decoded.set(path, img);
    return img;
  }

  /** The entries of an image (without the head of a pagemap), or [] when the image is absent. */
  imageEntries<T = Record<string, unknown>>(name: string): T[] {
    return (this.image(name)?.entries ?? []) as T[];
  }

  /** A metadata file's bytes (config.dump, spec.dump, ...), or undefined. */
  file(path: string): Uint8Array | undefined {
    return this.present(path);
  }

  /**
   * The bytes read of a file, or undefined when the archive has none; a file that was not read
   * because it is over WHOLE_FILE_LIMIT is a CkptError naming it (not an absent file).
   */
  private present(path: string): Uint8Array | undefined {
    const bytes = this.files.get(path);
    if (bytes) return bytes;
    this.oversize ??= new Map(this.entries.filter((e) => e.type === 'file' && e.size > WHOLE_FILE_LIMIT).map((e) => [e.path, e.size]));
    const size = this.oversize.get(path);
    if (size !== undefined) throw tooLargeError(`${this.source.label}:${path}`, size);
    return undefined;
  }

  /** A metadata file parsed as JSON, or undefined when absent; bad JSON is a CkptError. */
  json<T = unknown>(path: string): T | undefined {
    const b = this.present(path);
    if (!b) return undefined;
    const text = new TextDecoder().decode(b);
    const deep = deeperThan(text, MAX_JSON_DEPTH);
    if (deep !== undefined) throw new CkptError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`, `${this.source.label}:${path}`, deep);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      const m = /position (\d+)/.exec((e as Error).message);
      throw new CkptError(`not valid JSON (${(e as Error).message.split('\n')[0]})`, `${this.source.label}:${path}`, m ? Number(m[1]) : undefined);
    }
  }
}

/**
 * How deep engine metadata JSON may nest (arrays and objects). Real files nest under 20 levels;
 * anything deeper is refused, so that no walk over the parsed value can run out of stack.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * The index in `text` (JSON) of the bracket that opens level `max + 1`, or undefined when the
 * text nests no deeper than `max`. Strings are skipped; one pass, no parse.
 */
export function deeperThan(text: string, max: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}

function wanted(e: SourceEntry): boolean {
  if (e.type !== 'file') return false;
  // larger files are not read: asking for one is an error naming it (ImageSet.present)
  if (e.size > WHOLE_FILE_LIMIT) return false;
  if (METADATA_FILES.has(e.path)) return true;
  return isProtobufImageMember(e.path);
}
