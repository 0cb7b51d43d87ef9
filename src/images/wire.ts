/**
 * A protobuf (proto2) wire decoder driven by the compiled schema tables. Written here rather than
 * using protobufjs's generated decoders so that every read is bounds-checked against the entry,
 * errors carry the byte offset in the image file, 64-bit integers come out as exact bigints, and
 * nothing is evaluated at run time.
 *
 * Semantics follow the Python protobuf runtime that crit uses: fields are kept in the object only
 * when they were on the wire; a field seen with an unexpected wire type is skipped as unknown;
 * repeated scalars are accepted packed and unpacked; a singular message seen twice is merged;
 * missing required fields are an error. Unlike Python, an enum value not in the schema is kept as
 * its number (toCritJson leaves it out, as crit would), and invalid UTF-8 in a string is replaced
 * rather than refused.
 */
import { CkptError } from '../errors.js';
import type { FieldInfo, MessageInfo } from './schema.js';

const MAX_DEPTH = 64;
const utf8 = new TextDecoder('utf-8');

export type Decoded = Record<string, unknown>;

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    readonly view: DataView,
    start: number,
    /** Offset of buf[0] inside the image file, for error messages. */
    readonly base: number,
    readonly file: string,
  ) {
    this.pos = start;
  }

  fail(reason: string, at = this.pos): never {
    throw new CkptError(reason, this.file, this.base + at);
  }

  /** Reads a varint as [low 32 bits, high 32 bits] (both unsigned). */
  varint(end: number): [number, number] {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) this.fail('corrupt protobuf: truncated varint', start);
      const byte = b[this.pos++]!;
      if (i < 4) lo |= (byte & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >>> 4;
      } else hi |= (byte & 0x7f) << (7 * i - 32);
      if ((byte & 0x80) === 0) return [lo >>> 0, hi >>> 0];
    }
    this.fail('corrupt protobuf: varint longer than 10 bytes', start);
  }

  /** A varint that must fit in 32 bits unsigned (lengths, tags). */
  u32(end: number): number {
    const [lo, hi] = this.varint(end);
    if (hi !== 0) this.fail('corrupt protobuf: length or tag out of range', this.pos - 1);
    return lo;
  }

  need(n: number, end: number, what: string): void {
    if (n > end - this.pos) this.fail(`corrupt protobuf: ${what} needs ${n} bytes, ${end - this.pos} left in the entry`);
  }

  skip(wireType: number, fieldNo: number, end: number, depth: number): void {
    switch (wireType) {
      case 0:
        this.varint(end);
        return;
      case 1:
        this.need(8, end, 'a 64-bit field');
        this.pos += 8;
        return;
      case 2: {
        const len = this.u32(end);
        this.need(len, end, 'a length-delimited field');
        this.pos += len;
        return;
      }
      case 5:
        this.need(4, end, 'a 32-bit field');
        this.pos += 4;
        return;
      case 3: {
        if (depth >= MAX_DEPTH) this.fail('corrupt protobuf: groups nested too deeply');
        for (;;) {
          if (this.pos >= end) this.fail('corrupt protobuf: unterminated group');
          const tagAt = this.pos;
          const tag = this.u32(end);
          const wt = tag & 7;
          const no = tag >>> 3;
          if (no === 0) this.fail('corrupt protobuf: field number 0', tagAt);
          if (wt === 4) {
            if (no !== fieldNo) this.fail('corrupt protobuf: mismatched end of group', tagAt);
            return;
          }
          this.skip(wt, no, end, depth + 1);
        }
      }
      case 4:
        this.fail('corrupt protobuf: end of group without a start');
      default:
        this.fail(`corrupt protobuf: invalid wire type ${wireType}`);
    }
  }
}

