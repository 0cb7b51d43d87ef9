/**
 * JSON view of `ckpt inspect --format json`: one object per checkpoint in an array, with
 * checkpointctl's field names (container_name, image, id, runtime, created, checkpointed, engine,
 * ip, mac, checkpoint_size, statistics, metadata, process_tree, file_descriptors, sockets, mounts)
 * and their values in checkpointctl's form, plus ckpt's own fields (image_id, threads, state,
 * exit_code, credentials, argv, environment, deleted, peers, queued bytes, criu_mounts, …).
 * Pure: model objects in, a plain JSON value out.
 */
import type { Checkpoint } from '../model/checkpoint.js';
import type { CheckpointProblem, ContainerInfo, Credentials, NetworkInterface, OpenFile, Process, ProcessArguments, Socket } from '../model/types.js';
import type { ListEntry, ShowRow } from './table.js';
import { escapeBytes, jsonText, rfc3339 } from './format.js';
import { MAX_TREE_DEPTH, subtreeProcesses } from '../model/processes.js';
import type { ArtifactPreview } from '../model/evidence.js';
import { normaliseInspectOptions, type InspectInput, type InspectOptions } from './tree.js';

type J = Record<string, unknown>;

/** A member without a value is `null`: every key of the CLI's JSON is present (docs/cli.md). */
function clean<T extends J>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) (o as J)[k] = null;
  return o;
}

/** crit's byte counts as go-criu prints them (`16.0 KB`). */
function countBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let div = 1024;
  let exp = 0;
  for (let x = Math.floor(n / 1024); x >= 1024; x = Math.floor(x / 1024)) {
    div *= 1024;
    exp++;
  }
  return `${(n / div).toFixed(1)} ${'KMGTPE'[exp]}B`;
}

function psNode(p: Process, o: InspectOptions, args: Map<number, ProcessArguments> | undefined, depth = 0): J {
  const cut = depth + 1 >= MAX_TREE_DEPTH && p.children.length > 0;
  const a = args?.get(p.pid);
  let envMap: Record<string, string> | undefined;
  if (o.psTreeEnv && a) {
    envMap = {};
    for (const e of a.environment) {
      const i = e.indexOf('=');
      if (i > 0) envMap[e.slice(0, i)] = e.slice(i + 1);
    }
  }
  return clean({
    pid: p.pid,
    command: p.comm,
    cmdline: o.psTreeCmd && a ? a.argv.join(' ') : undefined,
    task_state: p.taskState,
    environment_variables: envMap,
    // ckpt's own
    ppid: p.ppid,
    pgid: p.pgid,
    sid: p.sid,
    state: p.state,
    exit_code: p.exitCode,
    exit_status: p.exitStatus,
    exit_signal: p.exitSignal,
    stop_signal: p.stopSignal,
    threads: p.threads.map((t) => clean({ tid: t.tid, comm: t.comm, credentials: credentialsJson(t.credentials), seccomp: t.seccomp })),
    credentials: credentialsJson(p.credentials),
    seccomp: p.seccomp,
    exe: p.exe,
    cwd: p.cwd,
    root: p.root,
    argv: o.psTreeCmd && a ? a.argv : undefined,
    environment: o.psTreeEnv && a ? a.environment : undefined,
    children: p.children.length && !cut ? p.children.map((c) => psNode(c, o, args, depth + 1)) : undefined,
    // a chain this deep is hostile or broken input: counted, not nested further
    children_not_shown: cut ? subtreeProcesses(p.children).length : undefined,
  });
}

/** Adds `preview`: the first bytes of a ghost file or queue, escaped (`\xNN`), with direction and whole size. */
function withPreview(node: J, previews: ArtifactPreview[] | undefined): J {
  if (previews?.length) node.preview = previews.map((p) => ({ direction: p.direction ?? 'content', size: p.size, data: escapeBytes(p.bytes), truncated: p.bytes.length < p.size }));
  return node;
}

function fileNode(f: OpenFile): J {
  return clean({
    type: f.type,
    fd: `${f.type} ${f.fd}`,
    path: f.path,
    // ckpt's own
    fd_number: f.fd,
    flags: f.flags,
    cloexec: f.cloexec,
    pos: f.pos,
    size: f.size,
    deleted: f.deleted,
    pipe_id: f.pipeId,
    peers: f.peers,
    queued: f.queued,
    details: f.details,
  });
}

