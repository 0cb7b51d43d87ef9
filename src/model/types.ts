/**
 * The public shape of an opened checkpoint: plain, JSON-friendly data (numbers, strings, arrays,
 * objects; no bigint, no cycles) so that views and callers can print or serialise it directly.
 */
import type { SeccompModeName } from '../images/linux.js';

/** The container engine that wrote the checkpoint; `CRIU` for a bare `criu dump` image directory. */
/** Who wrote the checkpoint; `unknown`: engine metadata is there but names no engine. */
export type Engine = 'Podman' | 'CRI-O' | 'containerd' | 'CRIU' | 'unknown';

export interface ContainerImage {
  /** The image's name as the engine recorded it, e.g. `localhost/busybox:lab`, `docker.io/library/nginx:latest`. */
  name?: string;
  /** The image ID (Podman's `rootfsImageID`, or the ID part of the engine's image reference). */
  id?: string;
  /** The engine's image reference: `rootfsImageRef` (CRI-O, containerd), e.g. `docker.io/library/nginx@sha256:…`. */
  ref?: string;
  /** The image as the user asked for it (`rootfsImage`, Podman's `RawImageName`). */
  requested?: string;
}

export interface NetworkInterface {
  /** The network the interface belongs to (Podman: network name), when known. */
  network?: string;
  /** Interface name inside the container, e.g. `eth0`. */
  name: string;
  /** Addresses with prefix length, e.g. `10.88.0.2/16`. */
  addresses: string[];
  gateways: string[];
  mac?: string;
}

export interface NetworkInfo {
  interfaces: NetworkInterface[];
  /** network.status as written by the engine (parsed JSON), when present. */
  status?: unknown;
}

export interface ContainerInfo {
  name?: string;
  id?: string;
  image: ContainerImage;
  engine: Engine;
  /** OCI runtime, e.g. `crun`, `runc`, `io.containerd.runc.v2`. */
  runtime?: string;
  /** When the container was created, as the engine recorded it (RFC 3339). */
  created?: string;
  /** When the checkpoint was taken (RFC 3339), when the engine recorded it. */
  checkpointed?: string;
  /** Kubernetes pod name (CRI-O, containerd) or Podman pod ID. */
  pod?: string;
  /** Kubernetes namespace. */
  namespace?: string;
  hostname?: string;
  /** spec.dump's annotations, as strings. */
  annotations: Record<string, string>;
  /**
   * The annotations whose value is JSON (CRI-O's `io.kubernetes.cri-o.Labels`, `.Annotations`,
   * `.Metadata`, `.Volumes`, kubectl's last-applied-configuration, …), parsed.
   */
  expandedAnnotations: Record<string, unknown>;
  network: NetworkInfo;
  /** The container's command (spec.dump process.args). */
  command?: string[];
  /** Files deleted from the root file system (deleted.files). */
  deletedFiles: string[];
}

export interface CheckpointSizes {
  /** Bytes of every regular file under checkpoint/ (what checkpointctl calls the checkpoint size). */
  total: number;
  /** Bytes of the memory pages images (checkpoint/pages-*.img). */
  memoryPages: number;
  /** Bytes of AMD GPU memory pages images (checkpoint/amdgpu-pages-*.img). */
  amdGpuMemoryPages: number;
  /** Size of rootfs-diff.tar as stored in the archive (0 when absent). */
  rootFsDiff: number;
}

/**
 * Every field of CRIU's dump statistics (stats-dump), by its stats.proto name: times in
 * microseconds (`freezing_time`, `frozen_time`, `memdump_time`, `memwrite_time`), page counts
 * (`pages_scanned`, `pages_written`, `pages_skipped_parent`, `pages_lazy`, `shpages_*`, …).
 */
export type DumpStatistics = Record<string, number>;

/**
 * What the process was doing: running or sleeping (`alive`), stopped by a signal (`stopped`), or
 * exited and not yet reaped (`zombie`: CRIU writes such a task as TASK_DEAD with its exit status).
 * `dead` is CRIU's TASK_DEAD for a task that is not known to be a zombie (not written by CRIU 4).
 */
/**
 * A task's state: `alive`, `stopped` (SIGSTOP and friends), `zombie` (exited, not reaped: CRIU
 * records it as TASK_DEAD or TASK_ZOMBIE; `task_state` keeps CRIU's name), `unknown` (no core
 * image, or a value CRIU does not define).
 */
export type ProcessState = 'alive' | 'stopped' | 'zombie' | 'unknown';

export interface CapabilitySets {
  /** Names (CAP_CHOWN, …) of each set. */
  effective: string[];
  permitted: string[];
  inheritable: string[];
  bounding: string[];
  ambient: string[];
  /** The same sets as 64-bit hex masks (`0x00000000a80425fb`). */
  masks: { effective: string; permitted: string; inheritable: string; bounding: string; ambient: string };
}

export interface Credentials {
  uid: number;
  euid: number;
  suid: number;
  fsuid: number;
  gid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  groups: number[];
  capabilities: CapabilitySets;
  /** prctl(PR_SET_NO_NEW_PRIVS). */
  noNewPrivs: boolean;
  secbits: number;
  lsmProfile?: string;
}

/** A seccomp mode by its name in the schema's seccomp_mode enum. */
export type SeccompState = SeccompModeName;

export interface Thread {
  tid: number;
  /** The thread's name (comm), as set by prctl(PR_SET_NAME) or pthread_setname_np. */
  comm?: string;
  credentials?: Credentials;
  seccomp?: SeccompState;
}

