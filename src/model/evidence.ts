/**
 * Evidence that lives only in the checkpoint, as artifacts one can save: files deleted while open
 * (ghost files), memfd contents, bytes waiting in pipes and FIFOs, socket receive queues (unix and
 * datagram), TCP send and receive queues, SysV shared memory segments, the container's log and the
 * files of /dev/shm (devshm-checkpoint.tar). Each artifact says where its bytes are in the archive
 * (member and byte offset of each piece) and the size CRIU's images give, so that a writer can check
 * what it wrote. Runtime-neutral: the bytes come from the source.
 */
import { CkptError } from '../errors.js';
import type { CriuEntry, FileEntry, GhostChunkEntry, GhostFileEntry, IpcShmEntry, MemfdInodeEntry, PipeDataEntry, SkPacketEntry, TcpQueues, TcpStreamEntry, RemapFilePathEntry } from '../images/index.js';
import type { Checkpoint } from './checkpoint.js';
import type { OpenFile, Process, Socket } from './types.js';
import { PE_PRESENT, type PageMap } from './memory/pagemap.js';
import { tarEntries } from '../source/tar.js';
import { sniffDecompress } from '../source/compression.js';
import { imageMember, MEMBERS } from '../source/layout.js';

export type ArtifactKind = 'ghost' | 'memfd' | 'pipe' | 'fifo' | 'unix-queue' | 'inet-queue' | 'tcp-queue' | 'sysv-shm' | 'log' | 'devshm';

/** Where some bytes of an artifact are: `length` bytes at `offset` of archive member `member`, placed at `at` in the artifact. */
export interface ArtifactPiece {
  member: string;
  offset: number;
  length: number;
  at: number;
}

export interface Artifact {
  kind: ArtifactKind;
  /** The process and fd that hold it, or null (SysV segments, the log, /dev/shm files). */
  pid: number | null;
  fd: number | null;
  /** The original path (ghost file, memfd name, /dev/shm file, log member), or null. */
  path: string | null;
  /** For queues: the other end (`127.0.0.1:7001`, `pid 1 fd 18`, a unix path), or null. */
  peer: string | null;
  /** For queues: `recv` (waiting to be read by this fd) or `send` (written, not yet sent); null otherwise. */
  direction: 'recv' | 'send' | null;
  /** Suggested file name, relative to an output directory: `<kind dir>/pid1-fd3-tmp_report.txt`. */
  name: string;
  /** Size in bytes according to CRIU's images (or the tar header): what must be written. */
  size: number;
  /** The archive member that holds (the first of) its bytes, and the byte offset in it. */
  member: string;
  offset: number | null;
  /** Every piece with data, in order. */
  pieces: ArtifactPiece[];
  /**
   * True for memory objects (memfd, SysV shm) and chunked ghost files: bytes no piece covers are
   * zeros (pages not in the checkpoint, holes). Otherwise the pieces hold every byte.
   */
  sparse: boolean;
}

export interface ArtifactOptions {
  /** Only artifacts held by this process (the SysV segments, log and /dev/shm files have none and are left out). */
  pid?: number;
  /** Only artifacts held by a process (no SysV segments, log or /dev/shm files: nothing beyond the images is read). */
  heldOnly?: boolean;
}

/** Directory (first part of `name`) of each kind. */
const KIND_DIR: Record<ArtifactKind, string> = {
  ghost: 'ghost',
  memfd: 'memfd',
  pipe: 'pipe',
  fifo: 'fifo',
  'unix-queue': 'unix',
  'inet-queue': 'inet',
  'tcp-queue': 'tcp',
  'sysv-shm': 'sysv-shm',
  log: 'log',
  devshm: 'devshm',
};

/** A path or name as one safe file name: `/tmp/report.txt` → `tmp_report.txt` (only `A-Za-z0-9._-`). */
export function safeFileName(text: string): string {
  let s = text.replace(/^\/+/, '').replace(/[^A-Za-z0-9._-]/g, '_');
  if (s === '' || s.startsWith('.')) s = `_${s}`;
  return s.length > 120 ? s.slice(0, 120) : s;
}