function socketNode(sk: Socket): J {
  const data: J =
    sk.kind === 'unix'
      ? { type: 'UNIX', address: sk.path }
      : sk.kind === 'inet'
        ? {
            type: sk.protocol,
            state: sk.state,
            src: sk.local?.address,
            src_port: sk.local?.port,
            dst: sk.remote?.address ?? (sk.family === 'IPv6' ? '::' : '0.0.0.0'),
            dst_port: sk.remote?.port ?? 0,
            send_buf: countBytes(sk.sendBuffer),
            recv_buf: countBytes(sk.receiveBuffer),
          }
        : { send_buf: countBytes(sk.sendBuffer), recv_buf: countBytes(sk.receiveBuffer) };
  Object.assign(data, {
    // ckpt's own
    fd: sk.fd,
    ino: sk.ino,
    family: sk.family,
    socket_type: sk.type,
    state: sk.state,
    peer: sk.peer,
    send_buffer: sk.sendBuffer,
    receive_buffer: sk.receiveBuffer,
    queued_in: sk.queued.in,
    queued_out: sk.queued.out,
    backlog: sk.backlog,
    v6only: sk.v6only,
    shutdown: sk.shutdown,
    protocol: sk.kind === 'netlink' || sk.kind === 'packet' ? sk.protocol : undefined,
    portid: sk.portid,
    groups: sk.groups,
    ifindex: sk.ifindex,
  });
  return clean({ protocol: sk.kind === 'unix' ? undefined : sk.kind === 'inet' ? sk.protocol : sk.kind.toUpperCase(), data: clean(data) });
}

/** checkpointctl's `networks`: [{name, interfaces: {eth0: {ip, mac, gateway}}}], addresses with their prefix length. */
function networks(ifs: NetworkInterface[]): J[] {
  const byName = new Map<string, Record<string, J>>();
  for (const i of ifs) {
    const name = i.network ?? '';
    const m = byName.get(name) ?? {};
    m[i.name] = clean({ ip: i.addresses.join(', ') || undefined, mac: i.mac, gateway: i.gateways.join(', ') || undefined });
    byName.set(name, m);
  }
  return [...byName].map(([name, interfaces]) => ({ name, interfaces }));
}

function pidsOf(roots: Process[]): Set<number> {
  return new Set(subtreeProcesses(roots).map((p) => p.pid));
}

/** The JSON object of one checkpoint. */
export function inspectObject(input: InspectInput, options: InspectOptions): J {
  const o = normaliseInspectOptions(input.pid !== undefined ? { ...options, pid: input.pid } : options);
  const ck: Checkpoint = input.checkpoint;
  const c = ck.container;
  const sz = ck.sizes;
  const ips = c.network.interfaces.flatMap((i) => i.addresses.map((a) => a.replace(/\/\d+$/, '')));
  const macs = c.network.interfaces.map((i) => i.mac).filter((m): m is string => !!m);
  const node: J = {
    container_name: c.name ?? '',
    image: c.image.name ?? '',
    id: c.id ?? '',
    runtime: c.runtime ?? '',
    created: rfc3339(c.created),
    checkpointed: c.checkpointed ? rfc3339(c.checkpointed) : undefined,
    engine: c.engine,
    // several networks: joined, as checkpointctl does
    ip: ips.length ? ips.join(', ') : undefined,
    mac: macs.length ? macs.join(', ') : undefined,
    networks: c.network.interfaces.length ? networks(c.network.interfaces) : undefined,
    checkpoint_size: clean({
      total_size: sz.total,
      memory_pages_size: sz.memoryPages || undefined,
      amd_gpu_memory_pages_size: sz.amdGpuMemoryPages || undefined,
      root_fs_diff_size: sz.rootFsDiff || undefined,
    }),
    // ckpt's own
    image_id: c.image.id,
    image_ref: c.image.ref,
    hostname: c.hostname,
  };
  if (o.stats) node.statistics = ck.statistics;
  if (o.metadata) {
    node.metadata = clean({
      archive_sha256: input.archiveSha256 ?? undefined,
      pod_name: c.pod,
      kubernetes_namespace: c.namespace,
      annotations: Object.keys(c.annotations).length ? c.annotations : undefined,
      expanded_annotations: Object.keys(c.expandedAnnotations).length ? c.expandedAnnotations : undefined,
      deleted_files: c.deletedFiles.length ? c.deletedFiles : undefined,
    });
  }
  const needTasks = o.psTree || o.files || o.sockets;
  const roots = needTasks ? (ck.subtree(o.pid) ?? []) : [];
  const pids = pidsOf(roots);
  const procs = needTasks ? ck.processes.filter((p) => pids.has(p.pid)) : [];
  if (o.psTree) node.process_tree = roots.length === 1 ? psNode(roots[0]!, o, input.arguments) : roots.map((r) => psNode(r, o, input.arguments));
  if (o.files) {
    node.file_descriptors = procs
      .filter((p) => p.files.length || p.cwd !== undefined || p.root !== undefined)
      .map((p) => ({
        pid: p.pid,
        open_files: [
          ...p.files.map((f) => withPreview(fileNode(f), f.socket ? undefined : input.previews?.get(`${p.pid}:${f.fd}`))),
          ...(p.cwd !== undefined ? [{ type: '', fd: 'cwd', path: p.cwd }] : []),
          ...(p.root !== undefined ? [{ type: '', fd: 'root', path: p.root }] : []),
        ],
      }));
  }
  if (o.sockets) {
    node.sockets = procs
      .map((p) => ({ pid: p.pid, open_sockets: p.files.filter((f) => f.socket).map((f) => withPreview(socketNode(f.socket!), input.previews?.get(`${p.pid}:${f.fd}`))) }))
      .filter((x) => x.open_sockets.length > 0);
  }
  if (o.mounts) {
    node.mounts = ck.mounts.spec.map((m) => ({ destination: m.destination, type: m.type, source: m.source, options: m.options }));
    node.criu_mounts = ck.mounts.criu.map((m) => renameKeys(m, { mntId: 'mnt_id', parentMntId: 'parent_mnt_id' }));
  }
  // last, so that every part above has had its say: what is missing or damaged
  node.problems = problemsJson(ck.problems);
  return clean(node);
}

