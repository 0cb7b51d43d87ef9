/**
 * `Checkpoint`: one container checkpoint, opened once (one pass over the source for its images
 * and metadata files), with typed accessors computed on first use.
 */
import { CkptError } from '../errors.js';
import type { CheckpointSource } from '../source/types.js';
import { imageMember, imageName, MEMBERS } from '../source/layout.js';
import { decodeImage } from '../images/index.js';
import type { StatsEntry } from '../images/messages.js';
import { ImageSet } from './image-set.js';
import { readContainerInfo, readSpecMounts } from './container.js';
import { buildTasks, type TaskModel } from './processes.js';
import { readCriuMounts } from './mounts.js';
import { toNumber } from '../images/linux.js';
import type { CheckpointProblem, CheckpointSizes, ContainerInfo, DumpStatistics, Mounts, Process, ProcessArguments, Socket } from './types.js';
import { ArgumentsInPass, readProcessArguments } from './arguments.js';
import { CheckpointMemory } from './memory/index.js';
import { listRootfsChanges, rootfsDiffMembers, rootfsFileContent, type RootfsChanges, type RootfsMember } from './rootfs.js';
import { portableSha256, type Sha256Factory } from '../source/hash.js';

export interface OpenCheckpointOptions {
  /** Read only the engine's metadata files (config.dump, spec.dump, …), not CRIU's images. */
  metadataOnly?: boolean;
  /** The SHA-256 used for content hashes (Node's `openCheckpointFile` passes its native one). */
  sha256?: Sha256Factory;
  /**
   * Also read every process's argv and environment in the opening pass (what `arguments()` gives
   * then costs nothing more): on a compressed archive this saves the second decompression that
   * `arguments()` would make. Ignored on random-access sources (positioned reads are cheap there).
   */
  arguments?: boolean;
}

export class Checkpoint {
  private _container?: ContainerInfo;
  private _tasks?: TaskModel;
  private _mounts?: Mounts;
  private _stats?: DumpStatistics | null;
  private _args?: Map<number, ProcessArguments>;
  private _memory?: Promise<CheckpointMemory>;
  private _rootfs?: Promise<RootfsChanges>;
  private readonly _problems: CheckpointProblem[] = [];
  private readonly _problemKeys = new Set<string>();
  private _byPid?: Map<number, Process>;

  private constructor(
    /** The decoded images and metadata files. */
    readonly images: ImageSet,
    /** The SHA-256 used for content hashes. */
    readonly sha256: Sha256Factory = portableSha256,
  ) {}

  /**
   * Reads the images and metadata files of `source` (one pass). The source stays open until
   * close(). With `metadataOnly`, only the engine's metadata files are read: container facts and
   * sizes work, processes and mounts from CRIU's images are empty.
   */
  static async open(source: CheckpointSource, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
    const inPass = options.arguments && !options.metadataOnly && !source.randomAccess ? new ArgumentsInPass() : undefined;
    const ck = new Checkpoint(await ImageSet.load(source, { metadataOnly: options.metadataOnly, alsoRead: inPass }), options.sha256);
    const args = inPass?.result(ck.images);
    if (args) ck._args = args;
    return ck;
  }

  /** A checkpoint over images already read (e.g. by a pass that also hashed the pages files). */
  static fromImages(images: ImageSet): Checkpoint {
    return new Checkpoint(images);
  }

  /**
   * Parts of the checkpoint that are missing or damaged, found so far (the list grows as accessors
   * run). What is intact is still returned by the accessors; a CLI run that showed something while
   * this list is non-empty exits with the partial-result code (4) after one warning line per entry.
   */
  get problems(): readonly CheckpointProblem[] {
    // the source's damage first (an archive cut short or corrupt part-way: the cause of what else
    // is missing), as found by its passes so far
    const damage = this.images.source.damage?.() ?? [];
    if (damage.length === 0) return this._problems;
    const first: CheckpointProblem[] = damage.map((d) => ({ kind: 'damaged', file: d.file, offset: d.offset, message: d.message }));
    const key = (p: CheckpointProblem) => `${p.file}\0${p.offset}\0${p.message}`;
    const seen = new Set(first.map(key));
    return [...first, ...this._problems.filter((p) => !seen.has(key(p)))];
  }

