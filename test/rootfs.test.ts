import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Checkpoint, openCheckpointFile, fileModeText, tarBytesSource, portableSha256, sha256Hex } from '../src/node/index.js';
import { collectBody } from '../src/source/memory.js';
import { fixture } from './helpers.js';
import { checkpointWith, tarBytes } from './tar-build.js';

interface FilesFacts {
  rootfs: { modified: { path: string; content: string }[]; added: { path: string; content?: string; size?: number }[]; deleted: string[] };
}
const facts = JSON.parse(readFileSync(fixture('facts', 'files.json'), 'utf8')) as FilesFacts;
const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function openBytes(bytes: Uint8Array, label = 'hostile.tar'): Promise<Checkpoint> {
  return Checkpoint.open(await tarBytesSource(label, bytes));
}

describe('root file-system changes of the real files fixture', () => {
  for (const name of ['podman/files-none.tar', 'podman/files-gzip.tar', 'podman/files-zstd.tar', 'engines/containerd-files.tar']) {
    it(`${name}: every added and modified file, with its content hash; the deletions`, async () => {
      const ck = await openCheckpointFile(fixture(...name.split('/')));
      try {
        const changes = await ck.rootfsChanges();
        expect(changes.member).toBe('rootfs-diff.tar');
        expect(changes.compression).toBe(name.startsWith('engines/containerd') ? 'gzip' : 'none');
        const byPath = new Map(changes.entries.map((e) => [e.path, e]));
        for (const f of [...facts.rootfs.modified, ...facts.rootfs.added]) {
          const e = byPath.get(f.path);
          expect(e, f.path).toBeDefined();
          expect(e!.type).toBe('file');
          if ('content' in f && f.content !== undefined) {
            expect(e!.size).toBe(Buffer.byteLength(f.content));
            expect(e!.sha256).toBe(sha(f.content));
            expect(text(await collectBody(ck.rootfsFile(f.path)))).toBe(f.content);
          }
          if ('size' in f && f.size !== undefined) expect(e!.size).toBe(f.size);
          expect(e!.mtime).toMatch(/^\d{4}-\d\d-\d\dT/);
        }
        // the directory the workload created holds the added files
        expect(byPath.get('/data')?.type).toBe('directory');
        expect(changes.entries.filter((e) => e.type === 'file').length).toBe(facts.rootfs.modified.length + facts.rootfs.added.length);
        expect(changes.deleted.map((d) => d.path)).toEqual(facts.rootfs.deleted);
        expect(changes.deleted[0]!.how).toBe(name.startsWith('engines/containerd') ? 'whiteout' : 'deleted-files');
        // /data/log.txt: the bytes hash to what the entry says, also through the portable SHA-256
        const log = await collectBody(ck.rootfsFile('/data/log.txt'));
        expect(sha256Hex(log, portableSha256)).toBe(byPath.get('/data/log.txt')!.sha256);
        expect(ck.problems).toEqual([]);
      } finally {
        await ck.close();
      }
    });
  }

  it('a checkpoint without a diff has no changes', async () => {
    const ck = await openCheckpointFile(fixture('podman', 'procs-none.tar'));
    try {
      expect(await ck.rootfsChanges()).toEqual({ member: null, compression: null, entries: [], deleted: [] });
    } finally {
      await ck.close();
    }
  });
});