/** `ckpt inspect --format json`: an array with one object per checkpoint, indented by two spaces. */
export function inspectJson(inputs: InspectInput[], options: InspectOptions): string {
  return jsonText(
    inputs.map((i) => inspectObject(i, options)),
    2,
  ) + '\n';
}

/** A value or null: the CLI's JSON has every key, null where there is no value. */
const orNull = <T>(v: T | undefined): T | null => (v === undefined || v === '' ? null : v);

/**
 * An object with some keys renamed, in the same order (the library's camelCase names as
 * checkpointctl and CRIU spell them in the CLI's JSON).
 */
function renameKeys<T extends object>(o: T, names: Partial<Record<keyof T, string>>): J {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[(names as Record<string, string | undefined>)[k] ?? k] = v;
  return out as J;
}

/** Credentials as JSON: the kernel's names (no_new_privs, lsm_profile). */
function credentialsJson(c: Credentials | undefined): J | undefined {
  return c && renameKeys(c, { noNewPrivs: 'no_new_privs', lsmProfile: 'lsm_profile' });
}

/** The missing or damaged parts of a checkpoint, as JSON (`problems` of every command's JSON). */
export function problemsJson(problems: readonly CheckpointProblem[]): J[] {
  return problems.map((p) => ({ kind: p.kind, file: p.file, offset: p.offset, message: p.message }));
}

function containerSummary(c: ContainerInfo): J {
  const ips = c.network.interfaces.flatMap((i) => i.addresses.map((a) => a.replace(/\/\d+$/, '')));
  const macs = c.network.interfaces.map((i) => i.mac).filter((m): m is string => !!m);
  return {
    container_name: orNull(c.name),
    image: orNull(c.image.name),
    id: orNull(c.id),
    runtime: orNull(c.runtime),
    created: orNull(c.created ? rfc3339(c.created) : undefined),
    checkpointed: orNull(c.checkpointed ? rfc3339(c.checkpointed) : undefined),
    engine: c.engine,
    ip: ips.length ? ips.join(', ') : null,
    mac: macs.length ? macs.join(', ') : null,
    pod_name: orNull(c.pod),
    kubernetes_namespace: orNull(c.namespace),
  };
}

/** `ckpt show --format json`: one object per checkpoint that could be read. */
export function showJson(rows: (ShowRow & { problems?: readonly CheckpointProblem[] })[]): string {
  return (
    jsonText(
      rows.map((r) => ({
        file: r.label,
        ...containerSummary(r.container),
        checkpoint_size: r.sizes.total,
        memory_pages_size: r.sizes.memoryPages,
        root_fs_diff_size: r.sizes.rootFsDiff,
      })),
      2,
    ) + '\n'
  );
}

/** `ckpt list --format json`: one object per checkpoint found, with its directory. */
export function listJson(groups: { directory: string; entries: ListEntry[] }[]): string {
  return jsonText(groups.flatMap((g) => g.entries.map((e) => ({ directory: g.directory, checkpoint_name: e.name, ...containerSummary(e.container) }))), 2) + '\n';
}
