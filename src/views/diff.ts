/**
 * Views of `ckpt diff`: the text report (laid out like checkpointctl's: a header box, checkpoint
 * facts, then one boxed section per kind of change, and a summary) and the JSON object
 * (checkpointctl's field names where it has them, ckpt's own in camelCase). Pure: a
 * CheckpointDiff in, a string or a plain JSON value out.
 */
import type { CheckpointDiff, FieldChange, FileChange, MountChange, ProcessChange, RegionChange, SocketChange } from '../model/diff.js';
import type { Socket } from '../model/types.js';
import { byteSize, hostPort, jsonText, safe, style, type Style } from './format.js';

export interface DiffViewOptions {
  /** Command lines of processes (and command-line changes). */
  psTreeCmd?: boolean;
  /** Environment changes of processes. */
  psTreeEnv?: boolean;
  files?: boolean;
  sockets?: boolean;
  /** Also list what did not change. */
  showUnchanged?: boolean;
  colour?: boolean;
}

const MARK: Record<string, string> = { added: '+', removed: '-', changed: '~', unchanged: '=' };

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

function value(v: FieldChange['before']): string {
  return v === null ? '(none)' : safe(String(v));
}

function fieldText(c: FieldChange): string {
  if (c.added || c.removed) {
    const parts = [...(c.added ?? []).map((x) => `+${safe(x)}`), ...(c.removed ?? []).map((x) => `-${safe(x)}`)];
    return `${c.field}: ${parts.join(' ')}`;
  }
  return `${c.field}: ${value(c.before)} -> ${value(c.after)}`;
}

function box(title: string, lines: string[], width = 62): string {
  const head = `┌─ ${title} ${'─'.repeat(Math.max(1, width - title.length - 3))}┐`;
  const body = lines.map((l) => `│ ${l}`);
  return [head, ...body, `└${'─'.repeat(width)}┘`].join('\n') + '\n';
}

function processName(p: ProcessChange, o: DiffViewOptions): string {
  return o.psTreeCmd && p.argv ? safe(p.argv.join(' ')) : safe(p.comm);
}

function processLines(d: CheckpointDiff, o: DiffViewOptions, s: Style): string[] {
  const lines: string[] = [];
  const groups: [string, ProcessChange[]][] = [
    ['Added', d.processes.filter((p) => p.status === 'added')],
    ['Removed', d.processes.filter((p) => p.status === 'removed')],
    ['Modified', d.processes.filter((p) => p.status === 'changed')],
  ];
  if (o.showUnchanged) groups.push(['Unchanged', d.processes.filter((p) => p.status === 'unchanged')]);
  if (!groups.some(([, l]) => l.length)) return ['= No change'];
  for (const [title, list] of groups) {
    if (!list.length) continue;
    lines.push(`${title}:`);
    for (const p of list) {
      const m = MARK[p.status]!;
      const moved = p.pidBefore !== null && p.pidBefore !== p.pid ? ` (pid ${p.pidBefore} in A, matched by argv)` : '';
      const colour = p.status === 'added' ? s.green : p.status === 'removed' ? s.red : p.status === 'changed' ? s.yellow : (x: string) => x;
      lines.push(colour(`  ${m} PID ${String(p.pid).padEnd(5)} ${processName(p, o)}${moved}`));
      for (const c of p.changes) if (c.field !== 'argv' || o.psTreeCmd) lines.push(`      ${fieldText(c)}`);
      for (const t of p.threads.added) lines.push(`      thread added: ${t.tid}${t.comm ? ` (${safe(t.comm)})` : ''}`);
      for (const t of p.threads.removed) lines.push(`      thread removed: ${t.tid}${t.comm ? ` (${safe(t.comm)})` : ''}`);
      if (o.psTreeEnv) {
        for (const e of p.environment.added) lines.push(`      env + ${safe(e)}`);
        for (const e of p.environment.removed) lines.push(`      env - ${safe(e)}`);
        for (const e of p.environment.changed) lines.push(`      env ~ ${safe(e.name)}: ${safe(e.before)} -> ${safe(e.after)}`);
      }
    }
  }
  return lines;
}

function fileLines(list: FileChange[], o: DiffViewOptions): string[] {
  const lines: string[] = [];
  const groups: [string, FileChange[]][] = [
    ['Added', list.filter((f) => f.status === 'added')],
    ['Removed', list.filter((f) => f.status === 'removed')],
    ['Modified', list.filter((f) => f.status === 'changed')],
  ];
  if (o.showUnchanged) groups.push(['Unchanged', list.filter((f) => f.status === 'unchanged')]);
  for (const [title, l] of groups) {
    if (!l.length) continue;
    lines.push(`${title}:`);
    for (const f of l) {
      lines.push(`  ${MARK[f.status]} PID ${String(f.pid).padEnd(5)} ${f.type.padEnd(8)} ${String(f.fd).padStart(3)} ${safe(f.path)}`);
      for (const c of f.changes) lines.push(`      ${fieldText(c)}`);
    }
  }
  return lines.length ? lines : ['= No change'];
}

