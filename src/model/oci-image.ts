/**
 * A checkpoint as an OCI image, the way the engines restore from one (`podman container restore
 * IMAGE`, CRI-O and containerd through the kubelet): ONE layer holding the checkpoint archive's
 * members at its root (config.dump, spec.dump, checkpoint/…, rootfs-diff.tar, …: what `buildah add
 * CTR checkpoint.tar /` lays out), an image config, a manifest and an index, with the checkpoint
 * annotations of all three engines on both the manifest and the index (containerd reads the
 * index, Podman and CRI-O the manifest).
 *
 * Runtime-neutral: the layer is a stream of chunks built from the source's entries (nothing is
 * extracted, nothing held whole); the Node writers (src/node/oci-write.ts) put it on disk.
 */
import type { CheckpointSource, SourceEntry } from '../source/types.js';
import { paddedSize, tarEnd, tarHeader, tarPadding } from '../source/tar-write.js';
import type { Sha256Factory } from '../source/hash.js';
import type { Checkpoint } from './checkpoint.js';
import { CoreEntryMarch } from '../images/messages.js';

export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_INDEX_FILE = 'index.json';
export const MEDIA_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_LAYER = 'application/vnd.oci.image.layer.v1.tar';

/** One table: each fact of the checkpoint and the annotation keys that carry it, per engine. */
const ANNOTATION_KEYS: { fact: keyof CheckpointImageFacts; keys: string[] }[] = [
  { fact: 'name', keys: ['io.podman.annotations.checkpoint.name', 'io.kubernetes.cri-o.annotations.checkpoint.name', 'org.criu.checkpoint.container.name'] },
  { fact: 'rawImageName', keys: ['io.podman.annotations.checkpoint.rawImageName', 'io.kubernetes.cri-o.annotations.checkpoint.rawImageName', 'org.criu.checkpoint.rawImageName', 'org.criu.checkpoint.rootfsImageUserRequested'] },
  { fact: 'rootfsImageId', keys: ['io.podman.annotations.checkpoint.rootfsImageID', 'io.kubernetes.cri-o.annotations.checkpoint.rootfsImageID', 'org.criu.checkpoint.rootfsImageID'] },
  { fact: 'rootfsImageName', keys: ['io.podman.annotations.checkpoint.rootfsImageName', 'io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName', 'org.criu.checkpoint.rootfsImageName'] },
  { fact: 'runtime', keys: ['io.podman.annotations.checkpoint.runtime.name', 'org.criu.checkpoint.runtime.name'] },
  { fact: 'engine', keys: ['org.criu.checkpoint.engine.name'] },
  { fact: 'pod', keys: ['org.criu.checkpoint.pod.name'] },
  { fact: 'namespace', keys: ['org.criu.checkpoint.pod.namespace'] },
  { fact: 'architecture', keys: ['io.podman.annotations.checkpoint.host.arch'] },
];

/** What the annotations say, taken from the checkpoint's own metadata; null when it does not say. */
export interface CheckpointImageFacts {
  name: string | null;
  rawImageName: string | null;
  rootfsImageId: string | null;
  rootfsImageName: string | null;
  runtime: string | null;
  engine: string;
  pod: string | null;
  namespace: string | null;
  /** GOARCH name from CRIU's core images (amd64, arm64, …). */
  architecture: string;
}

const GOARCH: Record<number, string> = {
  [CoreEntryMarch.X86_64]: 'amd64',
  [CoreEntryMarch.ARM]: 'arm',
  [CoreEntryMarch.AARCH64]: 'arm64',
  [CoreEntryMarch.PPC64]: 'ppc64le',
  [CoreEntryMarch.S390]: 's390x',
  [CoreEntryMarch.MIPS]: 'mips64le',
  [CoreEntryMarch.LOONGARCH64]: 'loong64',
  [CoreEntryMarch.RISCV64]: 'riscv64',
};

export function checkpointImageFacts(ck: Checkpoint): CheckpointImageFacts {
  const c = ck.container;
  const pid = ck.root?.pid;
  const core = pid !== undefined ? ck.images.imageEntries<{ mtype?: number }>(`core-${pid}.img`)[0] : undefined;
  return {
    name: c.name ?? null,
    rawImageName: c.image.requested ?? c.image.name ?? null,
    rootfsImageId: c.image.id ?? null,
    rootfsImageName: c.image.name ?? null,
    runtime: c.runtime ?? null,
    engine: c.engine,
    pod: c.pod ?? null,
    namespace: c.namespace ?? null,
    architecture: (core?.mtype !== undefined ? GOARCH[core.mtype] : undefined) ?? 'amd64',
  };
}

/** The checkpoint annotations for all three engines (keys with no value are left out), sorted by key. */
export function checkpointAnnotations(facts: CheckpointImageFacts): Record<string, string> {
  const out: [string, string][] = [];
  for (const { fact, keys } of ANNOTATION_KEYS) {
    const v = facts[fact];
    if (v) for (const k of keys) out.push([k, v]);
  }
  return Object.fromEntries(out.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The members of the layer: every file and directory of the checkpoint, in archive order. */
export function layerMembers(entries: readonly SourceEntry[]): SourceEntry[] {
  const out: SourceEntry[] = [];
  const dirs = new Set<string>();
  for (const e of entries) {
    if (e.type !== 'file' && e.type !== 'directory') continue;
    const path = e.path.replace(/^\/+|\/+$/g, '');
    if (!path) continue;
    // parents first, as tar would list them
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        out.push({ path: d, size: 0, type: 'directory' });
      }
    }
    if (e.type === 'directory') {
      if (dirs.has(path)) continue;
      dirs.add(path);
    }
    out.push({ path, size: e.type === 'file' ? e.size : 0, type: e.type });
  }
  return out;
}

