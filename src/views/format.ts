/**
 * Text formatting shared by the views: sizes, durations, times, and escaping of strings that come
 * from a checkpoint (which may hold anything, including terminal escape sequences).
 */
import { escapeControl } from '../errors.js';

/** Bytes as checkpointctl prints them: `512 B`, `16.0 KiB`, `3.8 MiB`. */
export function byteSize(n: number): string {
  const unit = 1024;
  if (n < unit) return `${n} B`;
  let div = unit;
  let exp = 0;
  for (let x = Math.floor(n / unit); x >= unit; x = Math.floor(x / unit)) {
    div *= unit;
    exp++;
  }
  return `${(n / div).toFixed(1)} ${'KMGTPE'[exp]}iB`;
}

/** A duration given in microseconds (CRIU's statistics): `961 µs`, `146.511 ms`, `1.204 s`. */
export function duration(us: number): string {
  if (us < 1000) return `${us} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(3)} ms`;
  return `${(us / 1_000_000).toFixed(3)} s`;
}

/** An RFC 3339 time to whole seconds in UTC (`2026-11-24T13:59:03Z`), as checkpointctl prints it; other text unchanged. */
export function rfc3339(t: string | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** RFC 822 time (`24 Nov 26 13:59 UTC`), as checkpointctl's `list` prints it. */
export function rfc822(t: string | undefined): string {
  if (!t) return '';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return t;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())} ${mon} ${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

/**
 * Makes a string from a checkpoint safe to print on a terminal: control characters (C0, DEL,
 * C1) become `\n`, `\t`, `\xNN` or `\u{NNNN}` escapes, so that no escape sequence or line break
 * from the checkpoint reaches the terminal.
 */
export const safe = escapeControl;

/**
 * JSON text of a value, for stdout and the files ckpt writes: `JSON.stringify`, except that DEL, the
 * C1 controls (U+007F-U+009F) and the line/paragraph separators, which JSON.stringify leaves raw, are
 * written as `\u` escapes. The JSON value is the same; a hostile string (argv, a path) cannot reach a
 * terminal as a control.
 */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Bytes from a checkpoint as one line of text: printable ASCII as is (a backslash doubled), every
 * other byte as `\xNN`; `more` adds `…` (the bytes are only the start).
 */
export function escapeBytes(bytes: Uint8Array, more = false): string {
  let s = '';
  for (const b of bytes) s += b === 0x5c ? '\\\\' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return more ? `${s}…` : s;
}

/** `address:port`, with IPv6 addresses in brackets. */
export function hostPort(a: { address: string; port: number } | undefined): string {
  if (!a) return '';
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** ANSI styling, used only when colour is on. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const plain = (s: string) => s;
export const NO_STYLE: Style = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
const sgr = (code: string) => (s: string) => (s === '' ? s : `\u001b[${code}m${s}\u001b[0m`);
export const ANSI_STYLE: Style = { bold: sgr('1'), dim: sgr('2'), red: sgr('31'), green: sgr('32'), yellow: sgr('33'), cyan: sgr('36') };

export function style(colour: boolean | undefined): Style {
  return colour ? ANSI_STYLE : NO_STYLE;
}