function long(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** One scalar value of `f` at the reader position (wire type already checked). */
function readScalar(r: Reader, f: FieldInfo, end: number): unknown {
  switch (f.type) {
    case 'int32': {
      const [lo] = r.varint(end);
      return lo | 0;
    }
    case 'uint32': {
      const [lo] = r.varint(end);
      return lo;
    }
    case 'sint32': {
      const [lo] = r.varint(end);
      return (lo >>> 1) ^ -(lo & 1);
    }
    case 'enum': {
      const [lo] = r.varint(end);
      return lo | 0;
    }
    case 'bool': {
      const [lo, hi] = r.varint(end);
      return lo !== 0 || hi !== 0;
    }
    case 'int64': {
      const [lo, hi] = r.varint(end);
      return BigInt.asIntN(64, long(lo, hi));
    }
    case 'uint64': {
      const [lo, hi] = r.varint(end);
      return long(lo, hi);
    }
    case 'sint64': {
      const [lo, hi] = r.varint(end);
      const u = long(lo, hi);
      return (u >> 1n) ^ -(u & 1n);
    }
    case 'fixed32':
      r.need(4, end, f.name);
      r.pos += 4;
      return r.view.getUint32(r.pos - 4, true);
    case 'sfixed32':
      r.need(4, end, f.name);
      r.pos += 4;
      return r.view.getInt32(r.pos - 4, true);
    case 'float':
      r.need(4, end, f.name);
      r.pos += 4;
      return r.view.getFloat32(r.pos - 4, true);
    case 'fixed64':
      r.need(8, end, f.name);
      r.pos += 8;
      return r.view.getBigUint64(r.pos - 8, true);
    case 'sfixed64':
      r.need(8, end, f.name);
      r.pos += 8;
      return r.view.getBigInt64(r.pos - 8, true);
    case 'double':
      r.need(8, end, f.name);
      r.pos += 8;
      return r.view.getFloat64(r.pos - 8, true);
    case 'string':
    case 'bytes': {
      const len = r.u32(end);
      r.need(len, end, f.name);
      const v = r.buf.subarray(r.pos, r.pos + len);
      r.pos += len;
      return f.type === 'string' ? utf8.decode(v) : v.slice();
    }
    default:
      throw new Error(`wire: not a scalar: ${f.type}`);
  }
}

function newMessage(info: MessageInfo): Decoded {
  const o: Decoded = {};
  for (const f of info.fields) if (f.repeated) o[f.name] = [];
  return o;
}

function decodeInto(r: Reader, info: MessageInfo, target: Decoded, end: number, depth: number): void {
  const start = r.pos;
  if (depth > MAX_DEPTH) r.fail('corrupt protobuf: messages nested too deeply');
  while (r.pos < end) {
    const tagAt = r.pos;
    const tag = r.u32(end);
    const wt = tag & 7;
    const no = tag >>> 3;
    if (no === 0) r.fail('corrupt protobuf: field number 0', tagAt);
    const f = info.byId.get(no);
    if (!f) {
      r.skip(wt, no, end, depth);
      continue;
    }
    if (f.type === 'message') {
      if (wt !== 2) {
        r.skip(wt, no, end, depth);
        continue;
      }
      const len = r.u32(end);
      r.need(len, end, `message ${f.name}`);
      const sub = f.message!;
      const subEnd = r.pos + len;
      if (f.repeated) {
        const m = newMessage(sub);
        decodeInto(r, sub, m, subEnd, depth + 1);
        (target[f.name] as unknown[]).push(m);
      } else {
        let m = target[f.name] as Decoded | undefined;
        if (!m) m = target[f.name] = newMessage(sub);
        decodeInto(r, sub, m, subEnd, depth + 1);
      }
      r.pos = subEnd;
      continue;
    }
    if (wt === f.wireType) {
      const v = readScalar(r, f, end);
      if (f.repeated) (target[f.name] as unknown[]).push(v);
      else target[f.name] = v;
      continue;
    }
    if (f.repeated && wt === 2 && f.wireType !== 2) {
      // packed repeated scalars
      const len = r.u32(end);
      r.need(len, end, `packed ${f.name}`);
      const packedEnd = r.pos + len;
      const arr = target[f.name] as unknown[];
      while (r.pos < packedEnd) arr.push(readScalar(r, f, packedEnd));
      continue;
    }
    r.skip(wt, no, end, depth);
  }
  if (r.pos !== end) r.fail('corrupt protobuf: field runs past the end of its message');
  for (const f of info.fields) {
    if (f.required && !(f.name in target)) r.fail(`corrupt protobuf: ${info.name} lacks required field ${f.name}`, start);
  }
}

/**
 * Decodes one protobuf message occupying bytes[start, end). `base` is the file offset of bytes[0]
 * (so errors name file offsets). Throws CkptError for any malformation.
 */
export function decodeMessage(info: MessageInfo, bytes: Uint8Array, start: number, end: number, file: string, base = 0): Decoded {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(bytes, view, start, base, file);
  const m = newMessage(info);
  decodeInto(r, info, m, end, 0);
  return m;
}
