#!/usr/bin/env node
/**
 * Builds the CRI-O and containerd checkpoint fixtures of testdata/engines/ from the real Podman
 * checkpoints of testdata/podman/. No CRI-O, containerd or Kubernetes runs here, so the CRIU
 * images (checkpoint/), stats-dump, the root fs diff and the container log are taken unchanged
 * from a real Podman checkpoint, and the engine's own metadata files are written the way each
 * engine writes them (see README.md for the sources of each format):
 *
 *   crio-net.tar          from podman/net-none.tar   (CRI-O: internal/lib/checkpoint.go)
 *   containerd-files.tar  from podman/files-none.tar (containerd: internal/cri/server/container_checkpoint_linux.go)
 *
 * Both are uncompressed tars, as those engines write them. The output is deterministic: run it
 * again and the bytes are the same. `node testdata/engines/make-engine-fixtures.mjs`
 */
import { createGzip } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

const HERE = dirname(fileURLToPath(import.meta.url));
const TESTDATA = join(HERE, '..');

/** Every member of an uncompressed tar: { header, data }. */
async function readTar(bytes) {
  const ex = tar.extract();
  const out = [];
  const done = new Promise((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const parts = [];
      stream.on('data', (c) => parts.push(c));
      stream.on('end', () => {
        out.push({ header, data: Buffer.concat(parts) });
        next();
      });
      stream.on('error', reject);
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  Readable.from([bytes]).pipe(ex);
  await done;
  return out;
}

/** An uncompressed tar of members [{name, data, mtime, mode, type}]. */
async function writeTar(members) {
  const pack = tar.pack();
  const parts = [];
  pack.on('data', (c) => parts.push(c));
  const done = new Promise((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const m of members) {
    await new Promise((resolve, reject) =>
      pack.entry(
        { name: m.name, mtime: m.mtime, mode: m.mode ?? (m.type === 'directory' ? 0o755 : 0o600), type: m.type ?? 'file', uid: 0, gid: 0, uname: 'root', gname: 'root' },
        m.type === 'directory' ? undefined : m.data,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(parts);
}

async function gzip(bytes) {
  const z = createGzip({ level: 9 });
  const parts = [];
  z.on('data', (c) => parts.push(c));
  const done = new Promise((resolve, reject) => (z.on('end', resolve), z.on('error', reject)));
  z.end(bytes);
  await done;
  // fixed header: no mtime, OS unknown (as `gzip -n` would), so the output is deterministic
  const out = Buffer.concat(parts);
  out.writeUInt32LE(0, 4);
  out[9] = 255;
  return out;
}

const json = (v, indent) => Buffer.from(indent ? JSON.stringify(v, null, indent) : JSON.stringify(v));
const ZERO_TIME = '0001-01-01T00:00:00Z';
const nanos = (iso) => {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  const secs = BigInt(Math.floor(Date.parse(m[1] + 'Z') / 1000));
  return secs * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0').slice(0, 9) || '0');
};

/** A CRIU log in CRIU's format, so that the file the engines ship exists; its lines say it is a stand-in. */
function dumpLog(pid) {
  return Buffer.from(
    [
      '(00.000000) Version: 4.2.1 (gitid 0)',
      '(00.000000) Running on ckpt-lab Linux 6.18',
      `(00.000000) Dumping processes (pid: ${pid} comm: ckpt-workload)`,
      '(00.000001) ckpt fixture: this dump.log is a stand-in written by testdata/engines/make-engine-fixtures.mjs;',
      '(00.000001) ckpt fixture: the CRIU images next to it come from a real Podman checkpoint (no CRI-O/containerd here).',
      '(00.000002) Dumping finished successfully',
      '',
    ].join('\n'),
  );
}

function podmanParts(members) {
  const get = (name) => members.find((m) => m.header.name === name);
  const config = JSON.parse(get('config.dump').data.toString());
  const spec = JSON.parse(get('spec.dump').data.toString());
  const checkpointedMtime = get('config.dump').header.mtime;
  return { get, config, spec, checkpointedMtime, images: members.filter((m) => m.header.name.startsWith('checkpoint/')) };
}

// ---------------------------------------------------------------- CRI-O -----------------------

async function makeCrio(source, out, k8s) {
  const members = await readTar(readFileSync(source));
  const { get, config, spec, checkpointedMtime, images } = podmanParts(members);
  const mtime = checkpointedMtime;
  const id = config.id;
  const sandboxId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const imageId = config.rootfsImageID;
  const imageName = 'quay.io/ckpt/ckpt-workload:corpus';
  const ctrName = `k8s_${k8s.container}_${k8s.pod}_${k8s.namespace}_${k8s.podUid}_0`;
  const created = config.createdTime;
  const logPath = `/var/log/pods/${k8s.namespace}_${k8s.pod}_${k8s.podUid}/${k8s.container}/0.log`;
  const userdata = `/var/run/containers/storage/overlay-containers/${id}/userdata`;
  // CRI-O keeps the spec's mounts; bind mount sources live in the container's userdata
  const mounts = spec.mounts.map((m) => (m.type === 'bind' ? { ...m, source: `${userdata}/${m.destination.split('/').pop().replace(/^\./, '')}` } : m));
  const labels = {
    'io.kubernetes.container.name': k8s.container,
    'io.kubernetes.pod.name': k8s.pod,
    'io.kubernetes.pod.namespace': k8s.namespace,
    'io.kubernetes.pod.uid': k8s.podUid,
  };
  const kubeAnnotations = {
    'io.kubernetes.container.hash': '5e3a1b2c',
    'io.kubernetes.container.restartCount': '0',
    'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
    'io.kubernetes.container.terminationMessagePolicy': 'File',
    'io.kubernetes.pod.terminationGracePeriod': '30',
  };
  const volumes = mounts
    .filter((m) => m.type === 'bind' && !['/dev/shm', '/run/.containerenv'].includes(m.destination))
    .map((m) => ({ container_path: m.destination, host_path: m.source, readonly: false, propagation: 0, selinux_relabel: false }));
  const annotations = {
    'io.container.manager': 'cri-o',
    'io.kubernetes.container.hash': kubeAnnotations['io.kubernetes.container.hash'],
    'io.kubernetes.container.name': k8s.container,
    'io.kubernetes.container.restartCount': '0',
    'io.kubernetes.cri-o.Annotations': JSON.stringify(kubeAnnotations),
    'io.kubernetes.cri-o.ContainerID': id,
    'io.kubernetes.cri-o.ContainerName': ctrName,
    'io.kubernetes.cri-o.ContainerType': 'container',
    'io.kubernetes.cri-o.Created': created,
    'io.kubernetes.cri-o.IP.0': k8s.ip,
    'io.kubernetes.cri-o.Image': imageId,
    'io.kubernetes.cri-o.ImageName': imageName,
    'io.kubernetes.cri-o.ImageRef': imageId,
    'io.kubernetes.cri-o.Labels': JSON.stringify(labels),
    'io.kubernetes.cri-o.LogPath': logPath,
    'io.kubernetes.cri-o.Metadata': JSON.stringify({ name: k8s.container }),
    'io.kubernetes.cri-o.MountPoint': `/var/lib/containers/storage/overlay/${id}/merged`,
    'io.kubernetes.cri-o.Name': ctrName,
    'io.kubernetes.cri-o.ResolvPath': `/var/run/containers/storage/overlay-containers/${sandboxId}/userdata/resolv.conf`,
    'io.kubernetes.cri-o.SandboxID': sandboxId,
    'io.kubernetes.cri-o.SandboxName': `k8s_${k8s.pod}_${k8s.namespace}_${k8s.podUid}_0`,
    'io.kubernetes.cri-o.SeccompProfilePath': 'RuntimeDefault',
    'io.kubernetes.cri-o.Stdin': 'false',
    'io.kubernetes.cri-o.StdinOnce': 'false',
    'io.kubernetes.cri-o.TTY': 'false',
    'io.kubernetes.cri-o.Volumes': JSON.stringify(volumes),
    'io.kubernetes.pod.name': k8s.pod,
    'io.kubernetes.pod.namespace': k8s.namespace,
    'io.kubernetes.pod.terminationGracePeriod': '30',
    'io.kubernetes.pod.uid': k8s.podUid,
    'kubernetes.io/config.seen': created,
    'kubernetes.io/config.source': 'api',
  };
  const crioSpec = { ...spec, hostname: k8s.pod, mounts, annotations };
  const crioConfig = {
    id,
    name: ctrName,
    rootfsImage: imageName,
    rootfsImageRef: imageId,
    rootfsImageName: imageName,
    runtime: 'crun',
    createdTime: created,
    checkpointedTime: new Date(checkpointedMtime).toISOString().replace('.000Z', 'Z'),
    restoredTime: ZERO_TIME,
    restored: false,
  };
  const bindMounts = mounts
    .filter((m) => m.type === 'bind' && !['/dev', '/dev/shm', '/proc', '/run', '/run/.containerenv', '/run/secrets', '/sys'].includes(m.destination))
    .map((m) => ({ source: m.source, destination: m.destination, file_type: 'file', permissions: 0o644 }));
  const file = (name, data, mode = 0o600) => ({ name, data, mtime, mode });
  const out_ = [
    file('stats-dump', get('stats-dump').data, 0o644),
    file('dump.log', dumpLog(1), 0o644),
    { name: 'checkpoint', type: 'directory', mtime, mode: 0o700 },
    ...images.map((m) => ({ name: m.header.name, data: m.data, mtime: m.header.mtime, mode: m.header.mode })),
    file('config.dump', json(crioConfig, 2)),
    file('spec.dump', json(crioSpec, 2)),
    file('bind.mounts', json(bindMounts, 2)),
    ...(get('rootfs-diff.tar') ? [file('rootfs-diff.tar', get('rootfs-diff.tar').data, 0o644)] : []),
    ...(get('deleted.files') ? [file('deleted.files', get('deleted.files').data)] : []),
    file('io.kubernetes.cri-o.LogPath', get('ctr.log').data, 0o640),
  ];
  writeFileSync(out, await writeTar(out_));
  return { engine: 'CRI-O', file: out, source, name: k8s.container, id, pod: k8s.pod, namespace: k8s.namespace, image: imageName, image_id: imageId, runtime: 'crun', ip: k8s.ip, created, checkpointed: crioConfig.checkpointedTime };
}

// ------------------------------------------------------------- containerd ---------------------

async function makeContainerd(source, out, k8s) {
  const members = await readTar(readFileSync(source));
  const { get, config, spec, checkpointedMtime, images } = podmanParts(members);
  const mtime = checkpointedMtime;
  const id = config.id;
  const sandboxId = 'f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f';
  const digest = `sha256:${config.rootfsImageID}`;
  const imageName = 'docker.io/ckpt/ckpt-workload:corpus';
  const imageRef = `docker.io/ckpt/ckpt-workload@${digest}`;
  const created = config.createdTime;
  const createdNs = nanos(created);
  const startedNs = createdNs + 52_000_000n;
  const checkpointed = new Date(checkpointedMtime).toISOString().replace('.000Z', 'Z');
  const logPath = `/var/log/pods/${k8s.namespace}_${k8s.pod}_${k8s.podUid}/${k8s.container}/0.log`;
  const annotations = {
    'io.kubernetes.cri.container-name': k8s.container,
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.image-name': imageName,
    'io.kubernetes.cri.sandbox-id': sandboxId,
    'io.kubernetes.cri.sandbox-name': k8s.pod,
    'io.kubernetes.cri.sandbox-namespace': k8s.namespace,
    'io.kubernetes.cri.sandbox-uid': k8s.podUid,
  };
  const ctrdSpec = { ...spec, hostname: undefined, annotations };
  delete ctrdSpec.hostname;
  const labels = {
    'io.kubernetes.container.name': k8s.container,
    'io.kubernetes.pod.name': k8s.pod,
    'io.kubernetes.pod.namespace': k8s.namespace,
    'io.kubernetes.pod.uid': k8s.podUid,
  };
  // containerd's ContainerConfig: json.Marshal, no indentation
  const ctrdConfig = {
    id,
    name: k8s.container,
    rootfsImage: imageName,
    rootfsImageRef: imageRef,
    rootfsImageName: imageName,
    runtime: 'io.containerd.runc.v2',
    createdTime: created,
    checkpointedTime: checkpointed,
    restoredTime: ZERO_TIME,
    restored: false,
  };
  // containerd's own container status file (internal/cri/store/container/status.go): versioned JSON, times in ns
  const status = `{"Version":"v1","Pid":${4242},"CreatedAt":${createdNs},"StartedAt":${startedNs},"FinishedAt":0,"ExitCode":0,"Reason":"","Message":"","Resources":null}`;
  // the CRI ContainerStatus (k8s.io/cri-api runtime.ContainerStatus) as json.Marshal writes it
  const statusDump = {
    id,
    metadata: { name: k8s.container },
    state: 1,
    created_at: Number(createdNs),
    started_at: Number(startedNs),
    image: { image: imageName },
    image_ref: imageRef,
    labels,
    annotations: { 'io.kubernetes.container.hash': '7d2c9e41', 'io.kubernetes.container.restartCount': '0', 'io.kubernetes.container.terminationMessagePath': '/dev/termination-log', 'io.kubernetes.container.terminationMessagePolicy': 'File', 'io.kubernetes.pod.terminationGracePeriod': '30' },
    mounts: spec.mounts.filter((m) => m.type === 'bind').map((m) => ({ container_path: m.destination, host_path: m.source })),
    log_path: logPath,
    image_id: digest,
  };
  // the rw layer as containerd exports it: a gzip'ed OCI layer, deletions as whiteouts
  let layer;
  const diff = get('rootfs-diff.tar');
  if (diff) {
    const diffMembers = await readTar(diff.data);
    const deleted = get('deleted.files') ? JSON.parse(get('deleted.files').data.toString()) : [];
    const layerMembers = diffMembers.map((m) => ({ name: m.header.name, data: m.data, mtime: m.header.mtime, mode: m.header.mode, type: m.header.type }));
    for (const d of deleted) {
      const rel = d.replace(/^\//, '');
      const slash = rel.lastIndexOf('/');
      layerMembers.push({ name: `${rel.slice(0, slash + 1)}.wh.${rel.slice(slash + 1)}`, data: Buffer.alloc(0), mtime, mode: 0o644 });
    }
    layer = await gzip(await writeTar(layerMembers));
  }
  const file = (name, data, mode = 0o600) => ({ name, data, mtime, mode });
  // archive.Diff walks the directory in lexical order
  const out_ = [
    { name: 'checkpoint', type: 'directory', mtime, mode: 0o700 },
    ...images.map((m) => ({ name: m.header.name, data: m.data, mtime: m.header.mtime, mode: m.header.mode })),
    file('config.dump', json(ctrdConfig)),
    file('container.log', get('ctr.log').data),
    file('dump.log', dumpLog(1)),
    ...(layer ? [file('rootfs-diff.tar', layer)] : []),
    file('spec.dump', json(ctrdSpec)),
    file('stats-dump', get('stats-dump').data),
    file('status', Buffer.from(status)),
    file('status.dump', json(statusDump)),
  ];
  writeFileSync(out, await writeTar(out_));
  return {
    engine: 'containerd',
    file: out,
    source,
    name: k8s.container,
    id,
    pod: k8s.pod,
    namespace: k8s.namespace,
    image: imageName,
    image_ref: imageRef,
    image_id: config.rootfsImageID,
    runtime: 'io.containerd.runc.v2',
    created,
    checkpointed,
  };
}

const made = [
  await makeCrio(join(TESTDATA, 'podman', 'net-none.tar'), join(HERE, 'crio-net.tar'), {
    container: 'ckpt-net',
    pod: 'ckpt-net-pod',
    namespace: 'forensics',
    podUid: '3f0c1e2d-4b5a-4c6d-8e7f-90a1b2c3d4e5',
    ip: '10.85.0.17',
  }),
  await makeContainerd(join(TESTDATA, 'podman', 'files-none.tar'), join(HERE, 'containerd-files.tar'), {
    container: 'ckpt-files',
    pod: 'ckpt-files-pod',
    namespace: 'default',
    podUid: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
  }),
];
const rel = (p) => p.slice(TESTDATA.length + 1);
writeFileSync(join(HERE, 'engines.json'), JSON.stringify(made.map((m) => ({ ...m, file: rel(m.file), source: rel(m.source) })), null, 2) + '\n');
for (const m of made) console.log(`${rel(m.file)}: ${m.engine}, from ${rel(m.source)}`);
