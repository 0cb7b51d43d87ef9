/**
 * Safe output for everything ckpt writes to disk. The input is evidence, so:
 * - an output that is one of the inputs (same device and inode, through symlinks too) is refused;
 * - an existing file is never replaced without `force`;
 * - data goes to a temporary name in the same directory and is renamed into place only by
 *   `commit()`, so a failed or interrupted run leaves nothing half-written (`abort()` removes it);
 * - an output directory that is not empty needs `force`; files inside it are written the same way.
 *
 * Every failure is a one-line CkptError naming the path.
 */
import { constants, promises as fsp, statSync, type Stats } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CkptError } from '../errors.js';

export interface OutputOptions {
  /** Replace an existing file, or write into a non-empty directory. */
  force?: boolean;
  /** Paths the run reads (checkpoint archives, directories, images): never written over. */
  inputs?: readonly string[];
  /** Permission bits of a created file (default 0o644); setuid and setgid are always dropped. */
  mode?: number;
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/**
 * Refuses `target` when it is one of `inputs` or lies inside an input directory (checked by device
 * and inode, so symlinks and hard links are seen through). `target` need not exist.
 */
export function assertNotInput(target: string, inputs: readonly string[] = []): void {
  const inputStats = inputs.map((p) => [p, statOrUndefined(p)] as const).filter((x): x is [string, Stats] => x[1] !== undefined);
  if (inputStats.length === 0) return;
  const same = (s: Stats) => inputStats.find(([, i]) => i.dev === s.dev && i.ino === s.ino);
  const own = statOrUndefined(target);
  if (own) {
    const hit = same(own);
    if (hit) throw new CkptError(`refusing to write over the input ${hit[0]}`, target);
  }
  // an ancestor that is an input directory: writing there would change the evidence
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    const s = statOrUndefined(dir);
    if (s) {
      const hit = same(s);
      if (hit && s.isDirectory()) throw new CkptError(`refusing to write inside the input directory ${hit[0]}`, target);
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
}

/** A file being written under a temporary name; `commit()` puts it in place, `abort()` drops it. */
export interface AtomicFile {
  /** The final path. */
  readonly path: string;
  /** Appends bytes or text (UTF-8) at the current end. */
  write(data: Uint8Array | string): Promise<void>;
  /** Writes bytes at `position` (the file grows with a hole where nothing was written). */
  writeAt(data: Uint8Array, position: number): Promise<void>;
  /** Sets the file's length (a hole when it grows): for sparse outputs that end in absent pages. */
  truncate(length: number): Promise<void>;
  /** Bytes appended so far through `write` (the current end for appends). */
  readonly size: number;
  /** Flushes, syncs and renames into place. Fails (and removes the temporary) if the target appeared meanwhile and `force` is off. */
  commit(): Promise<void>;
  /** Closes and removes the temporary file; safe to call after commit (does nothing then). */
  abort(): Promise<void>;
}

/**
 * Opens `target` for writing under a temporary name in the same directory. Checks, before anything
 * is created: not an input, and no existing file unless `force`.
 */
export async function createAtomicFile(target: string, options: OutputOptions = {}): Promise<AtomicFile> {
  assertNotInput(target, options.inputs);
  const existing = statOrUndefined(target);
  if (existing?.isDirectory()) throw new CkptError('is a directory', target);
  if (existing && !options.force) throw new CkptError('already exists (use --force to replace it)', target);
  const dir = path.dirname(path.resolve(target));
  const tmp = path.join(dir, `.${path.basename(target)}.ckpt-${randomBytes(4).toString('hex')}.tmp`);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  } catch (e) {
    throw new CkptError(`cannot create (${code(e)})`, target);
  }
  let end = 0;
  let done = false;
  let pending: Uint8Array[] = [];
  let pendingLength = 0;
  const flush = async () => {
    if (pendingLength === 0) return;
    const chunks = pending;
    const at = end - pendingLength;
    pending = [];
    pendingLength = 0;
    try {
      await handle.writev(chunks, at);
    } catch (e) {
      throw new CkptError(`cannot write (${code(e)})`, target, at);
    }
  };
  const cleanup = async () => {
    await handle.close().catch(() => undefined);
    await fsp.unlink(tmp).catch(() => undefined);
  };
  return {
    path: target,
    get size() {
      return end;
    },
    async write(data) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      pending.push(bytes);
      pendingLength += bytes.length;
      end += bytes.length;
      if (pendingLength >= 1 << 20) await flush();
    },
    async writeAt(data, position) {
      await flush();
      try {
        let off = 0;
        while (off < data.length) off += (await handle.write(data, off, data.length - off, position + off)).bytesWritten;
      } catch (e) {
        throw new CkptError(`cannot write (${code(e)})`, target, position);
      }
      end = Math.max(end, position + data.length);
    },
    async truncate(length) {
      await flush();
      try {
        await handle.truncate(length);
      } catch (e) {
        throw new CkptError(`cannot set the length (${code(e)})`, target, length);
      }
      end = length;
    },
    async commit() {
      if (done) return;
      done = true;
      try {
        await flush();
        if (options.mode !== undefined) await handle.chmod(options.mode & 0o1777);
        await handle.sync();
        await handle.close();
      } catch (e) {
        await cleanup();
        throw e instanceof CkptError ? e : new CkptError(`cannot write (${code(e)})`, target);
      }
      try {
        // re-check: the input may have been named through a path created meanwhile
        assertNotInput(target, options.inputs);
        if (options.force) await fsp.rename(tmp, target);
        else {
          // link() fails when the name exists: no window in which an existing file is replaced
          await fsp.link(tmp, target);
          await fsp.unlink(tmp);
        }
      } catch (e) {
        await fsp.unlink(tmp).catch(() => undefined);
        if (e instanceof CkptError) throw e;
        if (code(e) === 'EEXIST') throw new CkptError('already exists (use --force to replace it)', target);
        throw new CkptError(`cannot put the output in place (${code(e)})`, target);
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await cleanup();
    },
  };
}

/**
 * Writes a whole output with `fill`, atomically: committed when `fill` resolves, removed when it
 * throws (the error is passed on).
 */
export async function writeAtomically<T>(target: string, options: OutputOptions, fill: (file: AtomicFile) => Promise<T>): Promise<T> {
  const file = await createAtomicFile(target, options);
  try {
    const result = await fill(file);
    await file.commit();
    return result;
  } catch (e) {
    await file.abort();
    throw e;
  }
}

/**
 * Makes `dir` ready to receive outputs: created if missing (with parents); an existing directory
 * must be empty unless `force`; never an input nor inside one. Returns the resolved path.
 */
export async function prepareOutputDir(dir: string, options: OutputOptions = {}): Promise<string> {
  const resolved = path.resolve(dir);
  assertNotInput(resolved, options.inputs);
  const s = statOrUndefined(resolved);
  if (s && !s.isDirectory()) throw new CkptError('exists and is not a directory', dir);
  if (s) {
    const names = await fsp.readdir(resolved).catch((e) => {
      throw new CkptError(`cannot read the directory (${code(e)})`, dir);
    });
    if (names.length > 0 && !options.force) throw new CkptError('is not empty (use --force to write into it)', dir);
  } else {
    await fsp.mkdir(resolved, { recursive: true }).catch((e) => {
      throw new CkptError(`cannot create the directory (${code(e)})`, dir);
    });
  }
  return resolved;
}

/**
 * A path for `relative` inside the output directory `root`, refusing anything that would leave it
 * (absolute paths, `..`, NUL). Parent directories are created; a parent that is a symlink is refused
 * (it could have been planted to lead outside).
 */
export async function outputPathInside(root: string, relative: string): Promise<string> {
  if (relative.includes('\0')) throw new CkptError('a NUL byte in an output name', relative);
  const parts = relative.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (path.isAbsolute(relative) && parts.length === 0) throw new CkptError('an empty output name', relative);
  if (parts.some((p) => p === '..')) throw new CkptError('an output name that leaves the output directory', relative);
  if (parts.length === 0) throw new CkptError('an empty output name', relative);
  let dir = path.resolve(root);
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    let s: Stats | undefined;
    try {
      s = await fsp.lstat(dir);
    } catch {
      s = undefined;
    }
    if (s?.isSymbolicLink()) throw new CkptError('a parent directory is a symbolic link; refusing to write through it', path.relative(root, dir));
    if (s && !s.isDirectory()) throw new CkptError('a parent path exists and is not a directory', path.relative(root, dir));
    if (!s) await fsp.mkdir(dir).catch((e) => {
      if (code(e) !== 'EEXIST') throw new CkptError(`cannot create the directory (${code(e)})`, path.relative(root, dir));
    });
  }
  return path.join(dir, parts[parts.length - 1]!);
}