function holderName(pid: number | null, fd: number | null): string {
  return [pid !== null ? `pid${pid}` : '', fd !== null ? `fd${fd}` : ''].filter(Boolean).join('-');
}

const LOG_MEMBERS = ['ctr.log', MEMBERS.containerLog, 'io.kubernetes.cri-o.LogPath'];
export const DEVSHM_MEMBER = MEMBERS.devShm;

/**
 * Every artifact of the checkpoint, in a stable order (by kind, then pid and fd). Reads the images
 * already loaded; the /dev/shm tar is read once (headers only) when present.
 */
export async function listArtifacts(ck: Checkpoint, options: ArtifactOptions = {}): Promise<Artifact[]> {
  const im = ck.images;
  const out: Artifact[] = [];
  const holders = new Map<number, { p: Process; f: OpenFile }[]>();
  for (const p of ck.processes) {
    for (const f of p.files) {
      const list = holders.get(f.fileId) ?? [];
      list.push({ p, f });
      holders.set(f.fileId, list);
    }
  }
  const first = (fileId: number) => holders.get(fileId)?.[0];
  /** Where an entry's payload is: its offset in the image member. */
  const payloadAt = (image: string, bytes: Uint8Array): { member: string; offset: number } => {
    const member = imageMember(image);
    const raw = im.file(member);
    if (!raw || bytes.buffer !== raw.buffer) return { member, offset: 0 };
    return { member, offset: bytes.byteOffset - raw.byteOffset };
  };
  const add = (a: Omit<Artifact, 'name' | 'member' | 'offset' | 'sparse'> & { base: string; sparse?: boolean }) => {
    const { base, sparse, ...rest } = a;
    const p0 = rest.pieces[0];
    out.push({ ...rest, name: `${KIND_DIR[a.kind]}/${base}`, member: p0?.member ?? '', offset: p0 ? p0.offset : null, sparse: sparse ?? false });
  };
  const bytesPiece = (image: string, bytes: Uint8Array, at = 0): ArtifactPiece[] => {
    if (bytes.length === 0) return [];
    const { member, offset } = payloadAt(image, bytes);
    return [{ member, offset, length: bytes.length, at }];
  };

  // ghost files: remap-fpath (GHOST) → ghost-file-<remap id in hex>.img
  const files = new Map<number, FileEntry>();
  for (const f of im.imageEntries<FileEntry>('files.img')) files.set(f.id, f);
  for (const r of im.imageEntries<RemapFilePathEntry>('remap-fpath.img')) {
    const image = `ghost-file-${r.remap_id.toString(16)}.img`;
    const ghost = im.image(image);
    if (!ghost) continue;
    const fileId = r.orig_id & 0x7fffffff;
    const h = first(fileId);
    const reg = files.get(fileId)?.reg;
    const g = ghost.entries[0] as GhostFileEntry & CriuEntry;
    const pieces: ArtifactPiece[] = [];
    let end = 0;
    if (g.chunks) {
      for (const c of ghost.entries.slice(1) as (GhostChunkEntry & CriuEntry)[]) {
        const data = c.extra as Uint8Array;
        pieces.push(...bytesPiece(image, data, Number(c.off)));
        end = Math.max(end, Number(c.off) + data.length);
      }
    } else if (g.extra instanceof Uint8Array) {
      pieces.push(...bytesPiece(image, g.extra));
      end = g.extra.length;
    }
    // the size: the ghost entry's (chunked images), else the open file's as files.img recorded it
    const size = g.size !== undefined ? Number(g.size) : reg?.size !== undefined ? Number(reg.size) : end;
    const path = reg?.name ?? null;
    const pid = h?.p.pid ?? null;
    const fd = h?.f.fd ?? null;
    add({ kind: 'ghost', pid, fd, path, peer: null, direction: null, size, pieces, sparse: g.chunks === true, base: `${holderName(pid, fd) || 'unheld'}-${safeFileName(path ?? image)}` });
  }

  // memfd contents: memfd.img inode → pagemap-shmem-<shmid>.img → pages file
  const memory = await ck.memory();
  const objects = new Map(memory.sharedObjects().map((o) => [`${o.kind}:${o.shmid}`, o]));
  const memfdHolder = new Map<bigint, { p: Process; f: OpenFile }>();
  for (const f of files.values()) if (f.memfd) {
    const h = first(f.id);
    if (h && !memfdHolder.has(BigInt(f.memfd.inode_id))) memfdHolder.set(BigInt(f.memfd.inode_id), h);
  }
  for (const m of im.imageEntries<MemfdInodeEntry>('memfd.img')) {
    if (m.name.startsWith('/dev/zero')) continue; // MAP_SHARED anonymous memory, dumped as a memfd: see memdump
    const obj = objects.get(`memfd:${m.shmid}`);
    const h = memfdHolder.get(BigInt(m.inode_id));
    const pid = h?.p.pid ?? obj?.mappings[0]?.pid ?? null;
    const fd = h?.f.fd ?? null;
    const size = Number(m.size);
    add({ kind: 'memfd', pid, fd, path: `memfd:${m.name}`, peer: null, direction: null, size, pieces: obj?.pagemap ? pagemapPieces(obj.pagemap, size) : [], sparse: true, base: `${holderName(pid, fd) || 'unheld'}-${safeFileName(m.name)}.bin` });
  }

  // pipes and FIFOs: pipes-data.img / fifo-data.img by pipe_id, named after the reading end
  for (const [image, kind] of [['pipes-data.img', 'pipe'], ['fifo-data.img', 'fifo']] as const) {
    for (const d of im.imageEntries<PipeDataEntry & CriuEntry>(image)) {
      const data = d.extra instanceof Uint8Array ? d.extra : new Uint8Array();
      if (d.bytes === 0 && data.length === 0) continue;
      const ends = ck.processes.flatMap((p) => p.files.filter((f) => f.pipeId === d.pipe_id).map((f) => ({ p, f })));
      const reader = ends.find((e) => (e.f.flags ?? '').startsWith('O_RDONLY')) ?? ends[0];
      const pid = reader?.p.pid ?? null;
      const fd = reader?.f.fd ?? null;
      const others = ends.filter((e) => e !== reader).map((e) => `pid ${e.p.pid} fd ${e.f.fd}`);
      add({ kind, pid, fd, path: `${kind}[${d.pipe_id}]`, peer: others.join(', ') || null, direction: 'recv', size: d.bytes, pieces: bytesPiece(image, data), base: `${holderName(pid, fd) || `pipe${d.pipe_id}`}.bin` });
    }
  }

  // socket receive queues saved by CRIU (sk-queues.img: unix sockets, datagram inet sockets)
  const socketOf = new Map<number, { p: Process; f: OpenFile; s: Socket }>();
  for (const [fileId, hs] of holders) for (const h of hs) if (h.f.socket && !socketOf.has(fileId)) socketOf.set(fileId, { ...h, s: h.f.socket });
  const queues = new Map<number, { size: number; pieces: ArtifactPiece[] }>();
  for (const q of im.imageEntries<SkPacketEntry & CriuEntry>('sk-queues.img')) {
    const data = q.extra instanceof Uint8Array ? q.extra : new Uint8Array();
    const acc = queues.get(q.id_for) ?? { size: 0, pieces: [] };
    acc.pieces.push(...bytesPiece('sk-queues.img', data, acc.size));
    acc.size += q.length;
    queues.set(q.id_for, acc);
  }
  for (const [id, q] of queues) {
    const h = socketOf.get(id);
    const pid = h?.p.pid ?? null;
    const fd = h?.f.fd ?? null;
    const s = h?.s;
    const kind: ArtifactKind = s?.kind === 'inet' ? 'inet-queue' : 'unix-queue';
    add({ kind, pid, fd, path: s?.kind === 'unix' ? s.path || null : null, peer: s ? socketPeer(s) : null, direction: 'recv', size: q.size, pieces: q.pieces, base: `${holderName(pid, fd) || `socket${id}`}-recv.bin` });
  }

  // TCP queues: tcp-stream-<inode in hex>.img
  const seenIno = new Set<number>();
  for (const s of ck.sockets) {
    if (s.kind !== 'inet' || s.protocol !== 'TCP' || seenIno.has(s.ino)) continue;
    for (const image of [`tcp-stream-${s.ino.toString(16)}.img`, `tcp-stream-${s.ino}.img`]) {
      const t = im.imageEntries<TcpStreamEntry & CriuEntry>(image)[0];
      if (!t) continue;
      seenIno.add(s.ino);
      const qs = t.extra as TcpQueues | undefined;
      for (const [direction, size, data] of [['recv', t.inq_len, qs?.inq], ['send', t.outq_len, qs?.outq]] as const) {
        if (size === 0 && (!data || data.length === 0)) continue;
        add({ kind: 'tcp-queue', pid: s.pid, fd: s.fd, path: null, peer: socketPeer(s), direction, size, pieces: data ? bytesPiece(image, data) : [], base: `${holderName(s.pid, s.fd)}-${direction}.bin` });
      }
      break;
    }
  }

  // SysV shared memory segments (ipcns-shm-<ns>.img; contents inline or in pagemap-shmem-<id>.img)
  if (options.pid === undefined && !options.heldOnly) {
    for (const image of im.imagePaths().map((p) => p.slice(p.lastIndexOf('/') + 1)).filter((n) => /^ipcns-shm-\d+\.img$/.test(n))) {
      for (const e of im.imageEntries<IpcShmEntry & CriuEntry>(image)) {
        const size = Number(e.size);
        const obj = objects.get(`sysv shm:${e.desc.id}`);
        const pieces = e.extra instanceof Uint8Array && e.extra.length > 0 ? bytesPiece(image, e.extra) : obj?.pagemap ? pagemapPieces(obj.pagemap, size) : [];
        const key = `0x${(e.desc.key >>> 0).toString(16).padStart(8, '0')}`;
        add({ kind: 'sysv-shm', pid: null, fd: null, path: `key ${key} id ${e.desc.id}`, peer: null, direction: null, size, pieces, sparse: true, base: `key${key}-id${e.desc.id}.bin` });
      }
    }

    // the container's log, as the engine stored it
    for (const e of im.entries) {
      if (e.type !== 'file' || !LOG_MEMBERS.includes(e.path)) continue;
      add({ kind: 'log', pid: null, fd: null, path: e.path, peer: null, direction: null, size: e.size, pieces: e.size ? [{ member: e.path, offset: 0, length: e.size, at: 0 }] : [], base: safeFileName(e.path) });
    }

    // /dev/shm: the regular files of devshm-checkpoint.tar (only when the tar is plain: offsets are in it)
    if (im.entries.some((e) => e.path === DEVSHM_MEMBER && e.type === 'file')) {
      const label = `${ck.label}:${DEVSHM_MEMBER}`;
      const { format, bytes } = await sniffDecompress(ck.source.stream(DEVSHM_MEMBER), label);
      if (format !== 'none') throw new CkptError(`a ${format}-compressed /dev/shm archive is not supported`, label);
      for await (const { entry, header } of tarEntries(bytes, label)) {
        if (entry.type !== 'file' || header.typeflag === '1') continue;
        const path = `/dev/shm/${entry.path}`;
        add({ kind: 'devshm', pid: null, fd: null, path, peer: null, direction: null, size: entry.size, pieces: entry.size ? [{ member: DEVSHM_MEMBER, offset: header.dataOffset, length: entry.size, at: 0 }] : [], base: safeFileName(entry.path) });
      }
    }
  }

  const kept = options.pid === undefined ? out : out.filter((a) => a.pid === options.pid);
  // unique names (two artifacts of one fd and kind get -2, -3, …)
  const used = new Set<string>();
  for (const a of kept) {
    let name = a.name;
    for (let i = 2; used.has(name); i++) name = a.name.replace(/(\.[^./]*)?$/, (ext) => `-${i}${ext}`);
    used.add(name);
    a.name = name;
  }
  return kept;
}

