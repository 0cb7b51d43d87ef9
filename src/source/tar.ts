/**
 * Tar reading, runtime-neutral: header decoding (ustar, PAX, GNU long names, as Go's archive/tar
 * writes them), an index builder for random-access readers, and a one-pass streaming reader for
 * decompressed byte streams. Every error names the archive and the byte offset of the header or
 * body at fault.
 */
import { CkptError } from '../errors.js';
import type { SourceDamage, SourceEntry } from './types.js';

export const BLOCK = 512;

/** One header as decoded, before PAX/GNU extension records are applied. */
export interface RawTarHeader {
  /** The name as stored (before normalisation: may be absolute or hold `..`). */
  name: string;
  size: number;
  /** The tar typeflag: `0` file, `1` hard link, `2` symlink, `3` char device, `4` block device, `5` directory, `6` FIFO, `7` contiguous file. */
  typeflag: string;
  /** Link target (symlinks, hard links), '' when none. */
  linkname: string;
  /** Permission bits with setuid/setgid/sticky (the header's mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, seconds since the epoch (fractional with a PAX mtime, once applied). */
  mtime: number;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/**
 * Everything a header says about one member, after PAX and GNU extensions: what a file-system
 * view (the root file-system diff) needs beyond a SourceEntry. Offsets are in the tar stream.
 */
export interface TarMemberHeader extends Omit<RawTarHeader, 'size'> {
  /** Byte offset of the member's (first) header, and of its data. */
  headerOffset: number;
  dataOffset: number;
}

/** A file entry located in an uncompressed tar: its data starts at `dataOffset`. */
export interface TarEntry extends SourceEntry {
  readonly headerOffset: number;
  readonly dataOffset: number;
}

const decoder = new TextDecoder('utf-8');

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return decoder.decode(block.subarray(start, end));
}

