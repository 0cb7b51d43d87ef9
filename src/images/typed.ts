/**
 * Typed access to decoded images: which message (and which payload) each image magic holds.
 *
 *   const tree = entriesOf(decodeImage(path, bytes), 'PSTREE');   // PstreeEntry[]
 *   const { head, entries } = pagemapOf(image);                   // PagemapHead, PagemapEntry[]
 */
import { CkptError } from '../errors.js';
import type { CriuImage, PayloadTypes } from './decode.js';
import type { ImageEntries } from './image-entries.js';
import type { PayloadKind } from './magic.js';
import type * as M from './messages.js';

export type { ImageEntries };

/** An entry followed by a payload of kind K (under `extra`; optional when the kind may have none). */
export type WithPayload<T, K extends PayloadKind> = undefined extends PayloadTypes[K]
  ? T & { extra?: Exclude<PayloadTypes[K], undefined> }
  : T & { extra: PayloadTypes[K] };

/** Entries of the images with their own framing (MagicKind 'pagemap' and 'ghost'). */
export interface FramedEntries {
  /** The pagemap_head, then pagemap_entry entries. */
  pagemap: M.PagemapHead | M.PagemapEntry;
  /** The ghost_file_entry (with the contents as extra unless chunked), then chunks with their data. */
  ghost: (M.GhostFileEntry | M.GhostChunkEntry) & { extra?: Uint8Array };
}

/** The entries of an image of the given magic, typed. A different magic is a CkptError. */
export function entriesOf<K extends keyof ImageEntries>(image: CriuImage, magic: K): ImageEntries[K][] {
  if (image.magic !== magic) throw new CkptError(`expected a ${magic} image, found ${image.magic}`, image.file, 0);
  return image.entries as unknown as ImageEntries[K][];
}

/** A pagemap image split into its head and its entries. */
export function pagemapOf(image: CriuImage): { head: M.PagemapHead; entries: M.PagemapEntry[] } {
  const all = entriesOf(image, 'PAGEMAP');
  if (all.length === 0) throw new CkptError('pagemap image without its head entry', image.file, 0);
  return { head: all[0] as M.PagemapHead, entries: all.slice(1) as M.PagemapEntry[] };
}