/** The pieces of a shared memory object: its present pages, in the pages file, up to `size`. */
function pagemapPieces(pm: PageMap, size: number): ArtifactPiece[] {
  const out: ArtifactPiece[] = [];
  for (const r of pm.runs) {
    if (!(r.flags & PE_PRESENT) || r.offset < 0) continue;
    const at = Number(r.start);
    if (at >= size) continue;
    const length = Math.min(Number(r.end - r.start), size - at);
    out.push({ member: pm.pagesFile, offset: r.offset, length, at });
  }
  return out;
}

/** The other end of a socket, as text. */
function socketPeer(s: Socket): string | null {
  if (s.kind === 'inet') return s.remote ? (s.remote.address.includes(':') ? `[${s.remote.address}]:${s.remote.port}` : `${s.remote.address}:${s.remote.port}`) : null;
  if (s.kind === 'unix' && s.peer) return s.peer.pid ? `pid ${s.peer.pid} fd ${s.peer.fd}` : s.peer.name ? s.peer.name : `socket:[${s.peer.ino}]`;
  return null;
}

/**
 * The bytes of an artifact, in order, `chunkSize` at most per chunk. For a sparse artifact, ranges
 * no piece covers are zeros up to its size; otherwise the pieces are all there is (a writer
 * compares what it got with `size`). A member shorter than a piece is a CkptError.
 */
