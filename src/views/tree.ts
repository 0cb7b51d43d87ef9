/**
 * Tree views: a generic box-drawing tree renderer, and the `ckpt inspect` tree of a checkpoint
 * (laid out like checkpointctl's: container facts, sizes, statistics, metadata, process tree with
 * files, sockets and environment, mounts). Pure: model objects in, a string out.
 */
import type { Checkpoint } from '../model/checkpoint.js';
import type { OpenFile, Process, ProcessArguments, Socket } from '../model/types.js';
import type { InspectInput, InspectParts } from '../model/inspect-input.js';
import { byteSize, duration, escapeBytes, hostPort, rfc3339, safe, style, type Style } from './format.js';
import { MAX_TREE_DEPTH, subtreeProcesses } from '../model/processes.js';
import type { ArtifactPreview } from '../model/evidence.js';

export interface TreeNode {
  text: string;
  children?: TreeNode[];
}

/** Renders a tree: the root's text, then its children with `├── `, `└── `, `│   `. */
export function renderTree(root: TreeNode): string {
  const lines: string[] = [root.text];
  const walk = (nodes: TreeNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${n.text}`);
      if (n.children?.length) walk(n.children, prefix + (last ? '    ' : '│   '));
    });
  };
  walk(root.children ?? [], '');
  return lines.join('\n') + '\n';
}

/** What `ckpt inspect` shows; with none set, only the container facts and sizes. */
export interface InspectOptions extends InspectParts {
  colour?: boolean;
}

export type { InspectInput };

/** Preview lines of the bytes an fd holds: `recv 24 B: "CKPT-…"` (escaped, at most the preview's length). */
function previewNodes(previews: Map<string, ArtifactPreview[]> | undefined, pid: number, fd: number): TreeNode[] | undefined {
  const list = previews?.get(`${pid}:${fd}`);
  if (!list?.length) return undefined;
  return list.map((p) => ({ text: `${p.kind === 'ghost' ? 'content' : (p.direction ?? 'data')} ${byteSize(p.size)}: "${escapeBytes(p.bytes, p.bytes.length < p.size)}"` }));
}

/** Options after implications: files, sockets, cmd, env and pid all imply the process tree. */
export function normaliseInspectOptions(o: InspectOptions): InspectOptions {
  const r = { ...o };
  if (r.files || r.sockets || r.psTreeCmd || r.psTreeEnv || r.pid !== undefined) r.psTree = true;
  return r;
}

const kv = (k: string, v: string): TreeNode => ({ text: `${k}: ${v}` });

export function containerNodes(ck: Checkpoint, s: Style): { name: string; nodes: TreeNode[] } {
  const c = ck.container;
  const nodes: TreeNode[] = [];
  // a bare CRIU dump has no container metadata: its empty lines are left out
  const bare = c.engine === 'CRIU';
  if (!bare || c.image.name) nodes.push(kv('Image', safe(c.image.name ?? '')));
  if (c.image.id) nodes.push(kv('Image ID', c.image.id));
  if (!bare || c.id) nodes.push(kv('ID', safe(c.id ?? '')));
  if (!bare || c.runtime) nodes.push(kv('Runtime', safe(c.runtime ?? '')));
  if (!bare || c.created) nodes.push(kv('Created', safe(rfc3339(c.created))));
  if (c.checkpointed) nodes.push(kv('Checkpointed', safe(rfc3339(c.checkpointed))));
  nodes.push(kv('Engine', c.engine));
  if (c.network.interfaces.length) {
    // one branch per interface: "network (interface)", then its addresses, MAC and gateways
    nodes.push({
      text: 'Network Interfaces',
      children: c.network.interfaces.map((i) => ({
        text: safe(i.network ? `${i.network} (${i.name})` : i.name),
        children: [
          ...i.addresses.map((a) => kv('IP', safe(a))),
          ...(i.mac ? [kv('MAC', safe(i.mac))] : []),
          ...i.gateways.map((g) => kv('Gateway', safe(g))),
        ],
      })),
    });
  }
  const sz = ck.sizes;
  const size: TreeNode = { text: `Checkpoint size: ${byteSize(sz.total)}`, children: [] };
  if (sz.memoryPages) size.children!.push({ text: `Memory pages size: ${byteSize(sz.memoryPages)}` });
  if (sz.amdGpuMemoryPages) size.children!.push({ text: `AMD GPU memory pages size: ${byteSize(sz.amdGpuMemoryPages)}` });
  nodes.push(size);
  if (sz.rootFsDiff) nodes.push({ text: `Root FS diff size: ${byteSize(sz.rootFsDiff)}` });
  return { name: s.bold(safe(c.name || 'Container')), nodes };
}

const STAT_LABELS: Record<string, [string, 'time' | 'count']> = {
  freezing_time: ['Freezing time', 'time'],
  frozen_time: ['Frozen time', 'time'],
  memdump_time: ['Memdump time', 'time'],
  memwrite_time: ['Memwrite time', 'time'],
  pages_scanned: ['Pages scanned', 'count'],
  pages_written: ['Pages written', 'count'],
  pages_skipped_parent: ['Pages skipped (in parent)', 'count'],
  pages_lazy: ['Pages lazy', 'count'],
  page_pipes: ['Page pipes', 'count'],
  page_pipe_bufs: ['Page pipe buffers', 'count'],
  shpages_scanned: ['Shared pages scanned', 'count'],
  shpages_skipped_parent: ['Shared pages skipped (in parent)', 'count'],
  shpages_written: ['Shared pages written', 'count'],
  irmap_resolve: ['Irmap resolve time', 'time'],
};

function statsNode(ck: Checkpoint): TreeNode {
  const st = ck.statistics;
  if (!st) return { text: 'CRIU dump statistics: none in the checkpoint' };
  const order = Object.keys(STAT_LABELS);
  const keys = [...order.filter((k) => k in st), ...Object.keys(st).filter((k) => !order.includes(k))];
  return {
    text: 'CRIU dump statistics',
    children: keys.map((k) => {
      const [label, kind] = STAT_LABELS[k] ?? [k, 'count'];
      return kv(label, kind === 'time' ? duration(st[k]!) : String(st[k]));
    }),
  };
}

function valueNodes(v: unknown): TreeNode[] {
  if (Array.isArray(v)) return v.map((x, i) => (x && typeof x === 'object' ? { text: `[${i}]:`, children: valueNodes(x) } : { text: `[${i}]: ${safe(String(x))}` }));
  if (v && typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => (x && typeof x === 'object' ? { text: `${safe(k)}:`, children: valueNodes(x) } : { text: `${safe(k)}: ${safe(String(x))}` }));
  return [{ text: safe(String(v)) }];
}

function metadataNode(ck: Checkpoint, archiveSha256?: string | null): TreeNode {
  const c = ck.container;
  const children: TreeNode[] = [];
  if (archiveSha256) children.push(kv('Archive SHA-256', archiveSha256));
  if (c.pod) children.push(kv('Pod name', safe(c.pod)));
  if (c.namespace) children.push(kv('Kubernetes namespace', safe(c.namespace)));
  if (c.hostname) children.push(kv('Hostname', safe(c.hostname)));
  const keys = Object.keys(c.annotations).sort();
  if (keys.length) {
    children.push({
      text: 'Annotations',
      children: keys.map((k) => (k in c.expandedAnnotations ? { text: safe(k), children: valueNodes(c.expandedAnnotations[k]) } : kv(safe(k), safe(c.annotations[k]!)))),
    });
  }
  if (c.deletedFiles.length) children.push({ text: 'Deleted files', children: c.deletedFiles.map((f) => ({ text: safe(f) })) });
  return children.length ? { text: 'Metadata', children } : { text: 'Metadata: none in the checkpoint' };
}

function stateTag(p: Process): string {
  switch (p.state) {
    case 'alive':
      return '';
    case 'zombie':
      return p.exitSignal ? ` (zombie, killed by ${p.exitSignal})` : ` (zombie, exit status ${p.exitStatus ?? '?'})`;
    case 'stopped':
      return p.stopSignal ? ` (stopped, ${p.stopSignal})` : ' (stopped)';
    default:
      return ` (${p.state})`;
  }
}

function credsText(p: Process): string | undefined {
  const c = p.credentials;
  if (!c) return undefined;
  const ids = c.uid === c.euid && c.uid === c.suid && c.uid === c.fsuid ? `uid ${c.uid}` : `uid ${c.uid}/${c.euid}/${c.suid}/${c.fsuid}`;
  const gids = c.gid === c.egid && c.gid === c.sgid && c.gid === c.fsgid ? `gid ${c.gid}` : `gid ${c.gid}/${c.egid}/${c.sgid}/${c.fsgid}`;
  const groups = c.groups.length ? `, groups ${c.groups.join(',')}` : '';
  return `${ids}, ${gids}${groups}, seccomp ${p.seccomp ?? 'unknown'}, no_new_privs ${c.noNewPrivs ? 'yes' : 'no'}`;
}

function credsNode(p: Process): TreeNode | undefined {
  const text = credsText(p);
  if (!text) return undefined;
  const caps = p.credentials!.capabilities;
  return {
    text: `Credentials: ${text}`,
    children: [
      kv('Effective capabilities', caps.effective.length ? caps.effective.join(', ') : 'none'),
      ...(caps.bounding.join() !== caps.effective.join() ? [kv('Bounding capabilities', caps.bounding.length ? caps.bounding.join(', ') : 'none')] : []),
      ...(caps.ambient.length ? [kv('Ambient capabilities', caps.ambient.join(', '))] : []),
    ],
  };
}

/** One line about a socket, for the open files list: `TCP LISTEN 127.0.0.1:7001`, `UNIX STREAM /tmp/x.sock`. */
function socketBrief(sk: Socket): string {
  if (sk.kind === 'inet') return `${sk.protocol} ${sk.state} ${hostPort(sk.local)}${sk.remote ? ` -> ${hostPort(sk.remote)}` : ''}`;
  if (sk.kind === 'unix') return `UNIX ${sk.type} ${sk.state} ${sk.path ? safe(sk.path) : '(unnamed)'}`;
  if (sk.kind === 'netlink') return `NETLINK ${sk.protocol}`;
  return `PACKET ${sk.protocol}`;
}

export function fileText(f: OpenFile, s: Style): string {
  const parts: string[] = [safe(f.path)];
  if (f.socket) parts.push(socketBrief(f.socket));
  if (f.deleted) parts.push(s.red('(deleted)'));
  if (f.flags) parts.push(f.flags);
  if (f.pos !== undefined && (f.type === 'REG' || f.type === 'MEMFD')) parts.push(`pos ${f.pos}`);
  if (f.size !== undefined) parts.push(`size ${f.size}`);
  if (f.peers?.length) parts.push(`peers ${f.peers.map((p) => `${p.pid}:${p.fd}`).join(' ')}`);
  if (f.queued) parts.push(`${f.queued} bytes queued`);
  if (f.details) {
    for (const [k, v] of Object.entries(f.details)) parts.push(`${k} ${Array.isArray(v) ? `[${v.map((x) => safe(String(x))).join('; ')}]` : safe(String(v))}`);
  }
  return parts.join('  ');
}

export function socketMeta(sk: Socket): string {
  if (sk.kind === 'inet') return sk.protocol === 'TCP' ? `TCP (${sk.state}) fd ${sk.fd}` : `${sk.protocol} fd ${sk.fd}`;
  if (sk.kind === 'unix') return `UNIX (${sk.type}) fd ${sk.fd}`;
  if (sk.kind === 'packet') return `PACKET (${sk.type}) fd ${sk.fd}`;
  return `NETLINK (${sk.protocol}) fd ${sk.fd}`;
}

export function socketText(sk: Socket): string {
  const bufs = `↑ ${byteSize(sk.sendBuffer)} ↓ ${byteSize(sk.receiveBuffer)}`;
  const queued = sk.queued.in || sk.queued.out ? `, queued ↓ ${sk.queued.in} B ↑ ${sk.queued.out} B` : '';
  if (sk.kind === 'inet') {
    const remote = sk.remote ? hostPort(sk.remote) : sk.local?.address.includes(':') ? '[::]:0' : '0.0.0.0:0';
    const state = sk.protocol === 'TCP' ? '' : ` ${sk.state}`;
    return `${hostPort(sk.local)} -> ${remote}${state} (${bufs}${queued})`;
  }
  if (sk.kind === 'unix') {
    const own = sk.path ? safe(sk.path) : '(unnamed)';
    let peer = '';
    if (sk.peer) {
      const where = sk.peer.pid >= 0 ? `pid ${sk.peer.pid} fd ${sk.peer.fd}` : `ino ${sk.peer.ino}, not in the checkpoint`;
      peer = ` -> ${sk.peer.name ? safe(sk.peer.name) : '(unnamed)'} (${where})`;
    }
    return `${own}${peer} ${sk.state} (${bufs}${queued})`;
  }
  if (sk.kind === 'netlink') return `port ${sk.portid}${sk.groups?.some((g) => g) ? ` groups ${sk.groups.join(',')}` : ''} (${bufs}${queued})`;
  return `${sk.protocol} ifindex ${sk.ifindex} (${bufs}${queued})`;
}

function processNode(p: Process, parent: Process | undefined, o: InspectOptions, args: Map<number, ProcessArguments> | undefined, s: Style, depth = 0, previews?: Map<string, ArtifactPreview[]>): TreeNode {
  const a = args?.get(p.pid);
  // with --ps-tree-cmd the command line replaces the name, as in checkpointctl; the name is kept
  // in parentheses when argv[0] does not end in it (argv can be rewritten by the process)
  let label = safe(p.comm);
  if (o.psTreeCmd && a && a.argv.length) {
    const base = (a.argv[0] ?? '').split('/').pop() ?? '';
    label = a.argv.map(safe).join(' ') + (base === p.comm ? '' : `  (${safe(p.comm)})`);
  }
  const children: TreeNode[] = [];
  const tag = stateTag(p);
  if (p.threads.length > 1) children.push({ text: 'Threads', children: p.threads.map((t) => ({ text: `[${t.tid}]  ${safe(t.comm ?? '')}` })) });
  if (!parent || credsText(parent) !== credsText(p) || JSON.stringify(parent.credentials?.capabilities) !== JSON.stringify(p.credentials?.capabilities)) {
    const cn = credsNode(p);
    if (cn) children.push(cn);
  }
  if (o.psTreeEnv && a && a.environment.length) children.push({ text: 'Environment variables', children: a.environment.map((e) => ({ text: safe(e) })) });
  if (o.files && (p.files.length || p.cwd || p.root)) {
    const files: TreeNode[] = p.files.map((f) => ({ text: `[${f.type} ${f.fd}]  ${fileText(f, s)}`, children: f.socket ? undefined : previewNodes(previews, p.pid, f.fd) }));
    if (p.cwd !== undefined) files.push({ text: `[cwd]  ${safe(p.cwd)}` });
    if (p.root !== undefined) files.push({ text: `[root]  ${safe(p.root)}` });
    children.push({ text: 'Open files', children: files });
  }
  if (o.sockets) {
    const sks = p.files.filter((f) => f.socket).map((f) => f.socket!);
    if (sks.length) children.push({ text: 'Open sockets', children: sks.map((sk) => ({ text: `[${socketMeta(sk)}]  ${socketText(sk)}`, children: previewNodes(previews, p.pid, sk.fd) })) });
  }
  if (depth + 1 >= MAX_TREE_DEPTH && p.children.length) {
    // a chain this deep is hostile or broken input: counted, not drawn
    children.push({ text: `… ${subtreeProcesses(p.children).length} more processes below, deeper than ${MAX_TREE_DEPTH} levels (not shown)` });
  } else for (const c of p.children) children.push(processNode(c, p, o, args, s, depth + 1, previews));
  return { text: `${s.cyan(`[${p.pid}${tag}]`)}  ${label}`, children };
}

function mountsNodes(ck: Checkpoint): TreeNode[] {
  const m = ck.mounts;
  const out: TreeNode[] = [];
  if (m.spec.length)
    out.push({
      text: 'Overview of mounts',
      children: m.spec.map((x) => ({ text: `Destination: ${safe(x.destination)}`, children: [kv('Type', safe(x.type)), kv('Source', safe(x.source))] })),
    });
  if (m.criu.length)
    out.push({
      text: 'CRIU mounts',
      children: m.criu.map((x) => ({
        text: `${safe(x.mountpoint)}  ${safe(x.type)}  ${safe(x.source)}${x.root !== '/' ? `  root ${safe(x.root)}` : ''}${x.external ? `  external ${safe(x.external)}` : ''}`,
      })),
    });
  return out;
}

/** The `ckpt inspect` tree of one checkpoint. Throws nothing; an unknown pid must be checked by the caller (Checkpoint.subtree). */
export function inspectTree(input: InspectInput, options: InspectOptions): string {
  const o = normaliseInspectOptions(options);
  const s = style(o.colour);
  const ck = input.checkpoint;
  const { name, nodes } = containerNodes(ck, s);
  if (o.stats) nodes.push(statsNode(ck));
  if (o.metadata) nodes.push(metadataNode(ck, input.archiveSha256));
  if (o.psTree) {
    const roots = ck.subtree(o.pid) ?? [];
    nodes.push({ text: 'Process tree', children: roots.map((r) => processNode(r, undefined, o, input.arguments, s, 0, input.previews)) });
  }
  if (o.mounts) nodes.push(...mountsNodes(ck));
  return `\nDisplaying container checkpoint tree view from ${safe(ck.label)}\n\n` + renderTree({ text: name, children: nodes });
}
