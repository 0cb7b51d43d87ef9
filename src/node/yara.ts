/**
 * YARA rules for memory scans, with YARA-X (VirusTotal's Rust rewrite of YARA) through the napi
 * module of @litko/yara-x (npm `@litko/yara-x-linux-x64-gnu`, an optional dependency: prebuilt for
 * Linux x64 with glibc). The native module is loaded on first use only; where it cannot be
 * (another platform, a musl libc), `loadYara()` returns the reason in one line and nothing else is
 * affected.
 *
 * The rules become a WindowMatcher for the search machinery (model/memory/search.ts): memory is
 * scanned segment by segment (a region's contiguous pages) in windows of `window` bytes that
 * overlap by at least the longest string of the rules, and a match is reported once, at the first
 * window it starts in.
 */
import { createRequire } from 'node:module';
import { CkptError } from '../errors.js';
import type { WindowMatch, WindowMatcher } from '../model/memory/matchers.js';

/** The parts of the native module used here. */
interface NativeMatch {
  offset: number;
  length: number;
  identifier: string;
}
interface NativeRules {
  scan(data: Uint8Array): { ruleIdentifier: string; namespace: string; matches: NativeMatch[] }[];
  setMaxMatchesPerPattern(n: number): void;
  getWarnings(): { code: string; message: string }[];
}
interface NativeYaraX {
  compile(source: string): NativeRules;
}

const MODULE = '@litko/yara-x-linux-x64-gnu';
let native: NativeYaraX | string | undefined;

/** The native YARA-X module, or one line saying why it is not there. */
function loadNative(): NativeYaraX | string {
  if (native !== undefined) return native;
  // CKPT_YARA_MODULE names another module (tests use a missing one to see the fallback)
  const name = process.env.CKPT_YARA_MODULE || MODULE;
  if (name === MODULE && (process.platform !== 'linux' || process.arch !== 'x64')) {
    native = `YARA is not available here: the YARA-X module (${MODULE}) is built for Linux x64 with glibc only, this is ${process.platform} ${process.arch}`;
    return native;
  }
  try {
    native = createRequire(import.meta.url)(name) as NativeYaraX;
  } catch (e) {
    native = `YARA is not available here: the YARA-X module (${name}) could not be loaded: ${String((e as Error).message).split('\n')[0]}`;
  }
  return native;
}

/** Bytes of a string the overlap counts for a regex or an unbounded jump (the rules text does not say). */
export const UNBOUNDED_STRING = 4096;
/** Window scanned at a time. */
export const YARA_WINDOW = 8 << 20;

/**
 * An upper bound of the longest string in YARA rules, from the rules text: a text string's bytes,
 * a hex string's bytes plus its jumps' upper bounds; regexes and unbounded jumps count as
 * UNBOUNDED_STRING.
 */
export function longestYaraString(source: string): number {
  let longest = 0;
  // strip comments
  const src = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ');
  const re = /\$[A-Za-z0-9_]*\s*=\s*("(?:[^"\\\n]|\\.)*"|\{[^}]*\}|\/(?:[^/\\\n]|\\.)*\/)/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const v = m[1]!;
    let n: number;
    if (v.startsWith('"')) {
      n = v.slice(1, -1).replace(/\\x[0-9a-fA-F]{2}|\\./g, 'x').length;
      // wide strings take two bytes a character
      if (/^\s*(?:[a-z]+\s+)*wide/.test(src.slice(re.lastIndex, re.lastIndex + 40))) n *= 2;
    } else if (v.startsWith('{')) {
      const body = v.slice(1, -1);
      n = (body.replace(/\[[^\]]*\]|\([^)]*\)/g, ' ').match(/[0-9a-fA-F?~]{2}/g) ?? []).length;
      for (const j of body.matchAll(/\[\s*(\d*)\s*(?:-\s*(\d*))?\s*\]/g)) n += j[2] === undefined ? Number(j[1] || 0) : j[2] === '' ? UNBOUNDED_STRING : Number(j[2]);
      // alternatives: count the longest one's bytes (roughly: every byte in the group)
      for (const g of body.matchAll(/\(([^)]*)\)/g)) n += (g[1]!.match(/[0-9a-fA-F?~]{2}/g) ?? []).length;
    } else n = UNBOUNDED_STRING;
    longest = Math.max(longest, n);
  }
  return longest || UNBOUNDED_STRING;
}

export interface YaraRules {
  /** Rules compiled from this many bytes of text. */
  readonly sourceBytes: number;
  /** The overlap between windows: at least the longest string (longestYaraString). */
  readonly overlap: number;
  readonly warnings: string[];
  /** The rules as a WindowMatcher; each match's tag is `rule:$string` (namespace-qualified outside `default`). */
  matcher(): WindowMatcher;
}

/**
 * Compiles YARA rules. Returns a string (one line) when YARA cannot be loaded on this machine;
 * throws a CkptError naming `name` for rules that do not compile.
 */
export function compileYara(source: string, name: string): YaraRules | string {
  const y = loadNative();
  if (typeof y === 'string') return y;
  let rules: NativeRules;
  try {
    rules = y.compile(source);
  } catch (e) {
    const lines = String((e as Error).message).split('\n').map((l) => l.trim()).filter(Boolean);
    const where = lines.find((l) => /^--> line:\d+:\d+/.test(l))?.replace(/^--> /, '') ?? '';
    const what = (lines[0] ?? 'does not compile').replace(/^Compilation error \(\w+\): /, '').replace(/^error\[\w+\]: /, '');
    throw new CkptError(`YARA rules do not compile: ${what}${where ? ` at ${where}` : ''}`, name);
  }
  const overlap = Math.max(256, longestYaraString(source));
  const warnings = rules.getWarnings().map((w) => w.message.split('\n')[0]!);
  return {
    sourceBytes: source.length,
    overlap,
    warnings,
    matcher(): WindowMatcher {
      return {
        maxLength: overlap,
        minLength: 1,
        window: YARA_WINDOW,
        scan(w, from, limit): WindowMatch[] {
          const buf = Buffer.from(w.buffer, w.byteOffset, w.byteLength);
          const out: WindowMatch[] = [];
          for (const r of rules.scan(buf)) {
            const rule = r.namespace && r.namespace !== 'default' ? `${r.namespace}.${r.ruleIdentifier}` : r.ruleIdentifier;
            for (const m of r.matches) if (m.offset >= from && m.offset <= limit) out.push({ index: m.offset, length: Math.min(m.length, overlap), tag: `${rule}:${m.identifier}` });
          }
          out.sort((a, b) => a.index - b.index || String(a.tag).localeCompare(String(b.tag)));
          return out;
        },
      };
    },
  };
}
