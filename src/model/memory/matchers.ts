/**
 * Pattern matchers over byte windows. A literal is found with Buffer#indexOf where the runtime
 * has Buffer (Node), with a first-byte scan elsewhere. A regular expression runs over the window
 * as a latin1 string (one char per byte), either in this thread or through a RegexRunner (the CLI
 * runs it in a worker thread with a time limit per window: see src/node/regex-worker.ts).
 */
import { CkptError } from '../../errors.js';

interface BufferLike extends Uint8Array {
  indexOf(value: Uint8Array | number, byteOffset?: number): number;
  latin1Slice?(start: number, end: number): string;
  toString(encoding?: string, start?: number, end?: number): string;
}
interface BufferCtor {
  from(buf: ArrayBufferLike, byteOffset?: number, length?: number): BufferLike;
}
const NodeBuffer = (globalThis as unknown as { Buffer?: BufferCtor }).Buffer;

/** A Buffer view of the same bytes (no copy), or undefined outside Node. */
export function asBuffer(u: Uint8Array): BufferLike | undefined {
  return NodeBuffer ? NodeBuffer.from(u.buffer, u.byteOffset, u.byteLength) : undefined;
}

/** First index >= from of needle in hay, or -1. */
export function indexOfBytes(hay: Uint8Array, hayBuf: BufferLike | undefined, needle: Uint8Array, from: number): number {
  if (hayBuf) return hayBuf.indexOf(needle, from);
  const first = needle[0]!;
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/** The bytes as a string of one char per byte (latin1). */
export function latin1(u: Uint8Array, start = 0, end = u.length): string {
  const b = asBuffer(u);
  if (b) return b.latin1Slice ? b.latin1Slice(start, end) : b.toString('latin1', start, end);
  let s = '';
  for (let i = start; i < end; i += 8192) s += String.fromCharCode(...u.subarray(i, Math.min(end, i + 8192)));
  return s;
}

/** A match a WindowMatcher found: where it starts in the window, its length, and what matched. */
export interface WindowMatch {
  index: number;
  length: number;
  /** Which pattern matched (a literal's index, a YARA `rule:$string`). */
  tag: number | string;
}

/**
 * A matcher the caller gives the search (a set of literals, YARA rules): it is fed windows of
 * contiguous memory that overlap by `maxLength - 1` bytes, and reports the matches that START in
 * [from, limit], so that each match is reported once.
 */
export interface WindowMatcher {
  /** The longest match (the overlap carried from one window to the next). */
  readonly maxLength: number;
  readonly minLength: number;
  /** Window size fed at most (default: as the data comes). */
  readonly window?: number;
  scan(window: Uint8Array, from: number, limit: number): WindowMatch[] | Promise<WindowMatch[]>;
  close?(): Promise<void>;
}

export function isWindowMatcher(x: unknown): x is WindowMatcher {
  return typeof x === 'object' && x !== null && typeof (x as WindowMatcher).scan === 'function' && !(x instanceof Uint8Array) && !(x instanceof RegExp);
}

/** A match found in a window, with its bytes and context copied out of the window. */
export interface WindowHit {
  /** For a WindowMatcher's match: its tag. */
  tag?: number | string;
  /** Index of the match in the window. */
  index: number;
  match: Uint8Array;
  before: Uint8Array;
  after: Uint8Array;
  /** The match was longer than maxLength and was cut. */
  truncated: boolean;
}

/**
 * Runs a regex over windows. `run` must take what it needs from `window` before it returns (the
 * caller reuses the buffer while the run goes on); the matches come out in batches as they are
 * found, so that a window with millions of matches is never held whole. `close` releases what
 * it holds.
 */
export interface RegexRunner {
  run(window: Uint8Array, from: number, limit: number, maxLength: number, context: number): AsyncIterable<WindowHit[]>;
  close(): Promise<void>;
}

/** Matches per batch given out by the matchers and runners. */
export const HIT_BATCH = 512;

/** Hits from flat [index, length, truncated] triples, bytes copied out of the window. */
export function hitsFrom(window: Uint8Array, flat: number[], context: number): WindowHit[] {
  const hits: WindowHit[] = [];
  for (let i = 0; i < flat.length; i += 3) {
    const s = flat[i]!;
    const n = flat[i + 1]!;
    hits.push({
      index: s,
      match: window.slice(s, s + n),
      before: window.slice(Math.max(0, s - context), s),
      after: window.slice(s + n, Math.min(window.length, s + n + context)),
      truncated: flat[i + 2] === 1,
    });
  }
  return hits;
}

/** The regex as the scanner needs it: global, not sticky. */
export function scanRegex(re: RegExp): RegExp {
  const flags = re.flags.replace(/[gy]/g, '') + 'g';
  return new RegExp(re.source, flags);
}

/**
 * A literal every match of the regex starts with, as latin1 bytes, or undefined when there is no
 * such literal or it cannot be told safely. Used to skip windows without a candidate start (a
 * memmem instead of the regex engine on most of the memory), and to start the regex at the first
 * candidate. Conservative: flags i and v, alternation at the top level, and anything but plain
 * characters, escaped punctuation and \t \n \r \xHH at the start give no prefix; an atom
 * followed by `*`, `?` or `{` is left out (it may match zero times).
 */
export function regexLiteralPrefix(re: RegExp): Uint8Array | undefined {
  if (/[iv]/.test(re.flags)) return undefined;
  const src = re.source;
  // top-level alternation: `abc|x` has no common prefix
  let depth = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      for (i++; i < src.length && src[i] !== ']'; i++) if (src[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) return undefined;
  }
  const codes: number[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    let code: number;
    let next: number;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) break;
      if (e === 't' || e === 'n' || e === 'r') [code, next] = [e === 't' ? 9 : e === 'n' ? 10 : 13, i + 2];
      else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(i + 2, i + 4))) [code, next] = [parseInt(src.slice(i + 2, i + 4), 16), i + 4];
      else if (!/[0-9A-Za-z_]/.test(e)) [code, next] = [e.charCodeAt(0), i + 2];
      else break;
    } else if ('^$.|()[]{}*+?'.includes(c)) break;
    else [code, next] = [c.charCodeAt(0), i + 1];
    if (code > 0xff) break; // never in latin1 text: what came before is still a prefix
    const q = src[next];
    if (q === '*' || q === '?' || q === '{') break; // may match zero times
    codes.push(code);
    i = next;
    if (q === '+') break;
  }
  return codes.length ? Uint8Array.from(codes) : undefined;
}

/** A runner in this thread: bounded windows, but no time limit (see the worker runner for that). */
export function inThreadRunner(re: RegExp): RegexRunner {
  const g = scanRegex(re);
  return {
    run(window, from, limit, maxLength, context) {
      const copy = window.slice();
      return (async function* () {
        const text = latin1(copy);
        let flat: number[] = [];
        g.lastIndex = from;
        for (;;) {
          const m = g.exec(text);
          if (!m || m.index > limit) break;
          const len = m[0].length;
          if (len === 0) {
            g.lastIndex = m.index + 1;
            continue;
          }
          flat.push(m.index, Math.min(len, maxLength), len > maxLength ? 1 : 0);
          if (flat.length >= 3 * HIT_BATCH) {
            yield hitsFrom(copy, flat, context);
            flat = [];
          }
        }
        if (flat.length) yield hitsFrom(copy, flat, context);
      })();
    },
    async close() {},
  };
}

/** Parses `de ad be ef`, `deadbeef`, `0xde,0xad` into bytes. */
export function parseHex(text: string): Uint8Array {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (clean.length === 0 || clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) {
    throw new CkptError(`not a hex byte string: "${text}" (write bytes as hex digit pairs, e.g. "de ad be ef")`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
