/**
 * Image framing: head magic, image magic, size-prefixed protobuf entries, and the payloads that
 * follow entries in some images, read as crit reads them. Every read is bounds-checked; any
 * malformation is a CkptError naming the file and the byte offset.
 */
import { CkptError } from '../errors.js';
import { IMG_COMMON, IMG_SERVICE, magicByValue, magicForImageName, rawImageKind, type PayloadKind } from './magic.js';
import { messageInfo } from './schema.js';
import { decodeMessage, type Decoded } from './wire.js';
import type { IpcMsg } from './messages.js';

/** Payload of a tcp-stream entry: the socket's receive and send queues. */
export interface TcpQueues {
  inq: Uint8Array;
  outq: Uint8Array;
}

/** One queued SysV message of an ipcns-msg entry. */
export interface IpcQueuedMessage {
  msg: IpcMsg;
  data: Uint8Array;
}

/**
 * What follows an entry: bytes (pipes-data, fifo-data, sk-queues, bpfmap-data, ghost-file data,
 * ipcns-shm contents), the queues of a tcp-stream, semaphore values (ipcns-sem), or queued
 * messages (ipcns-msg). Byte payloads are views into the image bytes given to decodeImage.
 */
export type EntryExtra = Uint8Array | TcpQueues | number[] | IpcQueuedMessage[];

/** A decoded entry: the message's fields by .proto name, plus `extra` when a payload follows it. */
export type CriuEntry = Record<string, unknown> & { extra?: EntryExtra };

export interface CriuImage {
  /** The name given to decodeImage (archive-relative path). */
  file: string;
  /** CRIU's magic name as crit prints it ('PSTREE', 'CORE', 'PAGEMAP', ...); 'RAW' for raw images. */
  magic: string;
  kind: 'protobuf' | 'raw';
  /** Decoded entries; [] for raw images. For PAGEMAP the first is the pagemap_head. */
  entries: CriuEntry[];
  /** The head magic in front of the image magic, when there was one. */
  head?: 'IMG_COMMON' | 'IMG_SERVICE';
  /** For raw images: magic.h's name for the kind of raw image ('PAGES', 'IPTABLES', 'TMPFS_DEV', ...). */
  rawKind?: string;
  /** Protobuf message name of each entry (parallel to entries). */
  messages?: string[];
}

function u32(bytes: Uint8Array, view: DataView, at: number): number {
  return view.getUint32(at, true);
}