function socketColumns(sk: Socket): { proto: string; state: string; local: string; peer: string } {
  const inet = sk.kind === 'inet';
  return {
    proto: sk.protocol ?? sk.family,
    state: sk.state ?? '-',
    local: inet ? hostPort(sk.local) : safe(sk.path || '@'),
    peer: inet ? (sk.remote && sk.remote.port ? hostPort(sk.remote) : '-') : '-',
  };
}

function socketLines(list: SocketChange[], o: DiffViewOptions): string[] {
  const shown = list.filter((x) => x.status !== 'unchanged' || o.showUnchanged);
  if (!shown.length) return ['= No change'];
  const lines = [`    ${'PID'.padEnd(5)} ${'FD'.padEnd(4)} ${'PROTO'.padEnd(5)} ${'STATE'.padEnd(12)} ${'LOCAL'.padEnd(21)} PEER`];
  const order = ['added', 'removed', 'changed', 'unchanged'];
  for (const st of order)
    for (const x of shown.filter((y) => y.status === st)) {
      const c = socketColumns(x.socket);
      lines.push(` ${MARK[x.status]}  ${String(x.socket.pid).padEnd(5)} ${String(x.socket.fd).padEnd(4)} ${c.proto.padEnd(5)} ${c.state.padEnd(12)} ${c.local.padEnd(21)} ${c.peer}`);
      for (const ch of x.changes) lines.push(`      ${fieldText(ch)}`);
    }
  return lines;
}

function regionLine(r: RegionChange): string {
  const where = `${hex(r.start)}-${hex(r.end)} ${r.perms} ${r.label}${r.path ? ` ${safe(r.path)}` : ''}`;
  return `  ${MARK[r.status]} PID ${String(r.pid).padEnd(5)} ${where}`;
}

function memoryLines(d: CheckpointDiff, o: DiffViewOptions): string[] {
  const m = d.memory;
  const lines: string[] = [];
  const mb = m.sizeChange / 1024 / 1024;
  if (m.sizeChange > 0) lines.push(`↑ Increased by ${mb.toFixed(2)} MB`);
  else if (m.sizeChange < 0) lines.push(`↓ Decreased by ${(-mb).toFixed(2)} MB`);
  const regions = m.regions.filter((r) => r.status !== 'unchanged' || o.showUnchanged);
  if (m.sizeChange === 0 && !m.regions.some((r) => r.status !== 'unchanged')) lines.push('= No change');
  lines.push(`Pages compared: ${m.pagesCompared}, changed: ${m.pagesChanged} (${byteSize(m.bytesChanged)})`);
  for (const r of regions) {
    lines.push(regionLine(r));
    if (r.endBefore !== null) lines.push(`      resized: ${hex(r.start)}-${hex(r.endBefore)} -> ${hex(r.start)}-${hex(r.end)}`);
    for (const c of r.changes) if (!(r.endBefore !== null && c.field === 'end')) lines.push(`      ${fieldText(c)}`);
    if (r.status === 'added' || r.status === 'removed') {
      const n = r.status === 'added' ? r.pagesPresentAfter : r.pagesPresentBefore;
      lines.push(`      ${byteSize(Number(r.end - r.start))}, ${n} pages in the checkpoint`);
    }
    for (const p of r.pages) lines.push(`      ${p.kind} ${hex(p.start)}-${hex(p.end)}  ${p.pages} page${p.pages === 1 ? '' : 's'}, ${byteSize(p.bytes)}`);
  }
  return lines;
}

function mountLines(list: MountChange[], o: DiffViewOptions): string[] {
  const shown = list.filter((m) => m.status !== 'unchanged' || o.showUnchanged);
  if (!shown.length) return ['= No change'];
  const lines: string[] = [];
  for (const m of shown) {
    lines.push(`  ${MARK[m.status]} ${m.from.padEnd(4)} ${safe(m.mountpoint)}  ${safe(m.type)} ${safe(m.source)}`);
    for (const c of m.changes) lines.push(`      ${fieldText(c)}`);
  }
  return lines;
}

function rootfsLines(d: CheckpointDiff, o: DiffViewOptions): string[] {
  if (!d.rootfs) return ['(neither checkpoint has root file-system changes)'];
  const shown = d.rootfs.filter((r) => r.status !== 'unchanged' || o.showUnchanged);
  if (!shown.length) return ['= No change'];
  const lines: string[] = [];
  for (const r of shown) {
    lines.push(`  ${MARK[r.status]} ${safe(r.path)}  (${r.type})`);
    for (const c of r.changes) lines.push(`      ${fieldText(c)}`);
  }
  return lines;
}