function octal(block: Uint8Array, start: number, length: number, label: string, offset: number): number {
  // GNU base-256 for sizes over 8 GiB: high bit of the first byte set.
  if ((block[start]! & 0x80) !== 0) {
    let value = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    if (!Number.isSafeInteger(value)) throw new CkptError('tar size field too large', label, offset + start);
    return value;
  }
  const text = cString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new CkptError(`bad octal number "${text}" in tar header`, label, offset + start);
  return parseInt(text, 8);
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** True when the block has a tar header checksum that matches (the test used to recognise tar). */
export function looksLikeTarHeader(block: Uint8Array): boolean {
  if (block.length < BLOCK || isZeroBlock(block)) return false;
  try {
    return checksumOk(block, '', 0);
  } catch {
    return false;
  }
}

function checksumOk(block: Uint8Array, label: string, offset: number): boolean {
  const stored = octal(block, 148, 8, label, offset);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Decodes one 512-byte header; null for an all-zero block (end of archive). */
export function decodeHeader(block: Uint8Array, label: string, offset: number): RawTarHeader | null {
  if (block.length < BLOCK) throw new CkptError('truncated tar header', label, offset);
  if (isZeroBlock(block)) return null;
  if (!checksumOk(block, label, offset)) throw new CkptError('tar header checksum mismatch (not a tar archive, or corrupt)', label, offset);
  let name = cString(block, 0, 100);
  const magic = cString(block, 257, 6);
  if (magic === 'ustar' && block[345] !== 0) {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const ustar = magic === 'ustar';
  return {
    name,
    size: octal(block, 124, 12, label, offset),
    typeflag: block[156] === 0 ? '0' : String.fromCharCode(block[156]!),
    linkname: cString(block, 157, 100),
    mode: octal(block, 100, 8, label, offset) & 0o7777,
    uid: octal(block, 108, 8, label, offset),
    gid: octal(block, 116, 8, label, offset),
    mtime: octal(block, 136, 12, label, offset),
    uname: ustar ? cString(block, 265, 32) : '',
    gname: ustar ? cString(block, 297, 32) : '',
    devmajor: ustar ? octal(block, 329, 8, label, offset) : 0,
    devminor: ustar ? octal(block, 337, 8, label, offset) : 0,
  };
}

/** Parses PAX extended header records ("%d %s=%s\n"). */
export function parsePax(data: Uint8Array, label: string, offset: number): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < data.length) {
    let space = pos;
    while (space < data.length && data[space] !== 0x20) space++;
    const len = Number(decoder.decode(data.subarray(pos, space)));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length) {
      if (data[pos] === 0) break; // padding
      throw new CkptError('malformed PAX record', label, offset + pos);
    }
    const record = decoder.decode(data.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return records;
}

export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function entryType(typeflag: string): SourceEntry['type'] {
  if (typeflag === '0' || typeflag === '7') return 'file';
  if (typeflag === '5') return 'directory';
  if (typeflag === '2' || typeflag === '1') return 'symlink';
  return 'other';
}

export function normalisePath(name: string): string {
  let p = name.replace(/\\/g, '/');
  while (p.startsWith('./')) p = p.slice(2);
  p = p.replace(/^\/+/, '');
  return p.replace(/\/+$/, '');
}

/**
 * Tracks PAX and GNU extension headers across consecutive headers; `apply` turns the next real
 * header into a SourceEntry with the extended name and size.
 */
export class TarExtensions {
  private longName?: string;
  private longLink?: string;
  private pax?: Map<string, string>;
  private globalPax = new Map<string, string>();

  /** Returns true when the header is an extension header whose body must be fed to `take`. */
  isExtension(h: RawTarHeader): boolean {
    return h.typeflag === 'x' || h.typeflag === 'g' || h.typeflag === 'L' || h.typeflag === 'K';
  }

  take(h: RawTarHeader, body: Uint8Array, label: string, offset: number): void {
    if (h.typeflag === 'L') this.longName = cString(body, 0, body.length);
    else if (h.typeflag === 'K') this.longLink = cString(body, 0, body.length);
    else if (h.typeflag === 'x') this.pax = parsePax(body, label, offset);
    else if (h.typeflag === 'g') for (const [k, v] of parsePax(body, label, offset)) this.globalPax.set(k, v);
  }

  apply(h: RawTarHeader, label: string, offset: number): { path: string; size: number; type: SourceEntry['type'] } {
    return this.applyFull(h, label, offset, offset).entry;
  }

  /** `apply`, plus the whole header (mode, owner, time, link target) as extended by PAX/GNU records. */
  applyFull(h: RawTarHeader, label: string, offset: number, headerOffset: number): { entry: { path: string; size: number; type: SourceEntry['type'] }; header: TarMemberHeader } {
    const pax = this.pax;
    const record = (key: string) => pax?.get(key) ?? this.globalPax.get(key);
    const paxNumber = (key: string, fallback: number) => {
      const v = record(key);
      if (v === undefined) return fallback;
      const n = Number(v);
      if (!Number.isFinite(n)) throw new CkptError(`bad PAX ${key} "${v}"`, label, offset);
      return n;
    };
    let linkname = h.linkname;
    if (this.longLink !== undefined) linkname = this.longLink;
    linkname = record('linkpath') ?? linkname;
    const header: TarMemberHeader = {
      name: '',
      typeflag: h.typeflag,
      linkname,
      mode: h.mode,
      uid: paxNumber('uid', h.uid),
      gid: paxNumber('gid', h.gid),
      mtime: paxNumber('mtime', h.mtime),
      uname: record('uname') ?? h.uname,
      gname: record('gname') ?? h.gname,
      devmajor: h.devmajor,
      devminor: h.devminor,
      headerOffset,
      dataOffset: offset + BLOCK,
    };
    this.longLink = undefined;
    let name = h.name;
    let size = h.size;
    if (this.longName !== undefined) name = this.longName;
    const paxPath = pax?.get('path') ?? this.globalPax.get('path');
    if (paxPath !== undefined) name = paxPath;
    const paxSize = pax?.get('size');
    if (paxSize !== undefined) {
      const n = Number(paxSize);
      if (!Number.isSafeInteger(n) || n < 0) throw new CkptError(`bad PAX size "${paxSize}"`, label, offset);
      size = n;
    }
    this.longName = undefined;
    this.pax = undefined;
    let type = entryType(h.typeflag);
    if (type === 'file' && name.endsWith('/')) type = 'directory';
    header.name = name;
    return { entry: { path: normalisePath(name), size, type }, header };
  }
}

/** Largest extension header body we accept (long names, PAX records). */
export const MAX_EXTENSION_SIZE = 1 << 20;

/**
 * Reads exactly `length` bytes from a random-access byte store; returns fewer only at the end.
 */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * Builds the index of an uncompressed tar by reading its headers only; data is skipped. `total`
 * is the archive's size, used to report entries that run past its end. With `onDamage` (salvage),
 * an archive cut short or with a corrupt header part-way is indexed up to the damage: a member cut
 * short is listed with the bytes that are there, the damage is reported to `onDamage`, and only an
 * archive with no intact member at all is an error.
 */
export async function indexTar(readAt: ReadAt, total: number, label: string, onDamage?: (d: SourceDamage) => void): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const ext = new TarExtensions();
  let offset = 0;
  // salvage: what follows `offset` is lost; the entries so far stand
  const damaged = (d: SourceDamage, err: CkptError): TarEntry[] => {
    if (!onDamage || entries.length === 0) throw err;
    onDamage(d);
    return entries;
  };
  while (offset + BLOCK <= total) {
    const block = await readAt(offset, BLOCK);
    let h: RawTarHeader | null;
    try {
      h = decodeHeader(block, label, offset);
    } catch (e) {
      if (!(e instanceof CkptError)) throw e;
      return damaged({ file: label, offset, message: `${e.reason}: the members from here on are not read` }, e);
    }
    if (h === null) return entries;
    const dataOffset = offset + BLOCK;
    let dataSize = h.size;
    if (ext.isExtension(h)) {
      if (h.size > MAX_EXTENSION_SIZE) throw new CkptError(`tar extension header of ${h.size} bytes is too large`, label, offset);
      if (dataOffset + h.size > total) {
        const err = new CkptError('archive ends inside a tar extension header: truncated', label, offset);
        return damaged({ file: label, offset: total, message: 'the archive ends inside a tar extension header: the member it names is missing' }, err);
      }
      ext.take(h, await readAt(dataOffset, h.size), label, dataOffset);
    } else {
      const { path, size, type } = ext.apply(h, label, offset);
      // a PAX size (files over 8 GiB) replaces the header's, as in the streaming reader
      if (type === 'file') dataSize = size;
      if (dataOffset + dataSize > total) {
        const err = new CkptError(`tar entry "${path}" of ${dataSize} bytes runs past the end of the archive (${total} bytes): truncated`, label, offset);
        if (onDamage && type === 'file') {
          // the member cut short is kept with the bytes that are there (memory up to the damage)
          const intact = total - dataOffset;
          onDamage({ file: path, offset: total, intact, message: `the archive ends inside it: ${intact} of ${dataSize} bytes intact` });
          entries.push({ path, size: intact, type, headerOffset: offset, dataOffset });
          return entries;
        }
        return damaged({ file: path, offset: total, message: `the archive ends inside it (${dataSize} bytes)` }, err);
      }
      entries.push({ path, size: type === 'file' ? size : 0, type, headerOffset: offset, dataOffset });
    }
    offset = dataOffset + padded(dataSize);
  }
  if (offset < total) {
    return damaged({ file: label, offset, message: 'the archive ends inside a tar header: the members from here on are missing' }, new CkptError('truncated tar header at the end of the archive', label, offset));
  }
  // A tar without end-of-archive blocks: Go's writer always writes them, but accept the entries.
  if (entries.length === 0) throw new CkptError('empty or truncated tar archive', label, offset);
  onDamage?.({ file: label, offset: Math.min(offset, total), message: 'the archive ends without an end-of-archive marker: members after this byte may be missing' });
  return entries;
}

/** A byte queue over an async chunk stream that yields exact reads; counts bytes consumed. */
export class ByteReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private done = false;
  /** Bytes consumed so far (the offset of the next byte in the stream). */
  position = 0;
  private readonly it: AsyncIterator<Uint8Array>;

  constructor(stream: AsyncIterable<Uint8Array>) {
    this.it = stream[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    // A chunk is valid only until the next is asked for: the part of the last one still held
    // (a header or extension straddling chunks) is copied first. Earlier ones were copied by
    // earlier calls, so each byte is copied at most once.
    const last = this.chunks.length - 1;
    if (last >= 0) this.chunks[last] = this.chunks[last]!.slice();
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    if (r.value.length > 0) {
      this.chunks.push(r.value);
      this.buffered += r.value.length;
    }
    return true;
  }

  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Uint8Array> {
    while (this.buffered < n && (await this.fill()));
    const take = Math.min(n, this.buffered);
    const out = new Uint8Array(take);
    let filled = 0;
    while (filled < take) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, take - filled);
      out.set(c.subarray(0, k), filled);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= take;
    this.position += take;
    return out;
  }

  /** Up to `max` bytes without copying (at least one unless the stream has ended). */
  async readSome(max: number): Promise<Uint8Array> {
    if (this.buffered === 0) while (this.buffered === 0 && (await this.fill()));
    if (this.buffered === 0) return new Uint8Array(0);
    const c = this.chunks[0]!;
    const k = Math.min(c.length, max);
    const out = c.subarray(0, k);
    if (k === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(k);
    this.buffered -= k;
    this.position += k;
    return out;
  }

  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const got = await this.readSome(left);
      if (got.length === 0) break;
      left -= got.length;
    }
    return n - left;
  }

  async close(): Promise<void> {
    this.chunks = [];
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}

