/**
 * `ckpt build` on disk: a checkpoint as an OCI image, written as an oci-archive tar or an OCI
 * image layout directory (model/oci-image.ts lays it out). Every file goes through output.ts:
 * atomic, never over an input, existing files only with `force`.
 */
import type { CheckpointSource } from '../source/types.js';
import { tarEnd, tarHeader, tarPadding } from '../source/tar-write.js';
import type { Sha256Factory } from '../source/hash.js';
import type { Checkpoint } from '../model/checkpoint.js';
import { checkpointImageDocuments, checkpointImageFacts, layerChunks, layerMembers, layerSize, ociLayoutFile, OCI_INDEX_FILE, OCI_LAYOUT_FILE, type OciBlob } from '../model/oci-image.js';
import { nodeSha256 } from './hash.js';
import { outputPathInside, prepareOutputDir, writeAtomically, type AtomicFile, type OutputOptions } from './output.js';

export interface BuildImageOptions extends OutputOptions {
  sha256?: Sha256Factory;
}

export interface BuiltImage {
  /** The manifest's digest (`sha256:…`). */
  manifest: string;
  config: string;
  layer: { digest: string; size: number };
  annotations: Record<string, string>;
}

function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}

async function documents(ck: Checkpoint, imageName: string, layer: { digest: string; size: number }, sha256: Sha256Factory) {
  return checkpointImageDocuments({ imageName, layer, facts: checkpointImageFacts(ck), created: ck.container.checkpointed ?? ck.container.created, sha256 });
}

/** Writes the image as an oci-archive (a tar of an OCI layout), in one pass over the checkpoint. */
export async function writeOciArchive(target: string, source: CheckpointSource, ck: Checkpoint, imageName: string, options: BuildImageOptions = {}): Promise<BuiltImage> {
  const sha256 = options.sha256 ?? nodeSha256;
  const members = layerMembers(await source.entries());
  const size = layerSize(members);
  return writeAtomically(target, options, async (f: AtomicFile) => {
    const member = async (name: string, bytes: Uint8Array) => {
      await f.write(tarHeader({ name, type: 'file', size: bytes.length }));
      await f.write(bytes);
      await f.write(tarPadding(bytes.length));
    };
    await member(OCI_LAYOUT_FILE, ociLayoutFile());
    await f.write(tarHeader({ name: 'blobs/', type: 'directory', size: 0 }));
    await f.write(tarHeader({ name: 'blobs/sha256/', type: 'directory', size: 0 }));
    // the layer's name is its digest, known once it is written: a placeholder header, patched after
    const headerAt = f.size;
    await f.write(tarHeader({ name: `blobs/sha256/${'0'.repeat(64)}`, type: 'file', size }));
    const h = sha256();
    let n = 0;
    for await (const c of layerChunks(source, members)) {
      h.update(c);
      n += c.length;
      await f.write(c);
    }
    if (n !== size) throw new Error(`layer size ${n}, expected ${size}`);
    await f.write(tarPadding(size));
    const layer = { digest: `sha256:${h.hex()}`, size };
    await f.writeAt(tarHeader({ name: `blobs/sha256/${hexOf(layer.digest)}`, type: 'file', size }), headerAt);
    const docs = await documents(ck, imageName, layer, sha256);
    for (const b of [docs.config, docs.manifest]) await member(`blobs/sha256/${hexOf(b.digest)}`, b.bytes);
    await member(OCI_INDEX_FILE, docs.index.bytes);
    await f.write(tarEnd());
    return { manifest: docs.manifest.digest, config: docs.config.digest, layer, annotations: docs.annotations };
  });
}

/**
 * Writes the image as an OCI image layout directory. The layer is read twice (once for its
 * digest, which names its file, once to write it); nothing is extracted.
 */
export async function writeOciLayout(dir: string, source: CheckpointSource, ck: Checkpoint, imageName: string, options: BuildImageOptions = {}): Promise<BuiltImage> {
  const sha256 = options.sha256 ?? nodeSha256;
  const root = await prepareOutputDir(dir, options);
  const members = layerMembers(await source.entries());
  const size = layerSize(members);
  const h = sha256();
  for await (const c of layerChunks(source, members)) h.update(c);
  const layer = { digest: `sha256:${h.hex()}`, size };
  const put = async (relative: string, fill: (f: AtomicFile) => Promise<void>) => writeAtomically(await outputPathInside(root, relative), { force: options.force, inputs: options.inputs }, fill);
  await put(`blobs/sha256/${hexOf(layer.digest)}`, async (f) => {
    const again = sha256();
    for await (const c of layerChunks(source, members)) {
      again.update(c);
      await f.write(c);
    }
    if (`sha256:${again.hex()}` !== layer.digest) throw new Error('the checkpoint changed while it was read');
  });
  const docs = await documents(ck, imageName, layer, sha256);
  const blobFile = (b: OciBlob) => put(`blobs/sha256/${hexOf(b.digest)}`, (f) => f.write(b.bytes));
  await blobFile(docs.config);
  await blobFile(docs.manifest);
  await put(OCI_INDEX_FILE, (f) => f.write(docs.index.bytes));
  await put(OCI_LAYOUT_FILE, (f) => f.write(ociLayoutFile()));
  return { manifest: docs.manifest.digest, config: docs.config.digest, layer, annotations: docs.annotations };
}
