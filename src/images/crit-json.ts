/**
 * `crit decode` output from decoded images: the conversions of crit's pb2dict (pycriu 4.2) and the
 * JSON text of Python's json.dump.
 *
 * pb2dict prints the fields that were on the wire, in field-number order, then `extra`. With
 * --pretty (the default here) integer fields follow their (criu) options: hex → "0x…", dev →
 * "major:minor", flags → "A | B" from crit's flag tables, dict → names from crit's tables, ipadd →
 * dotted / compressed IPv6 text; hex is inherited by every field of a message marked hex. Enums
 * print by name, bytes as base64 with a newline every 76 characters (Python's
 * base64.encodebytes), and unix socket names (conv unix_name) as quoted-printable.
 */
import type { CriuEntry, CriuImage, IpcQueuedMessage, TcpQueues } from './decode.js';
import { ipAddressText, TCP_STATES } from './linux.js';
import { magicByName } from './magic.js';
import { messageInfo, type FieldInfo, type MessageInfo } from './schema.js';

export interface CritJsonOptions {
  /** As `crit decode --pretty` (default true): options applied. False: plain numbers, as `crit decode`. */
  pretty?: boolean;
  /**
   * Print task_state with crit 4.2's own names (default false). crit names 3 "Zombie" and 6
   * "Stopped", but CRIU writes 3 for a stopped task and 6 for a zombie: by default they are
   * printed as "Stopped" (3) and "Zombie" (6).
   */
  critTaskStateNames?: boolean;
}

// ---- crit's tables (pb2dict.py) ----

const FLAG_MAPS: Record<string, ReadonlyArray<readonly [string, bigint]>> = {
  'mmap.prot': [
    ['PROT_READ', 0x1n],
    ['PROT_WRITE', 0x2n],
    ['PROT_EXEC', 0x4n],
  ],
  'mmap.flags': [
    ['MAP_SHARED', 0x1n],
    ['MAP_PRIVATE', 0x2n],
    ['MAP_DROPPABLE', 0x08n],
    ['MAP_ANON', 0x20n],
    ['MAP_GROWSDOWN', 0x100n],
  ],
  'mmap.status': [
    ['VMA_AREA_NONE', 0n],
    ['VMA_AREA_REGULAR', 1n << 0n],
    ['VMA_AREA_STACK', 1n << 1n],
    ['VMA_AREA_VSYSCALL', 1n << 2n],
    ['VMA_AREA_VDSO', 1n << 3n],
    ['VMA_AREA_HEAP', 1n << 5n],
    ['VMA_FILE_PRIVATE', 1n << 6n],
    ['VMA_FILE_SHARED', 1n << 7n],
    ['VMA_ANON_SHARED', 1n << 8n],
    ['VMA_ANON_PRIVATE', 1n << 9n],
    ['VMA_AREA_SYSVIPC', 1n << 10n],
    ['VMA_AREA_SOCKET', 1n << 11n],
    ['VMA_AREA_VVAR', 1n << 12n],
    ['VMA_AREA_AIORING', 1n << 13n],
    ['VMA_AREA_MEMFD', 1n << 14n],
    ['VMA_AREA_SHSTK', 1n << 15n],
    ['VMA_AREA_UPROBES', 1n << 17n],
    ['VMA_UNSUPP', 1n << 31n],
  ],
  'rfile.flags': [
    ['O_WRONLY', 0o1n],
    ['O_RDWR', 0o2n],
    ['O_CREAT', 0o100n],
    ['O_EXCL', 0o200n],
    ['O_NOCTTY', 0o400n],
    ['O_TRUNC', 0o1000n],
    ['O_APPEND', 0o2000n],
    ['O_NONBLOCK', 0o4000n],
    ['O_DSYNC', 0o10000n],
    ['FASYNC', 0o20000n],
    ['O_DIRECT', 0o40000n],
    ['O_LARGEFILE', 0o100000n],
    ['O_DIRECTORY', 0o200000n],
    ['O_NOFOLLOW', 0o400000n],
    ['O_NOATIME', 0o1000000n],
    ['O_CLOEXEC', 0o2000000n],
  ],
  'pmap.flags': [
    ['PE_PARENT', 1n << 0n],
    ['PE_LAZY', 1n << 1n],
    ['PE_PRESENT', 1n << 2n],
  ],
  'seals.flags': [
    ['F_SEAL_SEAL', 0x1n],
    ['F_SEAL_SHRINK', 0x2n],
    ['F_SEAL_GROW', 0x4n],
    ['F_SEAL_WRITE', 0x8n],
    ['F_SEAL_FUTURE_WRITE', 0x10n],
  ],
};

