/**
 * A checkpoint inside an image: an OCI image (oci-archive tar or OCI layout directory, as `ckpt
 * build` or `podman image save --format oci-archive` write them) or a docker-archive (`docker
 * save`, `podman save`). A checkpoint image has ONE layer holding the checkpoint archive's members
 * (see model/oci-image.ts); this finds that layer from index.json and the manifest (OCI) or
 * manifest.json (Docker). Runtime-neutral: `read` gives the bytes of a member or file.
 */
import { CkptError } from '../errors.js';
import { inCheckpointDir, MEMBERS } from './layout.js';

export type ImageKind = 'oci' | 'docker-archive';

/** What kind of image the paths of an archive or directory are, or undefined for a plain checkpoint. */
export function imageKind(paths: readonly string[]): ImageKind | undefined {
  const has = new Set(paths);
  if (paths.some(inCheckpointDir)) return undefined;
  if (has.has('oci-layout') && has.has('index.json')) return 'oci';
  if (has.has('manifest.json') && !has.has(MEMBERS.config)) return 'docker-archive';
  return undefined;
}

export interface ImageLayer {
  /** The member (archive) or relative file (layout) holding the layer, e.g. `blobs/sha256/ab…`. */
  path: string;
  /** `sha256:…` for OCI; null for a docker-archive layer named by path. */
  digest: string | null;
  mediaType: string | null;
}

type Json = Record<string, unknown>;

async function json(read: (p: string) => Promise<Uint8Array>, p: string, label: string): Promise<Json | Json[]> {
  let bytes: Uint8Array;
  try {
    bytes = await read(p);
  } catch (e) {
    if (e instanceof CkptError) throw e;
    throw new CkptError(`${p} is missing from the image`, label);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Json;
  } catch (e) {
    throw new CkptError(`${p} is not valid JSON (${(e as Error).message.split('\n')[0]})`, label);
  }
}

function blobPath(digest: unknown, label: string): string {
  const m = typeof digest === 'string' ? /^sha256:([0-9a-f]{64})$/.exec(digest) : null;
  if (!m) throw new CkptError(`bad digest ${JSON.stringify(digest)} in the image`, label);
  return `blobs/sha256/${m[1]}`;
}

const CHECKPOINT_KEYS = ['org.criu.checkpoint.container.name', 'io.podman.annotations.checkpoint.name', 'io.kubernetes.cri-o.annotations.checkpoint.name'];

/** The checkpoint layer of an image (its only layer). */
export async function checkpointLayer(kind: ImageKind, read: (p: string) => Promise<Uint8Array>, label: string): Promise<ImageLayer> {
  if (kind === 'docker-archive') {
    const m = await json(read, 'manifest.json', label);
    const first = Array.isArray(m) ? m[0] : undefined;
    const layers = first && Array.isArray(first.Layers) ? (first.Layers as unknown[]) : undefined;
    if (!layers) throw new CkptError('manifest.json names no layers: not a docker-archive', label);
    if (layers.length !== 1 || typeof layers[0] !== 'string') throw new CkptError(`the image has ${layers.length} layers; a checkpoint image has one`, label);
    return { path: layers[0].replace(/^\.?\//, ''), digest: null, mediaType: null };
  }
  let index = (await json(read, 'index.json', label)) as Json;
  let manifests = Array.isArray(index.manifests) ? (index.manifests as Json[]) : [];
  // a nested index (one per platform): one level down
  for (let depth = 0; depth < 2 && manifests.length && String(manifests[0]!.mediaType ?? '').includes('index'); depth++) {
    index = (await json(read, blobPath(manifests[0]!.digest, label), label)) as Json;
    manifests = Array.isArray(index.manifests) ? (index.manifests as Json[]) : [];
  }
  if (!manifests.length) throw new CkptError('index.json lists no manifest', label);
  const isCheckpoint = (d: Json) => CHECKPOINT_KEYS.some((k) => typeof (d.annotations as Json | undefined)?.[k] === 'string');
  const pick = manifests.find(isCheckpoint) ?? manifests[0]!;
  const manifest = (await json(read, blobPath(pick.digest, label), label)) as Json;
  const layers = Array.isArray(manifest.layers) ? (manifest.layers as Json[]) : [];
  if (layers.length !== 1) throw new CkptError(`the image has ${layers.length} layers; a checkpoint image has one`, label);
  return { path: blobPath(layers[0]!.digest, label), digest: String(layers[0]!.digest), mediaType: typeof layers[0]!.mediaType === 'string' ? layers[0]!.mediaType : null };
}
