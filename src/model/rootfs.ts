/**
 * The container's root file-system changes: what `rootfs-diff.tar` holds (files, directories,
 * links and special files the container added or modified, with mode, owner, size, time, link
 * target and the SHA-256 of each file's content) and what was deleted (`deleted.files` from
 * Podman and CRI-O, OCI whiteouts `.wh.NAME` and opaque directories `.wh..wh..opq` from
 * containerd's layer). The diff is streamed from the source, never held whole; an inner diff
 * that is itself gzip- or zstd-compressed (containerd) is decompressed on the way.
 */
import { CkptError } from '../errors.js';
import type { CheckpointSource } from '../source/types.js';
import { MEMBERS } from '../source/layout.js';
import { tarEntries } from '../source/tar.js';
import { sniffDecompress } from '../source/compression.js';
import { portableSha256, type Sha256Factory } from '../source/hash.js';

/** The archive member that holds the root file-system diff. */
export const ROOTFS_DIFF_MEMBER = MEMBERS.rootfsDiff;
/** The member listing paths deleted from the root file system (Podman, CRI-O). */
export const DELETED_FILES_MEMBER = MEMBERS.deletedFiles;

export type RootfsEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo' | 'other';

export interface RootfsEntry {
  /** Path inside the container, absolute (`/etc/motd`); normalised from the member name. */
  path: string;
  /** The member's name exactly as stored in the diff (may be absolute or hold `..` in a hostile archive). */
  name: string;
  type: RootfsEntryType;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: number;
  setuid: boolean;
  setgid: boolean;
  sticky: boolean;
  uid: number;
  gid: number;
  /** Owner and group names as recorded in the tar, or null. */
  user: string | null;
  group: string | null;
  /** Content size in bytes (0 for anything but a file). */
  size: number;
  /** Modification time (ISO 8601, UTC), or null when the header has none. */
  mtime: string | null;
  /** Target of a symlink or hard link, as stored; null for other types. */
  linkTarget: string | null;
  /** Device numbers of a character or block device; null otherwise. */
  device: { major: number; minor: number } | null;
  /** SHA-256 of a file's content (hex); null for other types. Set once the body has been read. */
  sha256: string | null;
  /** Byte offset of the member's header, and of its content, in the (decompressed) diff tar. */
  offset: number;
  dataOffset: number;
}

export interface RootfsDeletion {
  /** The deleted path inside the container (for `opaque`: the directory whose lower contents are hidden). */
  path: string;
  /** `deleted-files`: listed in deleted.files; `whiteout`: a `.wh.NAME` member; `opaque`: a `.wh..wh..opq` member. */
  how: 'deleted-files' | 'whiteout' | 'opaque';
  /** Where it was recorded: `deleted.files` or `rootfs-diff.tar`. */
  member: string;
  /** Byte offset of the whiteout's header in the diff tar; null for deleted.files. */
  offset: number | null;
}

export interface RootfsChanges {
  /** The diff's archive member, or null when the checkpoint has none. */
  member: string | null;
  /** How the diff member itself is compressed (containerd gzips it); null when there is no diff. */
  compression: 'none' | 'gzip' | 'zstd' | null;
  /** Every entry of the diff, in archive order (whiteouts are in `deleted` instead). */
  entries: RootfsEntry[];
  /** Deleted paths: deleted.files first, then whiteouts in archive order. */
  deleted: RootfsDeletion[];
}

/** One member of the diff while streaming: an entry with its content, or a whiteout. */
export type RootfsMember =
  | { entry: RootfsEntry; body: AsyncIterable<Uint8Array>; deletion?: undefined }
  | { deletion: RootfsDeletion; entry?: undefined; body?: undefined };

export interface RootfsOptions {
  /** The SHA-256 to use (Node passes its native one); the portable one by default. */
  sha256?: Sha256Factory;
}

