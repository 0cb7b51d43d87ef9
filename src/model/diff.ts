/**
 * What changed between two checkpoints (normally two checkpoints of one container): processes,
 * open files, sockets, mounts, memory (regions and, for regions in both, which pages), root
 * file-system changes and dump statistics. Runtime-neutral; the CLI only prints the result.
 *
 * Processes are matched in four steps: (1) same pid and same command line; (2) of the rest, same
 * command line (the first unmatched process of A with that argv goes with the first of B: a
 * process restarted under a new pid, or pids reused); (3) of the rest, same pid (the process
 * exec'd another program: its argv is a change); (4) what is left is removed (A) or added (B).
 * When the command lines cannot be read (no memory images), `comm` stands in for argv.
 */
import { CkptError } from '../errors.js';
import type { CheckpointSource, SourceEntry } from '../source/types.js';
import { inCheckpointDir, MEMBERS } from '../source/layout.js';
import { collectBody } from '../source/memory.js';
import { Checkpoint } from './checkpoint.js';
import { ImageSet } from './image-set.js';
import type { CriuMount, DumpStatistics, OpenFile, Process, ProcessArguments, Socket, SpecMount, Thread } from './types.js';
import type { CheckpointMemory, MemoryRegion } from './memory/checkpoint-memory.js';
import { pageHashKernel } from './memory/page-hash-kernel.js';
import { DELETED_FILES_MEMBER, listRootfsChanges, ROOTFS_DIFF_MEMBER, type RootfsChanges, type RootfsDeletion } from './rootfs.js';
import type { Sha256Factory } from '../source/hash.js';
import { comparePages, hashPagesFilesAt, isPagesFile, PageHasher, regionHashes, type ChangedPages, type HashedRegion, type PageHashes } from './memory/page-hashes.js';

/** A value before and after; null where a side has none. */
export type DiffValue = string | number | boolean | null;

export interface FieldChange {
  /** What changed, e.g. `state`, `argv`, `credentials.uid`, `capabilities.bounding`, `pos`. */
  field: string;
  before: DiffValue;
  after: DiffValue;
  /** For sets (capabilities, groups): members only in B and only in A. */
  added?: string[];
  removed?: string[];
}

export type ChangeStatus = 'added' | 'removed' | 'changed' | 'unchanged';

export interface EnvironmentChanges {
  /** `NAME=value` of variables only in B. */
  added: string[];
  /** `NAME=value` of variables only in A. */
  removed: string[];
  /** Variables in both with another value. */
  changed: { name: string; before: string; after: string }[];
}

export interface ProcessChange {
  status: ChangeStatus;
  /** The pid in B (in A for a removed process). */
  pid: number;
  /** The pid in A when matched (differs from `pid` when matched by argv), else null. */
  pidBefore: number | null;
  /** How the pair was matched: `pid` (steps 1 and 3), `argv` (step 2); null when unmatched. */
  matchedBy: 'pid' | 'argv' | null;
  comm: string;
  /** The command line (B's; A's for a removed process), or null when it could not be read. */
  argv: string[] | null;
  /** Fields that differ (state, comm, argv, ppid, exe, cwd, root, credentials, capabilities, seccomp). */
  changes: FieldChange[];
  environment: EnvironmentChanges;
  threads: { added: Thread[]; removed: Thread[] };
}

export interface FileChange {
  /** `added`: opened since A; `removed`: closed; `changed`: same file, other position, size, flags. */
  status: ChangeStatus;
  pid: number;
  fd: number;
  type: string;
  path: string;
  changes: FieldChange[];
}

export interface SocketChange {
  /** `added`: a new socket; `removed`: closed; `changed`: same socket (inode), other state, peer or queues. */
  status: ChangeStatus;
  socket: Socket;
  /** A's socket, for a changed or unchanged one. */
  before: Socket | null;
  changes: FieldChange[];
}

export interface MountChange {
  status: ChangeStatus;
  /** `criu` (CRIU's mount namespace image) or `spec` (the OCI spec). */
  from: 'criu' | 'spec';
  mountpoint: string;
  type: string;
  source: string;
  changes: FieldChange[];
}

export interface PageRange {
  start: bigint;
  end: bigint;
  /** `changed`: in both with other contents; `added`: only in B; `removed`: only in A (not dumped in B). */
  kind: 'changed' | 'added' | 'removed';
  pages: number;
  bytes: number;
}