  /** Records a missing or damaged part once (same file, offset and message: recorded once). */
  noteProblem(problem: CheckpointProblem): void {
    const key = `${problem.file}\0${problem.offset}\0${problem.message}`;
    if (this._problemKeys.has(key)) return;
    this._problemKeys.add(key);
    this._problems.push(problem);
  }


  get source(): CheckpointSource {
    return this.images.source;
  }

  /** What the checkpoint is called in messages: the path it was opened from. */
  get label(): string {
    return this.images.source.label;
  }

  /** Container, image, engine, runtime, times, pod, annotations and network, from the engine's metadata. */
  get container(): ContainerInfo {
    return (this._container ??= readContainerInfo(this.images, (p) => this.noteProblem(p)));
  }

  /** Sizes of the checkpoint, its memory pages and the root file-system diff, in bytes. */
  get sizes(): CheckpointSizes {
    const s: CheckpointSizes = { total: 0, memoryPages: 0, amdGpuMemoryPages: 0, rootFsDiff: 0 };
    for (const e of this.images.entries) {
      if (e.type !== 'file') continue;
      const base = imageName(e.path);
      if (base !== undefined) {
        s.total += e.size;
        if (base.startsWith('pages-')) s.memoryPages += e.size;
        else if (base.startsWith('amdgpu-pages-')) s.amdGpuMemoryPages += e.size;
      } else if (e.path === MEMBERS.rootfsDiff) s.rootFsDiff = e.size;
    }
    return s;
  }

  /**
   * Every statistic of CRIU's dump (stats-dump), or undefined when the checkpoint has none (noted as
   * missing) or it cannot be decoded (noted as damaged).
   */
  get statistics(): DumpStatistics | undefined {
    if (this._stats === undefined) {
      this._stats = null;
      const paths = [MEMBERS.statsDump, imageMember(MEMBERS.statsDump)];
      if (!paths.some((p) => this.images.file(p))) this.noteProblem({ kind: 'missing', file: MEMBERS.statsDump, offset: null, message: "no CRIU dump statistics in the checkpoint" });
      for (const path of paths) {
        const bytes = this.images.file(path);
        if (!bytes) continue;
        let dump: Record<string, unknown> | undefined;
        try {
          dump = (decodeImage(path, bytes).entries[0] as StatsEntry | undefined)?.dump as Record<string, unknown> | undefined;
        } catch (e) {
          if (!(e instanceof CkptError)) throw e;
          this.noteProblem({ kind: 'damaged', file: path, offset: e.offset ?? null, message: `${e.reason}: dump statistics not shown` });
          continue;
        }
        if (!dump) continue;
        const out: DumpStatistics = {};
        for (const [k, v] of Object.entries(dump)) if (typeof v === 'number' || typeof v === 'bigint') out[k] = toNumber(v);
        this._stats = out;
        break;
      }
    }
    return this._stats ?? undefined;
  }

  private get tasks(): TaskModel {
    if (!this._tasks) {
      if (!this.images.has(imageMember('pstree.img'))) this.noteProblem({ kind: 'missing', file: imageMember('pstree.img'), offset: null, message: 'no process tree: processes, open files, sockets and memory not shown' });
      this._tasks = buildTasks(this.images);
    }
    return this._tasks;
  }