function entryType(typeflag: string, isDirectory: boolean): RootfsEntryType {
  if (isDirectory) return 'directory';
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

/** `/` + the normalised member name (`./etc/motd` → `/etc/motd`). */
function containerPath(normalised: string): string {
  return `/${normalised}`;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/**
 * Streams the members of the root file-system diff of `source` in archive order. An entry's body
 * must be read before asking for the next member or left (it is then read and hashed when the
 * next member is asked for); `entry.sha256` is set once its body has been read through. Yields
 * nothing when the checkpoint has no diff. Errors (a truncated or corrupt diff) are CkptErrors
 * naming `rootfs-diff.tar` and the byte offset.
 */
export async function* rootfsDiffMembers(source: CheckpointSource, options: RootfsOptions = {}): AsyncGenerator<RootfsMember> {
  const entry = (await source.entries()).find((e) => e.path === ROOTFS_DIFF_MEMBER && e.type === 'file');
  if (!entry) return;
  yield* membersOf(source.stream(ROOTFS_DIFF_MEMBER), `${source.label}:${ROOTFS_DIFF_MEMBER}`, options.sha256 ?? portableSha256, () => undefined);
}

async function* membersOf(
  raw: AsyncIterable<Uint8Array>,
  label: string,
  factory: Sha256Factory,
  onFormat: (f: 'none' | 'gzip' | 'zstd') => void,
): AsyncGenerator<RootfsMember> {
  const { format, bytes } = await sniffDecompress(raw, label);
  onFormat(format);
  for await (const { entry: e, body, header } of tarEntries(bytes, label)) {
    const base = e.path.split('/').pop() ?? '';
    const dir = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : '';
    if (base === OPAQUE) {
      yield { deletion: { path: containerPath(dir).replace(/\/$/, '') || '/', how: 'opaque', member: ROOTFS_DIFF_MEMBER, offset: header.headerOffset } };
      continue;
    }
    if (base.startsWith(WHITEOUT) && base.length > WHITEOUT.length && !base.startsWith(`${WHITEOUT}${WHITEOUT}`)) {
      const name = base.slice(WHITEOUT.length);
      yield { deletion: { path: containerPath(dir ? `${dir}/${name}` : name), how: 'whiteout', member: ROOTFS_DIFF_MEMBER, offset: header.headerOffset } };
      continue;
    }
    const type = entryType(header.typeflag, e.type === 'directory');
    const mtime = header.mtime > 0 && Number.isFinite(header.mtime) ? new Date(header.mtime * 1000) : undefined;
    const entry: RootfsEntry = {
      path: containerPath(e.path),
      name: header.name,
      type,
      mode: header.mode,
      setuid: (header.mode & 0o4000) !== 0,
      setgid: (header.mode & 0o2000) !== 0,
      sticky: (header.mode & 0o1000) !== 0,
      uid: header.uid,
      gid: header.gid,
      user: header.uname || null,
      group: header.gname || null,
      size: type === 'file' ? e.size : 0,
      mtime: mtime && !Number.isNaN(mtime.getTime()) ? mtime.toISOString() : null,
      linkTarget: type === 'symlink' || type === 'hardlink' ? header.linkname : null,
      device: type === 'char-device' || type === 'block-device' ? { major: header.devmajor, minor: header.devminor } : null,
      sha256: null,
      offset: header.headerOffset,
      dataOffset: header.dataOffset,
    };
    if (type !== 'file') {
      yield { entry, body: body };
      continue;
    }
    const hash = factory();
    const it = body[Symbol.asyncIterator]();
    let done = false;
    const hashed: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          if (done) return { done: true, value: undefined };
          const r = await it.next();
          if (r.done) {
            done = true;
            entry.sha256 = hash.hex();
            return r;
          }
          hash.update(r.value);
          return r;
        },
      }),
    };
    yield { entry, body: hashed };
    // whatever the consumer left is read (and hashed) now
    for await (const _ of hashed) void _;
  }
}

/** The paths of deleted.files as deletions. */
export function deletedFilesList(deletedFiles: readonly string[]): RootfsDeletion[] {
  return deletedFiles.map((p) => ({ path: p.startsWith('/') ? p : `/${p}`, how: 'deleted-files', member: DELETED_FILES_MEMBER, offset: null }));
}

/**
 * Every change to the root file system in one pass over the diff: entries with content hashes,
 * and deletions from `deletedFiles` (the parsed deleted.files) and whiteouts.
 */
export async function listRootfsChanges(
  source: CheckpointSource,
  deletedFiles: readonly string[],
  options: RootfsOptions & { into?: RootfsChanges } = {},
): Promise<RootfsChanges> {
  const has = (await source.entries()).some((e) => e.path === ROOTFS_DIFF_MEMBER && e.type === 'file');
  // `into` receives the changes as they are read: what was read before an error is kept there
  const out: RootfsChanges = options.into ?? { member: null, compression: null, entries: [], deleted: [] };
  out.member = has ? ROOTFS_DIFF_MEMBER : null;
  out.deleted.push(...deletedFilesList(deletedFiles));
  if (!has) return out;
  const label = `${source.label}:${ROOTFS_DIFF_MEMBER}`;
  for await (const m of membersOf(source.stream(ROOTFS_DIFF_MEMBER), label, options.sha256 ?? portableSha256, (f) => (out.compression = f))) {
    if (m.deletion) out.deleted.push(m.deletion);
    else out.entries.push(m.entry);
  }
  return out;
}

