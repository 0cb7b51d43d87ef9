/**
 * Hexdump rows: `address  16 hex bytes  |ASCII|`, as `hexdump -C` lays them out, with 64-bit
 * addresses. Non-printable bytes show as `.` in the ASCII column. With `collapse`, a run of rows
 * whose BYTES are identical to the row before is printed as one `*` line (checkpointctl compares
 * the ASCII column, so rows that differ only in non-printable bytes were hidden; here they are not).
 * Pure: bytes in, text out.
 */

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));
const ASCII: string[] = [];
for (let i = 0; i < 256; i++) ASCII.push(i >= 0x20 && i < 0x7f ? String.fromCharCode(i) : '.');

/** Bytes as printable ASCII, `.` for anything else (safe on a terminal). */
export function printable(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += ASCII[bytes[i]!];
  return s;
}

/** Bytes as text with every non-printable byte (and the backslash) escaped: `CKPT\x00\xcc\\`. */
export function escapeBytes(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += b === 0x5c ? '\\\\' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${HEX[b]}`;
  }
  return s;
}

/** Bytes as lower-case hex without separators. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/** A 64-bit address as 16 hex digits. */
export function address16(a: bigint): string {
  return a.toString(16).padStart(16, '0');
}

/** One hexdump row; `bytes` is at most 16 long (a short row is padded). */
export function hexRow(address: bigint, bytes: Uint8Array): string {
  let hex = '';
  for (let i = 0; i < 16; i++) {
    hex += i < bytes.length ? HEX[bytes[i]!] + ' ' : '   ';
    if (i === 7) hex += ' ';
  }
  return `${address16(address)}  ${hex} |${printable(bytes)}|`;
}

const ROW = 88; // 16 address + 2 + 49 hex + 1 + |16| + newline
const DIGITS = [...'0123456789abcdef'].map((c) => c.charCodeAt(0));
const ASCII_BYTE = new Uint8Array(256);
for (let i = 0; i < 256; i++) ASCII_BYTE[i] = i >= 0x20 && i < 0x7f ? i : 0x2e;
const latin1Decoder = new TextDecoder('latin1');

/**
 * A hexdump written in pieces: consecutive calls to `write` with contiguous addresses continue
 * one dump (collapsing runs across calls); `gap` ends a run (the next row is always printed).
 * Rows are built as bytes (a dump of a large process is gigabytes of text).
 */
export class Hexdump {
  private prev = new Uint8Array(16);
  private hasPrev = false;
  private starred = false;
  private next?: bigint;
  private out = new Uint8Array(0);

  constructor(private readonly options: { collapse: boolean }) {}

  /** Rows for `bytes` at `address`, each ending in a newline. */
  write(address: bigint, bytes: Uint8Array): string {
    if (this.next !== undefined && this.next !== address) this.gap();
    const rows = Math.ceil(bytes.length / 16);
    if (this.out.length < rows * ROW) this.out = new Uint8Array(rows * ROW);
    const out = this.out;
    let w = 0;
    // the address as two 32-bit halves, advanced by 16 per row
    let hi = Number(address >> 32n);
    let lo = Number(address & 0xffffffffn);
    const collapse = this.options.collapse;
    const prev = this.prev;
    for (let o = 0; o < bytes.length; o += 16, lo += 16) {
      if (lo >= 0x100000000) {
        lo -= 0x100000000;
        hi = (hi + 1) >>> 0;
      }
      const n = Math.min(16, bytes.length - o);
      if (collapse && this.hasPrev && n === 16) {
        let same = true;
        for (let i = 0; i < 16; i++) {
          if (bytes[o + i] !== prev[i]) {
            same = false;
            break;
          }
        }
        if (same) {
          if (!this.starred) (out[w++] = 0x2a), (out[w++] = 0x0a);
          this.starred = true;
          continue;
        }
      }
      this.starred = false;
      if (n === 16) {
        for (let i = 0; i < 16; i++) prev[i] = bytes[o + i]!;
        this.hasPrev = true;
      } else this.hasPrev = false;
      for (let i = 7; i >= 0; i--) out[w + i] = DIGITS[(hi >>> ((7 - i) * 4)) & 15]!;
      for (let i = 7; i >= 0; i--) out[w + 8 + i] = DIGITS[(lo >>> ((7 - i) * 4)) & 15]!;
      w += 16;
      out[w++] = 0x20;
      out[w++] = 0x20;
      for (let i = 0; i < 16; i++) {
        if (i < n) {
          const b = bytes[o + i]!;
          out[w++] = DIGITS[b >> 4]!;
          out[w++] = DIGITS[b & 15]!;
        } else (out[w++] = 0x20), (out[w++] = 0x20);
        out[w++] = 0x20;
        if (i === 7) out[w++] = 0x20;
      }
      out[w++] = 0x20;
      out[w++] = 0x7c;
      for (let i = 0; i < n; i++) out[w++] = ASCII_BYTE[bytes[o + i]!]!;
      out[w++] = 0x7c;
      out[w++] = 0x0a;
    }
    this.next = address + BigInt(bytes.length);
    return latin1Decoder.decode(out.subarray(0, w));
  }

  /** Ends a run of rows: the next row is printed whatever it holds. */
  gap(): void {
    this.hasPrev = false;
    this.starred = false;
    this.next = undefined;
  }
}