  /**
   * Notes what the open files and sockets of the processes need and the checkpoint lacks:
   * files.img (or the per-type images of older CRIU), and each live process's fdinfo image.
   * Called by `processesWithFiles` and `sockets`.
   */
  private checkFileImages(): void {
    const processes = this.tasks.processes;
    if (processes.length === 0) return;
    const paths = new Set(this.images.entries.map((e) => e.path));
    const has = (name: string) => paths.has(imageMember(name));
    if (!has('files.img') && !has('reg-files.img')) this.noteProblem({ kind: 'missing', file: imageMember('files.img'), offset: null, message: 'no file table: open files and sockets not shown' });
    // one warning per kind of missing image, naming the first pids (a damaged tree can have thousands)
    const noIds: number[] = [];
    const noFdinfo: { pid: number; file: string }[] = [];
    for (const p of processes) {
      if (p.state === 'zombie') continue;
      const ids = this.images.imageEntries<{ ids?: { files_id?: number } }>(`core-${p.pid}.img`)[0]?.ids ?? this.images.imageEntries<{ files_id?: number }>(`ids-${p.pid}.img`)[0];
      if (!ids || ids.files_id === undefined) noIds.push(p.pid);
      else if (!has(`fdinfo-${ids.files_id}.img`)) noFdinfo.push({ pid: p.pid, file: imageMember(`fdinfo-${ids.files_id}.img`) });
    }
    const some = (pids: number[]) => `${pids.slice(0, 10).join(', ')}${pids.length > 10 ? ` and ${pids.length - 10} more` : ''}`;
    if (noIds.length) this.noteProblem({ kind: 'missing', file: imageMember(noIds.length === 1 ? `ids-${noIds[0]}.img` : 'ids-<pid>.img'), offset: null, message: `no ids of process${noIds.length > 1 ? 'es' : ''} ${some(noIds)}: their open files not shown` });
    if (noFdinfo.length) this.noteProblem({ kind: 'missing', file: noFdinfo.length === 1 ? noFdinfo[0]!.file : imageMember('fdinfo-<id>.img'), offset: null, message: `no fd table of process${noFdinfo.length > 1 ? 'es' : ''} ${some(noFdinfo.map((x) => x.pid))}: their open files not shown` });
  }

  /** Every process (as `processes`), for showing open files: notes missing file images first. */
  get processesWithFiles(): Process[] {
    this.checkFileImages();
    return this.tasks.processes;
  }

  /** Every process, in pstree order. */
  get processes(): Process[] {
    return this.tasks.processes;
  }

  /** The root of the process tree (the container's init), or undefined for an empty tree. */
  get root(): Process | undefined {
    return this.tasks.roots[0];
  }

  /** Processes whose parent is not in the checkpoint; normally just `root`. */
  get roots(): Process[] {
    return this.tasks.roots;
  }

  /** The process with this pid, or undefined. */
  process(pid: number): Process | undefined {
    if (!this._byPid) {
      // a map, not a search per call: callers ask for every pid (50,000 in a hostile pstree)
      this._byPid = new Map();
      for (const p of this.tasks.processes) if (!this._byPid.has(p.pid)) this._byPid.set(p.pid, p);
    }
    return this._byPid.get(pid);
  }

  /**
   * The roots of the tree to show: the process `pid` (its subtree), or every root when `pid` is
   * undefined; undefined when no process has that pid.
   */
  subtree(pid?: number): Process[] | undefined {
    if (pid === undefined) return this.roots;
    const p = this.process(pid);
    return p ? [p] : undefined;
  }

  /** The process that has a thread with this id (a process's own pid is its main thread's id), or undefined. */
  processOfThread(tid: number): Process | undefined {
    return this.tasks.processes.find((p) => p.pid === tid || p.threads.some((t) => t.tid === tid));
  }

  /** Every pid, ascending. */
  get pids(): number[] {
    return this.tasks.processes.map((p) => p.pid).sort((a, b) => a - b);
  }

  /** Every socket held by a process (a socket shared by several fds appears once per fd). */
  get sockets(): Socket[] {
    this.checkFileImages();
    return this.tasks.sockets;
  }

  /** Mounts from spec.dump and from CRIU's mountpoints image. */
  get mounts(): Mounts {
    return (this._mounts ??= { spec: readSpecMounts(this.images), criu: readCriuMounts(this.images) });
  }