export interface RegionChange {
  /** `added`/`removed`: a mapping only in B/A; `changed`: pages changed, resized or other permissions. */
  status: ChangeStatus;
  pid: number;
  start: bigint;
  end: bigint;
  /** A's end when the region was resized (same start), else null. */
  endBefore: bigint | null;
  perms: string;
  label: string;
  path: string | null;
  changes: FieldChange[];
  /** Changed pages of the part the two sides share, merged into ranges. */
  pages: PageRange[];
  /** Pages and bytes of the region that changed (sum of `pages`). */
  pagesChanged: number;
  bytesChanged: number;
  /** Pages with data in the checkpoint on each side. */
  pagesPresentBefore: number;
  pagesPresentAfter: number;
}

export interface MemoryDiff {
  pageSize: number;
  /** Bytes of the pages images of B minus A (checkpointctl's memory size change). */
  sizeChange: number;
  pagesCompared: number;
  pagesChanged: number;
  bytesChanged: number;
  regions: RegionChange[];
}

export interface RootfsFileChange {
  status: ChangeStatus;
  path: string;
  /** Entry type on the side that has it (`file`, `directory`, `symlink`, …; `deleted` for a deletion record). */
  type: string;
  changes: FieldChange[];
}

export interface StatisticChange {
  name: string;
  before: number | null;
  after: number | null;
  delta: number | null;
}

export interface DiffSide {
  label: string;
  containerId: string | null;
  containerName: string | null;
  image: string | null;
  engine: string;
  created: string | null;
  checkpointed: string | null;
  /** checkpointctl's total size: bytes of every file under checkpoint/. */
  totalSize: number;
  memoryPagesSize: number;
  processes: number;
}

export interface CheckpointDiff {
  a: DiffSide;
  b: DiffSide;
  /** Both sides are the same container (same container ID, or neither has one). */
  sameContainer: boolean;
  /** Every process of either side, in B's pstree order then A's removed ones. */
  processes: ProcessChange[];
  files: FileChange[];
  sockets: SocketChange[];
  mounts: MountChange[];
  memory: MemoryDiff;
  /** Root file-system changes between the two diffs; null when neither checkpoint has one. */
  rootfs: RootfsFileChange[] | null;
  statistics: StatisticChange[];
}

export interface DiffOptions {
  /** Compare command lines and environments (read from memory); default true. */
  arguments?: boolean;
  /** Compare memory page by page; default true. */
  memory?: boolean;
}

/** A checkpoint opened for diffing: the model, the hash of every memory page, the root-fs changes. */
export interface DiffInput {
  checkpoint: Checkpoint;
  hashes: PageHashes;
  /** What rootfs-diff.tar and deleted.files say changed against the image (null: neither is there). */
  rootfs: RootfsChanges | null;
}

export interface OpenForDiffOptions {
  /** Page size of the checkpointed machine (default 4096). */
  pageSize?: number;
  /** SHA-256 for the root-fs files' contents (Node passes its native one); the portable one by default. */
  sha256?: Sha256Factory;
}

/**
 * Opens a checkpoint and hashes its memory pages in ONE pass over the source: on a compressed
 * archive the images are collected and the pages files hashed as the archive streams by; on a
 * random-access source the images are read by position and each pages file read through once.
 */
