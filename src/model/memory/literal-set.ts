/**
 * Many literals searched in one pass (indicator lists: `memparse --search-file`). A Wu-Manber
 * scan: a window as long as the shortest literal slides over the bytes; a table indexed by (a hash
 * of) the window's last three bytes says how far it may jump (most 3-byte blocks of memory,
 * end no literal's prefix, so the window jumps by nearly the shortest literal's length); where it
 * may not jump, the literals whose prefix ends in that block are compared in full.
 *
 * Runtime-neutral; plugs into the search machinery as a WindowMatcher (search.ts), so it inherits
 * the one-pass reading, segments, overlaps and shared-memory reporting of a single search.
 */
import { CkptError } from '../../errors.js';
import { parseHex, type WindowMatcher, type WindowMatch } from './matchers.js';

export interface Literal {
  /** The bytes searched. */
  bytes: Uint8Array;
  /** As written in the list (`hex:de ad be ef`, or the text). */
  text: string;
  /** 1-based line of the list it came from. */
  line: number;
}

/**
 * Parses an indicator list: one literal per line, its UTF-8 bytes, or `hex:` and hex digit pairs
 * for bytes. Empty lines are skipped; a line's trailing `\r` is dropped; the same literal twice is
 * searched once.
 */
export function parseLiteralList(text: string, name = 'the list'): Literal[] {
  const out: Literal[] = [];
  const seen = new Set<string>();
  const enc = new TextEncoder();
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') return;
    let bytes: Uint8Array;
    if (line.startsWith('hex:')) {
      try {
        bytes = parseHex(line.slice(4));
      } catch (e) {
        throw new CkptError(`line ${i + 1}: ${(e as Error).message}`, name);
      }
    } else bytes = enc.encode(line);
    const key = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ bytes, text: line, line: i + 1 });
  });
  if (out.length === 0) throw new CkptError('no literals in it (one per line; hex: for bytes)', name);
  return out;
}

/** A WindowMatcher for a set of literals; each match's tag is the literal's index in `literals`. */
export function literalSetMatcher(literals: readonly Literal[]): WindowMatcher {
  if (literals.length === 0) throw new CkptError('no literals to search');
  const pats = literals.map((l) => l.bytes);
  let m = Infinity;
  let maxLen = 0;
  for (const p of pats) {
    if (p.length === 0) throw new CkptError('an empty literal cannot be searched');
    m = Math.min(m, p.length);
    maxLen = Math.max(maxLen, p.length);
  }
  // blocks of 3 bytes hashed into 2^20 slots (few of them are any literal's, so most windows
  // jump by nearly the shortest literal's length); 2 or 1 bytes for literals that short
  const B = m >= 3 ? 3 : m;
  const BITS = B === 3 ? 20 : B * 8;
  const size = 1 << BITS;
  const maxShift = Math.min(m - B + 1, 255);
  const shift = new Uint8Array(size).fill(maxShift);
  // literals by the block their m-prefix ends with, as a linked list in flat arrays
  const head = new Int32Array(size).fill(-1);
  const next = new Int32Array(pats.length).fill(-1);
  const block = (p: Uint8Array, end: number) => (B === 3 ? ((p[end - 2]! << 12) ^ (p[end - 1]! << 6) ^ p[end]!) & (size - 1) : B === 2 ? (p[end - 1]! << 8) | p[end]! : p[end]!);
  for (let k = 0; k < pats.length; k++) {
    const p = pats[k]!;
    for (let j = B - 1; j < m; j++) {
      const g = block(p, j);
      const s = Math.min(m - 1 - j, maxShift);
      if (s < shift[g]!) shift[g] = s;
    }
    const g = block(p, m - 1);
    next[k] = head[g]!;
    head[g] = k;
  }
  return {
    maxLength: maxLen,
    minLength: m,
    scan(w, from, limit): WindowMatch[] {
      const out: WindowMatch[] = [];
      const n = w.length;
      // pos: index of the window's last byte; start = pos - m + 1
      let pos = from + m - 1;
      const lastPos = Math.min(limit + m - 1, n - 1);
      while (pos <= lastPos) {
        const g = B === 3 ? ((w[pos - 2]! << 12) ^ (w[pos - 1]! << 6) ^ w[pos]!) & (size - 1) : B === 2 ? (w[pos - 1]! << 8) | w[pos]! : w[pos]!;
        const s = shift[g]!;
        if (s !== 0) {
          pos += s;
          continue;
        }
        const start = pos - m + 1;
        for (let k = head[g]!; k !== -1; k = next[k]!) {
          const p = pats[k]!;
          if (start + p.length > n) continue;
          let i = 0;
          while (i < p.length && w[start + i] === p[i]) i++;
          if (i === p.length) out.push({ index: start, length: p.length, tag: k });
        }
        pos++;
      }
      // matches come in start order, longer literals after shorter ones at one start
      return out;
    },
  };
}
