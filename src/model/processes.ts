/**
 * Processes, threads, credentials, open files and sockets, joined from CRIU's images:
 * pstree.img (tree), core-<tid>.img (state, comm, creds, seccomp per thread), ids-<pid>.img
 * (files_id), fdinfo-<files_id>.img (fd → file id), files.img (the files), fs-<pid>.img
 * (cwd, root), mm-<pid>.img (exe), remap-fpath.img (deleted files), pipes-data.img,
 * sk-queues.img and tcp-stream-<ino>.img (queued bytes).
 */
import type { ImageSet } from './image-set.js';
import type {
  CoreEntry,
  CredsEntry,
  FdinfoEntry,
  FileEntry,
  FsEntry,
  InetSkEntry,
  MemfdInodeEntry,
  MmEntry,
  NetlinkSkEntry,
  PacketSockEntry,
  PipeDataEntry,
  PstreeEntry,
  RemapFilePathEntry,
  SkPacketEntry,
  TaskKobjIdsEntry,
  TcpStreamEntry,
  UnixSkEntry,
} from '../images/messages.js';
import {
  AF_INET,
  AF_INET6,
  capabilityMask,
  capabilityNames,
  decodeWaitStatus,
  ethProtocolName,
  familyName,
  fdTypeName,
  hex64,
  ipAddressText,
  ipProtocolName,
  netlinkProtocolName,
  openFlagsText,
  seccompModeName,
  signalName,
  socketStateName,
  socketTypeName,
  toNumber,
  unixName,
} from '../images/linux.js';
import type { Credentials, OpenFile, Peer, Process, ProcessState, Socket, Thread } from './types.js';

/**
 * CRIU's task_state → our state. CRIU dumps a zombie (exited, not yet reaped) as TASK_DEAD (2)
 * with its wait status in exit_code; no other task is dumped dead, so 2 is reported as a zombie.
 */
const TASK_STATES: Record<number, ProcessState> = { 1: 'alive', 2: 'zombie', 3: 'stopped', 6: 'zombie' };
/** CRIU's own names for task_state values (compel/criu task-state constants). */
const CRIU_TASK_STATES: Record<number, string> = { 1: 'alive', 2: 'dead', 3: 'stopped', 4: 'helper', 5: 'thread', 6: 'zombie' };
const REMAP_LINKED = 0;
const REMAP_GHOST = 1;
const CLOCKS: Record<number, string> = { 0: 'CLOCK_REALTIME', 1: 'CLOCK_MONOTONIC', 7: 'CLOCK_BOOTTIME', 8: 'CLOCK_REALTIME_ALARM', 9: 'CLOCK_BOOTTIME_ALARM' };

export interface TaskModel {
  /** Every process in pstree order. */
  processes: Process[];
  /** Processes whose parent is not in the checkpoint (normally one: the container's init). */
  roots: Process[];
  sockets: Socket[];
}

interface Holder {
  pid: number;
  fd: number;
}

function credentials(c: CredsEntry | undefined): Credentials | undefined {
  if (!c) return undefined;
  const set = (w: number[] | undefined) => w ?? [];
  return {
    uid: c.uid,
    euid: c.euid,
    suid: c.suid,
    fsuid: c.fsuid,
    gid: c.gid,
    egid: c.egid,
    sgid: c.sgid,
    fsgid: c.fsgid,
    groups: [...(c.groups ?? [])],
    capabilities: {
      effective: capabilityNames(set(c.cap_eff)),
      permitted: capabilityNames(set(c.cap_prm)),
      inheritable: capabilityNames(set(c.cap_inh)),
      bounding: capabilityNames(set(c.cap_bnd)),
      ambient: capabilityNames(set(c.cap_amb)),
      masks: {
        effective: hex64(capabilityMask(set(c.cap_eff))),
        permitted: hex64(capabilityMask(set(c.cap_prm))),
        inheritable: hex64(capabilityMask(set(c.cap_inh))),
        bounding: hex64(capabilityMask(set(c.cap_bnd))),
        ambient: hex64(capabilityMask(set(c.cap_amb))),
      },
    },
    noNewPrivs: (c.no_new_privs ?? 0) !== 0,
    secbits: c.secbits,
    lsmProfile: c.lsm_profile || undefined,
  };
}