function statLines(d: CheckpointDiff, o: DiffViewOptions): string[] {
  const shown = d.statistics.filter((x) => x.delta !== 0 || o.showUnchanged);
  if (!d.statistics.length) return ['(no dump statistics)'];
  if (!shown.length) return ['= No change'];
  return shown.map((x) => `${x.name}: ${x.before ?? '(none)'} -> ${x.after ?? '(none)'}${x.delta !== null ? ` (${x.delta >= 0 ? '+' : ''}${x.delta})` : ''}`);
}

/** The summary lines (checkpointctl's: `Processes: +A -R ~M`, `Files: +A -R`, `Sockets: +A -R`, `Memory: ±X MB`). */
export function diffSummary(d: CheckpointDiff, o: DiffViewOptions): string {
  const count = (l: { status: string }[], st: string) => l.filter((x) => x.status === st).length;
  let out = `Checkpoint comparison for container ${safe(d.b.containerName ?? d.a.containerName ?? '')}`;
  const pa = count(d.processes, 'added');
  const pr = count(d.processes, 'removed');
  const pm = count(d.processes, 'changed');
  if (pa || pr || pm) out += `\nProcesses: +${pa} -${pr} ~${pm}`;
  if (o.files) {
    const a = count(d.files, 'added');
    const r = count(d.files, 'removed');
    if (a || r) out += `\nFiles: +${a} -${r}`;
  }
  if (o.sockets) {
    const a = count(d.sockets, 'added');
    const r = count(d.sockets, 'removed');
    if (a || r) out += `\nSockets: +${a} -${r}`;
  }
  if (d.memory.sizeChange !== 0) out += `\nMemory: ${d.memory.sizeChange > 0 ? '+' : '-'}${(Math.abs(d.memory.sizeChange) / 1024 / 1024).toFixed(2)} MB`;
  if (d.memory.pagesChanged) out += `\nMemory pages changed: ${d.memory.pagesChanged} (${byteSize(d.memory.bytesChanged)})`;
  if (d.rootfs) {
    const a = count(d.rootfs, 'added');
    const r = count(d.rootfs, 'removed');
    const m = count(d.rootfs, 'changed');
    if (a || r || m) out += `\nRoot file system: +${a} -${r} ~${m}`;
  }
  return out;
}

/** The text report of `ckpt diff`. */
export function diffTree(d: CheckpointDiff, o: DiffViewOptions = {}): string {
  const s = style(o.colour);
  const pad = (t: string) => t.padEnd(51).slice(0, 51);
  let out = '';
  out += '╔════════════════════════════════════════════════════════════════╗\n';
  out += '║ Checkpoint Diff                                                ║\n';
  out += '╠════════════════════════════════════════════════════════════════╣\n';
  out += `║ Container: ${pad(safe(d.b.containerName ?? d.a.containerName ?? ''))} ║\n`;
  out += `║ Image:     ${pad(safe(d.b.image ?? d.a.image ?? ''))} ║\n`;
  out += `║ ID:        ${pad(safe(d.b.containerId ?? d.a.containerId ?? ''))} ║\n`;
  out += '╚════════════════════════════════════════════════════════════════╝\n\n';
  for (const [name, side] of [['A', d.a], ['B', d.b]] as const) {
    out += `Checkpoint ${name}: ${safe(side.label)}\n`;
    out += `  Created: ${side.checkpointed ?? side.created ?? ''}\n`;
    out += `  Size:    ${side.totalSize} bytes\n\n`;
  }
  if (!d.sameContainer) out += s.yellow(`Note: the checkpoints are of different containers (${safe(d.a.containerId ?? '?')} and ${safe(d.b.containerId ?? '?')})`) + '\n\n';
  out += box('Memory Changes', memoryLines(d, o));
  out += box('Process Tree', processLines(d, o, s));
  if (o.files) out += box('File Descriptor Changes', fileLines(d.files, o));
  if (o.sockets) out += box('Socket Changes', socketLines(d.sockets, o), 71);
  out += box('Mount Changes', mountLines(d.mounts, o));
  out += box('Root File System Changes', rootfsLines(d, o));
  out += box('Dump Statistics', statLines(d, o));
  out += `Summary:\n${diffSummary(d, o)}\n`;
  return out;
}

type J = Record<string, unknown>;

function changesJson(list: FieldChange[]): J[] {
  return list.map((c) => ({ field: c.field, before: c.before, after: c.after, added: c.added ?? null, removed: c.removed ?? null }));
}