export async function openForDiff(source: CheckpointSource, options: OpenForDiffOptions = {}): Promise<DiffInput> {
  const pageSize = options.pageSize ?? 4096;
  if (source.randomAccess) {
    const checkpoint = await openTolerant(source);
    const hashes = await hashPagesFilesAt(source, pageSize);
    const rootfs = await listRootfsChanges(source, checkpoint.container.deletedFiles, { sha256: options.sha256 });
    return { checkpoint, hashes, rootfs: rootfs.member || rootfs.deleted.length ? rootfs : null };
  }
  const seen: SourceEntry[] = [];
  const files = new Map<string, Uint8Array>();
  const hashed = new Map<string, Float64Array>();
  const kernel = pageHashKernel(pageSize, 1 << 20);
  let rootfs: RootfsChanges | undefined;
  await source.walk(
    (e) => {
      seen.push(e);
      return ImageSet.wants(e) || (e.type === 'file' && (isPagesFile(e.path) || e.path === ROOTFS_DIFF_MEMBER));
    },
    async (e, body) => {
      if (isPagesFile(e.path)) {
        const h = new PageHasher(e.size, pageSize, kernel);
        for await (const c of body) h.push(c);
        hashed.set(e.path, h.hashes);
      } else if (e.path === ROOTFS_DIFF_MEMBER) {
        // the diff's members listed from the body as it streams by (no second pass)
        const here: CheckpointSource = { ...bind(source), entries: async () => [e], stream: (p: string) => (p === e.path ? body : source.stream(p)) };
        rootfs = await listRootfsChanges(here, [], { sha256: options.sha256 });
      } else files.set(e.path, await collectBody(body, e.size, `${source.label}:${e.path}`));
    },
  );
  const images = ImageSet.fromFiles(source, seen, files);
  checkEngineOrImages(images, source);
  const checkpoint = Checkpoint.fromImages(images);
  const deleted = checkpoint.container.deletedFiles.map((p): RootfsDeletion => ({ path: p.startsWith('/') ? p : `/${p}`, how: 'deleted-files', member: DELETED_FILES_MEMBER, offset: null }));
  if (rootfs) rootfs.deleted.unshift(...deleted);
  else if (deleted.length) rootfs = { member: null, compression: null, entries: [], deleted };
  return { checkpoint, hashes: { pageSize, files: hashed }, rootfs: rootfs ?? null };
}

/** The source's methods bound to it (for a view of it that replaces some). */
function bind(source: CheckpointSource): CheckpointSource {
  return {
    label: source.label,
    randomAccess: source.randomAccess,
    entries: () => source.entries(),
    read: (p) => source.read(p),
    readRange: (p, o, n, into) => source.readRange(p, o, n, into),
    stream: (p) => source.stream(p),
    walk: (w, v) => source.walk(w, v),
    damage: () => source.damage?.() ?? [],
    close: () => source.close(),
  };
}

function checkEngineOrImages(images: ImageSet, source: CheckpointSource): void {
  if (!images.entries.some((e) => inCheckpointDir(e.path) && e.path.endsWith('.img')) && !images.file(MEMBERS.config) && !images.file(MEMBERS.spec)) {
    throw new CkptError('no CRIU images and no engine metadata in it (no checkpoint/pstree.img, config.dump or spec.dump): not a container checkpoint', source.label);
  }
}

/** Checkpoint.open, but a checkpoint with only the engine's metadata (no CRIU images) is accepted. */
async function openTolerant(source: CheckpointSource): Promise<Checkpoint> {
  const entries = await source.entries();
  if (entries.some((e) => inCheckpointDir(e.path) && e.path.endsWith('.img'))) return Checkpoint.open(source);
  const images = await ImageSet.load(source, { metadataOnly: true, allowEmpty: true });
  checkEngineOrImages(images, source);
  return Checkpoint.fromImages(images);
}

// ---------- helpers ----------

function argvKey(p: Process, args: Map<number, ProcessArguments>): string {
  const a = args.get(p.pid);
  return a && a.argv.length ? JSON.stringify(a.argv) : `comm:${p.comm}`;
}

function change(field: string, before: DiffValue | undefined, after: DiffValue | undefined): FieldChange | undefined {
  const b = before ?? null;
  const a = after ?? null;
  return b === a ? undefined : { field, before: b, after: a };
}

function setChange(field: string, before: readonly string[] | undefined, after: readonly string[] | undefined): FieldChange | undefined {
  const b = before ?? [];
  const a = after ?? [];
  const added = a.filter((x) => !b.includes(x));
  const removed = b.filter((x) => !a.includes(x));
  if (!added.length && !removed.length) return undefined;
  return { field, before: before ? b.join(', ') : null, after: after ? a.join(', ') : null, added, removed };
}

function push(list: FieldChange[], c: FieldChange | undefined): void {
  if (c) list.push(c);
}

/** Environment as name → value (the first of duplicates wins, as getenv does). */
function envMap(env: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of env) {
    const i = kv.indexOf('=');
    const name = i < 0 ? kv : kv.slice(0, i);
    if (!m.has(name)) m.set(name, i < 0 ? '' : kv.slice(i + 1));
  }
  return m;
}

