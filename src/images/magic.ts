/**
 * Every magic of CRIU 4.2's criu/include/magic.h, in one table: its value, what kind of image it
 * marks, the protobuf message of its entries, the payload that follows each entry, and the file
 * names CRIU gives such images.
 *
 * Image layout (images v1.1): u32 IMG_COMMON or IMG_SERVICE (absent in inventory.img), u32 magic,
 * then entries. Raw images (pages, ip/nft dumps, tmpfs tarballs) carry no magic at all and are
 * recognised by their file name.
 */
import { IMG_COMMON, IMG_SERVICE, isImageMember } from '../source/layout.js';

export type MagicKind =
  /** Image-format version numbers, not image magics. */
  | 'version'
  /** The optional first word of an image (IMG_COMMON, IMG_SERVICE). */
  | 'head'
  /** A sequence of size-prefixed protobuf entries, each maybe followed by a payload. */
  | 'protobuf'
  /** pagemap_head then pagemap_entry entries. */
  | 'pagemap'
  /** ghost_file_entry, then the file's contents (plain) or ghost_chunk_entry + data chunks. */
  | 'ghost'
  /** No magic, no entries: data in some non-CRIU format, known by the file name. */
  | 'raw'
  /** Not an image in a checkpoint directory (criu's kerndat cache). */
  | 'other';

/** What follows an entry in the image, sized by fields of that entry. */
export type PayloadKind =
  /** pipe_data_entry.bytes bytes (pipes-data, fifo-data). */
  | 'pipe'
  /** sk_packet_entry.length bytes (sk-queues). */
  | 'sk-queue'
  /** tcp_stream_entry.inq_len bytes of in-queue, then outq_len bytes of out-queue. */
  | 'tcp'
  /** bpfmap_data_entry.keys_bytes + values_bytes bytes. */
  | 'bpfmap'
  /** ipc_sem_entry.nsems u16 values, padded to a multiple of 8 bytes. */
  | 'ipc-sem'
  /** ipc_msg_entry.qnum times: u32 size, ipc_msg, msize bytes of text padded to 8. */
  | 'ipc-msg'
  /** ipc_shm_entry.size bytes padded to 4, unless in_pagemaps (then the data is in pages images). */
  | 'ipc-shm';

export interface MagicInfo {
  /** CRIU's name without _MAGIC, as crit prints it: 'PSTREE', 'IMG_COMMON', ... */
  readonly name: string;
  readonly value: number;
  readonly kind: MagicKind;
  /** Protobuf message of the entries (first entry's message for pagemap / ghost images). */
  readonly message?: string;
  readonly payload?: PayloadKind;
  /** CRIU's file name patterns for images of this magic (printf style, as in image-desc.c). */
  readonly files?: readonly string[];
  /** `#define X_MAGIC Y_MAGIC`: an alias that shares Y's value. Aliases are never chosen by value. */
  readonly aliasOf?: string;
  /** True when crit 4.2 has a decoder for this magic (`crit decode` fails on the others). */
  readonly crit: boolean;
}

const RAW = 0;