/** Builds the process tree, files and sockets. Missing per-process images are tolerated (dead tasks have none). */
/** The files of the checkpoint by id, and what other images say about them. */
interface FileTables {
  files: Map<number, FileEntry>;
  remaps: Map<number, RemapFilePathEntry>;
  /** Bytes queued in each pipe, by pipe id. */
  pipeData: Map<number, number>;
  /** Bytes queued on each socket, by socket id. */
  skQueues: Map<number, number>;
  memfds: Map<number, MemfdInodeEntry>;
}

function readFileTables(images: ImageSet): FileTables {
  const files = new Map<number, FileEntry>();
  for (const f of images.imageEntries<FileEntry>('files.img')) files.set(f.id, f);
  // old CRIU: per-type images instead of files.img
  const legacy = (name: string, key: keyof FileEntry, type: number) => {
    for (const e of images.imageEntries<{ id: number }>(name)) if (!files.has(e.id)) files.set(e.id, { type, id: e.id, [key]: e } as unknown as FileEntry);
  };
  legacy('reg-files.img', 'reg', 1);
  legacy('pipes.img', 'pipe', 2);
  legacy('inetsk.img', 'isk', 4);
  legacy('unixsk.img', 'usk', 5);
  legacy('packetsk.img', 'psk', 10);
  legacy('netlinksk.img', 'nlsk', 13);

  const remaps = new Map<number, RemapFilePathEntry>();
  for (const r of images.imageEntries<RemapFilePathEntry>('remap-fpath.img')) remaps.set(r.orig_id & 0x7fffffff, r);
  const pipeData = new Map<number, number>();
  for (const p of images.imageEntries<PipeDataEntry>('pipes-data.img')) pipeData.set(p.pipe_id, (pipeData.get(p.pipe_id) ?? 0) + p.bytes);
  const skQueues = new Map<number, number>();
  for (const q of images.imageEntries<SkPacketEntry>('sk-queues.img')) skQueues.set(q.id_for, (skQueues.get(q.id_for) ?? 0) + q.length);
  const memfds = new Map<number, MemfdInodeEntry>();
  for (const m of images.imageEntries<MemfdInodeEntry>('memfd.img')) memfds.set(Number(m.inode_id), m);
  return { files, remaps, pipeData, skQueues, memfds };
}

/** One pstree entry with its core image and fd table. */
interface RawTask {
  entry: PstreeEntry;
  core?: CoreEntry;
  fdinfo: FdinfoEntry[];
}

/** Every process's fd table, and who holds which file (file id → holders). */
function readFdTables(images: ImageSet, pstree: PstreeEntry[]): { raws: RawTask[]; holders: Map<number, Holder[]> } {
  const raws: RawTask[] = [];
  const holders = new Map<number, Holder[]>();
  for (const entry of pstree) {
    const core = images.imageEntries<CoreEntry>(`core-${entry.pid}.img`)[0];
    const ids = core?.ids ?? images.imageEntries<TaskKobjIdsEntry>(`ids-${entry.pid}.img`)[0];
    const fdinfo = ids ? images.imageEntries<FdinfoEntry>(`fdinfo-${ids.files_id}.img`) : [];
    raws.push({ entry, core, fdinfo });
    for (const fi of fdinfo) {
      const list = holders.get(fi.id) ?? [];
      list.push({ pid: entry.pid, fd: fi.fd });
      holders.set(fi.id, list);
    }
  }
  return { raws, holders };
}