/** task_core_entry.task_state names as CRIU means them (2, dead, stays a number as in crit). */
const TASK_STATE_NAMES: Record<number, string> = { 1: 'Alive', 3: 'Stopped', 6: 'Zombie' };
/** crit 4.2's gen map, which swaps 3 and 6 and has no name for 2. */
const CRIT_TASK_STATE_NAMES: Record<number, string> = { 1: 'Alive', 3: 'Zombie', 6: 'Stopped' };

const SK_MAPS: Record<string, Record<number, string>> = {
  family: { 1: 'UNIX', 2: 'INET', 10: 'INET6', 16: 'NETLINK', 17: 'PACKET' },
  type: { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 5: 'SEQPACKET', 10: 'PACKET' },
  // crit's table stops at LISTEN (10): CLOSING and NEW_SYN_RECV print as numbers
  state: Object.fromEntries(Object.entries(TCP_STATES).filter(([n]) => Number(n) <= 10)),
  proto: { 0: 'IP', 6: 'TCP', 17: 'UDP', 136: 'UDPLITE' },
};

// ---- value formatting as Python does it ----

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 without line breaks. */
export function base64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return out;
}

/** Python's base64.encodebytes: lines of at most 76 characters, each ending in a newline; '' for no bytes. */
export function base64Lines(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 57) out += base64(bytes.subarray(i, i + 57)) + '\n';
  return out;
}

const HEX = '0123456789ABCDEF';

/** Python's quopri.encodestring (binascii.b2a_qp, quotetabs=False, istext=True, header=False), as text. */
export function quotedPrintable(data: Uint8Array): string {
  const MAX = 76;
  const n = data.length;
  const nl = data.indexOf(0x0a);
  const crlf = nl > 0 && data[nl - 1] === 0x0d;
  const out: number[] = [];
  const softBreak = () => {
    out.push(0x3d);
    if (crlf) out.push(0x0d);
    out.push(0x0a);
  };
  let linelen = 0;
  let i = 0;
  while (i < n) {
    const c = data[i]!;
    const next = i + 1 < n ? data[i + 1] : undefined;
    const encode =
      c > 126 ||
      c === 0x3d ||
      (c === 0x2e && linelen === 0 && (next === undefined || next === 0x0a || next === 0x0d || next === 0)) ||
      ((c === 0x09 || c === 0x20) && i + 1 === n) ||
      (c < 33 && c !== 0x0d && c !== 0x0a && c !== 0x09 && c !== 0x20);
    if (encode) {
      if (linelen + 3 >= MAX) {
        softBreak();
        linelen = 0;
      }
      out.push(0x3d, HEX.charCodeAt(c >> 4), HEX.charCodeAt(c & 15));
      i++;
      linelen += 3;
    } else if (c === 0x0a || (c === 0x0d && next === 0x0a)) {
      linelen = 0;
      const last = out.length ? out[out.length - 1]! : -1;
      if (last === 0x20 || last === 0x09) {
        out[out.length - 1] = 0x3d;
        out.push(HEX.charCodeAt(last >> 4), HEX.charCodeAt(last & 15));
      }
      if (crlf) out.push(0x0d);
      out.push(0x0a);
      i += c === 0x0d ? 2 : 1;
    } else {
      if (i + 1 !== n && next !== 0x0a && linelen + 1 >= MAX) {
        softBreak();
        linelen = 0;
      }
      linelen++;
      out.push(c);
      i++;
    }
  }
  return latin1(out);
}

function latin1(codes: number[]): string {
  let s = '';
  for (let i = 0; i < codes.length; i += 4096) s += String.fromCharCode(...codes.slice(i, i + 4096));
  return s;
}