  /**
   * argv and environment of processes, read from their memory (mm-<pid>.img gives the areas, the
   * pages images the bytes). Only the pages holding those areas are read. Dead and zombie tasks
   * have no memory and are left out. Results are cached.
   */
  async arguments(pids?: number[]): Promise<Map<number, ProcessArguments>> {
    const want = (pids ?? this.processes.map((p) => p.pid)).filter((pid) => {
      const p = this.process(pid);
      return p && (p.state === 'alive' || p.state === 'stopped' || p.state === 'unknown');
    });
    this._args ??= new Map();
    const missing = want.filter((pid) => !this._args!.has(pid));
    const memory = missing.length > 0 ? await this.memory() : undefined;
    if (memory) for (const p of memory.problems) this.noteProblem(p);
    if (memory) {
      try {
        for (const [pid, a] of await readProcessArguments(this.images, missing, memory)) this._args.set(pid, a);
      } catch (e) {
        // a pages file that is missing or short: the command lines are not known, the rest is
        if (!(e instanceof CkptError)) throw e;
        const file = e.file?.startsWith(`${this.label}:`) ? e.file.slice(this.label.length + 1) : (e.file ?? imageMember(''));
        this.noteProblem({ kind: /missing/.test(e.reason) ? 'missing' : 'damaged', file, offset: e.offset ?? null, message: `${e.reason}: command lines and environments not read` });
        return new Map();
      }
    }
    // what kept the command lines from being read: one warning per missing kind of image
    const paths = new Set(this.images.entries.map((e) => e.path));
    const lacking = new Map<string, { file: string; pids: number[] }>();
    for (const pid of missing) {
      if (this._args.has(pid)) continue;
      const pagemap = this.images.imageEntries<{ pages_id?: number }>(`pagemap-${pid}.img`)[0];
      const [kind, file] = !paths.has(imageMember(`mm-${pid}.img`))
        ? ['memory map', imageMember(`mm-${pid}.img`)]
        : !pagemap
          ? ['pagemap', imageMember(`pagemap-${pid}.img`)]
          : ['memory pages', imageMember(`pages-${pagemap.pages_id}.img`)];
      const l = lacking.get(kind) ?? { file, pids: [] };
      l.pids.push(pid);
      lacking.set(kind, l);
    }
    for (const [kind, l] of lacking) {
      const n = l.pids.length;
      const pids = `${l.pids.slice(0, 10).join(', ')}${n > 10 ? ` and ${n - 10} more` : ''}`;
      this.noteProblem({ kind: 'missing', offset: null, file: n === 1 ? l.file : l.file.replace(/-\d+\.img$/, '-<id>.img'), message: `no ${kind} of process${n > 1 ? 'es' : ''} ${pids}: command line and environment not read` });
    }
    return new Map(want.filter((pid) => this._args!.has(pid)).map((pid) => [pid, this._args!.get(pid)!]));
  }

  /** The memory of the processes (VMAs, pages, shared memory objects), built on first use. */
  memory(): Promise<CheckpointMemory> {
    return (this._memory ??= CheckpointMemory.load(this.images));
  }

  /**
   * What the container changed on its root file system: every entry of rootfs-diff.tar (type,
   * mode, owner, size, time, link target, SHA-256 of the content) and the deleted paths
   * (deleted.files, whiteouts). One streaming pass over the diff, cached. A damaged diff is
   * recorded in `problems` and the entries read before the damage are returned.
   */
  rootfsChanges(): Promise<RootfsChanges> {
    return (this._rootfs ??= (async () => {
      const partial: RootfsChanges = { member: null, compression: null, entries: [], deleted: [] };
      try {
        return await listRootfsChanges(this.source, this.container.deletedFiles, { sha256: this.sha256, into: partial });
      } catch (e) {
        if (!(e instanceof CkptError)) throw e;
        this.noteProblem({ kind: 'damaged', file: e.file ?? MEMBERS.rootfsDiff, offset: e.offset ?? null, message: e.reason });
        return partial;
      }
    })());
  }

  /** The members of rootfs-diff.tar with their contents, streamed in archive order (see `rootfsDiffMembers`). */
  rootfsMembers(): AsyncGenerator<RootfsMember> {
    return rootfsDiffMembers(this.source, { sha256: this.sha256 });
  }

  /** The content of one file of rootfs-diff.tar (`/etc/motd`), chunk by chunk. */
  rootfsFile(path: string): AsyncGenerator<Uint8Array> {
    return rootfsFileContent(this.source, path, { sha256: this.sha256 });
  }

  /** Releases the source. */
  async close(): Promise<void> {
    await this.images.source.close();
  }
}

/** Opens a checkpoint from a source (any runtime). On Node, `openCheckpointFile(path)` opens one from a path. */
export async function openCheckpoint(source: CheckpointSource, options?: OpenCheckpointOptions): Promise<Checkpoint> {
  return Checkpoint.open(source, options);
}
