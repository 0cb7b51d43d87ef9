/**
 * Files on disk (Node) mapped to the archive layout (`checkpoint/<name>.img`): an image directory
 * (an extracted archive, or a bare `criu dump` directory) or a single `.img` file.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { CkptError } from '../errors.js';
import { BaseSource, notFound } from '../source/base.js';
import { CHECKPOINT_DIR, imageMember } from '../source/layout.js';
import type { SourceEntry } from '../source/types.js';
import { fileSha256, ioError, readFileChunks } from './file-io.js';

/** Files on disk mapped to archive paths: an image directory, or a single image. */
export class FilesSource extends BaseSource {
  readonly randomAccess = true;

  constructor(
    readonly label: string,
    private readonly files: Map<string, { disk: string; size: number; type: SourceEntry['type'] }>,
  ) {
    super();
  }

  async entries(): Promise<SourceEntry[]> {
    return [...this.files].map(([p, f]) => ({ path: p, size: f.size, type: f.type }));
  }

  private file(p: string) {
    const f = this.files.get(p);
    if (!f || f.type !== 'file') throw notFound(this.label, p);
    return f;
  }

  override async read(p: string): Promise<Uint8Array> {
    const f = this.file(p);
    try {
      return await fsp.readFile(f.disk);
    } catch (e) {
      throw ioError(e, f.disk);
    }
  }

  override async readRange(p: string, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const f = this.file(p);
    const len = Math.max(0, Math.min(length, f.size - offset));
    const h = await fsp.open(f.disk, 'r').catch((e) => Promise.reject(ioError(e, f.disk)));
    try {
      const buf = into && into.length >= len ? into.subarray(0, len) : Buffer.allocUnsafeSlow(len);
      const { bytesRead } = await h.read(buf, 0, len, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
  }

  stream(p: string): AsyncIterable<Uint8Array> {
    return readFileChunks(this.file(p).disk);
  }

  /** A single image file: its hash; a directory is not one file: null. */
  async archiveSha256(): Promise<string | null> {
    const s = await fsp.stat(this.label).catch((e) => Promise.reject(ioError(e, this.label)));
    return s.isFile() ? fileSha256(this.label) : null;
  }

  async walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>): Promise<void> {
    for (const e of await this.entries()) if (e.type === 'file' && want(e)) await visit(e, this.stream(e.path));
  }
}

async function listDir(root: string, rel: string, out: Map<string, { disk: string; size: number; type: SourceEntry['type'] }>, depth: number): Promise<void> {
  if (depth > 16) return;
  const dirents = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const d of dirents) {
    const relPath = rel ? `${rel}/${d.name}` : d.name;
    const disk = path.join(root, relPath);
    if (d.isDirectory()) {
      out.set(relPath, { disk, size: 0, type: 'directory' });
      await listDir(root, relPath, out, depth + 1);
    } else if (d.isFile()) {
      const st = await fsp.stat(disk);
      out.set(relPath, { disk, size: st.size, type: 'file' });
    } else {
      out.set(relPath, { disk, size: 0, type: d.isSymbolicLink() ? 'symlink' : 'other' });
    }
  }
}

export async function openDirectory(dir: string): Promise<FilesSource> {
  const files = new Map<string, { disk: string; size: number; type: SourceEntry['type'] }>();
  const top = await fsp.readdir(dir);
  if (top.includes(CHECKPOINT_DIR)) {
    await listDir(dir, '', files, 0); // an extracted archive: the layout is already ours
  } else {
    // a bare CRIU image directory: its images go under checkpoint/
    const inner = new Map<string, { disk: string; size: number; type: SourceEntry['type'] }>();
    await listDir(dir, '', inner, 0);
    files.set(CHECKPOINT_DIR, { disk: dir, size: 0, type: 'directory' });
    for (const [p, f] of inner) files.set(imageMember(p), f);
    if (![...inner.keys()].some((p) => p.endsWith('.img'))) throw new CkptError('directory holds no CRIU images (*.img) and no checkpoint/ folder', dir);
  }
  return new FilesSource(dir, files);
}