class Cursor {
  pos = 0;
  readonly view: DataView;
  constructor(
    readonly file: string,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get left(): number {
    return this.bytes.length - this.pos;
  }
  fail(reason: string, at = this.pos): never {
    throw new CkptError(reason, this.file, at);
  }
  /** A payload of n bytes (n from an entry field), as a view. */
  take(n: number | bigint, what: string): Uint8Array {
    const left = this.left;
    if (typeof n === 'bigint' ? n > BigInt(left) : n > left) this.fail(`${what} of ${n} bytes runs past the end of the file (${left} bytes left)`);
    const k = Number(n);
    const v = this.bytes.subarray(this.pos, this.pos + k);
    this.pos += k;
    return v;
  }
  /** Reads one `u32 size + message` entry. Returns undefined at a clean end of file. */
  entry(message: string, required: boolean): Decoded | undefined {
    const at = this.pos;
    if (this.left === 0) {
      if (required) this.fail(`missing ${message} entry (image ends here)`);
      return undefined;
    }
    if (this.left < 4) this.fail(`truncated entry size (${this.left} bytes where a 4-byte size was expected)`);
    const size = u32(this.bytes, this.view, at);
    if (size > this.left - 4) this.fail(`entry size ${size} runs past the end of the file (${this.left - 4} bytes left)`);
    const start = at + 4;
    const m = decodeMessage(messageInfo(message), this.bytes, start, start + size, this.file);
    this.pos = start + size;
    return m;
  }
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** What each kind of payload reads as (the `extra` of its entries). */
export interface PayloadTypes {
  pipe: Uint8Array;
  'sk-queue': Uint8Array;
  tcp: TcpQueues;
  bpfmap: Uint8Array;
  'ipc-sem': number[];
  'ipc-msg': IpcQueuedMessage[];
  /** undefined when the segment's contents are not inline (in_pagemaps: they are in pages images). */
  'ipc-shm': Uint8Array | undefined;
}

/**
 * One reader per payload kind, reading the payload that follows an entry (sized by that entry's
 * fields): a new PayloadKind does not compile until it has its type and its reader here.
 */
const PAYLOAD_READERS: { [K in PayloadKind]: (c: Cursor, e: Decoded) => PayloadTypes[K] } = {
  pipe: (c, e) => c.take(e.bytes as number, 'pipe data'),
  'sk-queue': (c, e) => c.take(e.length as number, 'socket queue data'),
  tcp: (c, e) => {
    const inq = c.take(e.inq_len as number, 'TCP in-queue');
    const outq = c.take(e.outq_len as number, 'TCP out-queue');
    return { inq, outq };
  },
  bpfmap: (c, e) => c.take((e.keys_bytes as number) + (e.values_bytes as number), 'BPF map data'),
  'ipc-sem': (c, e) => {
    const nsems = e.nsems as number;
    const raw = c.take(roundUp(nsems * 2, 8), 'semaphore values');
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < nsems; i++) out.push(view.getUint16(i * 2, true));
    return out;
  },
  'ipc-msg': (c, e) => {
    const qnum = e.qnum as number;
    const out: IpcQueuedMessage[] = [];
    for (let i = 0; i < qnum; i++) {
      if (c.left === 0) break; // as crit: a short queue ends at end of file
      const msg = c.entry('ipc_msg', true) as unknown as IpcMsg;
      const data = c.take(msg.msize, 'message text');
      c.take(roundUp(msg.msize, 8) - msg.msize, 'message padding');
      out.push({ msg, data });
    }
    return out;
  },
  'ipc-shm': (c, e) => {
    if (e.in_pagemaps === true) return undefined; // contents are in pagemap-shmem/pages images
    const size = e.size as bigint;
    const data = c.take(size, 'shared memory contents');
    const pad = Number((4n - (size % 4n)) % 4n);
    c.take(pad, 'shared memory padding');
    return data;
  },
};

/**
 * Decodes one CRIU image. `file` is the archive-relative path: raw images (pages-*.img, ifaddr,
 * route, rule, iptables/nftables dumps, tmpfs tarballs) are told by this name and returned with no
 * entries. Throws CkptError(reason, file, offset) on bad input, never anything else.
 */
export function decodeImage(file: string, bytes: Uint8Array): CriuImage {
  const raw = rawImageKind(file);
  if (raw) return { file, magic: 'RAW', kind: 'raw', entries: [], rawKind: raw.name };
  try {
    return decodeFramed(file, bytes);
  } catch (e) {
    if (e instanceof CkptError) throw e;
    // A bug or an engine limit (e.g. out of memory) must still surface as the documented error type.
    throw new CkptError(`cannot decode: ${e instanceof Error ? e.message : String(e)}`, file);
  }
}

function decodeFramed(file: string, bytes: Uint8Array): CriuImage {
  const c: Cursor = new Cursor(file, bytes);
  if (bytes.length === 0) c.fail('empty file: not a CRIU image');
  if (bytes.length < 4) c.fail(`truncated magic (${bytes.length} bytes)`);
  let value = u32(bytes, c.view, 0);
  let head: CriuImage['head'];
  c.pos = 4;
  if (value === IMG_COMMON || value === IMG_SERVICE) {
    head = value === IMG_COMMON ? 'IMG_COMMON' : 'IMG_SERVICE';
    if (bytes.length < 8) c.fail(`truncated magic after ${head} (${bytes.length} bytes)`, 4);
    value = u32(bytes, c.view, 4);
    c.pos = 8;
  }
  const info = magicByValue(value);
  if (!info) c.fail(`unknown magic 0x${value.toString(16).padStart(8, '0')}: not a CRIU image`, c.pos - 4);
  if (!info.message) c.fail(`${info.name} (0x${value.toString(16)}) is not an image this decoder reads`, c.pos - 4);
  // the code above this layer reads an image by its name: one of another kind must not reach it
  const promised = magicForImageName(file);
  if (promised && promised.value !== info.value) c.fail(`the image's magic is ${info.name} (0x${value.toString(16)}), but its name promises ${promised.name}`, c.pos - 4);
  const entries: CriuEntry[] = [];
  const messages: string[] = [];
  const image: CriuImage = { file, magic: info.name, kind: 'protobuf', entries, messages };
  if (head) image.head = head;

  if (info.kind === 'pagemap') {
    const h = c.entry('pagemap_head', true)!;
    entries.push(h);
    messages.push('pagemap_head');
    for (;;) {
      const e = c.entry('pagemap_entry', false);
      if (!e) break;
      entries.push(e);
      messages.push('pagemap_entry');
    }
    return image;
  }

  if (info.kind === 'ghost') {
    const g = c.entry('ghost_file_entry', true)! as CriuEntry;
    entries.push(g);
    messages.push('ghost_file_entry');
    if (g.chunks === true) {
      for (;;) {
        const ch = c.entry('ghost_chunk_entry', false) as CriuEntry | undefined;
        if (!ch) break;
        ch.extra = c.take(ch.len as bigint, 'ghost file chunk');
        entries.push(ch);
        messages.push('ghost_chunk_entry');
      }
    } else {
      g.extra = c.take(c.left, 'ghost file contents');
    }
    return image;
  }

  for (;;) {
    const e = c.entry(info.message, false) as CriuEntry | undefined;
    if (!e) break;
    if (info.payload) {
      const extra = PAYLOAD_READERS[info.payload](c, e);
      if (extra !== undefined) e.extra = extra;
    }
    entries.push(e);
    messages.push(info.message);
  }
  return image;
}