/**
 * The content of one file of the diff, chunk by chunk (`path` as in the container, `/etc/motd`).
 * A hard link is followed to the file it names within the diff. Throws a CkptError when the path
 * is not in the diff or is not a regular file.
 */
export async function* rootfsFileContent(source: CheckpointSource, path: string, options: RootfsOptions = {}): AsyncGenerator<Uint8Array> {
  const want = containerPath(path.replace(/^\/+/, '').replace(/\/+$/, ''));
  let target = want;
  // a hard link names a member before it; its content is that member's
  const links = new Map<string, string>();
  for await (const m of rootfsDiffMembers(source, options)) {
    if (!m.entry) continue;
    if (m.entry.type === 'hardlink') links.set(m.entry.path, containerPath((m.entry.linkTarget ?? '').replace(/^\.?\/+/, '')));
    if (m.entry.path !== want) continue;
    if (m.entry.type === 'hardlink') {
      target = links.get(want)!;
      break;
    }
    if (m.entry.type !== 'file') throw new CkptError(`${want} is a ${m.entry.type}${m.entry.linkTarget !== null ? ` (-> ${m.entry.linkTarget})` : ''}, not a regular file`, `${source.label}:${ROOTFS_DIFF_MEMBER}`, m.entry.offset);
    yield* m.body;
    return;
  }
  if (target !== want) {
    for await (const m of rootfsDiffMembers(source, options)) {
      if (m.entry && m.entry.path === target && m.entry.type === 'file') {
        yield* m.body;
        return;
      }
    }
  }
  throw new CkptError(`no ${want} in the root file-system diff`, `${source.label}:${ROOTFS_DIFF_MEMBER}`);
}

/** `ls -l` style mode text: `-rwsr-xr-x`, `drwxrwxrwt`, `lrwxrwxrwx`. */
export function fileModeText(type: RootfsEntryType, mode: number): string {
  const kind = { file: '-', directory: 'd', symlink: 'l', hardlink: 'h', 'char-device': 'c', 'block-device': 'b', fifo: 'p', other: '?' }[type];
  const rwx = (bits: number, special: boolean, on: string, off: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? on : off) : bits & 1 ? 'x' : '-'}`;
  return (
    kind +
    rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's', 'S') +
    rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's', 'S') +
    rwx(mode & 7, (mode & 0o1000) !== 0, 't', 'T')
  );
}

/** Why an entry of the diff is not extracted, or null when it may be written (see `extractionRefusal`). */
export type ExtractionRefusal = { reason: string; hostile: boolean } | null;

function unsafeName(name: string): string | null {
  if (name.includes('\0')) return 'a NUL byte in the name';
  if (name.startsWith('/')) return 'an absolute path';
  if (name.replace(/\\/g, '/').split('/').includes('..')) return 'a ".." path that leaves the directory';
  return null;
}

/**
 * The extraction rules for one entry of the diff, as data (the writer is Node's
 * `extractRootfs`): absolute names, `..` components and NUL bytes are refused as hostile; a hard
 * link must name a file inside the diff the same way; device nodes, FIFOs and unknown types are
 * never created. Symbolic links may be written (as links: never followed), setuid and setgid bits
 * are dropped by the writer.
 */
export function extractionRefusal(entry: RootfsEntry): ExtractionRefusal {
  const bad = unsafeName(entry.name);
  if (bad) return { reason: `${bad}: not extracted`, hostile: true };
  if (entry.type === 'hardlink') {
    const t = unsafeName(entry.linkTarget ?? '');
    if (t) return { reason: `a hard link to ${t}: not extracted`, hostile: true };
  }
  if (entry.type === 'char-device' || entry.type === 'block-device') return { reason: `a ${entry.type.replace('-', ' ')} (${entry.device?.major ?? 0}:${entry.device?.minor ?? 0}): not created`, hostile: false };
  if (entry.type === 'fifo') return { reason: 'a FIFO: not created', hostile: false };
  if (entry.type === 'other') return { reason: 'an entry of unknown type: not created', hostile: false };
  return null;
}
