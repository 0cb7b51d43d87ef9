/**
 * Views of `ckpt memparse`: the per-process memory table, region headers of the dump, and search
 * matches as text lines or JSON values. Pure: model objects in, text or plain JSON values out.
 */
import type { MemoryMatch, MemoryRegion, MemoryRun, ProcessMaps, ProcessMemory, SharedMemoryObject } from '../model/memory/index.js';
import { renderTree, type TreeNode } from './tree.js';
import { byteSize, safe, style } from './format.js';
import { escapeBytes, printable, toHex } from './hexdump.js';
import { table } from './table.js';

export interface MemoryRow {
  pid: number;
  comm: string;
  privateBytes: number;
  sharedBytes: number;
}

/** A table row per process (pids in the order given). */
export function memoryRows(processes: ProcessMemory[], comm: (pid: number) => string | undefined): MemoryRow[] {
  return processes.map((p) => ({ pid: p.pid, comm: comm(p.pid) ?? '', privateBytes: p.privateBytes, sharedBytes: p.sharedBytes }));
}

function pages(bytes: number, pageSize: number): string {
  return `${byteSize(bytes)} (${bytes / pageSize} pages)`;
}

/** `ckpt memparse FILE`: PID, process name, private memory, shared memory (pages in the checkpoint). */
export function memoryTable(label: string, rows: MemoryRow[], pageSize: number, options: { colour?: boolean } = {}): string {
  const rowsText = rows.map((r) => [String(r.pid), safe(r.comm), pages(r.privateBytes, pageSize), pages(r.sharedBytes, pageSize)]);
  return `\nDisplaying processes memory sizes from ${safe(label)}\n\n${table(['PID', 'PROCESS NAME', 'PRIVATE MEMORY', 'SHARED MEMORY'], rowsText, options.colour)}`;
}

export function memoryTableJson(rows: MemoryRow[], pageSize: number): unknown {
  return rows.map((r) => ({ pid: r.pid, comm: r.comm, private_bytes: r.privateBytes, private_pages: r.privateBytes / pageSize, shared_bytes: r.sharedBytes, shared_pages: r.sharedBytes / pageSize }));
}

const hex = (a: bigint) => `0x${a.toString(16)}`;

/** What a region is, in one phrase: `heap`, `file /usr/lib/libc.so.6 @ 0x1000`, `memfd:name`, ... */
export function regionDescription(r: MemoryRegion): string {
  let d: string = r.label;
  if (r.path !== undefined && r.label === 'file') d += ` ${safe(r.path)} @ ${hex(r.offset ?? 0n)}`;
  else if (r.path !== undefined) d += ` ${safe(r.path)}`;
  if (r.shared?.kind === 'sysv shm') d += ` shmid ${r.shared.shmid}${r.shared.sysvKey !== undefined ? ` key ${hex(BigInt(r.shared.sysvKey))}` : ''}`;
  return d;
}

/** The header line of a region in the dump. */
export function regionHeader(r: MemoryRegion): string {
  return `${hex(r.start)}-${hex(r.end)} ${r.perms} ${regionDescription(r)} (${r.pagesPresent} of ${r.pages} pages in the checkpoint)\n`;
}

/** A run of addresses that is not in the checkpoint, in the dump. */
export function missingLine(run: MemoryRun, pageSize: number): string {
  const n = Number(run.end - run.start);
  const why = run.reason === 'in-parent' ? 'in the parent checkpoint, which is not here' : run.reason === 'lazy' ? 'lazy pages, not stored' : run.reason === 'damaged' ? 'lost: the archive is cut short or damaged before them' : run.reason === 'unmapped' ? 'not mapped' : 'not dumped';
  const size = n % pageSize === 0 ? (n === pageSize ? '1 page' : `${n / pageSize} pages`) : `${n} bytes`;
  return `${run.start.toString(16).padStart(16, '0')}  -- ${size} ${why} --\n`;
}

export function regionsJson(pid: number, regions: MemoryRegion[], state: string | null = null): unknown {
  return { pid, state, regions: regions.map(regionJson) };
}

function regionJson(r: MemoryRegion): Record<string, unknown> {
  return {
    start: hex(r.start),
    end: hex(r.end),
    perms: r.perms,
    label: r.label,
    path: r.path ?? null,
    offset: r.offset !== undefined ? hex(r.offset) : null,
    shared: r.shared ? objectJson(r.shared) : null,
    pages: r.pages,
    pages_present: r.pagesPresent,
  };
}

function objectJson(o: SharedMemoryObject): Record<string, unknown> {
  return { kind: o.kind, shmid: o.shmid, name: o.name ?? null, key: o.sysvKey ?? null };
}

/** Column layout of the text match lines. */
export function matchHeader(options: { colour?: boolean; rule?: boolean } = {}): string {
  const s = style(options.colour);
  return s.bold(`${'PID'.padEnd(7)} ${'ADDRESS'.padEnd(18)} ${'REGION'.padEnd(12)} ${options.rule ? 'RULE:STRING '.padEnd(20) + ' ' : ''}MATCH`) + '\n';
}

/**
 * One match as a text line: pid, address, region, and the match with its context (non-printable
 * bytes as `.`). With context and no colour the match is put in [brackets]; with colour it is
 * highlighted instead.
 */
