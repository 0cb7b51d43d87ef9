/**
 * images layer: CRIU image files → typed entries. Bytes in, objects out; no `fs`.
 *
 * CONTRACT (other layers code against these signatures):
 *
 *   decodeImage(file: string, bytes: Uint8Array): CriuImage
 *     `file` is the archive-relative path (used for error messages and to tell raw images such
 *     as pages-*.img by name). Throws CkptError(reason, file, offset) on bad input, never anything else.
 *
 *   interface CriuImage {
 *     file: string;
 *     magic: string;              // CRIU's name, e.g. 'PSTREE', 'CORE', 'PAGEMAP', 'RAW' for raw images
 *     kind: 'protobuf' | 'raw';
 *     entries: CriuEntry[];       // protobuf messages, decoded (see below); [] for raw
 *     head?, rawKind?, messages?  // extensions: head magic, raw image kind ('PAGES', ...), message name per entry
 *   }
 *   A decoded message is a plain object with the .proto field names (snake_case), 64-bit integers
 *   as bigint, 32-bit as number, bytes as Uint8Array, enums as numbers, nested messages as objects,
 *   repeated fields as arrays (always present, maybe empty), optional scalars absent when unset.
 *   An entry that carries a payload after it (pipes-data, sk-queues, tcp-stream, ghost-file, ...)
 *   has it under `extra`. For PAGEMAP the first entry is the pagemap_head ({pages_id}) and the rest
 *   are pagemap_entry.
 *
 *   toCritJson(image: CriuImage, options?: {pretty?: boolean}): unknown
 *     exactly what `crit decode --pretty` prints (pretty: false → plain `crit decode`), as a JSON value
 *   stringifyJson(value: unknown, pretty: boolean): string   // Python json.dumps text, bigint support
 *   critJsonChunks(value, pretty): Generator<string>         // the same text in ~64 KiB pieces
 *
 *   Typed message interfaces (PstreeEntry, CoreEntry, MmEntry, VmaEntry, PagemapEntry, FileEntry,
 *   FdinfoEntry, InetSkEntry, UnixSkEntry, ...) are exported from './messages.js'.
 *   The magic table (MAGICS, magicByValue, magicByName, rawImageKind, isRawImageName) from './magic.js'.
 *   Typed access: entriesOf(image, 'PSTREE') → PstreeEntry[], pagemapOf(image) → {head, entries} ('./typed.js').
 */
export { decodeImage } from './decode.js';
export type { CriuImage, CriuEntry, EntryExtra, TcpQueues, IpcQueuedMessage } from './decode.js';
export { toCritJson, stringifyJson, critJsonChunks, base64, base64Lines, quotedPrintable } from './crit-json.js';
export type { CritJsonOptions } from './crit-json.js';
export { MAGICS, IMG_COMMON, IMG_SERVICE, magicByValue, magicByName, rawImageKind, isRawImageName, isProtobufImageMember } from './magic.js';
export type { MagicInfo, MagicKind, PayloadKind } from './magic.js';
export { messageInfo, hasMessage } from './schema.js';
export type { FieldInfo, MessageInfo, CritOptions } from './schema.js';
export { entriesOf, pagemapOf } from './typed.js';
export { decodeImages, imagePath } from './select.js';
export type { ImageEntries } from './typed.js';
export * from './messages.js';