function diffEnvironment(a: readonly string[] | undefined, b: readonly string[] | undefined): EnvironmentChanges {
  const out: EnvironmentChanges = { added: [], removed: [], changed: [] };
  if (!a || !b) return out;
  const ma = envMap(a);
  const mb = envMap(b);
  for (const [k, v] of mb) {
    if (!ma.has(k)) out.added.push(`${k}=${v}`);
    else if (ma.get(k) !== v) out.changed.push({ name: k, before: ma.get(k)!, after: v });
  }
  for (const [k, v] of ma) if (!mb.has(k)) out.removed.push(`${k}=${v}`);
  return out;
}

function diffProcess(pa: Process, pb: Process, args: { a: Map<number, ProcessArguments>; b: Map<number, ProcessArguments> }): Pick<ProcessChange, 'changes' | 'environment' | 'threads'> {
  const changes: FieldChange[] = [];
  push(changes, change('state', describeState(pa), describeState(pb)));
  push(changes, change('comm', pa.comm, pb.comm));
  const aa = args.a.get(pa.pid);
  const ab = args.b.get(pb.pid);
  if (aa && ab) push(changes, change('argv', JSON.stringify(aa.argv), JSON.stringify(ab.argv)));
  push(changes, change('ppid', pa.ppid, pb.ppid));
  push(changes, change('pgid', pa.pgid, pb.pgid));
  push(changes, change('sid', pa.sid, pb.sid));
  push(changes, change('exe', pa.exe, pb.exe));
  push(changes, change('cwd', pa.cwd, pb.cwd));
  push(changes, change('root', pa.root, pb.root));
  push(changes, change('seccomp', pa.seccomp, pb.seccomp));
  const ca = pa.credentials;
  const cb = pb.credentials;
  if (ca && cb) {
    // (named as checkpointctl and the kernel name them: credentials.no_new_privs, credentials.lsm_profile)
    const named = { uid: 'uid', euid: 'euid', suid: 'suid', fsuid: 'fsuid', gid: 'gid', egid: 'egid', sgid: 'sgid', fsgid: 'fsgid', secbits: 'secbits', noNewPrivs: 'no_new_privs', lsmProfile: 'lsm_profile' } as const;
    for (const k of Object.keys(named) as (keyof typeof named)[]) push(changes, change(`credentials.${named[k]}`, ca[k], cb[k]));
    push(changes, setChange('credentials.groups', ca.groups.map(String), cb.groups.map(String)));
    for (const k of ['effective', 'permitted', 'inheritable', 'bounding', 'ambient'] as const) push(changes, setChange(`capabilities.${k}`, ca.capabilities[k], cb.capabilities[k]));
  } else if (ca || cb) push(changes, change('credentials', ca ? 'recorded' : null, cb ? 'recorded' : null));
  const tidsA = new Map(pa.threads.map((t) => [t.tid, t]));
  const tidsB = new Map(pb.threads.map((t) => [t.tid, t]));
  const threads = { added: pb.threads.filter((t) => !tidsA.has(t.tid)), removed: pa.threads.filter((t) => !tidsB.has(t.tid)) };
  for (const t of pb.threads) {
    const o = tidsA.get(t.tid);
    if (o && t.tid !== pb.pid) push(changes, change(`thread.${t.tid}.comm`, o.comm, t.comm));
  }
  return { changes: dedupe(changes), environment: diffEnvironment(aa?.environment, ab?.environment), threads };
}

