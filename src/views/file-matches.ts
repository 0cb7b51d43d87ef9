/**
 * Views of YARA matches in files: `rootfs --yara` (files of the root file-system diff) and
 * `recover --yara` (the artifacts written). A line per match, as found (aligned columns, no
 * borders: easy to grep), or JSON objects with every key present. Pure.
 */
import type { ArtifactMatch, FileMatch } from '../model/rootfs-scan.js';
import { safe, style } from './format.js';
import { escapeBytes, printable, toHex } from './hexdump.js';

/** `rule:$string` → rule and string id. */
function splitTag(tag: number | string): { rule: string; stringId: string } {
  const t = String(tag);
  const colon = t.indexOf(':');
  return colon < 0 ? { rule: t, stringId: '' } : { rule: t.slice(0, colon), stringId: t.slice(colon + 1) };
}

const PATH_WIDTH = 32;

/** The header line of fileMatchLine's lines (`FILE` for recovered artifacts, `PATH` for the diff). */
export function fileMatchHeader(options: { colour?: boolean; artifacts?: boolean } = {}): string {
  return style(options.colour).bold(`${(options.artifacts ? 'FILE' : 'PATH').padEnd(PATH_WIDTH)} ${'OFFSET'.padEnd(10)} ${'RULE:STRING'.padEnd(20)} MATCH`) + '\n';
}

/** One match: the file, the offset in it (hex), the rule and string id, the matched bytes escaped (\xNN). */
export function fileMatchLine(m: FileMatch, options: { colour?: boolean } = {}): string {
  const s = style(options.colour);
  const esc = escapeBytes(m.bytes);
  return `${safe(m.path).padEnd(PATH_WIDTH)} ${`0x${m.offset.toString(16)}`.padEnd(10)} ${safe(String(m.tag)).padEnd(20)} ${options.colour ? s.red(s.bold(esc)) : esc}\n`;
}

/** A match in a file of the diff as JSON: rule, string id, path, offset, and the bytes (printable, escaped, hex). */
export function fileMatchJson(m: FileMatch): Record<string, unknown> {
  const { rule, stringId } = splitTag(m.tag);
  return { rule, string_id: stringId, path: m.path, offset: m.offset, length: m.length, match: printable(m.bytes), match_escaped: escapeBytes(m.bytes), match_hex: toHex(m.bytes) };
}

/** A match in a recovered artifact as JSON: the file written (relative to the output directory), what it is, who held it, and the match. */
export function artifactMatchJson(m: ArtifactMatch): Record<string, unknown> {
  const { rule, stringId } = splitTag(m.tag);
  const a = m.artifact;
  return {
    rule,
    string_id: stringId,
    file: m.path,
    kind: a.kind,
    pid: a.pid,
    fd: a.fd,
    path: a.path,
    offset: m.offset,
    length: m.length,
    match: printable(m.bytes),
    match_escaped: escapeBytes(m.bytes),
    match_hex: toHex(m.bytes),
  };
}