/** Another end of a pipe or unix socket: the process and fd that hold it, when in the checkpoint. */
export interface Peer {
  pid: number;
  fd: number;
  /** For unix sockets: the peer's inode and name. */
  ino?: number;
  name?: string;
}

export interface OpenFile {
  fd: number;
  /** CRIU's id of the open file (files.img), shared by every fd that holds the same file. */
  fileId: number;
  /** CRIU's fd type: REG, PIPE, FIFO, INETSK, UNIXSK, PACKETSK, NETLINKSK, EVENTFD, EVENTPOLL, INOTIFY, FANOTIFY, SIGNALFD, TIMERFD, MEMFD, TTY, NS, TUNF, EXT, BPFMAP, PIDFD. */
  type: string;
  /** Path for files, else a description such as `pipe[15410]`, `socket:[1234]`, `anon_inode:[eventfd]`. */
  path: string;
  /** File status flags (O_*) as text, e.g. `O_RDWR|O_LARGEFILE`, when recorded. */
  flags?: string;
  /** close-on-exec (FD_CLOEXEC) set on the descriptor. */
  cloexec: boolean;
  /** File position, for regular files and memfds. */
  pos?: number;
  /** The file's size when recorded. */
  size?: number;
  /** Deleted while open (CRIU kept it as a ghost or linked remap). */
  deleted?: boolean;
  /** For pipes: the pipe's inode number. */
  pipeId?: number;
  /** For pipes and unix sockets: the other ends, in any process of the checkpoint. */
  peers?: Peer[];
  /** Bytes queued in a pipe (pipes-data). */
  queued?: number;
  /** For sockets: the socket (same object as in `Checkpoint.sockets`). */
  socket?: Socket;
  /** Free-form details for other kinds (eventfd count, timerfd clock, …). */
  details?: Record<string, string | number | boolean | string[]>;
}

export interface SocketAddress {
  address: string;
  port: number;
}

export interface Socket {
  kind: 'inet' | 'unix' | 'packet' | 'netlink';
  pid: number;
  fd: number;
  ino: number;
  /** IPv4, IPv6, UNIX, PACKET, NETLINK. */
  family: string;
  /** STREAM, DGRAM, SEQPACKET, RAW. */
  type: string;
  /** TCP, UDP, … (inet); the netlink protocol (ROUTE, …); the ethertype (packet). */
  protocol?: string;
  /** LISTEN, ESTABLISHED, CLOSE, … */
  state?: string;
  /** inet: local and remote address and port. */
  local?: SocketAddress;
  remote?: SocketAddress;
  /** unix: the socket's own name: a path, `@abstract`, or '' when unnamed. */
  path?: string;
  /** unix: the peer's inode (0 when none) and where it is. */
  peer?: Peer & { ino: number };
  /** SO_SNDBUF and SO_RCVBUF in bytes. */
  sendBuffer: number;
  receiveBuffer: number;
  /** Bytes queued and saved with the checkpoint: receive queue (`in`) and send queue (`out`). */
  queued: { in: number; out: number };
  backlog?: number;
  v6only?: boolean;
  shutdown?: string;
  /** netlink: port ID and groups; packet: interface index. */
  portid?: number;
  groups?: number[];
  ifindex?: number;
}

export interface Process {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** The main thread's name (comm). */
  comm: string;
  state: ProcessState;
  /** CRIU's name for the recorded task_state (alive, dead, stopped, zombie), as checkpointctl prints it. */
  taskState: string;
  /** The raw wait status CRIU recorded for a dead or zombie task. */
  exitCode?: number;
  /** For a zombie: its exit status (exit(7) → 7) or the signal that killed it. */
  exitStatus?: number;
  exitSignal?: string;
  /** For a stopped task: the stop signal. */
  stopSignal?: string;
  /** Every thread, the main thread first. */
  threads: Thread[];
  /** The main thread's credentials. */
  credentials?: Credentials;
  seccomp?: SeccompState;
  /** Path of the executable (mm exe_file); `memfd:NAME` for a program run from a memfd. */
  exe?: string;
  /** The executable was deleted after it was started (CRIU kept it as a ghost or linked remap). */
  exeDeleted?: boolean;
  cwd?: string;
  root?: string;
  /** Open file descriptors, by fd number. */
  files: OpenFile[];
  /** Child processes, by pid. */
  children: Process[];
}

export interface SpecMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export interface CriuMount {
  mntId: number;
  parentMntId: number;
  mountpoint: string;
  /** File system type (`proc`, `tmpfs`, `overlay`, …). */
  type: string;
  source: string;
  /** The root of the mount inside its file system (for bind mounts). */
  root: string;
  options: string;
  /** For external (bind) mounts: the key CRIU records. */
  external?: string;
}

export interface Mounts {
  /** Mounts from the OCI spec (spec.dump). */
  spec: SpecMount[];
  /** Mounts from CRIU's mountpoints image, parents before children. */
  criu: CriuMount[];
}

/** A process's command line and environment, read from its memory. */
export interface ProcessArguments {
  argv: string[];
  /** `NAME=value` strings in their original order, duplicates kept. */
  environment: string[];
}

/** A part of a checkpoint that is missing or damaged (see `Checkpoint.problems`). */
export interface CheckpointProblem {
  /** `missing`: an expected member is absent; `damaged`: present but unreadable from `offset` on. */
  kind: 'missing' | 'damaged';
  /** The archive member or file, e.g. `checkpoint/files.img`, `config.dump`. */
  file: string;
  /** Byte offset of the damage inside `file`, or null when not known / not applicable. */
  offset: number | null;
  /** One line: what is missing or wrong and what could not be shown because of it. */
  message: string;
}
