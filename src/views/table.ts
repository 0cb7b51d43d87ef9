/**
 * Table views: `ckpt show` (one row per checkpoint) and `ckpt list` (checkpoints found in
 * directories), and the box-drawn table every table view uses. Pure: model objects in, a string out.
 */
import type { CheckpointSizes, ContainerInfo } from '../model/types.js';
import { byteSize, rfc3339, rfc822, safe, style } from './format.js';

export interface ShowRow {
  /** The path the checkpoint was read from. */
  label: string;
  container: ContainerInfo;
  sizes: CheckpointSizes;
  /** The archive's SHA-256, when asked for (`show --hash`); null for a directory. */
  sha256?: string | null;
}

/** `sha256sum` lines (`<hex>  <path>`) for the rows that have a hash, so that `sha256sum -c` can check them. */
export function hashLines(rows: readonly ShowRow[]): string {
  return rows
    .filter((r) => r.sha256 !== undefined)
    .map((r) => (r.sha256 === null ? `${'-'.repeat(64)}  ${safe(r.label)} (a directory: no archive hash)\n` : `${r.sha256}  ${safe(r.label)}\n`))
    .join('');
}

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;

/**
 * A box-drawn table (the layout cli-table3 gives by default: a line between rows, one space of
 * padding), in time linear in its size: a hostile checkpoint may have 50,000 processes.
 */
export function table(head: string[], rows: string[][], colour: boolean | undefined): string {
  const s = style(colour);
  const width = (t: string) => t.replace(SGR, '').length;
  const cols = Math.max(head.length, ...rows.map((r) => r.length));
  const w: number[] = [];
  for (let c = 0; c < cols; c++) w.push(Math.max(width(head[c] ?? ''), ...rows.map((r) => width(r[c] ?? ''))));
  const line = (l: string, m: string, r: string) => l + w.map((n) => '─'.repeat(n + 2)).join(m) + r + '\n';
  const row = (cells: string[]) => '│' + w.map((n, c) => ` ${cells[c] ?? ''}${' '.repeat(n - width(cells[c] ?? ''))} `).join('│') + '│\n';
  const parts = [line('┌', '┬', '┐'), row(head.map((h) => s.bold(h)))];
  for (const r of rows) parts.push(line('├', '┼', '┤'), row(r));
  parts.push(line('└', '┴', '┘'));
  return parts.join('');
}

/**
 * `ckpt show`: container, image, short ID, runtime, created, engine, IP/MAC when known, checkpoint
 * and root fs diff sizes. With one checkpoint, columns without a value are left out and the
 * table is preceded by the path it came from; with several, every column is shown (and, with
 * `fileColumn`, a first column FILE with the path of each).
 */
export function showTable(rows: ShowRow[], options: { colour?: boolean; fileColumn?: boolean } = {}): string {
  const head = ['CONTAINER', 'IMAGE', 'ID', 'RUNTIME', 'CREATED', 'ENGINE'];
  const ip = (c: ContainerInfo) => c.network.interfaces.flatMap((i) => i.addresses.map((a) => a.replace(/\/\d+$/, ''))).join(', ');
  const mac = (c: ContainerInfo) => c.network.interfaces.map((i) => i.mac).filter(Boolean).join(', ');
  const base = (r: ShowRow) => [
    safe(r.container.name ?? ''),
    safe(r.container.image.name ?? ''),
    safe((r.container.id ?? '').slice(0, 12)),
    safe(r.container.runtime ?? ''),
    safe(rfc3339(r.container.created)),
    r.container.engine,
  ];
  if (rows.length === 1) {
    const r = rows[0]!;
    const row = base(r);
    if (ip(r.container)) (head.push('IP'), row.push(safe(ip(r.container))));
    if (mac(r.container)) (head.push('MAC'), row.push(safe(mac(r.container))));
    head.push('CHKPT SIZE');
    row.push(byteSize(r.sizes.total));
    if (r.sizes.rootFsDiff) (head.push('ROOT FS DIFF SIZE'), row.push(byteSize(r.sizes.rootFsDiff)));
    return `\nDisplaying container checkpoint data from ${safe(r.label)}\n\n` + table(head, [row], options.colour);
  }
  head.push('IP', 'MAC', 'CHKPT SIZE', 'ROOT FS DIFF SIZE');
  if (options.fileColumn) head.unshift('FILE');
  return table(
    head,
    rows.map((r) => [...(options.fileColumn ? [safe(r.label)] : []), ...base(r), safe(ip(r.container)), safe(mac(r.container)), byteSize(r.sizes.total), byteSize(r.sizes.rootFsDiff)]),
    options.colour,
  );
}

export interface ListEntry {
  /** The checkpoint file's name (without directory). */
  name: string;
  container: ContainerInfo;
}

/** `ckpt list`: one table per directory, with namespace, pod, container, engine, time checkpointed and file name. */
export function listTable(groups: { directory: string; entries: ListEntry[] }[], options: { colour?: boolean } = {}): string {
  const withEntries = groups.filter((g) => g.entries.length > 0);
  if (withEntries.length === 0) return `No checkpoints found in ${groups.map((g) => safe(g.directory)).join(', ')}\n`;
  const rows: string[][] = [];
  let out = '';
  for (const g of withEntries) {
    out += `Listing checkpoints in path: ${safe(g.directory)}\n`;
    for (const e of g.entries) {
      const c = e.container;
      rows.push([safe(c.namespace ?? ''), safe(c.pod ?? ''), safe(c.name ?? ''), c.engine, safe(rfc822(c.checkpointed)), safe(e.name)]);
    }
  }
  return out + table(['NAMESPACE', 'POD', 'CONTAINER', 'ENGINE', 'TIME CHECKPOINTED', 'CHECKPOINT NAME'], rows, options.colour);
}