export async function* artifactBytes(ck: Checkpoint, a: Artifact, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  const pieces = [...a.pieces].sort((x, y) => x.at - y.at);
  let pos = 0;
  const zeros = (n: number) => new Uint8Array(n);
  for (const p of pieces) {
    while (a.sparse && pos < p.at) {
      const n = Math.min(chunkSize, p.at - pos);
      yield zeros(n);
      pos += n;
    }
    for (let done = 0; done < p.length; ) {
      const n = Math.min(chunkSize, p.length - done);
      // images are in memory already; pages and other members are read from the source
      const held = ck.images.file(p.member);
      const b = held ? held.subarray(p.offset + done, p.offset + done + n) : await ck.source.readRange(p.member, p.offset + done, n);
      if (b.length < n) throw new CkptError(`${p.length} bytes of ${a.kind} ${a.name} expected at ${p.offset}, the member ends first`, `${ck.label}:${p.member}`, p.offset + done + b.length);
      yield b;
      done += n;
      pos += n;
    }
  }
  while (a.sparse && pos < a.size) {
    const n = Math.min(chunkSize, a.size - pos);
    yield zeros(n);
    pos += n;
  }
}

/** The first bytes of a queue or ghost file, for a preview next to the fd that holds it. */
export interface ArtifactPreview {
  kind: ArtifactKind;
  direction: 'recv' | 'send' | null;
  /** The whole artifact's size. */
  size: number;
  /** Its first bytes (at most the preview length). */
  bytes: Uint8Array;
}