/** Bytes of the layer tar for these members (known before it is written). */
export function layerSize(members: readonly SourceEntry[]): number {
  let n = 0;
  for (const m of members) n += tarHeader({ name: m.type === 'directory' ? `${m.path}/` : m.path, type: m.type as 'file' | 'directory', size: m.size }).length + paddedSize(m.size);
  return n + tarEnd().length;
}

/**
 * The layer tar as chunks: each member's header, its body as the source hands it over (one
 * pass), padding, and the end marker. Modes are 0644/0755, owner 0, times 0 (reproducible).
 */
export async function* layerChunks(source: CheckpointSource, members: readonly SourceEntry[]): AsyncGenerator<Uint8Array> {
  const files = new Map(members.filter((m) => m.type === 'file').map((m) => [m.path, m]));
  const pending = [...members];
  const queue: Uint8Array[] = [];
  // directories and files in order; file bodies come from one walk of the source
  const emitDirsUntil = (path?: string) => {
    while (pending.length && pending[0]!.path !== path) {
      const m = pending.shift()!;
      if (m.type === 'directory') queue.push(tarHeader({ name: `${m.path}/`, type: 'directory', size: 0 }));
    }
  };
  // A generator cannot yield from inside walk's callback: run the walk and hand chunks over.
  let wake: (() => void) | undefined;
  let resume: (() => void) | undefined;
  let done = false;
  let failure: unknown;
  const pump = source
    .walk(
      (e) => files.has(e.path.replace(/^\/+|\/+$/g, '')),
      async (e, body) => {
        const path = e.path.replace(/^\/+|\/+$/g, '');
        const m = files.get(path)!;
        files.delete(path);
        emitDirsUntil(path);
        pending.shift();
        queue.push(tarHeader({ name: m.path, type: 'file', size: m.size }));
        let n = 0;
        for await (const c of body) {
          const take = c.subarray(0, Math.max(0, m.size - n));
          n += take.length;
          queue.push(Uint8Array.from(take));
          wake?.();
          if (queue.length > 8) await new Promise<void>((r) => (resume = r));
        }
        if (n !== m.size) throw new Error(`"${m.path}" ended after ${n} of ${m.size} bytes`);
        queue.push(tarPadding(m.size));
        wake?.();
      },
    )
    .then(
      () => {
        done = true;
        wake?.();
      },
      (e) => {
        failure = e;
        done = true;
        wake?.();
      },
    );
  try {
    for (;;) {
      if (queue.length) {
        yield queue.shift()!;
        if (queue.length <= 8) {
          const r = resume;
          resume = undefined;
          r?.();
        }
        continue;
      }
      if (done) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    if (failure) throw failure;
    emitDirsUntil(undefined);
    while (queue.length) yield queue.shift()!;
    if (files.size) throw new Error(`members missing from the source: ${[...files.keys()].join(', ')}`);
    yield tarEnd();
  } finally {
    await pump;
  }
}

export interface OciBlob {
  digest: string;
  size: number;
  bytes: Uint8Array;
}

function blob(json: unknown): OciBlob {
  const bytes = new TextEncoder().encode(JSON.stringify(json));
  return { digest: '', size: bytes.length, bytes };
}

export interface CheckpointImageOptions {
  /** The image's name, e.g. `localhost/counter-checkpoint:latest` (index `org.opencontainers.image.ref.name`). */
  imageName: string;
  /** The layer's digest (`sha256:…`) and size. */
  layer: { digest: string; size: number };
  facts: CheckpointImageFacts;
  /** RFC 3339 time for the config's `created` (default: the checkpoint's time, else the epoch). */
  created?: string;
  sha256: Sha256Factory;
}

/** The config, manifest and index of the checkpoint image (digests computed with `sha256`). */
export function checkpointImageDocuments(o: CheckpointImageOptions): { config: OciBlob; manifest: OciBlob; index: OciBlob; annotations: Record<string, string> } {
  const annotations = checkpointAnnotations(o.facts);
  const digest = (b: OciBlob) => {
    const h = o.sha256();
    h.update(b.bytes);
    b.digest = `sha256:${h.hex()}`;
    return b;
  };
  const created = o.created ?? '1970-01-01T00:00:00Z';
  const config = digest(
    blob({
      created,
      architecture: o.facts.architecture,
      os: 'linux',
      config: { Labels: annotations },
      rootfs: { type: 'layers', diff_ids: [o.layer.digest] },
      history: [{ created, created_by: 'ckpt build', comment: 'checkpoint archive of a container (CRIU images and engine metadata)' }],
    }),
  );
  const manifest = digest(
    blob({
      schemaVersion: 2,
      mediaType: MEDIA_MANIFEST,
      config: { mediaType: MEDIA_CONFIG, digest: config.digest, size: config.size },
      layers: [{ mediaType: MEDIA_LAYER, digest: o.layer.digest, size: o.layer.size }],
      annotations,
    }),
  );
  const index = blob({
    schemaVersion: 2,
    mediaType: MEDIA_INDEX,
    manifests: [
      {
        mediaType: MEDIA_MANIFEST,
        digest: manifest.digest,
        size: manifest.size,
        platform: { architecture: o.facts.architecture, os: 'linux' },
        annotations: { ...annotations, 'io.containerd.image.name': o.imageName, 'org.opencontainers.image.ref.name': o.imageName },
      },
    ],
    annotations,
  });
  return { config, manifest, index, annotations };
}

/** The `oci-layout` file. */
export function ociLayoutFile(): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ imageLayoutVersion: '1.0.0' }));
}
