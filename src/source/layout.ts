/**
 * The layout of a checkpoint archive, in one place: where CRIU's images sit (`checkpoint/`), the
 * files container engines put next to them (config.dump, spec.dump, rootfs-diff.tar, …), and the
 * first word of a CRIU image file. Every layer above names archive members through this module.
 *
 *   imageMember('pstree.img')            // 'checkpoint/pstree.img'
 *   imageName('checkpoint/core-1.img')   // 'core-1.img'; undefined outside checkpoint/
 *   isImageMember('checkpoint/parent/pagemap-1.img')  // false: not directly in checkpoint/
 */

/** The directory of CRIU's images inside an archive (a bare image directory is placed there too). */
export const CHECKPOINT_DIR = 'checkpoint';
const PREFIX = `${CHECKPOINT_DIR}/`;

/** Members that container engines write next to `checkpoint/` (at the archive's top). */
export const MEMBERS = {
  /** Podman's / CRI-O's container config (config.json of the engine). */
  config: 'config.dump',
  /** The container's OCI runtime spec. */
  spec: 'spec.dump',
  /** The container's root file-system changes, a tar. */
  rootfsDiff: 'rootfs-diff.tar',
  /** Paths deleted from the root file system, a JSON array. */
  deletedFiles: 'deleted.files',
  /** CRIU's dump statistics (Podman moves it to the top; CRIU leaves it in checkpoint/). */
  statsDump: 'stats-dump',
  /** The container's network status (Podman). */
  networkStatus: 'network.status',
  /** Bind mounts Podman adds to the container (resolv.conf, hosts, …). */
  bindMounts: 'bind.mounts',
  /** The container's log (Podman, with --with-previous / log export). */
  containerLog: 'container.log',
  /** The container's /dev/shm (Podman), a tar. */
  devShm: 'devshm-checkpoint.tar',
  /** CRIU's log of the dump, at the top (Podman) or in checkpoint/. */
  dumpLog: 'dump.log',
} as const;

/** The archive path of an image or file in `checkpoint/`: `imageMember('pstree.img')` is `checkpoint/pstree.img`. */
export function imageMember(name: string): string {
  return PREFIX + name;
}

/** True when the path lies under `checkpoint/` (at any depth). */
export function inCheckpointDir(path: string): boolean {
  return path.startsWith(PREFIX);
}

/** The name inside `checkpoint/` (`checkpoint/core-1.img` → `core-1.img`); undefined outside it. */
export function imageName(path: string): string | undefined {
  return path.startsWith(PREFIX) ? path.slice(PREFIX.length) : undefined;
}

/** True for an `.img` file directly in `checkpoint/` (not in a subdirectory such as `checkpoint/parent/`). */
export function isImageMember(path: string): boolean {
  const name = imageName(path);
  return name !== undefined && name.endsWith('.img') && !name.includes('/');
}

/** First word of a CRIU image (images v1.1) in front of its magic: the dumped tasks' images. */
export const IMG_COMMON = 0x54564319;
/** First word of CRIU's service files (stats-dump, irmap-cache). */
export const IMG_SERVICE = 0x55105940;
