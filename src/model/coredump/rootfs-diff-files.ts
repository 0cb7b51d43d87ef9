/**
 * Mapped files from the checkpoint's root file-system diff (rootfs-diff.tar): files the container
 * created or changed, which the image's root does not have (or has in another version).
 */
import type { Checkpoint } from '../checkpoint.js';
import type { FileRange, MappedFileSource } from './write-core.js';
import { ROOTFS_DIFF_MEMBER } from '../rootfs.js';

/** A MappedFileSource over the regular files of the checkpoint's rootfs-diff.tar (hard links followed). */
export function rootfsDiffFiles(checkpoint: Checkpoint): MappedFileSource {
  /** container path → the member holding its content */
  let members: Promise<Map<string, string>> | undefined;
  const index = () =>
    (members ??= (async () => {
      const out = new Map<string, string>();
      const changes = await checkpoint.rootfsChanges();
      for (const e of changes.entries) {
        if (e.type === 'file') out.set(e.path, e.path);
        else if (e.type === 'hardlink' && e.linkTarget !== null) out.set(e.path, `/${e.linkTarget.replace(/^\.?\/+/, '')}`);
      }
      for (const [p, target] of out) if (!out.has(target) || out.get(target) !== target) out.delete(p);
      return out;
    })());
  return {
    label: ROOTFS_DIFF_MEMBER,
    async has(paths) {
      const idx = await index();
      return new Set(paths.filter((p) => idx.has(p)));
    },
    async read(ranges: readonly FileRange[], deliver) {
      const idx = await index();
      const byMember = new Map<string, FileRange[]>();
      for (const r of ranges) {
        const m = idx.get(r.path);
        if (m === undefined) continue;
        let l = byMember.get(m);
        if (!l) byMember.set(m, (l = []));
        l.push(r);
      }
      if (byMember.size === 0) return;
      for (const l of byMember.values()) l.sort((a, b) => a.offset - b.offset);
      let left = byMember.size;
      for await (const m of checkpoint.rootfsMembers()) {
        if (!m.entry || m.entry.type !== 'file') continue;
        const l = byMember.get(m.entry.path);
        if (!l) continue;
        byMember.delete(m.entry.path);
        let pos = 0;
        for await (const chunk of m.body) {
          const end = pos + chunk.length;
          for (const r of l) {
            const a = Math.max(r.offset, pos);
            const b = Math.min(r.offset + r.length, end);
            if (b > a) await deliver(r, chunk.subarray(a - pos, b - pos), a - r.offset);
          }
          pos = end;
        }
        if (--left === 0) break;
      }
    },
  };
}
