/**
 * Picking images out of a checkpoint source and decoding them to crit's JSON (`ckpt decode`).
 */
import { CkptError } from '../errors.js';
import type { CheckpointSource, SourceEntry } from '../source/types.js';
import { readFiles } from '../source/memory.js';
import { imageMember, imageName, isImageMember } from '../source/layout.js';
import { decodeImage } from './decode.js';
import { toCritJson, type CritJsonOptions } from './crit-json.js';
import { isRawImageName, rawImageKind } from './magic.js';

/** `pstree`, `pstree.img`, `checkpoint/pstree.img` all name `checkpoint/pstree.img`. */
export function imagePath(name: string): string {
  const base = name.replace(/^\.?\/+/, '');
  const withExt = /\.img$/.test(base) ? base : `${base}.img`;
  return withExt.includes('/') ? withExt : imageMember(withExt);
}

/** CRIU's statistics images have no `.img` suffix; Podman puts stats-dump at the archive's top. */
const STATS = /^(?:checkpoint\/)?stats-(?:dump|restore)$/;

function isImage(e: SourceEntry): boolean {
  if (e.type !== 'file') return false;
  if (STATS.test(e.path)) return true;
  return isImageMember(e.path);
}

/** Where an image named by the user may be: `stats-dump` is `checkpoint/stats-dump` or the top-level `stats-dump`. */
function candidates(name: string): string[] {
  const trimmed = name.replace(/^\.?\/+/, '');
  const base = imageName(trimmed) ?? trimmed;
  if (/^stats-(?:dump|restore)$/.test(base)) return [imageMember(base), base];
  return [imagePath(name)];
}

/** Says what a raw image is, for an error: there is nothing in it to decode. */
function rawImageError(path: string, label: string): CkptError {
  const kind = rawImageKind(path);
  const base = path.slice(path.lastIndexOf('/') + 1);
  const what = kind?.name === 'PAGES' ? 'raw memory pages (read through pagemap-<pid>.img: ckpt memparse)' : `a raw ${kind?.name ?? ''} image`;
  return new CkptError(`${base} is ${what}, not protobuf entries: nothing to decode`, label);
}

/**
 * Decodes the named images (all protobuf images when `names` is empty) to crit-compatible JSON
 * values, keyed by archive path, in archive order. Reads a compressed archive once.
 */
export async function decodeImages(source: CheckpointSource, names: string[], options: CritJsonOptions = {}): Promise<Map<string, unknown>> {
  const asked = names.map(candidates);
  const entries = source.randomAccess ? await source.entries() : undefined;
  const missing = (c: string[]) => new CkptError(`no image "${imageName(c[0]!) ?? c[0]!}" in the checkpoint`, source.label);
  if (entries) {
    const have = new Set(entries.map((e) => e.path));
    for (const c of asked) if (!c.some((p) => have.has(p))) throw missing(c);
  }
  const wanted = new Set(asked.flat());
  for (const w of wanted) if (isRawImageName(w)) throw rawImageError(w, source.label);
  const seen: SourceEntry[] = [];
  const want = (e: SourceEntry) => {
    seen.push(e);
    return wanted.size > 0 ? wanted.has(e.path) : isImage(e) && !isRawImageName(e.path);
  };
  const files = await readFiles(source, want);
  if (!entries) for (const c of asked) if (!c.some((p) => files.has(p))) throw missing(c);
  if (names.length === 0 && files.size === 0) {
    // nothing to decode: say what the input is instead of printing {}
    const all = entries ?? seen;
    const raw = all.filter((e) => e.type === 'file' && isImage(e) && isRawImageName(e.path));
    if (raw.length === 1 && all.filter((e) => e.type === 'file').length === 1) throw rawImageError(raw[0]!.path, source.label);
    const diff = /(^|\/)rootfs-diff\.tar$/.test(source.label) ? " (rootfs-diff.tar holds the container's changed files, not CRIU images)" : '';
    throw new CkptError(`no CRIU images in it${diff}: nothing to decode`, source.label);
  }
  const out = new Map<string, unknown>();
  for (const [path, bytes] of files) {
    try {
      out.set(path, toCritJson(decodeImage(path, bytes), options));
    } catch (e) {
      if (!(e instanceof CkptError)) throw e;
      // A single image opened by its own path is named by that path alone.
      const name = imageName(path) ?? path;
      const alone = source.label.endsWith('/' + name) || source.label === name;
      throw alone ? new CkptError(e.reason, source.label, e.offset) : e.within(source.label);
    }
  }
  return out;
}
