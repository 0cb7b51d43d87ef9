import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { openCheckpointFile } from '../src/node/index.js';
import { fixture } from './helpers.js';
import { facts } from './facts.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const engines: any[] = JSON.parse(readFileSync(fixture('engines', 'engines.json'), 'utf8'));
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const crio = engines.find((e) => e.engine === 'CRI-O');
const ctrd = engines.find((e) => e.engine === 'containerd');

describe('CRI-O archive (built from a real Podman checkpoint, see testdata/engines/README.md)', () => {
  it('engine, container, image, pod, namespace, IP, times, JSON-valued annotations expanded', async () => {
    const ck = await openCheckpointFile(fixture(crio.file));
    try {
      const c = ck.container;
      expect(c.engine).toBe('CRI-O');
      expect(c.name).toBe(crio.name);
      expect(c.id).toBe(crio.id);
      expect(c.pod).toBe(crio.pod);
      expect(c.namespace).toBe(crio.namespace);
      expect(c.image.name).toBe(crio.image);
      expect(c.image.id).toBe(crio.image_id);
      expect(c.runtime).toBe(crio.runtime);
      expect(c.created).toBe(crio.created);
      expect(c.checkpointed).toBe(crio.checkpointed);
      expect(c.network.interfaces.flatMap((i) => i.addresses)).toEqual([crio.ip]);
      expect(c.expandedAnnotations['io.kubernetes.cri-o.Metadata']).toEqual({ name: crio.name });
      expect((c.expandedAnnotations['io.kubernetes.cri-o.Labels'] as Record<string, string>)['io.kubernetes.pod.namespace']).toBe(crio.namespace);
      expect(Array.isArray(c.expandedAnnotations['io.kubernetes.cri-o.Volumes'])).toBe(true);
      expect(c.annotations['io.kubernetes.cri-o.Metadata']).toBe(JSON.stringify({ name: crio.name }));
      expect(ck.images.has('bind.mounts')).toBe(true);
      expect(ck.sizes.rootFsDiff).toBeGreaterThan(0);
      expect(ck.statistics?.pages_written).toBeGreaterThan(0);
    } finally {
      await ck.close();
    }
  });

  it('the processes, sockets (IPv6 ::1 included) and environment are the real workload’s', async () => {
    const f = facts('net');
    const ck = await openCheckpointFile(fixture(crio.file));
    try {
      expect(ck.process(1)!.comm).toBe(f.comm);
      for (const t of f.tcp) {
        const s = ck.sockets.find((x) => x.fd === t.fd)!;
        const local = s.local!.address.includes(':') ? `[${s.local!.address}]:${s.local!.port}` : `${s.local!.address}:${s.local!.port}`;
        expect(local).toBe(t.local);
      }
      expect(ck.sockets.find((x) => x.fd === 4)!.local!.address).toBe('::1');
      const args = await ck.arguments([1]);
      expect(args.get(1)!.argv).toEqual(['/ckpt-workload', 'net']);
      expect(args.get(1)!.environment).toContain(f.container.env_secret);
    } finally {
      await ck.close();
    }
  });
});

describe('containerd archive (built from a real Podman checkpoint)', () => {
  it('engine from the CRI annotations and status files; name, pod, namespace, image ref', async () => {
    const ck = await openCheckpointFile(fixture(ctrd.file));
    try {
      const c = ck.container;
      expect(c.engine).toBe('containerd');
      expect(c.annotations['io.container.manager']).toBeUndefined();
      expect(c.name).toBe(ctrd.name);
      expect(c.id).toBe(ctrd.id);
      expect(c.pod).toBe(ctrd.pod);
      expect(c.namespace).toBe(ctrd.namespace);
      expect(c.image.name).toBe(ctrd.image);
      expect(c.image.ref).toBe(ctrd.image_ref);
      expect(c.image.id).toBe(ctrd.image_id);
      expect(c.runtime).toBe(ctrd.runtime);
      expect(c.checkpointed).toBe(ctrd.checkpointed);
      for (const f of ['status', 'status.dump', 'dump.log', 'container.log']) expect(ck.images.has(f)).toBe(true);
    } finally {
      await ck.close();
    }
  });

  it("rootfs-diff.tar is gzip inside the uncompressed archive; its size is the stored size", async () => {
    const ck = await openCheckpointFile(fixture(ctrd.file));
    try {
      const entry = ck.images.entries.find((e) => e.path === 'rootfs-diff.tar')!;
      expect(ck.sizes.rootFsDiff).toBe(entry.size);
      const head = await ck.source.readRange('rootfs-diff.tar', 0, 2);
      expect([...head]).toEqual([0x1f, 0x8b]);
    } finally {
      await ck.close();
    }
  });

  it('the open files are the real workload’s: deleted file marked, paths and positions', async () => {
    const f = facts('files');
    const ck = await openCheckpointFile(fixture(ctrd.file));
    try {
      const files = ck.process(1)!.files;
      expect(files.find((x) => x.fd === f.fds.unlinked.fd)).toMatchObject({ path: f.fds.unlinked.path, deleted: true });
      expect(files.find((x) => x.fd === f.fds.write.fd)).toMatchObject({ path: f.fds.write.path, pos: f.fds.write.pos });
      const args = await ck.arguments();
      expect(args.get(1)!.environment).toContain(f.container.env_secret);
    } finally {
      await ck.close();
    }
  });
});