/** A process without its files: ids, name, state, credentials, seccomp, threads, cwd, root, exe. */
function describeProcess({ entry, core }: RawTask, images: ImageSet, tables: FileTables): Process {
  const files = tables.files;
  const tc = core?.tc;
  const state: ProcessState = tc ? (TASK_STATES[tc.task_state] ?? 'unknown') : 'unknown';
  const proc: Process = {
    pid: entry.pid,
    ppid: entry.ppid,
    pgid: entry.pgid,
    sid: entry.sid,
    comm: tc?.comm ?? core?.thread_core?.comm ?? '',
    state,
    taskState: tc ? (CRIU_TASK_STATES[tc.task_state] ?? String(tc.task_state)) : 'unknown',
    threads: [],
    files: [],
    children: [],
  };
  if (tc && state === 'zombie') {
    proc.exitCode = tc.exit_code;
    const w = decodeWaitStatus(tc.exit_code);
    if (w.signal !== undefined) proc.exitSignal = signalName(w.signal);
    else proc.exitStatus = w.status;
  }
  if (tc && state === 'stopped' && tc.stop_signo) proc.stopSignal = signalName(tc.stop_signo);

  const creds = core?.thread_core?.creds ?? images.imageEntries<CredsEntry>(`creds-${entry.pid}.img`)[0];
  proc.credentials = credentials(creds);
  // CRIU records seccomp_mode only when it is not 0 (disabled)
  const sm = core?.thread_core?.seccomp_mode ?? tc?.old_seccomp_mode ?? (core?.thread_core ? 0 : undefined);
  if (sm !== undefined) proc.seccomp = seccompModeName(sm);

  // CRIU does not fill the thread list of a dead (zombie) task: it holds garbage
  const tids = entry.threads.length > 0 && state !== 'zombie' ? entry.threads : [entry.pid];
  for (const tid of tids) {
    const tcore = tid === entry.pid ? core : images.imageEntries<CoreEntry>(`core-${tid}.img`)[0];
    const t: Thread = { tid, comm: tcore?.thread_core?.comm ?? (tid === entry.pid ? proc.comm : undefined) };
    if (tid !== entry.pid && tcore?.thread_core?.creds) {
      const tcred = credentials(tcore.thread_core.creds);
      // only when they differ from the main thread's (setuid in one thread, …)
      if (JSON.stringify(tcred) !== JSON.stringify(proc.credentials)) t.credentials = tcred;
    }
    const tsm = tcore?.thread_core?.seccomp_mode ?? (tcore?.thread_core ? 0 : undefined);
    if (tsm !== undefined) t.seccomp = seccompModeName(tsm);
    proc.threads.push(t);
  }
  // the main thread first
  proc.threads.sort((a, b) => (a.tid === entry.pid ? -1 : b.tid === entry.pid ? 1 : 0));

  const fs = images.imageEntries<FsEntry>(`fs-${entry.pid}.img`)[0];
  if (fs) {
    proc.cwd = regName(files.get(fs.cwd_id));
    proc.root = regName(files.get(fs.root_id));
  }
  const mm = images.imageEntries<MmEntry>(`mm-${entry.pid}.img`)[0];
  if (mm) {
    const exe = files.get(mm.exe_file_id);
    if (exe?.memfd) {
      const name = tables.memfds.get(exe.memfd.inode_id)?.name ?? '';
      proc.exe = name.startsWith('memfd:') ? name : `memfd:${name}`;
    } else proc.exe = regName(exe);
    if (exe?.reg && isRemapped(tables.remaps.get(exe.id))) proc.exeDeleted = true;
  }
  return proc;
}

/** Links processes into a tree (children by pid) and returns its roots; a parent cycle is cut. */
function linkTree(processes: Process[]): Process[] {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const roots: Process[] = [];
  for (const p of processes) {
    const parent = p.ppid !== 0 ? byPid.get(p.ppid) : undefined;
    if (parent && parent !== p) parent.children.push(p);
    else roots.push(p);
  }
  // malformed images can make a parent cycle (1 → 2 → 1): cut it, so the tree stays a tree
  // (iteratively: a parent chain may be thousands deep)
  const reached = new Set<Process>();
  const reach = (top: Process) => {
    const stack = [top];
    while (stack.length) {
      const p = stack.pop()!;
      if (reached.has(p)) continue;
      reached.add(p);
      for (const c of p.children) stack.push(c);
    }
  };
  roots.forEach(reach);
  for (const p of processes) {
    if (reached.has(p)) continue;
    const parent = byPid.get(p.ppid);
    if (parent) parent.children = parent.children.filter((c) => c !== p);
    roots.push(p);
    reach(p);
  }
  for (const p of processes) p.children.sort((a, b) => a.pid - b.pid);
  return roots;
}

