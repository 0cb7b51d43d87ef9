/**
 * Mounts: the OCI spec's (spec.dump) and CRIU's view of the mount namespace
 * (mountpoints-<mnt_ns_id>.img).
 */
import type { ImageSet } from './image-set.js';
import type { CoreEntry, MntEntry, PstreeEntry, TaskKobjIdsEntry } from '../images/messages.js';
import type { CriuMount } from './types.js';
import { imageName } from '../source/layout.js';

const FSTYPES: Record<number, string> = {
  0: 'unsupported',
  1: 'proc',
  2: 'sysfs',
  3: 'devtmpfs',
  4: 'binfmt_misc',
  5: 'tmpfs',
  6: 'devpts',
  7: 'simfs',
  8: 'pstore',
  9: 'securityfs',
  10: 'fusectl',
  11: 'debugfs',
  12: 'cgroup',
  13: 'aufs',
  14: 'mqueue',
  15: 'fuse',
  16: 'auto',
  17: 'overlay',
  18: 'autofs',
  19: 'tracefs',
  23: 'cgroup2',
};

/** CRIU's mounts of the root task's mount namespace, parents before children, siblings by mount point. */
export function readCriuMounts(images: ImageSet): CriuMount[] {
  const root = images.imageEntries<PstreeEntry>('pstree.img')[0];
  let mntNs: number | undefined;
  if (root) {
    const core = images.imageEntries<CoreEntry>(`core-${root.pid}.img`)[0];
    const ids = core?.ids ?? images.imageEntries<TaskKobjIdsEntry>(`ids-${root.pid}.img`)[0];
    mntNs = ids?.mnt_ns_id;
  }
  let name = mntNs !== undefined ? `mountpoints-${mntNs}.img` : undefined;
  if (!name || !images.image(name)) name = images.imagePaths().map((p) => imageName(p)!).find((p) => /^mountpoints-\d+\.img$/.test(p));
  if (!name) return [];
  const entries = images.imageEntries<MntEntry>(name);
  const mounts: CriuMount[] = entries.map((m) => {
    const out: CriuMount = {
      mntId: m.mnt_id,
      parentMntId: m.parent_mnt_id,
      mountpoint: m.mountpoint,
      type: m.fsname || FSTYPES[m.fstype] || `fstype ${m.fstype}`,
      source: m.source,
      root: m.root,
      options: m.options,
    };
    if (m.ext_key) out.external = m.ext_key;
    return out;
  });
  // order: parents first (depth-first by mount point)
  const ids = new Set(mounts.map((m) => m.mntId));
  const children = new Map<number, CriuMount[]>();
  const tops: CriuMount[] = [];
  for (const m of mounts) {
    if (m.parentMntId !== m.mntId && ids.has(m.parentMntId)) children.set(m.parentMntId, [...(children.get(m.parentMntId) ?? []), m]);
    else tops.push(m);
  }
  const out: CriuMount[] = [];
  const seen = new Set<CriuMount>();
  const visit = (list: CriuMount[]) => {
    for (const m of [...list].sort((a, b) => (a.mountpoint < b.mountpoint ? -1 : a.mountpoint > b.mountpoint ? 1 : a.mntId - b.mntId))) {
      if (seen.has(m)) continue;
      seen.add(m);
      out.push(m);
      visit(children.get(m.mntId) ?? []);
    }
  };
  visit(tops);
  // mounts in a parent cycle (malformed images) are still listed
  for (const m of mounts) if (!seen.has(m)) out.push(m);
  return out;
}
