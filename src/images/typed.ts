/**
 * Typed access to decoded images: which message (and which payload) each image magic holds.
 *
 *   const tree = entriesOf(decodeImage(path, bytes), 'PSTREE');   // PstreeEntry[]
 *   const { head, entries } = pagemapOf(image);                   // PagemapHead, PagemapEntry[]
 */
import { CkptError } from '../errors.js';
import type { CriuImage, IpcQueuedMessage, TcpQueues } from './decode.js';
import type * as M from './messages.js';

type WithExtra<T, X> = T & { extra: X };

/** Entry type of every image magic that has a decoder (payloads typed under `extra`). */
export interface ImageEntries {
  INVENTORY: M.InventoryEntry;
  PSTREE: M.PstreeEntry;
  FDINFO: M.FdinfoEntry;
  PAGEMAP: M.PagemapHead | M.PagemapEntry;
  CORE: M.CoreEntry;
  IDS: M.TaskKobjIdsEntry;
  VMAS: M.VmaEntry;
  PIPES: M.PipeEntry;
  PIPES_DATA: WithExtra<M.PipeDataEntry, Uint8Array>;
  FIFO: M.FifoEntry;
  FIFO_DATA: WithExtra<M.PipeDataEntry, Uint8Array>;
  SIGACT: M.SaEntry;
  UNIXSK: M.UnixSkEntry;
  INETSK: M.InetSkEntry;
  PACKETSK: M.PacketSockEntry;
  ITIMERS: M.ItimerEntry;
  POSIX_TIMERS: M.PosixTimerEntry;
  SK_QUEUES: WithExtra<M.SkPacketEntry, Uint8Array>;
  UTSNS: M.UtsnsEntry;
  CREDS: M.CredsEntry;
  IPC_VAR: M.IpcVarEntry;
  /** extra only when the segment's contents are inline (not in_pagemaps). */
  IPCNS_SHM: M.IpcShmEntry & { extra?: Uint8Array };
  IPCNS_MSG: WithExtra<M.IpcMsgEntry, IpcQueuedMessage[]>;
  IPCNS_SEM: WithExtra<M.IpcSemEntry, number[]>;
  REG_FILES: M.RegFileEntry;
  EXT_FILES: M.ExtFileEntry;
  FS: M.FsEntry;
  MM: M.MmEntry;
  REMAP_FPATH: M.RemapFilePathEntry;
  /** The ghost_file_entry (with the contents as extra unless chunked), then chunks with their data. */
  GHOST_FILE: (M.GhostFileEntry | M.GhostChunkEntry) & { extra?: Uint8Array };
  TCP_STREAM: WithExtra<M.TcpStreamEntry, TcpQueues>;
  EVENTFD_FILE: M.EventfdFileEntry;
  EVENTPOLL_FILE: M.EventpollFileEntry;
  EVENTPOLL_TFD: M.EventpollTfdEntry;
  SIGNALFD: M.SignalfdEntry;
  INOTIFY_FILE: M.InotifyFileEntry;
  INOTIFY_WD: M.InotifyWdEntry;
  MNTS: M.MntEntry;
  NETDEV: M.NetDeviceEntry;
  NETNS: M.NetnsEntry;
  TTY_FILES: M.TtyFileEntry;
  TTY_INFO: M.TtyInfoEntry;
  TTY_DATA: M.TtyDataEntry;
  FILE_LOCKS: M.FileLockEntry;
  RLIMIT: M.RlimitEntry;
  FANOTIFY_FILE: M.FanotifyFileEntry;
  FANOTIFY_MARK: M.FanotifyMarkEntry;
  SIGNAL: M.SiginfoEntry;
  NETLINK_SK: M.NetlinkSkEntry;
  NS_FILES: M.NsFileEntry;
  TUNFILE: M.TunfileEntry;
  CGROUP: M.CgroupEntry;
  TIMERFD: M.TimerfdEntry;
  CPUINFO: M.CpuinfoEntry;
  USERNS: M.UsernsEntry;
  SECCOMP: M.SeccompEntry;
  BINFMT_MISC: M.BinfmtMiscEntry;
  AUTOFS: M.AutofsEntry;
  FILES: M.FileEntry;
  MEMFD_INODE: M.MemfdInodeEntry;
  TIMENS: M.TimensEntry;
  PIDNS: M.PidnsEntry;
  BPFMAP_FILE: M.BpfmapFileEntry;
  BPFMAP_DATA: WithExtra<M.BpfmapDataEntry, Uint8Array>;
  APPARMOR: M.ApparmorEntry;
  PIDFD: M.PidfdEntry;
  STATS: M.StatsEntry;
  IRMAP_CACHE: M.IrmapCacheEntry;
}

/** The entries of an image of the given magic, typed. A different magic is a CkptError. */
export function entriesOf<K extends keyof ImageEntries>(image: CriuImage, magic: K): ImageEntries[K][] {
  if (image.magic !== magic) throw new CkptError(`expected a ${magic} image, found ${image.magic}`, image.file, 0);
  return image.entries as unknown as ImageEntries[K][];
}

/** A pagemap image split into its head and its entries. */
export function pagemapOf(image: CriuImage): { head: M.PagemapHead; entries: M.PagemapEntry[] } {
  const all = entriesOf(image, 'PAGEMAP');
  if (all.length === 0) throw new CkptError('pagemap image without its head entry', image.file, 0);
  return { head: all[0] as M.PagemapHead, entries: all.slice(1) as M.PagemapEntry[] };
}