describe('root file-system diff: every kind of entry (hand-made diff in a real checkpoint)', () => {
  const diff = tarBytes([
    { name: 'usr/', type: '5', mode: 0o755 },
    { name: 'usr/bin/', type: '5', mode: 0o755 },
    { name: 'usr/bin/suid-shell', mode: 0o4755, uid: 0, gid: 0, content: 'SUID', uname: 'root', gname: 'root' },
    { name: 'srv/shared/', type: '5', mode: 0o2775, gid: 50 },
    { name: 'tmp/', type: '5', mode: 0o1777 },
    { name: 'etc/alt', type: '2', linkname: '/etc/passwd', mode: 0o777 },
    { name: 'usr/bin/hard', type: '1', linkname: 'usr/bin/suid-shell' },
    { name: 'dev/evil', type: '3', mode: 0o666, devmajor: 1, devminor: 3 },
    { name: 'dev/blk', type: '4', mode: 0o660, devmajor: 8, devminor: 0 },
    { name: 'run/fifo', type: '6', mode: 0o600 },
    { name: 'var/cache/.wh..wh..opq', content: '' },
    { name: 'etc/.wh.shadow', content: '' },
    { name: `deep/${'d'.repeat(120)}/file.txt`, content: 'LONG', uid: 1000, gid: 1000 },
  ]);

  it('types, modes with setuid/setgid/sticky, owners, links, devices, whiteouts, long names', async () => {
    const ck = await openBytes(await checkpointWith(fixture('podman', 'files-none.tar'), { 'rootfs-diff.tar': diff }));
    const c = await ck.rootfsChanges();
    const e = (p: string) => c.entries.find((x) => x.path === p)!;
    expect(e('/usr/bin/suid-shell')).toMatchObject({ type: 'file', mode: 0o4755, setuid: true, setgid: false, user: 'root', size: 4, sha256: sha('SUID') });
    expect(fileModeText('file', e('/usr/bin/suid-shell').mode)).toBe('-rwsr-xr-x');
    expect(e('/srv/shared')).toMatchObject({ type: 'directory', setgid: true, gid: 50 });
    expect(fileModeText('directory', e('/srv/shared').mode)).toBe('drwxrwsr-x');
    expect(e('/tmp')).toMatchObject({ type: 'directory', sticky: true });
    expect(fileModeText('directory', e('/tmp').mode)).toBe('drwxrwxrwt');
    expect(e('/etc/alt')).toMatchObject({ type: 'symlink', linkTarget: '/etc/passwd', sha256: null, size: 0 });
    expect(e('/usr/bin/hard')).toMatchObject({ type: 'hardlink', linkTarget: 'usr/bin/suid-shell' });
    expect(e('/dev/evil')).toMatchObject({ type: 'char-device', device: { major: 1, minor: 3 } });
    expect(e('/dev/blk')).toMatchObject({ type: 'block-device', device: { major: 8, minor: 0 } });
    expect(e('/run/fifo')).toMatchObject({ type: 'fifo' });
    expect(e(`/deep/${'d'.repeat(120)}/file.txt`)).toMatchObject({ uid: 1000, gid: 1000, sha256: sha('LONG') });
    // whiteouts are deletions, not entries; deleted.files of the real checkpoint comes first
    expect(c.entries.some((x) => x.path.includes('.wh.'))).toBe(false);
    expect(c.deleted.map((d) => [d.path, d.how])).toEqual([
      ['/etc/delete-me.conf', 'deleted-files'],
      ['/var/cache', 'opaque'],
      ['/etc/shadow', 'whiteout'],
    ]);
    expect(c.deleted[2]!.offset).toBe(c.entries.find((x) => x.path === '/run/fifo')!.offset + 1024);
    // a hard link's content is its target's
    expect(text(await collectBody(ck.rootfsFile('/usr/bin/hard')))).toBe('SUID');
    await expect(collectBody(ck.rootfsFile('/etc/alt'))).rejects.toThrow(/\/etc\/alt is a symlink \(-> \/etc\/passwd\), not a regular file/);
    await expect(collectBody(ck.rootfsFile('/nope'))).rejects.toThrow(/hostile\.tar:rootfs-diff\.tar: no \/nope in the root file-system diff/);
    expect(ck.problems).toEqual([]);
  });

  it('a truncated diff: the entries before the damage, and the damage as a problem with its offset', async () => {
    const cut = diff.subarray(0, 512 * 6 + 100);
    const ck = await openBytes(await checkpointWith(fixture('podman', 'files-none.tar'), { 'rootfs-diff.tar': cut }));
    const c = await ck.rootfsChanges();
    expect(c.entries.map((x) => x.path)).toEqual(['/usr', '/usr/bin', '/usr/bin/suid-shell', '/srv/shared', '/tmp']);
    expect(ck.problems).toHaveLength(1);
    expect(ck.problems[0]).toMatchObject({ kind: 'damaged', file: 'hostile.tar:rootfs-diff.tar', offset: 512 * 6 });
  });

  it('a corrupt gzip diff is one error naming the member', async () => {
    const gz = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const ck = await openBytes(await checkpointWith(fixture('podman', 'files-none.tar'), { 'rootfs-diff.tar': gz }));
    await ck.rootfsChanges();
    expect(ck.problems).toHaveLength(1);
    expect(ck.problems[0]!.file).toBe('hostile.tar:rootfs-diff.tar');
    expect(ck.problems[0]!.message).toMatch(/gzip/);
  });
});