/** Python's "0x%x" % value. */
function hex(v: number | bigint): string {
  const b = BigInt(v);
  return b < 0n ? `-0x${(-b).toString(16)}` : `0x${b.toString(16)}`;
}

function decodeDev(v: number | bigint, odev: boolean): string {
  const d = BigInt.asUintN(64, BigInt(v));
  if (odev) {
    // glibc major()/minor()
    const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn & 0xffffffffn);
    const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn & 0xffffffffn);
    return `${major}:${minor}`;
  }
  const b = BigInt(v);
  return `${b >> 20n}:${b & ((1n << 20n) - 1n)}`;
}

function mapFlags(v: number | bigint, map: ReadonlyArray<readonly [string, bigint]>): string {
  let value = BigInt(v);
  const names: string[] = [];
  let all = 0n;
  for (const [name, bit] of map) {
    if (value & bit) names.push(name);
    all += bit;
  }
  value &= ~all;
  if (value) names.push(`0x${value.toString(16)}`);
  return names.join(' | ');
}

// ---- pb2dict ----

interface Ctx {
  pretty: boolean;
  critTaskStateNames: boolean;
}

function castValue(f: FieldInfo, v: unknown, ctx: Ctx, inheritedHex: boolean): unknown {
  const isHex = inheritedHex || f.opts.hex === true;
  switch (f.type) {
    case 'message':
      return pb2dict(v as Record<string, unknown>, f.message!, ctx, isHex);
    case 'bytes':
      return f.opts.conv === 'unix_name' ? quotedPrintable(v as Uint8Array) : base64Lines(v as Uint8Array);
    case 'enum':
      return f.enumValues!.get(v as number);
    case 'bool':
    case 'string':
      return v;
    case 'float':
    case 'double':
      return v;
    default: {
      const n = v as number | bigint;
      if (!ctx.pretty) return n;
      if (isHex) return hex(n);
      if (f.opts.dev) return decodeDev(n, f.opts.odev === true);
      if (f.opts.flags) {
        const map = FLAG_MAPS[f.opts.flags];
        return map ? mapFlags(n, map) : hex(n);
      }
      if (f.opts.dict === 'gen' && f.name === 'task_state') {
        const names = ctx.critTaskStateNames ? CRIT_TASK_STATE_NAMES : TASK_STATE_NAMES;
        return names[Number(n)] ?? n;
      }
      if (f.opts.dict === 'sk') return SK_MAPS[f.name]?.[Number(n)] ?? n;
      return n;
    }
  }
}

function pb2dict(msg: Record<string, unknown>, info: MessageInfo, ctx: Ctx, isHex: boolean): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  for (const f of info.fields) {
    const raw = msg[f.name];
    if (raw === undefined) continue;
    if (f.repeated) {
      let list = raw as unknown[];
      // Python keeps enum values outside the schema as unknown fields: they are not printed.
      if (f.type === 'enum') list = list.filter((x) => f.enumValues!.has(x as number));
      if (list.length === 0) continue;
      if (ctx.pretty && f.opts.ipadd && (list.length === 1 || list.length >= 4)) {
        d[f.name] = [ipAddressText((list as number[]).slice(0, list.length === 1 ? 1 : 4))];
        continue;
      }
      d[f.name] = list.map((x) => castValue(f, x, ctx, isHex));
    } else {
      if (f.type === 'enum' && !f.enumValues!.has(raw as number)) continue;
      d[f.name] = castValue(f, raw, ctx, isHex);
    }
  }
  return d;
}

function isTcpQueues(x: unknown): x is TcpQueues {
  return typeof x === 'object' && x !== null && 'inq' in x && 'outq' in x;
}

function extraJson(extra: NonNullable<CriuEntry['extra']>): unknown {
  if (extra instanceof Uint8Array) return base64Lines(extra);
  if (isTcpQueues(extra)) return { inq: base64Lines(extra.inq), outq: base64Lines(extra.outq) };
  if (Array.isArray(extra)) {
    if (extra.length > 0 && typeof extra[0] === 'object') {
      // ipcns-msg: crit alternates each message header (printed without --pretty) and its text
      const info = messageInfo('ipc_msg');
      const plain: Ctx = { pretty: false, critTaskStateNames: false };
      return (extra as IpcQueuedMessage[]).flatMap((m) => [pb2dict(m.msg as unknown as Record<string, unknown>, info, plain, false), base64Lines(m.data)]);
    }
    return [...(extra as number[])];
  }
  return extra;
}