function randomTmp(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.ckpt-${randomBytes(4).toString('hex')}.tmp`);
}

/** Puts a link made at a temporary name into place: rename with `force`, else link() (fails when the name exists). */
async function placeLink(tmp: string, target: string, force: boolean | undefined): Promise<void> {
  try {
    const existing = await fsp.lstat(target).catch(() => undefined);
    if (existing?.isDirectory()) throw new CkptError('is a directory', target);
    if (existing && !force) throw new CkptError('already exists (use --force to replace it)', target);
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.unlink(tmp).catch(() => undefined);
    if (e instanceof CkptError) throw e;
    throw new CkptError(`cannot put the output in place (${code(e)})`, target);
  }
}

/**
 * Creates a symbolic link `relative` (inside the output directory `root`) pointing at `linkTarget`,
 * which is stored as given and never followed or resolved. An existing name needs `force`.
 */
export async function symlinkInside(root: string, relative: string, linkTarget: string, options: OutputOptions = {}): Promise<string> {
  const target = await outputPathInside(root, relative);
  assertNotInput(target, options.inputs);
  const tmp = randomTmp(target);
  try {
    await fsp.symlink(linkTarget, tmp);
  } catch (e) {
    throw new CkptError(`cannot create the symbolic link (${code(e)})`, target);
  }
  await placeLink(tmp, target, options.force);
  return target;
}

/**
 * Creates a hard link `relative` to the regular file `existingRelative`, both inside the output
 * directory `root` (the existing one must be a regular file, not a link, not a directory).
 */
export async function hardlinkInside(root: string, relative: string, existingRelative: string, options: OutputOptions = {}): Promise<string> {
  const existing = await outputPathInside(root, existingRelative);
  const s = await fsp.lstat(existing).catch(() => undefined);
  if (!s?.isFile()) throw new CkptError('a hard link whose target is not a regular file written before it', relative);
  const target = await outputPathInside(root, relative);
  assertNotInput(target, options.inputs);
  const tmp = randomTmp(target);
  try {
    await fsp.link(existing, tmp);
  } catch (e) {
    throw new CkptError(`cannot create the hard link (${code(e)})`, target);
  }
  await placeLink(tmp, target, options.force);
  return target;
}

/**
 * Creates the directory `relative` inside the output directory `root` (parents too); an existing
 * directory is kept, anything else in its place (a file, a symbolic link) is refused.
 */
export async function directoryInside(root: string, relative: string, options: OutputOptions = {}): Promise<string> {
  const target = await outputPathInside(root, relative);
  assertNotInput(target, options.inputs);
  const s = await fsp.lstat(target).catch(() => undefined);
  if (s?.isDirectory()) return target;
  if (s) throw new CkptError(s.isSymbolicLink() ? 'a symbolic link is in the way of a directory; refusing to write through it' : 'a file is in the way of a directory', target);
  await fsp.mkdir(target).catch((e) => {
    if (code(e) !== 'EEXIST') throw new CkptError(`cannot create the directory (${code(e)})`, target);
  });
  return target;
}
