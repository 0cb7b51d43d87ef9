/**
 * Mapped files from a directory holding a container image's root (`--rootfs`, e.g. what
 * `podman image mount` prints): paths are resolved as inside the container, so absolute symbolic
 * links and `..` stay within the root (the way a chroot sees them); nothing outside it is read.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { CkptError } from '../errors.js';
import type { FileRange, MappedFileSource } from '../model/coredump/index.js';

const MAX_LINKS = 40;
const CHUNK = 1 << 20;

/** The host path of `inside` (a path in the container) under `root`, symlinks followed within the root; undefined when absent. */
export async function resolveInRoot(root: string, inside: string): Promise<string | undefined> {
  const todo = inside.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const part = todo.shift()!;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, part);
    let s: Stats;
    try {
      s = await fsp.lstat(host);
    } catch {
      return undefined;
    }
    if (s.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = await fsp.readlink(host);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}

/** A MappedFileSource over a directory tree that is a container's root. */
export async function rootfsDirectory(root: string): Promise<MappedFileSource> {
  let s: Stats;
  try {
    s = await fsp.stat(root);
  } catch (e) {
    throw new CkptError(`cannot read the image root (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, root);
  }
  if (!s.isDirectory()) throw new CkptError('the image root is not a directory', root);
  const resolved = new Map<string, string | undefined>();
  const hostPath = async (p: string) => {
    if (!resolved.has(p)) {
      const h = await resolveInRoot(root, p);
      const st = h ? await fsp.stat(h).catch(() => undefined) : undefined;
      resolved.set(p, st?.isFile() ? h : undefined);
    }
    return resolved.get(p);
  };
  return {
    label: `--rootfs ${root}`,
    async has(paths) {
      const out = new Set<string>();
      for (const p of paths) if (await hostPath(p)) out.add(p);
      return out;
    },
    async read(ranges: readonly FileRange[], deliver) {
      const byPath = new Map<string, FileRange[]>();
      for (const r of ranges) {
        let l = byPath.get(r.path);
        if (!l) byPath.set(r.path, (l = []));
        l.push(r);
      }
      const buf = new Uint8Array(CHUNK);
      for (const [p, list] of byPath) {
        const h = await hostPath(p);
        if (!h) continue;
        let fh: fsp.FileHandle;
        try {
          fh = await fsp.open(h, 'r');
        } catch (e) {
          throw new CkptError(`cannot open (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, h);
        }
        try {
          for (const r of list) {
            for (let done = 0; done < r.length; ) {
              const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, r.length - done), r.offset + done);
              if (bytesRead === 0) break; // past the end of the file: the rest stays zero
              await deliver(r, buf.subarray(0, bytesRead), done);
              done += bytesRead;
            }
          }
        } finally {
          await fh.close();
        }
      }
    },
  };
}
