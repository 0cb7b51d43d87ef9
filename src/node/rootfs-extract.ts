/**
 * Safe extraction of a checkpoint's root file-system diff (`ckpt rootfs --extract DIR`). The diff
 * may be hostile, so every rule of the model's `extractionRefusal` applies, and every write goes
 * through output.ts: nothing outside `DIR`, no write through a symbolic link (an earlier entry may
 * have planted one), no device nodes or FIFOs, setuid/setgid dropped, links written as links and
 * never followed, a non-empty `DIR` only with `force`. Files land under `DIR/rootfs/` (the CLI
 * writes `DIR/manifest.json` next to it, listing every entry with its hash and what was done).
 */
import { promises as fsp } from 'node:fs';
import { CkptError } from '../errors.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { ROOTFS_DIFF_MEMBER, deletedFilesList, extractionRefusal, type RootfsDeletion, type RootfsEntry, type RootfsMember } from '../model/rootfs.js';
import { createAtomicFile, directoryInside, hardlinkInside, outputPathInside, prepareOutputDir, symlinkInside, type OutputOptions } from './output.js';

export interface ExtractedEntry {
  entry: RootfsEntry;
  /** Where it was written, relative to the output directory (`rootfs/etc/motd`), or null when skipped. */
  written: string | null;
  /** Why it was not written, or null. */
  skipped: string | null;
  /** True when it was refused as an attempt to escape or plant something (absolute, `..`, through a symlink). */
  hostile: boolean;
}

export interface RootfsExtraction {
  /** The output directory, resolved. */
  dir: string;
  entries: ExtractedEntry[];
  deleted: RootfsDeletion[];
}

export const ROOTFS_SUBDIR = 'rootfs';

/** Extracts the diff of `ck` (opened from `inputs`) into `dir`. */
export async function extractRootfs(ck: Checkpoint, dir: string, options: OutputOptions & { inputs: readonly string[] }): Promise<RootfsExtraction> {
  const root = await prepareOutputDir(dir, options);
  const tree = await directoryInside(root, ROOTFS_SUBDIR, options);
  const written = new Set<string>();
  const result: RootfsExtraction = { dir: root, entries: [], deleted: deletedFilesList(ck.container.deletedFiles) };
  // directories get their modes at the end (a read-only one would stop what goes into it)
  const dirModes: [string, number, string | null][] = [];
  const members = ck.rootfsMembers();
  for (;;) {
    let next: IteratorResult<RootfsMember>;
    try {
      next = await members.next();
    } catch (err) {
      // a damaged diff: what was extracted stays, the damage is a problem of the checkpoint
      if (!(err instanceof CkptError)) throw err;
      ck.noteProblem({ kind: 'damaged', file: err.file ?? ROOTFS_DIFF_MEMBER, offset: err.offset ?? null, message: `${err.reason}; entries after it were not extracted` });
      break;
    }
    if (next.done) break;
    const m = next.value;
    if (m.deletion) {
      result.deleted.push(m.deletion);
      continue;
    }
    const e = m.entry;
    const rel = e.path.replace(/^\/+/, '');
    const record: ExtractedEntry = { entry: e, written: null, skipped: null, hostile: false };
    result.entries.push(record);
    const refusal = extractionRefusal(e);
    if (refusal) {
      record.skipped = refusal.reason;
      record.hostile = refusal.hostile;
      continue;
    }
    if (rel === '' || rel === '.') continue; // the diff's own root
    const opts: OutputOptions = { inputs: options.inputs, force: options.force || written.has(rel), mode: e.mode & 0o777 };
    try {
      if (e.type === 'directory') {
        const p = await directoryInside(tree, rel, opts);
        dirModes.push([p, e.mode & 0o1777, e.mtime]);
      } else if (e.type === 'symlink') {
        await symlinkInside(tree, rel, e.linkTarget ?? '', opts);
      } else if (e.type === 'hardlink') {
        await hardlinkInside(tree, rel, (e.linkTarget ?? '').replace(/^\.?\/+/, ''), opts);
      } else {
        const target = await outputPathInside(tree, rel);
        const file = await createAtomicFile(target, opts);
        try {
          for await (const chunk of m.body) await file.write(chunk.slice());
          await file.commit();
        } catch (err) {
          await file.abort();
          throw err;
        }
        if (e.mtime) await fsp.utimes(target, new Date(e.mtime), new Date(e.mtime)).catch(() => undefined);
      }
      written.add(rel);
      record.written = `${ROOTFS_SUBDIR}/${rel}`;
    } catch (err) {
      if (!(err instanceof CkptError)) throw err;
      if (err.file?.endsWith(ROOTFS_DIFF_MEMBER)) {
        // the diff is damaged inside this entry's content: nothing of it was kept, nothing after it can be read
        record.skipped = `${err.reason}: not extracted`;
        ck.noteProblem({ kind: 'damaged', file: err.file, offset: err.offset ?? null, message: `${err.reason}; entries after it were not extracted` });
        break;
      }
      // refused by output.ts: a path through a planted symlink, or a name already taken
      if (/symbolic link|in the way|leaves the output|NUL|not a regular file written before/.test(err.reason)) {
        record.skipped = `${err.reason}: not extracted`;
        record.hostile = true;
      } else throw err;
    }
  }
  await members.return(undefined).catch(() => undefined); // a pass left early releases the archive
  for (const [p, mode, mtime] of dirModes.reverse()) {
    if (mtime) await fsp.utimes(p, new Date(mtime), new Date(mtime)).catch(() => undefined);
    await fsp.chmod(p, mode & 0o1777).catch(() => undefined);
  }
  return result;
}