function byStatus<T extends { status: string }>(list: T[], o: DiffViewOptions, f: (x: T) => J): J {
  const pick = (st: string) => list.filter((x) => x.status === st).map(f);
  return { added: pick('added'), removed: pick('removed'), modified: pick('changed'), unchanged: o.showUnchanged ? pick('unchanged') : [] };
}

function socketJson(x: SocketChange): J {
  const sk = x.socket;
  const inet = sk.kind === 'inet';
  return {
    pid: sk.pid,
    fd: sk.fd,
    protocol: sk.protocol ?? sk.family,
    type: sk.type,
    family: sk.family,
    address: inet ? null : (sk.path ?? null),
    state: sk.state ?? null,
    source: inet ? (sk.local?.address ?? null) : null,
    src_port: inet ? (sk.local?.port ?? null) : null,
    dest: inet ? (sk.remote?.address ?? null) : null,
    dst_port: inet ? (sk.remote?.port ?? null) : null,
    ino: sk.ino,
    queued: { in: sk.queued.in, out: sk.queued.out },
    changes: changesJson(x.changes),
  };
}

/** The JSON object of `ckpt diff --format json`. */
export function diffObject(d: CheckpointDiff, o: DiffViewOptions = {}): J {
  const sideJson = (x: CheckpointDiff['a']) => ({ created: x.checkpointed ?? x.created, total_size: x.totalSize, label: x.label, containerId: x.containerId, engine: x.engine, memoryPagesSize: x.memoryPagesSize, processes: x.processes });
  return {
    container_id: d.b.containerId ?? d.a.containerId,
    container_name: d.b.containerName ?? d.a.containerName,
    image: d.b.image ?? d.a.image,
    checkpoint_a: sideJson(d.a),
    checkpoint_b: sideJson(d.b),
    sameContainer: d.sameContainer,
    process_changes: byStatus(d.processes, o, (p) => ({
      pid: p.pid,
      command: p.comm,
      cmdline: o.psTreeCmd && p.argv ? p.argv.join(' ') : null,
      pidBefore: p.pidBefore,
      matchedBy: p.matchedBy,
      argv: p.argv,
      changes: changesJson(p.changes.filter((c) => c.field !== 'argv' || o.psTreeCmd)),
      environment: o.psTreeEnv ? p.environment : null,
      threads: { added: p.threads.added.map((t) => ({ tid: t.tid, comm: t.comm ?? null })), removed: p.threads.removed.map((t) => ({ tid: t.tid, comm: t.comm ?? null })) },
    })),
    file_changes: o.files ? byStatus(d.files, o, (f) => ({ path: f.path, type: f.type, pid: f.pid, fd: String(f.fd), changes: changesJson(f.changes) })) : null,
    memory_changes: {
      size_change_bytes: d.memory.sizeChange,
      size_change_mb: d.memory.sizeChange / 1024 / 1024,
      pageSize: d.memory.pageSize,
      pagesCompared: d.memory.pagesCompared,
      pagesChanged: d.memory.pagesChanged,
      bytesChanged: d.memory.bytesChanged,
      regions: d.memory.regions
        .filter((r) => r.status !== 'unchanged' || o.showUnchanged)
        .map((r) => ({
          status: r.status === 'changed' ? 'modified' : r.status,
          pid: r.pid,
          start: hex(r.start),
          end: hex(r.end),
          endBefore: r.endBefore === null ? null : hex(r.endBefore),
          perms: r.perms,
          label: r.label,
          path: r.path,
          changes: changesJson(r.changes),
          pages: r.pages.map((p) => ({ start: hex(p.start), end: hex(p.end), kind: p.kind, pages: p.pages, bytes: p.bytes })),
          pagesChanged: r.pagesChanged,
          bytesChanged: r.bytesChanged,
          pagesPresentBefore: r.pagesPresentBefore,
          pagesPresentAfter: r.pagesPresentAfter,
        })),
    },
    socket_changes: o.sockets ? byStatus(d.sockets, o, socketJson) : null,
    mount_changes: byStatus(d.mounts, o, (m) => ({ from: m.from, mountpoint: m.mountpoint, type: m.type, source: m.source, changes: changesJson(m.changes) })),
    rootfs_changes: d.rootfs ? byStatus(d.rootfs, o, (r) => ({ path: r.path, type: r.type, changes: changesJson(r.changes) })) : null,
    statistics_changes: d.statistics.filter((x) => x.delta !== 0 || o.showUnchanged).map((x) => ({ name: x.name, before: x.before, after: x.after, delta: x.delta })),
    summary: diffSummary(d, o),
  };
}

export function diffJson(d: CheckpointDiff, o: DiffViewOptions = {}): string {
  return jsonText(diffObject(d, o), 2) + '\n';
}