function dedupe(list: FieldChange[]): FieldChange[] {
  const seen = new Set<string>();
  return list.filter((c) => {
    const k = `${c.field}\0${String(c.before)}\0${String(c.after)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function describeState(p: Process): string {
  if (p.state === 'stopped' && p.stopSignal) return `stopped (${p.stopSignal})`;
  if (p.state === 'zombie' && p.exitStatus !== undefined) return `zombie (exit ${p.exitStatus})`;
  return p.state;
}

/** Pairs the processes of A and B (see the module comment). */
export function matchProcesses(a: readonly Process[], b: readonly Process[], args: { a: Map<number, ProcessArguments>; b: Map<number, ProcessArguments> }): { pairs: [Process, Process, 'pid' | 'argv'][]; removed: Process[]; added: Process[] } {
  const freeA = new Set(a);
  const freeB = new Set(b);
  const pairs: [Process, Process, 'pid' | 'argv'][] = [];
  const byPidA = new Map(a.map((p) => [p.pid, p]));
  for (const pb of b) {
    const pa = byPidA.get(pb.pid);
    if (pa && argvKey(pa, args.a) === argvKey(pb, args.b)) {
      pairs.push([pa, pb, 'pid']);
      freeA.delete(pa);
      freeB.delete(pb);
    }
  }
  for (const pb of [...freeB]) {
    const key = argvKey(pb, args.b);
    const pa = [...freeA].find((x) => argvKey(x, args.a) === key);
    if (pa) {
      pairs.push([pa, pb, 'argv']);
      freeA.delete(pa);
      freeB.delete(pb);
    }
  }
  for (const pb of [...freeB]) {
    const pa = byPidA.get(pb.pid);
    if (pa && freeA.has(pa)) {
      pairs.push([pa, pb, 'pid']);
      freeA.delete(pa);
      freeB.delete(pb);
    }
  }
  return { pairs, removed: a.filter((p) => freeA.has(p)), added: b.filter((p) => freeB.has(p)) };
}

function fileChanges(pa: Process | undefined, pb: Process | undefined, pid: number): FileChange[] {
  const out: FileChange[] = [];
  const fa = new Map((pa?.files ?? []).map((f) => [f.fd, f]));
  const fb = new Map((pb?.files ?? []).map((f) => [f.fd, f]));
  const entry = (status: ChangeStatus, f: OpenFile, changes: FieldChange[] = []): FileChange => ({ status, pid, fd: f.fd, type: f.type, path: f.path, changes });
  for (const f of pb?.files ?? []) {
    const o = fa.get(f.fd);
    if (!o || o.type !== f.type || o.path !== f.path) {
      if (o) out.push(entry('removed', o));
      out.push(entry('added', f));
      continue;
    }
    const changes: FieldChange[] = [];
    push(changes, change('pos', o.pos, f.pos));
    push(changes, change('size', o.size, f.size));
    push(changes, change('flags', o.flags, f.flags));
    push(changes, change('cloexec', o.cloexec, f.cloexec));
    push(changes, change('deleted', o.deleted ?? false, f.deleted ?? false));
    push(changes, change('queued', o.queued, f.queued));
    out.push(entry(changes.length ? 'changed' : 'unchanged', f, changes));
  }
  for (const o of pa?.files ?? []) if (!fb.has(o.fd)) out.push(entry('removed', o));
  return out;
}

/**
 * Sockets of one process pair: the same inode is the same socket; of the rest, the same kind,
 * protocol and endpoints (what checkpointctl compares) are taken as the same socket too.
 */
function socketChanges(sa: readonly Socket[], sb: readonly Socket[]): SocketChange[] {
  const out: SocketChange[] = [];
  const addr = (x: { address: string; port: number } | undefined) => (x ? `${x.address}:${x.port}` : null);
  const ends = (s: Socket) => `${s.family}/${s.type}/${s.protocol ?? ''}/${addr(s.local)}/${addr(s.remote)}/${s.path ?? ''}`;
  const freeA = new Set(sa);
  const pairOf = new Map<Socket, Socket>();
  for (const s of sb) {
    const o = [...freeA].find((x) => x.ino === s.ino && x.fd === s.fd) ?? [...freeA].find((x) => x.ino === s.ino);
    if (o) {
      pairOf.set(s, o);
      freeA.delete(o);
    }
  }
  for (const s of sb) {
    if (pairOf.has(s)) continue;
    const o = [...freeA].find((x) => ends(x) === ends(s) && x.fd === s.fd) ?? [...freeA].find((x) => ends(x) === ends(s));
    if (o) {
      pairOf.set(s, o);
      freeA.delete(o);
    }
  }
  for (const s of sb) {
    const o = pairOf.get(s);
    if (!o) {
      out.push({ status: 'added', socket: s, before: null, changes: [] });
      continue;
    }
    const changes: FieldChange[] = [];
    push(changes, change('fd', o.fd, s.fd));
    push(changes, change('state', o.state, s.state));
    push(changes, change('local', addr(o.local), addr(s.local)));
    push(changes, change('remote', addr(o.remote), addr(s.remote)));
    push(changes, change('path', o.path, s.path));
    push(changes, change('queued.in', o.queued.in, s.queued.in));
    push(changes, change('queued.out', o.queued.out, s.queued.out));
    push(changes, change('backlog', o.backlog, s.backlog));
    push(changes, change('shutdown', o.shutdown, s.shutdown));
    out.push({ status: changes.length ? 'changed' : 'unchanged', socket: s, before: o, changes });
  }
  for (const o of sa) if (freeA.has(o)) out.push({ status: 'removed', socket: o, before: null, changes: [] });
  return out;
}

function mountChanges(a: { spec: SpecMount[]; criu: CriuMount[] }, b: { spec: SpecMount[]; criu: CriuMount[] }): MountChange[] {
  const out: MountChange[] = [];
  const criuKey = (m: CriuMount) => m.mountpoint;
  const ca = new Map(a.criu.map((m) => [criuKey(m), m]));
  const cb = new Set(b.criu.map(criuKey));
  for (const m of b.criu) {
    const o = ca.get(criuKey(m));
    const changes: FieldChange[] = [];
    if (o) {
      push(changes, change('type', o.type, m.type));
      push(changes, change('source', o.source, m.source));
      push(changes, change('root', o.root, m.root));
      push(changes, change('options', o.options, m.options));
      push(changes, change('external', o.external, m.external));
    }
    out.push({ status: !o ? 'added' : changes.length ? 'changed' : 'unchanged', from: 'criu', mountpoint: m.mountpoint, type: m.type, source: m.source, changes });
  }
  for (const o of a.criu) if (!cb.has(criuKey(o))) out.push({ status: 'removed', from: 'criu', mountpoint: o.mountpoint, type: o.type, source: o.source, changes: [] });
  const sa = new Map(a.spec.map((m) => [m.destination, m]));
  const sb = new Set(b.spec.map((m) => m.destination));
  for (const m of b.spec) {
    const o = sa.get(m.destination);
    const changes: FieldChange[] = [];
    if (o) {
      push(changes, change('type', o.type, m.type));
      push(changes, change('source', o.source, m.source));
      push(changes, change('options', o.options.join(','), m.options.join(',')));
    }
    out.push({ status: !o ? 'added' : changes.length ? 'changed' : 'unchanged', from: 'spec', mountpoint: m.destination, type: m.type, source: m.source, changes });
  }
  for (const o of a.spec) if (!sb.has(o.destination)) out.push({ status: 'removed', from: 'spec', mountpoint: o.destination, type: o.type, source: o.source, changes: [] });
  return out;
}

function presentPages(h: HashedRegion): number {
  return h.runs.reduce((n, r) => n + r.hashes.length, 0);
}

function regionChange(status: ChangeStatus, pid: number, r: MemoryRegion, extra: Partial<RegionChange> = {}): RegionChange {
  return {
    status,
    pid,
    start: r.start,
    end: r.end,
    endBefore: null,
    perms: r.perms,
    label: r.label,
    path: r.path ?? null,
    changes: [],
    pages: [],
    pagesChanged: 0,
    bytesChanged: 0,
    pagesPresentBefore: 0,
    pagesPresentAfter: 0,
    ...extra,
  };
}

function memoryChanges(ma: CheckpointMemory, mb: CheckpointMemory, ha: PageHashes, hb: PageHashes, pairs: [Process, Process, unknown][], added: Process[], removed: Process[], totals: { pagesCompared: number }): RegionChange[] {
  const out: RegionChange[] = [];
  const ps = ha.pageSize;
  const regionsOf = (m: CheckpointMemory, pid: number, h: PageHashes): HashedRegion[] => (m.has(pid) ? regionHashes(m, pid, h) : []);
  for (const [pa, pb] of pairs) {
    const ra = regionsOf(ma, pa.pid, ha);
    const rb = regionsOf(mb, pb.pid, hb);
    const byStart = new Map(ra.map((r) => [r.region.start, r]));
    const used = new Set<HashedRegion>();
    for (const y of rb) {
      // same start; else any region of A overlapping it (a mapping that grew downwards, or moved)
      let x = byStart.get(y.region.start);
      if (!x || used.has(x)) x = ra.find((r) => !used.has(r) && r.region.start < y.region.end && y.region.start < r.region.end && r.region.label === y.region.label);
      if (!x) {
        out.push(regionChange('added', pb.pid, y.region, { pagesPresentAfter: presentPages(y) }));
        continue;
      }
      used.add(x);
      const changes: FieldChange[] = [];
      push(changes, change('start', hex(x.region.start), hex(y.region.start)));
      push(changes, change('end', hex(x.region.end), hex(y.region.end)));
      push(changes, change('perms', x.region.perms, y.region.perms));
      push(changes, change('path', x.region.path, y.region.path));
      const lo = x.region.start > y.region.start ? x.region.start : y.region.start;
      const hi = x.region.end < y.region.end ? x.region.end : y.region.end;
      totals.pagesCompared += Number((hi - lo) / BigInt(ps));
      const pages = hi > lo ? comparePages(x.runs, y.runs, lo, hi, ps).map((c: ChangedPages): PageRange => ({ ...c, bytes: c.pages * ps })) : [];
      const n = pages.reduce((s, p) => s + p.pages, 0);
      out.push(
        regionChange(changes.length || n ? 'changed' : 'unchanged', pb.pid, y.region, {
          endBefore: x.region.end !== y.region.end ? x.region.end : null,
          changes,
          pages,
          pagesChanged: n,
          bytesChanged: n * ps,
          pagesPresentBefore: presentPages(x),
          pagesPresentAfter: presentPages(y),
        }),
      );
    }
    for (const x of ra) if (!used.has(x)) out.push(regionChange('removed', pa.pid, x.region, { pagesPresentBefore: presentPages(x) }));
  }
  for (const p of added) for (const y of regionsOf(mb, p.pid, hb)) out.push(regionChange('added', p.pid, y.region, { pagesPresentAfter: presentPages(y) }));
  for (const p of removed) for (const x of regionsOf(ma, p.pid, ha)) out.push(regionChange('removed', p.pid, x.region, { pagesPresentBefore: presentPages(x) }));
  return out;
}

function hex(n: bigint): string {
  return `0x${n.toString(16)}`;
}

/** Root file-system changes of B against A's (both are changes against the image). */
export function diffRootfs(a: RootfsChanges | null, b: RootfsChanges | null): RootfsFileChange[] {
  const out: RootfsFileChange[] = [];
  const ea = new Map((a?.entries ?? []).map((e) => [e.path, e]));
  const eb = new Map((b?.entries ?? []).map((e) => [e.path, e]));
  const da = new Set((a?.deleted ?? []).map((d) => d.path));
  const db = new Set((b?.deleted ?? []).map((d) => d.path));
  for (const e of b?.entries ?? []) {
    const o = ea.get(e.path);
    if (!o) {
      out.push({ status: 'added', path: e.path, type: e.type, changes: da.has(e.path) ? [{ field: 'deleted', before: true, after: false }] : [] });
      continue;
    }
    const changes: FieldChange[] = [];
    push(changes, change('type', o.type, e.type));
    push(changes, change('mode', `0${o.mode.toString(8)}`, `0${e.mode.toString(8)}`));
    push(changes, change('uid', o.uid, e.uid));
    push(changes, change('gid', o.gid, e.gid));
    push(changes, change('size', o.size, e.size));
    push(changes, change('sha256', o.sha256, e.sha256));
    push(changes, change('linkTarget', o.linkTarget, e.linkTarget));
    // a directory's mtime moves whenever an entry in it changes: only content changes count there
    if (e.type !== 'directory') push(changes, change('mtime', o.mtime, e.mtime));
    out.push({ status: changes.length ? 'changed' : 'unchanged', path: e.path, type: e.type, changes });
  }
  for (const o of a?.entries ?? []) if (!eb.has(o.path)) out.push({ status: 'removed', path: o.path, type: o.type, changes: db.has(o.path) ? [{ field: 'deleted', before: false, after: true }] : [] });
  for (const p of db) if (!da.has(p) && !ea.has(p) && !eb.has(p)) out.push({ status: 'removed', path: p, type: 'deleted', changes: [{ field: 'deleted', before: false, after: true }] });
  for (const p of da) if (!db.has(p) && !eb.has(p) && !ea.has(p)) out.push({ status: 'added', path: p, type: 'deleted', changes: [{ field: 'deleted', before: true, after: false }] });
  return out;
}

function statisticsChanges(a: DumpStatistics | undefined, b: DumpStatistics | undefined): StatisticChange[] {
  const names = [...new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})])];
  return names.map((name) => {
    const x = a?.[name];
    const y = b?.[name];
    return { name, before: x ?? null, after: y ?? null, delta: x !== undefined && y !== undefined ? y - x : null };
  });
}

function side(ck: Checkpoint): DiffSide {
  const c = ck.container;
  const s = ck.sizes;
  return {
    label: ck.label,
    containerId: c.id ?? null,
    containerName: c.name ?? null,
    image: c.image.name ?? null,
    engine: c.engine,
    created: c.created ?? null,
    checkpointed: c.checkpointed ?? null,
    totalSize: s.total,
    memoryPagesSize: s.memoryPages,
    processes: ck.processes.length,
  };
}

/** What changed from checkpoint `a` to checkpoint `b` (both opened with openForDiff). */
export async function diffCheckpoints(a: DiffInput, b: DiffInput, options: DiffOptions = {}): Promise<CheckpointDiff> {
  const ca = a.checkpoint;
  const cb = b.checkpoint;
  if (a.hashes.pageSize !== b.hashes.pageSize) throw new CkptError(`page sizes differ (${a.hashes.pageSize} and ${b.hashes.pageSize})`);
  const args = options.arguments === false ? { a: new Map(), b: new Map() } : { a: await ca.arguments(), b: await cb.arguments() };
  const { pairs, removed, added } = matchProcesses(ca.processes, cb.processes, args);
  const pairOfB = new Map(pairs.map(([pa, pb, how]) => [pb, { pa, how }]));
  const processes: ProcessChange[] = [];
  const files: FileChange[] = [];
  const sockets: SocketChange[] = [];
  for (const pb of cb.processes) {
    const m = pairOfB.get(pb);
    const argv = args.b.get(pb.pid)?.argv ?? null;
    if (!m) {
      processes.push({ status: 'added', pid: pb.pid, pidBefore: null, matchedBy: null, comm: pb.comm, argv, changes: [], environment: { added: [], removed: [], changed: [] }, threads: { added: [], removed: [] } });
      files.push(...fileChanges(undefined, pb, pb.pid));
      sockets.push(...socketChanges([], socketsOf(cb, pb.pid)));
      continue;
    }
    const d = diffProcess(m.pa, pb, args);
    const any = d.changes.length || d.environment.added.length || d.environment.removed.length || d.environment.changed.length || d.threads.added.length || d.threads.removed.length;
    processes.push({ status: any ? 'changed' : 'unchanged', pid: pb.pid, pidBefore: m.pa.pid, matchedBy: m.how, comm: pb.comm, argv, ...d });
    files.push(...fileChanges(m.pa, pb, pb.pid));
    sockets.push(...socketChanges(socketsOf(ca, m.pa.pid), socketsOf(cb, pb.pid)));
  }
  for (const pa of removed) {
    processes.push({ status: 'removed', pid: pa.pid, pidBefore: null, matchedBy: null, comm: pa.comm, argv: args.a.get(pa.pid)?.argv ?? null, changes: [], environment: { added: [], removed: [], changed: [] }, threads: { added: [], removed: [] } });
    files.push(...fileChanges(pa, undefined, pa.pid));
    sockets.push(...socketChanges(socketsOf(ca, pa.pid), []));
  }
  const totals = { pagesCompared: 0 };
  let regions: RegionChange[] = [];
  if (options.memory !== false && (ca.processes.length || cb.processes.length)) {
    regions = memoryChanges(await ca.memory(), await cb.memory(), a.hashes, b.hashes, pairs, added, removed, totals);
  }
  const pagesChanged = regions.filter((r) => r.status === 'changed').reduce((n, r) => n + r.pagesChanged, 0);
  const memory: MemoryDiff = {
    pageSize: a.hashes.pageSize,
    sizeChange: cb.sizes.memoryPages - ca.sizes.memoryPages,
    pagesCompared: totals.pagesCompared,
    pagesChanged,
    bytesChanged: pagesChanged * a.hashes.pageSize,
    regions,
  };
  const rootfs = a.rootfs || b.rootfs ? diffRootfs(a.rootfs, b.rootfs) : null;
  const sa = side(ca);
  const sb = side(cb);
  return {
    a: sa,
    b: sb,
    sameContainer: sa.containerId === sb.containerId,
    processes,
    files,
    sockets,
    mounts: mountChanges(ca.mounts, cb.mounts),
    memory,
    rootfs,
    statistics: statisticsChanges(ca.statistics, cb.statistics),
  };
}

function socketsOf(ck: Checkpoint, pid: number): Socket[] {
  return ck.sockets.filter((s) => s.pid === pid);
}