/**
 * Previews of ghost files and queued bytes (pipes, FIFOs, socket queues, TCP queues), keyed
 * `pid:fd`: the first `max` bytes of each. Their bytes are in the images already read, so this
 * reads nothing more from the archive.
 */
export async function artifactPreviews(ck: Checkpoint, max = 64): Promise<Map<string, ArtifactPreview[]>> {
  const out = new Map<string, ArtifactPreview[]>();
  for (const a of await listArtifacts(ck, { heldOnly: true })) {
    if (a.pid === null || a.fd === null || a.sparse || a.kind === 'memfd') continue;
    const head = { ...a, pieces: a.pieces.filter((p) => p.at < max).map((p) => ({ ...p, length: Math.min(p.length, max - p.at) })) };
    const parts: Uint8Array[] = [];
    for await (const c of artifactBytes(ck, head)) parts.push(c.slice());
    const bytes = new Uint8Array(Math.min(max, parts.reduce((n, p) => n + p.length, 0)));
    let o = 0;
    for (const p of parts) {
      bytes.set(p.subarray(0, bytes.length - o), o);
      o += Math.min(p.length, bytes.length - o);
    }
    const key = `${a.pid}:${a.fd}`;
    out.set(key, [...(out.get(key) ?? []), { kind: a.kind, direction: a.direction, size: a.size, bytes }]);
  }
  return out;
}