export function matchLine(m: MemoryMatch, options: { colour?: boolean; comm?: string } = {}): string {
  const s = style(options.colour);
  const pid = m.pid === undefined ? '-' : String(m.pid);
  const addr = m.address === undefined ? `${m.object?.kind ?? ''}+${hex(m.objectOffset ?? 0n)}` : hex(m.address);
  const label = m.region ? regionDescription(m.region) : m.object ? `${m.object.kind}${m.object.name ? ` ${safe(m.object.name)}` : ''} (not mapped)` : m.label;
  const before = printable(m.before);
  const after = printable(m.after);
  const body = printable(m.match) + (m.truncated ? '…' : '');
  const hasContext = m.before.length > 0 || m.after.length > 0;
  const text = options.colour ? `${s.dim(before)}${s.red(s.bold(body))}${s.dim(after)}` : hasContext ? `${before}[${body}]${after}` : body;
  // a YARA match: the rule and string id, and the bytes escaped (\xNN) rather than dotted
  if (typeof m.tag === 'string') {
    const esc = escapeBytes(m.match) + (m.truncated ? '…' : '');
    return `${pid.padEnd(7)} ${addr.padEnd(18)} ${label.padEnd(12)} ${safe(m.tag).padEnd(20)} ${options.colour ? s.red(s.bold(esc)) : esc}\n`;
  }
  return `${pid.padEnd(7)} ${addr.padEnd(18)} ${label.padEnd(12)} ${text}\n`;
}

/**
 * One match as a JSON value: every key present (null where the match has no value, e.g. a memfd
 * match has no pid). A YARA match adds `rule`, `string_id` and `match_escaped`; a match of an
 * indicator list adds `indicator` (the literal) and `indicator_line`.
 */
export function matchJson(m: MemoryMatch, comm?: string, indicator?: { text: string; line: number }): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (typeof m.tag === 'string') {
    const colon = m.tag.indexOf(':');
    o.rule = m.tag.slice(0, colon);
    o.string_id = m.tag.slice(colon + 1);
  }
  if (indicator) {
    o.indicator = indicator.text;
    o.indicator_line = indicator.line;
  }
  Object.assign(o, {
    pid: m.pid ?? null,
    comm: comm ?? null,
    address: m.address !== undefined ? hex(m.address) : null,
    region: m.label,
    region_start: m.region ? hex(m.region.start) : null,
    region_end: m.region ? hex(m.region.end) : null,
    path: m.region?.path ?? null,
    shared: m.object ? objectJson(m.object) : null,
    object_offset: m.object ? hex(m.objectOffset ?? 0n) : null,
    pages_file: m.file,
    pages_file_offset: m.fileOffset,
    length: m.match.length,
    truncated: Boolean(m.truncated),
    match: printable(m.match),
  });
  if (typeof m.tag === 'string') o.match_escaped = escapeBytes(m.match);
  Object.assign(o, {
    match_hex: toHex(m.match),
    before: printable(m.before),
    after: printable(m.after),
    before_hex: toHex(m.before),
    after_hex: toHex(m.after),
  });
  return o;
}

/** `memparse --maps`: one row per region, like /proc/PID/maps plus the pages in the checkpoint (aligned columns, no borders: easy to grep). */
export function mapsTable(maps: ProcessMaps[], options: { colour?: boolean } = {}): string {
  const s = style(options.colour);
  const head = ['PID', 'START', 'END', 'PERMS', 'OFFSET', 'PRESENT', 'ABSENT', 'BACKING'];
  const rows: string[][] = [];
  for (const p of maps) {
    for (const e of p.entries) rows.push([String(p.pid), hex(e.region.start), hex(e.region.end), e.region.perms, hex(e.offset), String(e.pagesPresent), String(e.pagesAbsent), safe(e.backing)]);
  }
  if (rows.length === 0) return 'No memory regions match.\n';
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([5, 6]);
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : right.has(i) ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return s.bold(line(head)) + '\n' + rows.map(line).join('\n') + '\n';
}

/** `memparse --maps --format tree`: a node per process, a line per region. */
export function mapsTree(label: string, maps: ProcessMaps[]): string {
  const root: TreeNode = { text: `Memory maps of ${safe(label)}`, children: [] };
  for (const p of maps) {
    root.children!.push({
      text: `${p.pid}${p.comm !== undefined ? ` ${safe(p.comm)}` : ''} (${p.entries.length} regions)`,
      children: p.entries.map((e) => ({
        text: `${hex(e.region.start)}-${hex(e.region.end)} ${e.region.perms} ${hex(e.offset)} ${e.pagesPresent}/${e.region.pages} pages${e.backing ? ` ${safe(e.backing)}` : ''}`,
      })),
    });
  }
  return renderTree(root);
}

/** `memparse --maps --format json`: a value per process, every field present (null when it has no value). */
export function mapsJson(maps: ProcessMaps[]): unknown {
  return maps.map((p) => ({
    pid: p.pid,
    comm: p.comm ?? null,
    regions: p.entries.map((e) => ({
      start: hex(e.region.start),
      end: hex(e.region.end),
      perms: e.region.perms,
      offset: hex(e.offset),
      kind: e.region.label,
      backing: e.backing === '' ? null : e.backing,
      path: e.region.path ?? null,
      deleted: e.region.deleted === true,
      memfd: e.region.label === 'memfd' ? (e.region.shared?.name ?? e.region.path?.replace(/^memfd:/, '') ?? null) : null,
      shmid: e.region.shared?.kind === 'sysv shm' ? e.region.shared.shmid : null,
      pages: e.region.pages,
      pages_present: e.pagesPresent,
      pages_absent: e.pagesAbsent,
    })),
  }));
}
