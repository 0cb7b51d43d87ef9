/**
 * Opening a checkpoint from a path (Node): an archive of any compression, an extracted checkpoint
 * directory, a bare CRIU image directory or a single image.
 */
import { openAsBlob, promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { CkptError } from '../errors.js';
import { Checkpoint, type OpenCheckpointOptions } from '../model/checkpoint.js';
import { detectFormat, type ContainerFormat } from '../source/compression.js';
import { BLOCK } from '../source/tar.js';
import type { CheckpointSource } from '../source/types.js';
import { imageMember } from '../source/layout.js';
import { CompressedTarSource, type OpenSourceOptions } from './compressed-tar.js';
import { FilesSource, openDirectory } from './files.js';
import { ioError } from './file-io.js';
import { nodeSha256 } from './hash.js';
import { TarFileSource } from './tar-file.js';
import { checkpointLayer, imageKind } from '../source/oci-layer.js';
import { openBlobSource } from '../source/blob.js';

/** What a path holds, by its first bytes. */
export async function sniffFile(file: string): Promise<{ format: ContainerFormat; stat: Stats }> {
  let stat: Stats;
  try {
    stat = await fsp.stat(file);
  } catch (e) {
    throw ioError(e, file);
  }
  if (!stat.isFile()) return { format: 'unknown', stat };
  const h = await fsp.open(file, 'r').catch((e) => Promise.reject(ioError(e, file)));
  try {
    const buf = Buffer.alloc(BLOCK);
    const { bytesRead } = await h.read(buf, 0, BLOCK, 0);
    return { format: detectFormat(buf.subarray(0, bytesRead)), stat };
  } finally {
    await h.close();
  }
}

/**
 * Opens a checkpoint: a tar archive (compression detected from its magic bytes: none, gzip,
 * zstd), an image directory, or a single CRIU `.img` file.
 */
export async function openSource(file: string, options: OpenSourceOptions = {}): Promise<CheckpointSource> {
  const { format, stat } = await sniffFile(file);
  if (stat.isDirectory()) {
    const layout = await ociLayoutLayer(file);
    if (layout) return openSource(layout, options);
    try {
      return await openDirectory(file);
    } catch (e) {
      throw ioError(e, file);
    }
  }
  switch (format) {
    case 'tar':
      return openTarOrImage(file, stat.size, options);
    case 'gzip':
    case 'zstd':
      return new CompressedTarSource(file, format, options, stat.size);
    case 'criu-image':
      return new FilesSource(file, new Map([[imageMember(path.basename(file)), { disk: file, size: stat.size, type: 'file' }]]));
    case 'xz':
    case 'bzip2':
      throw new CkptError(`${format} compression is not supported (checkpoint archives are tar, gzip or zstd)`, file, 0);
    default:
      if (stat.size === 0) throw new CkptError('empty file', file, 0);
      if (/\.img$/.test(file)) {
        // Images without a head magic (inventory-less raw images) are still images.
        return new FilesSource(file, new Map([[imageMember(path.basename(file)), { disk: file, size: stat.size, type: 'file' }]]));
      }
      throw new CkptError('not a checkpoint: neither a tar archive (plain, gzip or zstd), an image directory, nor a CRIU image', file, 0);
  }
}

/**
 * A plain tar: a checkpoint archive, or an image holding one (an oci-archive or a docker-archive,
 * whose single layer is the checkpoint: it is read in place, at its offset in the outer tar, as
 * a plain, gzip or zstd tar; nothing is extracted).
 */
async function openTarOrImage(file: string, size: number, options: OpenSourceOptions): Promise<CheckpointSource> {
  const outer = await TarFileSource.open(file, size, options);
  let kind;
  try {
    kind = imageKind((await outer.entries()).map((e) => e.path));
    if (!kind) return outer;
    const layer = await checkpointLayer(kind, (p) => outer.read(p), file);
    const { offset, size: length } = outer.memberRange(layer.path);
    const blob = (await openAsBlob(file)).slice(offset, offset + length);
    await outer.close();
    return await openBlobSource(blob, `${file}:${layer.path}`);
  } catch (e) {
    if (kind) await outer.close().catch(() => {});
    throw e;
  }
}

/** For an OCI image layout directory: the path of its checkpoint layer's blob; else undefined. */
async function ociLayoutLayer(dir: string): Promise<string | undefined> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  if (imageKind(names) !== 'oci') return undefined;
  const read = async (p: string) => {
    try {
      return await fsp.readFile(path.join(dir, ...p.split('/')));
    } catch (e) {
      throw ioError(e, path.join(dir, p));
    }
  };
  const layer = await checkpointLayer('oci', read, dir);
  return path.join(dir, ...layer.path.split('/'));
}

/**
 * Names of the checkpoint archives in a directory (the kubelet names them
 * `checkpoint-<pod>_<namespace>-<container>-<time>.tar`), sorted; undefined when there is no such
 * directory.
 */
export async function checkpointFiles(dir: string): Promise<string[] | undefined> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError(e, dir);
  }
  return names.filter((n) => n.startsWith('checkpoint-')).sort();
}

/**
 * Opens the checkpoint at `file` (see `openSource`) with Node's native SHA-256; the source is
 * closed again if it is not a checkpoint. Call `close()` on the result when done. For a source
 * that is already open, use `openCheckpoint(source)`.
 */
export async function openCheckpointFile(file: string, options?: OpenSourceOptions & OpenCheckpointOptions): Promise<Checkpoint> {
  const opts = { sha256: nodeSha256, ...options };
  const source = await openSource(file, opts);
  try {
    return await Checkpoint.open(source, opts);
  } catch (e) {
    await source.close();
    throw e;
  }
}