/** The table. Order as in magic.h. */
export const MAGICS: readonly MagicInfo[] = [
  { name: 'CRTOOLS_IMAGES_V1', value: 1, kind: 'version', crit: false },
  { name: 'CRTOOLS_IMAGES_V1_1', value: 2, kind: 'version', crit: false },
  { name: 'RAW_IMAGE', value: RAW, kind: 'raw', crit: false },
  { name: 'IMG_COMMON', value: IMG_COMMON, kind: 'head', crit: false },
  { name: 'IMG_SERVICE', value: IMG_SERVICE, kind: 'head', crit: false },

  { name: 'INVENTORY', value: 0x58313116, kind: 'protobuf', message: 'inventory_entry', files: ['inventory'], crit: true },
  { name: 'PSTREE', value: 0x50273030, kind: 'protobuf', message: 'pstree_entry', files: ['pstree'], crit: true },
  { name: 'FDINFO', value: 0x56213732, kind: 'protobuf', message: 'fdinfo_entry', files: ['fdinfo-%u'], crit: true },
  { name: 'PAGEMAP', value: 0x56084025, kind: 'pagemap', message: 'pagemap_head', files: ['pagemap-%lu'], crit: true },
  { name: 'SHMEM_PAGEMAP', value: 0x56084025, kind: 'pagemap', message: 'pagemap_head', files: ['pagemap-shmem-%lu'], aliasOf: 'PAGEMAP', crit: true },
  { name: 'PAGES', value: RAW, kind: 'raw', files: ['pages-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'CORE', value: 0x55053847, kind: 'protobuf', message: 'core_entry', files: ['core-%u'], crit: true },
  { name: 'IDS', value: 0x54432030, kind: 'protobuf', message: 'task_kobj_ids_entry', files: ['ids-%u'], crit: true },
  { name: 'VMAS', value: 0x54123737, kind: 'protobuf', message: 'vma_entry', files: ['vmas-%u'], crit: true },
  { name: 'PIPES', value: 0x56513555, kind: 'protobuf', message: 'pipe_entry', files: ['pipes'], crit: true },
  { name: 'PIPES_DATA', value: 0x56453709, kind: 'protobuf', message: 'pipe_data_entry', payload: 'pipe', files: ['pipes-data'], crit: true },
  { name: 'FIFO', value: 0x58364939, kind: 'protobuf', message: 'fifo_entry', files: ['fifo'], crit: true },
  { name: 'FIFO_DATA', value: 0x59333054, kind: 'protobuf', message: 'pipe_data_entry', payload: 'pipe', files: ['fifo-data'], crit: true },
  { name: 'SIGACT', value: 0x55344201, kind: 'protobuf', message: 'sa_entry', files: ['sigacts-%u'], crit: true },
  { name: 'UNIXSK', value: 0x54373943, kind: 'protobuf', message: 'unix_sk_entry', files: ['unixsk'], crit: true },
  { name: 'INETSK', value: 0x56443851, kind: 'protobuf', message: 'inet_sk_entry', files: ['inetsk'], crit: true },
  { name: 'PACKETSK', value: 0x60454618, kind: 'protobuf', message: 'packet_sock_entry', files: ['packetsk'], crit: true },
  { name: 'ITIMERS', value: 0x57464056, kind: 'protobuf', message: 'itimer_entry', files: ['itimers-%u'], crit: true },
  { name: 'POSIX_TIMERS', value: 0x52603957, kind: 'protobuf', message: 'posix_timer_entry', files: ['posix-timers-%u'], crit: true },
  { name: 'SK_QUEUES', value: 0x56264026, kind: 'protobuf', message: 'sk_packet_entry', payload: 'sk-queue', files: ['sk-queues'], crit: true },
  { name: 'UTSNS', value: 0x54473203, kind: 'protobuf', message: 'utsns_entry', files: ['utsns-%u'], crit: true },
  { name: 'CREDS', value: 0x54023547, kind: 'protobuf', message: 'creds_entry', files: ['creds-%u'], crit: true },
  { name: 'IPC_VAR', value: 0x53115007, kind: 'protobuf', message: 'ipc_var_entry', files: ['ipcns-var-%u'], crit: true },
  { name: 'IPCNS_SHM', value: 0x46283044, kind: 'protobuf', message: 'ipc_shm_entry', payload: 'ipc-shm', files: ['ipcns-shm-%u'], crit: true },
  { name: 'IPCNS_MSG', value: 0x55453737, kind: 'protobuf', message: 'ipc_msg_entry', payload: 'ipc-msg', files: ['ipcns-msg-%u'], crit: true },
  { name: 'IPCNS_SEM', value: 0x59573019, kind: 'protobuf', message: 'ipc_sem_entry', payload: 'ipc-sem', files: ['ipcns-sem-%u'], crit: true },
  { name: 'REG_FILES', value: 0x50363636, kind: 'protobuf', message: 'reg_file_entry', files: ['reg-files'], crit: true },
  { name: 'EXT_FILES', value: 0x59255641, kind: 'protobuf', message: 'ext_file_entry', files: ['ext-files'], crit: true },
  { name: 'FS', value: 0x51403912, kind: 'protobuf', message: 'fs_entry', files: ['fs-%u'], crit: true },
  { name: 'MM', value: 0x57492820, kind: 'protobuf', message: 'mm_entry', files: ['mm-%u'], crit: true },
  { name: 'REMAP_FPATH', value: 0x59133954, kind: 'protobuf', message: 'remap_file_path_entry', files: ['remap-fpath'], crit: true },
  { name: 'GHOST_FILE', value: 0x52583605, kind: 'ghost', message: 'ghost_file_entry', files: ['ghost-file-%x'], crit: true },
  { name: 'TCP_STREAM', value: 0x51465506, kind: 'protobuf', message: 'tcp_stream_entry', payload: 'tcp', files: ['tcp-stream-%x'], crit: true },
  { name: 'EVENTFD_FILE', value: 0x44523722, kind: 'protobuf', message: 'eventfd_file_entry', files: ['eventfd'], crit: true },
  { name: 'EVENTPOLL_FILE', value: 0x45023858, kind: 'protobuf', message: 'eventpoll_file_entry', files: ['eventpoll'], crit: true },
  { name: 'EVENTPOLL_TFD', value: 0x44433746, kind: 'protobuf', message: 'eventpoll_tfd_entry', files: ['eventpoll-tfd'], crit: true },
  { name: 'SIGNALFD', value: 0x57323820, kind: 'protobuf', message: 'signalfd_entry', files: ['signalfd'], crit: true },
  { name: 'INOTIFY_FILE', value: 0x48424431, kind: 'protobuf', message: 'inotify_file_entry', files: ['inotify'], crit: true },
  { name: 'INOTIFY_WD', value: 0x54562009, kind: 'protobuf', message: 'inotify_wd_entry', files: ['inotify-wd'], crit: true },
  { name: 'MNTS', value: 0x55563928, kind: 'protobuf', message: 'mnt_entry', files: ['mountpoints-%u'], crit: true },
  { name: 'NETDEV', value: 0x57373951, kind: 'protobuf', message: 'net_device_entry', files: ['netdev-%u'], crit: true },
  { name: 'NETNS', value: 0x55933752, kind: 'protobuf', message: 'netns_entry', files: ['netns-%u'], crit: true },
  { name: 'TTY_FILES', value: 0x59433025, kind: 'protobuf', message: 'tty_file_entry', files: ['tty'], crit: true },
  { name: 'TTY_INFO', value: 0x59453036, kind: 'protobuf', message: 'tty_info_entry', files: ['tty-info'], crit: true },
  { name: 'TTY_DATA', value: 0x59413026, kind: 'protobuf', message: 'tty_data_entry', files: ['tty-data'], crit: true },
  { name: 'FILE_LOCKS', value: 0x54323616, kind: 'protobuf', message: 'file_lock_entry', files: ['filelocks'], crit: true },
  { name: 'RLIMIT', value: 0x57113925, kind: 'protobuf', message: 'rlimit_entry', files: ['rlimit-%u'], crit: true },
  { name: 'FANOTIFY_FILE', value: 0x55096122, kind: 'protobuf', message: 'fanotify_file_entry', files: ['fanotify'], crit: true },
  { name: 'FANOTIFY_MARK', value: 0x56506035, kind: 'protobuf', message: 'fanotify_mark_entry', files: ['fanotify-mark'], crit: true },
  { name: 'SIGNAL', value: 0x59255647, kind: 'protobuf', message: 'siginfo_entry', files: ['signal-s-%u'], crit: false },
  { name: 'PSIGNAL', value: 0x59255647, kind: 'protobuf', message: 'siginfo_entry', files: ['signal-p-%u'], aliasOf: 'SIGNAL', crit: false },
  { name: 'NETLINK_SK', value: 0x58005614, kind: 'protobuf', message: 'netlink_sk_entry', files: ['netlinksk'], crit: true },
  { name: 'NS_FILES', value: 0x61394011, kind: 'protobuf', message: 'ns_file_entry', files: ['ns-files'], crit: true },
  { name: 'TUNFILE', value: 0x57143751, kind: 'protobuf', message: 'tunfile_entry', files: ['tunfile'], crit: true },
  { name: 'CGROUP', value: 0x59383330, kind: 'protobuf', message: 'cgroup_entry', files: ['cgroup'], crit: true },
  { name: 'TIMERFD', value: 0x50493712, kind: 'protobuf', message: 'timerfd_entry', files: ['timerfd'], crit: true },
  { name: 'CPUINFO', value: 0x61404013, kind: 'protobuf', message: 'cpuinfo_entry', files: ['cpuinfo'], crit: true },
  { name: 'USERNS', value: 0x55474906, kind: 'protobuf', message: 'userns_entry', files: ['userns-%u'], crit: true },
  { name: 'SECCOMP', value: 0x64413049, kind: 'protobuf', message: 'seccomp_entry', files: ['seccomp'], crit: true },
  { name: 'BINFMT_MISC', value: 0x67343323, kind: 'protobuf', message: 'binfmt_misc_entry', files: ['binfmt-misc'], crit: false },
  { name: 'AUTOFS', value: 0x49353943, kind: 'protobuf', message: 'autofs_entry', files: ['autofs-%u'], crit: true },
  { name: 'FILES', value: 0x56303138, kind: 'protobuf', message: 'file_entry', files: ['files'], crit: true },
  { name: 'MEMFD_INODE', value: 0x48453499, kind: 'protobuf', message: 'memfd_inode_entry', files: ['memfd'], crit: true },
  { name: 'TIMENS', value: 0x43114433, kind: 'protobuf', message: 'timens_entry', files: ['timens-%u'], crit: true },
  { name: 'PIDNS', value: 0x61157326, kind: 'protobuf', message: 'pidns_entry', files: ['pidns-%u'], crit: true },
  { name: 'BPFMAP_FILE', value: 0x57506142, kind: 'protobuf', message: 'bpfmap_file_entry', files: ['bpfmap-file'], crit: true },
  { name: 'BPFMAP_DATA', value: 0x64324033, kind: 'protobuf', message: 'bpfmap_data_entry', payload: 'bpfmap', files: ['bpfmap-data'], crit: true },
  { name: 'APPARMOR', value: 0x59423047, kind: 'protobuf', message: 'apparmor_entry', files: ['apparmor'], crit: true },
  // CRIU 4.2 writes pidfds as file_entry.pidfd in files.img; no image carries this magic.
  { name: 'PIDFD', value: 0x54435556, kind: 'protobuf', message: 'pidfd_entry', crit: false },

  { name: 'IFADDR', value: RAW, kind: 'raw', files: ['ifaddr-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'ROUTE', value: RAW, kind: 'raw', files: ['route-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'ROUTE6', value: RAW, kind: 'raw', files: ['route6-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'RULE', value: RAW, kind: 'raw', files: ['rule-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'TMPFS_IMG', value: RAW, kind: 'raw', files: ['tmpfs-%u.tar.gz'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'TMPFS_DEV', value: RAW, kind: 'raw', files: ['tmpfs-dev-%u.tar.gz'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'IPTABLES', value: RAW, kind: 'raw', files: ['iptables-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'IP6TABLES', value: RAW, kind: 'raw', files: ['ip6tables-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'NFTABLES', value: RAW, kind: 'raw', files: ['nftables-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'NETNF_CT', value: RAW, kind: 'raw', files: ['netns-ct-%u'], aliasOf: 'RAW_IMAGE', crit: false },
  { name: 'NETNF_EXP', value: RAW, kind: 'raw', files: ['netns-exp-%u'], aliasOf: 'RAW_IMAGE', crit: false },

  { name: 'PAGES_OLD', value: 0x56084025, kind: 'pagemap', message: 'pagemap_head', files: ['pages-%d'], aliasOf: 'PAGEMAP', crit: true },
  { name: 'SHM_PAGES_OLD', value: 0x56084025, kind: 'pagemap', message: 'pagemap_head', files: ['pages-shmem-%ld'], aliasOf: 'PAGEMAP', crit: true },
  { name: 'BINFMT_MISC_OLD', value: 0x67343323, kind: 'protobuf', message: 'binfmt_misc_entry', files: ['binfmt-misc-%u'], aliasOf: 'BINFMT_MISC', crit: false },

  // Service files (IMG_SERVICE head): not images of the dumped tasks.
  { name: 'STATS', value: 0x57093306, kind: 'protobuf', message: 'stats_entry', files: ['stats-%s'], crit: true },
  { name: 'IRMAP_CACHE', value: 0x57004059, kind: 'protobuf', message: 'irmap_cache_entry', files: ['irmap-cache'], crit: true },
  // criu's kerndat cache (/run/criu.kdat): a C structure after the magic.
  { name: 'KDAT', value: 0x57023458, kind: 'other', crit: false },
];

export { IMG_COMMON, IMG_SERVICE };

const byName = new Map<string, MagicInfo>();
const byValue = new Map<number, MagicInfo>();
for (const m of MAGICS) {
  byName.set(m.name, m);
  if (!m.aliasOf && m.kind !== 'raw' && m.kind !== 'version' && m.kind !== 'head') byValue.set(m.value, m);
}

/** The image magic with this value (never a head, version or raw magic), or undefined. */
export function magicByValue(value: number): MagicInfo | undefined {
  return byValue.get(value >>> 0);
}

/** The table row of a name as in magic.h without _MAGIC ('PSTREE', 'IFADDR', ...). */
export function magicByName(name: string): MagicInfo | undefined {
  return byName.get(name);
}

// File names of raw images: printf patterns of the raw rows, %-conversions as digits.
const rawPatterns: Array<[RegExp, MagicInfo]> = MAGICS.filter((m) => m.kind === 'raw' && m.files).flatMap((m) =>
  m.files!.map((f): [RegExp, MagicInfo] => [new RegExp('^' + f.replace(/[.]/g, '\\.').replace(/%l?[ud]/g, '\\d+') + '\\.img$'), m]),
);

/**
 * The raw-image row for a file name (any directory part is ignored), e.g. 'checkpoint/pages-1.img'
 * → PAGES, 'tmpfs-dev-48.tar.gz.img' → TMPFS_DEV; undefined for other names.
 */
export function rawImageKind(file: string): MagicInfo | undefined {
  const base = file.slice(file.lastIndexOf('/') + 1);
  for (const [re, m] of rawPatterns) if (re.test(base)) return m;
  return undefined;
}

/** True for raw images (no magic, no protobuf entries), told by file name. */
export function isRawImageName(file: string): boolean {
  return rawImageKind(file) !== undefined;
}

// File names of framed images (protobuf, pagemap, ghost): the magic their name promises.
const framedPatterns: Array<[RegExp, MagicInfo]> = MAGICS.filter((m) => m.files && (m.kind === 'protobuf' || m.kind === 'pagemap' || m.kind === 'ghost')).flatMap((m) =>
  m.files!.map((f): [RegExp, MagicInfo] => [
    new RegExp('^' + f.replace(/[.]/g, '\\.').replace(/%l?[ud]/g, '\\d+').replace(/%x/g, '[0-9a-f]+').replace(/%s/g, '[^/]+') + '(?:\\.img)?$'),
    m,
  ]),
);

/**
 * The magic an image's file name promises (any directory part is ignored): 'checkpoint/pstree.img'
 * → PSTREE, 'pagemap-shmem-9.img' → SHMEM_PAGEMAP (PAGEMAP's value); undefined for a raw image
 * or a name CRIU does not give. decodeImage refuses an image whose magic is another one.
 */
export function magicForImageName(file: string): MagicInfo | undefined {
  const base = file.slice(file.lastIndexOf('/') + 1);
  if (rawImageKind(base)) return undefined;
  let found: MagicInfo | undefined;
  for (const [re, m] of framedPatterns) {
    if (!re.test(base)) continue;
    if (found && found.value !== m.value) return undefined; // two kinds: the name promises neither
    found ??= m;
  }
  return found;
}

/** True for a protobuf image of the checkpoint: an `.img` directly in `checkpoint/` that is not a raw image. */
export function isProtobufImageMember(path: string): boolean {
  return isImageMember(path) && !isRawImageName(path);
}