/**
 * The JSON value `crit decode --pretty` prints for this image ({magic, entries}); with
 * `{pretty: false}`, what plain `crit decode` prints. 64-bit integers are bigints (print them with
 * stringifyJson). A raw image gives {magic: 'RAW', entries: []} (crit refuses raw images).
 */
export function toCritJson(image: CriuImage, options: CritJsonOptions = {}): { magic: string; entries: unknown[] } {
  const ctx: Ctx = { pretty: options.pretty ?? true, critTaskStateNames: options.critTaskStateNames ?? false };
  const entries = image.entries.map((e, i) => {
    const name = image.messages?.[i] ?? messageNameFor(image, i);
    const d = pb2dict(e, messageInfo(name), ctx, false);
    if (e.extra !== undefined) d.extra = extraJson(e.extra);
    return d;
  });
  return { magic: image.magic, entries };
}

function messageNameFor(image: CriuImage, i: number): string {
  // images built by hand without `messages`: derive from the magic
  const byMagic: Record<string, [string, string]> = {
    PAGEMAP: ['pagemap_head', 'pagemap_entry'],
    GHOST_FILE: ['ghost_file_entry', 'ghost_chunk_entry'],
  };
  const pair = byMagic[image.magic];
  if (pair) return i === 0 ? pair[0] : pair[1];
  const m = magicByName(image.magic)?.message;
  if (!m) throw new Error(`toCritJson: no message for magic ${image.magic}`);
  return m;
}

// ---- Python json.dumps ----

function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c >= 0x20 && c < 0x7f) out += s[i];
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x08) out += '\\b';
    else if (c === 0x0c) out += '\\f';
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return String(n);
}

/**
 * JSON text as Python's json.dumps writes it (ensure_ascii): pretty → indent=4 (crit decode
 * --pretty), else the one-line form with ', ' and ': ' separators (crit decode). bigints print as
 * bare digits; a Uint8Array prints as a base64 string; object keys with undefined values are left out.
 */
export function stringifyJson(value: unknown, pretty: boolean): string {
  return [...critJsonChunks(value, pretty)].join('');
}

/** About how much text critJsonChunks gives at a time. */
const JSON_CHUNK = 1 << 16;

/**
 * stringifyJson's text in pieces of about 64 KiB, as it is made: the text of an image with a
 * million entries is never one string (decode writes each piece as it comes).
 */
export function* critJsonChunks(value: unknown, pretty: boolean): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  const push = (t: string): void => {
    parts.push(t);
    size += t.length;
  };
  const scalar = (v: unknown): string | undefined => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return pyNumber(v);
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'string') return pyString(v);
    if (v instanceof Uint8Array) return pyString(base64(v));
    if (typeof v !== 'object') return pyString(String(v));
    return undefined;
  };
  function* write(v: unknown, depth: number): Generator<string> {
    const text = scalar(v);
    if (text !== undefined) return void push(text);
    const array = Array.isArray(v) ? (v as unknown[]) : undefined;
    const keys = array ? undefined : Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    const n = array ? array.length : keys!.length;
    const [open, close] = array ? ['[', ']'] : ['{', '}'];
    if (n === 0) return void push(open + close);
    const inner = pretty ? '\n' + ' '.repeat(4 * (depth + 1)) : '';
    push(open);
    for (let i = 0; i < n; i++) {
      if (i > 0) push(pretty ? ',' : ', ');
      push(inner);
      if (keys) push(pyString(keys[i]!) + ': ');
      yield* write(array ? array[i] : (v as Record<string, unknown>)[keys![i]!], depth + 1);
      if (size >= JSON_CHUNK) {
        yield parts.join('');
        parts = [];
        size = 0;
      }
    }
    push(pretty ? '\n' + ' '.repeat(4 * depth) + close : close);
  }
  yield* write(value, 0);
  if (parts.length) yield parts.join('');
}