export function buildTasks(images: ImageSet): TaskModel {
  const pstree = images.imageEntries<PstreeEntry>('pstree.img');
  const tables = readFileTables(images);
  const { files, remaps, pipeData, skQueues, memfds } = tables;
  const { raws, holders } = readFdTables(images, pstree);
  // pipes by pipe_id, unix sockets by inode
  const pipeHolders = new Map<number, Holder[]>();
  const unixByIno = new Map<number, FileEntry>();
  for (const f of files.values()) {
    if (f.pipe) pipeHolders.set(f.pipe.pipe_id, [...(pipeHolders.get(f.pipe.pipe_id) ?? []), ...(holders.get(f.id) ?? [])]);
    if (f.usk) unixByIno.set(f.usk.ino, f);
  }

  const sockets: Socket[] = [];
  const processes: Process[] = [];
  for (const raw of raws) {
    const proc = describeProcess(raw, images, tables);
    const pid = raw.entry.pid;
    for (const fi of [...raw.fdinfo].sort((a, b) => a.fd - b.fd)) {
      const f = files.get(fi.id);
      const of = describeFile(fi, f, { remaps, pipeData, pipeHolders, memfds, self: { pid, fd: fi.fd } });
      const sk = f ? socketOf(f, pid, fi.fd, images, skQueues, unixByIno, holders) : undefined;
      if (sk) {
        of.socket = sk;
        sockets.push(sk);
        if (sk.kind === 'unix' && sk.peer && sk.peer.pid >= 0) of.peers = [{ pid: sk.peer.pid, fd: sk.peer.fd, ino: sk.peer.ino, name: sk.peer.name }];
      }
      proc.files.push(of);
    }
    processes.push(proc);
  }
  return { processes, roots: linkTree(processes), sockets };
}

/**
 * The processes of the given subtrees, each before its children (pre-order), without recursion:
 * a parent chain may be thousands of processes deep.
 */
export function subtreeProcesses(roots: readonly Process[]): Process[] {
  const out: Process[] = [];
  const stack = roots.slice().reverse();
  const seen = new Set<Process>();
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    out.push(p);
    for (let i = p.children.length - 1; i >= 0; i--) stack.push(p.children[i]!);
  }
  return out;
}

/** How many levels of a process tree the views show; deeper processes are counted, not drawn. */
export const MAX_TREE_DEPTH = 100;

/** A ghost or linked remap: the file was deleted while open. */
function isRemapped(remap: RemapFilePathEntry | undefined): boolean {
  return remap !== undefined && (remap.remap_type === undefined || remap.remap_type === REMAP_GHOST || remap.remap_type === REMAP_LINKED);
}

function regName(f: FileEntry | undefined): string | undefined {
  return f?.reg?.name;
}

interface FileContext {
  remaps: Map<number, RemapFilePathEntry>;
  pipeData: Map<number, number>;
  pipeHolders: Map<number, Holder[]>;
  memfds: Map<number, MemfdInodeEntry>;
  self: Holder;
}

/** The payloads a files.img entry can carry, each with how it is shown (in CRIU's order of precedence). */
type FilePayload = 'reg' | 'pipe' | 'fifo' | 'memfd' | 'isk' | 'usk' | 'psk' | 'nlsk' | 'efd' | 'epfd' | 'sgfd' | 'tfd' | 'ify' | 'ffy' | 'nsf' | 'tty' | 'tunf' | 'ext' | 'bpf' | 'pidfd';

