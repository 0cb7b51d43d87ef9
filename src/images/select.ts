/**
 * Picking images out of a checkpoint source and decoding them to crit's JSON (`ckpt decode`).
 */
import { CkptError } from '../errors.js';
import type { CheckpointSource, SourceEntry } from '../source/types.js';
import { readFiles } from '../source/memory.js';
import { decodeImage } from './decode.js';
import { toCritJson, type CritJsonOptions } from './crit-json.js';
import { isRawImageName } from './magic.js';

/** `pstree`, `pstree.img`, `checkpoint/pstree.img` all name `checkpoint/pstree.img`. */
export function imagePath(name: string): string {
  const base = name.replace(/^\.?\/+/, '');
  const withExt = /\.img$/.test(base) ? base : `${base}.img`;
  return withExt.includes('/') ? withExt : `checkpoint/${withExt}`;
}

function isImage(e: SourceEntry): boolean {
  return e.type === 'file' && e.path.startsWith('checkpoint/') && e.path.endsWith('.img') && !e.path.slice(11).includes('/');
}

/**
 * Decodes the named images (all protobuf images when `names` is empty) to crit-compatible JSON
 * values, keyed by archive path, in archive order. Reads a compressed archive once.
 */
export async function decodeImages(source: CheckpointSource, names: string[], options: CritJsonOptions = {}): Promise<Map<string, unknown>> {
  const wanted = new Set(names.map(imagePath));
  const entries = source.randomAccess ? await source.entries() : undefined;
  if (entries && wanted.size > 0) {
    const have = new Set(entries.map((e) => e.path));
    for (const w of wanted) if (!have.has(w)) throw new CkptError(`no image "${w.replace(/^checkpoint\//, '')}" in the checkpoint`, source.label);
  }
  const want = (e: SourceEntry) => (wanted.size > 0 ? wanted.has(e.path) : isImage(e) && !isRawImageName(e.path));
  const files = await readFiles(source, want);
  if (!entries) for (const w of wanted) if (!files.has(w)) throw new CkptError(`no image "${w.replace(/^checkpoint\//, '')}" in the checkpoint`, source.label);
  const out = new Map<string, unknown>();
  for (const [path, bytes] of files) {
    try {
      out.set(path, toCritJson(decodeImage(path, bytes), options));
    } catch (e) {
      if (!(e instanceof CkptError)) throw e;
      // A single image opened by its own path is named by that path alone.
      const alone = source.label.endsWith('/' + path.slice(11)) || source.label === path.slice(11);
      throw alone ? new CkptError(e.reason, source.label, e.offset) : e.within(source.label);
    }
  }
  return out;
}