/** One file entry of a streaming pass, with its body; the body is valid until the next entry. */
export interface StreamedTarEntry {
  entry: SourceEntry;
  body: AsyncIterable<Uint8Array>;
  /** The member's whole header (mode, owner, time, link target, offsets in the stream). */
  header: TarMemberHeader;
}

/**
 * One streaming pass over a tar byte stream, as a generator of file entries. Whatever part of a
 * body the consumer leaves unread is skipped when it asks for the next entry. With
 * `options.onDamage` (salvage), a stream that ends early or fails part-way (a copy cut short, a
 * corrupt gzip or zstd stream) ends the pass instead of failing it: the body being read ends at
 * the damage, the damage goes to `onDamage`, and the entries before it stand. Only damage before
 * the first header is an error.
 */
export async function* tarEntries(stream: AsyncIterable<Uint8Array>, label: string, options: TarStreamOptions = {}): AsyncGenerator<StreamedTarEntry> {
  const r = new ByteReader(stream);
  const ext = new TarExtensions();
  const onDamage = options.onDamage;
  // the reason of a decompressor's or reader's failure, for a damage message
  // (a decompressor's error names the byte of the compressed file, which the message keeps)
  const why = (e: unknown): string => {
    if (!(e instanceof CkptError)) return e instanceof Error ? e.message : String(e);
    return options.compression && e.offset !== undefined ? `${e.reason} at byte ${e.offset} of the ${options.compression.replace(/-compressed$/, '')} file` : e.reason;
  };
  try {
    let sawHeader = false;
    // where the first header of the next member (extension headers included) starts
    let memberOffset = 0;
    for (;;) {
      const offset = r.position;
      let block: Uint8Array;
      try {
        block = await r.read(BLOCK);
      } catch (e) {
        if (!onDamage || !sawHeader || !(e instanceof CkptError)) throw e;
        onDamage({ file: label, offset: r.position, message: `${why(e)}: the members from here on are missing` });
        return;
      }
      if (block.length === 0) {
        if (!sawHeader) throw new CkptError('empty archive', label, offset);
        // no end-of-archive blocks: Go's writer always writes them, so the archive may be cut short
        onDamage?.({ file: label, offset, message: 'the archive ends without an end-of-archive marker: members after this byte may be missing' });
        return;
      }
      let h: RawTarHeader | null;
      try {
        if (block.length < BLOCK) throw new CkptError('truncated tar header', label, offset);
        h = decodeHeader(block, label, offset);
      } catch (e) {
        // what a decompressor gave is not a tar at all: say so, not "bad octal number"
        if (!sawHeader && e instanceof CkptError) throw new CkptError(`not a tar archive${options.compression ? ` (${options.compression})` : ''}`, label, 0);
        if (onDamage && e instanceof CkptError) {
          const cut = block.length < BLOCK;
          onDamage({ file: label, offset, message: cut ? 'the archive ends inside a tar header: the members from here on are missing' : `${e.reason}: the members from here on are not read` });
          return;
        }
        throw e;
      }
      if (h === null) {
        // the end-of-archive marker: read what follows (padding to the record size) so that a
        // decompressor sees its stream's end and checks it (gzip's CRC-32 and size)
        try {
          while ((await r.readSome(1 << 30)).length > 0);
        } catch (e) {
          if (!onDamage || !(e instanceof CkptError)) throw e;
          onDamage({ file: label, offset: e.offset ?? null, message: `${e.reason} after the end of the tar: every member was read whole` });
        }
        return;
      }
      sawHeader = true;
      const dataOffset = r.position;
      if (ext.isExtension(h)) {
        if (h.size > MAX_EXTENSION_SIZE) throw new CkptError(`tar extension header of ${h.size} bytes is too large`, label, offset);
        let body: Uint8Array;
        try {
          body = await r.read(h.size);
          if (body.length < h.size) throw new CkptError('archive ends inside a tar extension header', label, r.position);
          ext.take(h, body, label, dataOffset);
          await skipExact(r, padded(h.size) - h.size, label, h.name);
        } catch (e) {
          if (!onDamage || !(e instanceof CkptError)) throw e;
          onDamage({ file: label, offset: r.position, message: `${why(e)}: the member it names and those after it are missing` });
          return;
        }
        continue;
      }
      const { entry: { path, size, type }, header } = ext.applyFull(h, label, offset, memberOffset);
      const dataSize = type === 'file' ? size : h.size;
      const entry: SourceEntry = { path, size: type === 'file' ? size : 0, type };
      let consumed = 0;
      let broken = false;
      // the member's data ends early: report it (salvage) or fail
      const cut = (e: unknown): void => {
        const reason = e === undefined ? 'the archive ends inside it' : `${why(e)}`;
        if (!onDamage || (e !== undefined && !(e instanceof CkptError))) {
          if (e !== undefined) throw e;
          throw new CkptError(`archive ends inside "${path}" (${dataSize - (r.position - dataOffset)} of ${dataSize} bytes missing): truncated`, label, r.position);
        }
        broken = true;
        const intact = Math.min(dataSize, r.position - dataOffset);
        onDamage({ file: path, offset: dataOffset + intact, intact, message: `${reason}: ${intact} of ${dataSize} bytes intact` });
      };
      if (type === 'file') {
        const body = (async function* () {
          while (consumed < dataSize && !broken) {
            let chunk: Uint8Array;
            try {
              chunk = await r.readSome(Math.min(dataSize - consumed, 1 << 20));
            } catch (e) {
              cut(e);
              return;
            }
            if (chunk.length === 0) {
              cut(undefined);
              return;
            }
            consumed += chunk.length;
            yield chunk;
          }
        })();
        yield { entry, body, header };
      } else {
        yield { entry, body: (async function* () {})(), header };
      }
      if (broken) return;
      // skip what the consumer left of the body, then the padding
      const left = dataSize - consumed;
      if (left > 0) {
        let got: number;
        try {
          got = await r.skip(left);
        } catch (e) {
          cut(e);
          return;
        }
        if (got < left) {
          cut(undefined);
          return;
        }
      }
      try {
        await skipExact(r, padded(dataSize) - dataSize, label, path);
      } catch (e) {
        if (!onDamage || !(e instanceof CkptError)) throw e;
        onDamage({ file: label, offset: r.position, message: `${why(e)}: the members from here on are missing` });
        return;
      }
      memberOffset = r.position;
    }
  } finally {
    await r.close();
  }
}

/**
 * One streaming pass: `visit` gets each file entry that `want` accepts with its body as chunks;
 * whatever it leaves unread is skipped. Stops early when `visit` returns 'stop'.
 */
export interface TarStreamOptions {
  /** How the stream was compressed, for messages: e.g. `gzip-compressed`. */
  compression?: string;
  /** Salvage: damage part-way ends the pass (reported here) instead of failing it (see tarEntries). */
  onDamage?: (d: SourceDamage) => void;
}

export async function walkTarStream(
  stream: AsyncIterable<Uint8Array>,
  label: string,
  want: (e: SourceEntry) => boolean,
  visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void | 'stop'>,
  options: TarStreamOptions = {},
): Promise<void> {
  for await (const { entry, body } of tarEntries(stream, label, options)) {
    if (want(entry) && entry.type === 'file' && (await visit(entry, body)) === 'stop') return;
  }
}

async function skipExact(r: ByteReader, n: number, label: string, path: string): Promise<void> {
  if (n <= 0) return;
  const got = await r.skip(n);
  if (got < n) throw new CkptError(`archive ends inside "${path}": truncated`, label, r.position);
}