const FILE_DESCRIBERS: { [K in FilePayload]: (e: NonNullable<FileEntry[K]>, of: OpenFile, ctx: FileContext, f: FileEntry) => void } = {
  reg: (r, of, ctx, f) => {
    of.path = r.name;
    of.flags = openFlagsText(r.flags);
    of.pos = toNumber(r.pos);
    if (r.size !== undefined) of.size = toNumber(r.size);
    if (isRemapped(ctx.remaps.get(f.id))) of.deleted = true;
  },
  pipe: (p, of, ctx) => {
    of.path = `pipe[${p.pipe_id}]`;
    of.flags = openFlagsText(p.flags);
    of.pipeId = p.pipe_id;
    of.peers = (ctx.pipeHolders.get(p.pipe_id) ?? []).filter((h) => !(h.pid === ctx.self.pid && h.fd === ctx.self.fd)).map((h) => ({ pid: h.pid, fd: h.fd }));
    const q = ctx.pipeData.get(p.pipe_id);
    if (q) of.queued = q;
  },
  fifo: (p, of) => {
    of.path = `fifo[${p.pipe_id}]`;
    of.pipeId = p.pipe_id;
  },
  memfd: (mf, of, ctx) => {
    const m = ctx.memfds.get(mf.inode_id);
    const name = m?.name ?? '';
    of.path = name.startsWith('memfd:') ? name : `memfd:${name}`;
    of.flags = openFlagsText(mf.flags);
    of.pos = toNumber(mf.pos);
    if (m) of.size = toNumber(m.size);
  },
  isk: (k, of) => {
    of.path = `socket:[${k.ino}]`;
    of.flags = openFlagsText(k.flags);
  },
  usk: (k, of) => {
    of.path = `socket:[${k.ino}]`;
    of.flags = openFlagsText(k.flags);
  },
  psk: (k, of) => {
    of.path = `socket:[packet ${k.id}]`;
    of.flags = openFlagsText(k.flags);
  },
  nlsk: (k, of) => {
    of.path = `socket:[${k.ino}]`;
    of.flags = openFlagsText(k.flags);
  },
  efd: (e, of) => {
    of.path = 'anon_inode:[eventfd]';
    of.flags = openFlagsText(e.flags);
    of.details = { count: toNumber(e.counter) };
  },
  epfd: (e, of) => {
    of.path = 'anon_inode:[eventpoll]';
    of.flags = openFlagsText(e.flags);
    of.details = { targets: e.tfd.map((t) => `fd ${t.tfd} events 0x${t.events.toString(16)} data 0x${toNumber(t.data).toString(16)}`) };
  },
  sgfd: (e, of) => {
    of.path = 'anon_inode:[signalfd]';
    of.flags = openFlagsText(e.flags);
    const mask = toNumber(e.sigmask);
    const sigs: string[] = [];
    for (let s = 1; s <= 64; s++) if (Math.floor(mask / 2 ** (s - 1)) % 2 === 1) sigs.push(signalName(s));
    of.details = { sigmask: `0x${mask.toString(16)}`, signals: sigs };
  },
  tfd: (e, of) => {
    of.path = 'anon_inode:[timerfd]';
    of.flags = openFlagsText(e.flags);
    of.details = {
      clock: CLOCKS[e.clockid] ?? String(e.clockid),
      value_sec: toNumber(e.vsec),
      interval_sec: toNumber(e.isec),
      ticks: toNumber(e.ticks),
    };
  },
  ify: (e, of) => {
    of.path = 'anon_inode:inotify';
    of.flags = openFlagsText(e.flags);
    of.details = { watches: e.wd.map((w) => `wd ${w.wd} mask 0x${w.mask.toString(16)}${w.f_handle?.path ? ` ${w.f_handle.path}` : ''} ino ${toNumber(w.i_ino)}`) };
  },
  ffy: (e, of) => {
    of.path = 'anon_inode:[fanotify]';
    of.flags = openFlagsText(e.flags);
  },
  nsf: (e, of) => {
    of.path = `ns:[${e.ns_id}]`;
    of.flags = openFlagsText(e.flags);
  },
  tty: (e, of) => {
    of.path = `tty[${e.tty_info_id}]`;
    of.flags = openFlagsText(e.flags);
  },
  tunf: (e, of) => {
    of.path = `/dev/net/tun${e.netdev ? ` (${e.netdev})` : ''}`;
  },
  ext: (e, of) => {
    of.path = `ext[${e.id}]`;
  },
  bpf: (_e, of) => {
    of.path = 'anon_inode:bpf-map';
  },
  pidfd: (e, of) => {
    of.path = `anon_inode:[pidfd] pid ${e.nspid}`;
  },
};
const FILE_PAYLOADS = Object.keys(FILE_DESCRIBERS) as FilePayload[];

function describeFile(fi: FdinfoEntry, f: FileEntry | undefined, ctx: FileContext): OpenFile {
  const type = fdTypeName(fi.type);
  const of: OpenFile = { fd: fi.fd, fileId: fi.id, type, path: '', cloexec: (fi.flags & 1) !== 0 };
  if (!f) {
    of.path = `${type.toLowerCase()}:[${fi.id}]`;
    return of;
  }
  const payload = FILE_PAYLOADS.find((k) => f[k]);
  if (payload) (FILE_DESCRIBERS[payload] as (e: unknown, of: OpenFile, ctx: FileContext, f: FileEntry) => void)(f[payload], of, ctx, f);
  else of.path = `${type.toLowerCase()}:[${f.id}]`;
  return of;
}

const SHUTDOWN: Record<number, string> = { 0: 'NONE', 1: 'READ', 2: 'WRITE', 3: 'BOTH' };

function socketOf(
  f: FileEntry,
  pid: number,
  fd: number,
  images: ImageSet,
  skQueues: Map<number, number>,
  unixByIno: Map<number, FileEntry>,
  holders: Map<number, Holder[]>,
): Socket | undefined {
  if (f.isk) return inetSocket(f.isk, pid, fd, images, skQueues);
  if (f.usk) return unixSocket(f.usk, pid, fd, skQueues, unixByIno, holders);
  if (f.psk) return packetSocket(f.psk, pid, fd, skQueues);
  if (f.nlsk) return netlinkSocket(f.nlsk, pid, fd);
  return undefined;
}

function isZero(words: number[]): boolean {
  return words.every((w) => w === 0);
}

function inetSocket(s: InetSkEntry, pid: number, fd: number, images: ImageSet, skQueues: Map<number, number>): Socket {
  const family = s.family === AF_INET6 ? AF_INET6 : AF_INET;
  const sock: Socket = {
    kind: 'inet',
    pid,
    fd,
    ino: s.ino,
    family: familyName(s.family),
    type: socketTypeName(s.type),
    protocol: ipProtocolName(s.proto),
    state: socketStateName(s.state),
    local: { address: ipAddressText(s.src_addr.length ? s.src_addr : family === AF_INET ? [0] : [0, 0, 0, 0], family), port: s.src_port },
    sendBuffer: s.opts?.so_sndbuf ?? 0,
    receiveBuffer: s.opts?.so_rcvbuf ?? 0,
    queued: { in: 0, out: 0 },
  };
  if (s.dst_port !== 0 || (s.dst_addr.length > 0 && !isZero(s.dst_addr))) {
    sock.remote = { address: ipAddressText(s.dst_addr.length ? s.dst_addr : [0, 0, 0, 0], family), port: s.dst_port };
  }
  if (s.state === 10) sock.backlog = s.backlog;
  if (s.v6only !== undefined && s.family === AF_INET6) sock.v6only = s.v6only;
  if (s.shutdown) sock.shutdown = SHUTDOWN[s.shutdown];
  // TCP queues are in tcp-stream-<ino in hex>.img; datagram queues in sk-queues
  const ts =
    images.imageEntries<TcpStreamEntry>(`tcp-stream-${s.ino.toString(16)}.img`)[0] ?? images.imageEntries<TcpStreamEntry>(`tcp-stream-${s.ino}.img`)[0];
  if (ts) sock.queued = { in: ts.inq_len, out: ts.outq_len };
  else {
    const q = skQueues.get(s.id);
    if (q) sock.queued.in = q;
  }
  return sock;
}

function unixSocket(
  s: UnixSkEntry,
  pid: number,
  fd: number,
  skQueues: Map<number, number>,
  unixByIno: Map<number, FileEntry>,
  holders: Map<number, Holder[]>,
): Socket {
  const sock: Socket = {
    kind: 'unix',
    pid,
    fd,
    ino: s.ino,
    family: 'UNIX',
    type: socketTypeName(s.type),
    state: socketStateName(s.state),
    path: unixName(s.name),
    sendBuffer: s.opts?.so_sndbuf ?? 0,
    receiveBuffer: s.opts?.so_rcvbuf ?? 0,
    queued: { in: skQueues.get(s.id) ?? 0, out: 0 },
  };
  if (s.state === 10) sock.backlog = s.backlog;
  if (s.shutdown) sock.shutdown = SHUTDOWN[s.shutdown];
  if (s.peer) {
    const pf = unixByIno.get(s.peer);
    const h = pf ? holders.get(pf.id)?.[0] : undefined;
    const peer: Peer & { ino: number } = { ino: s.peer, pid: h?.pid ?? -1, fd: h?.fd ?? -1 };
    if (pf?.usk) peer.name = unixName(pf.usk.name);
    sock.peer = peer;
  }
  return sock;
}

function packetSocket(s: PacketSockEntry, pid: number, fd: number, skQueues: Map<number, number>): Socket {
  return {
    kind: 'packet',
    pid,
    fd,
    ino: 0,
    family: 'PACKET',
    type: socketTypeName(s.type),
    protocol: ethProtocolName(s.protocol),
    sendBuffer: s.opts?.so_sndbuf ?? 0,
    receiveBuffer: s.opts?.so_rcvbuf ?? 0,
    queued: { in: skQueues.get(s.id) ?? 0, out: 0 },
    ifindex: s.ifindex,
  };
}

function netlinkSocket(s: NetlinkSkEntry, pid: number, fd: number): Socket {
  return {
    kind: 'netlink',
    pid,
    fd,
    ino: s.ino,
    family: 'NETLINK',
    type: 'RAW',
    protocol: netlinkProtocolName(s.protocol),
    state: socketStateName(s.state),
    sendBuffer: s.opts?.so_sndbuf ?? 0,
    receiveBuffer: s.opts?.so_rcvbuf ?? 0,
    queued: { in: 0, out: 0 },
    portid: s.portid,
    groups: [...s.groups],
  };
}
