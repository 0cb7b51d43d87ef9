import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBytesSource } from '../src/source/memory.js';
import { ckpt, fixture, procsFacts } from './helpers.js';
import { facts } from './facts.js';
import { checkpointWith } from './tar-build.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

interface ManifestArtifact {
  file: string;
  kind: string;
  pid: number | null;
  fd: number | null;
  path: string | null;
  peer: string | null;
  direction: string | null;
  size: number;
  written: number;
  sha256: string;
  member: string | null;
  offset: number | null;
  pieces: { member: string; offset: number; length: number; at: number }[];
  error: string | null;
}
interface Manifest {
  kind: string;
  checkpoint: string;
  archiveSha256: string;
  pid: number | null;
  artifacts: ManifestArtifact[];
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ckpt-recover-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function recover(archive: string, extra: string[] = []): { dir: string; code: number; stdout: string; stderr: string; manifest: Manifest; bytes: (a: ManifestArtifact) => Buffer } {
  const dir = join(tmp, `out-${n++}`);
  const r = ckpt(['recover', archive, '--output-dir', dir, ...extra]);
  let manifest = {} as Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    // no manifest: the test looks at the exit code
  }
  return { dir, ...r, manifest, bytes: (a) => readFileSync(join(dir, a.file)) };
}

/** Checks every artifact's hash, size and provenance against the archive itself. */
async function checkManifest(archive: string, m: Manifest, bytes: (a: ManifestArtifact) => Buffer): Promise<void> {
  const raw = readFileSync(archive);
  expect(m.archiveSha256).toBe(sha(raw));
  const src = await tarBytesSource(archive, new Uint8Array(raw));
  for (const a of m.artifacts) {
    const b = bytes(a);
    expect(sha(b), a.file).toBe(a.sha256);
    expect(b.length).toBe(a.size);
    expect(a.written).toBe(a.size);
    expect(a.error).toBeNull();
    for (const p of a.pieces) {
      const member = await src.read(p.member);
      expect(Buffer.from(member.subarray(p.offset, p.offset + p.length)).equals(b.subarray(p.at, p.at + p.length)), `${a.file} piece at ${p.at}`).toBe(true);
    }
    if (a.pieces.length) expect([a.member, a.offset]).toEqual([a.pieces[0]!.member, a.pieces[0]!.offset]);
  }
}

describe('ckpt recover on the real fixtures', () => {
  it('files: the ghost file and the memfd hold what the workload wrote; the log is ctr.log', async () => {
    const f = facts('files');
    const archive = fixture('podman', 'files-none.tar');
    const r = recover(archive);
    expect(r.code, r.stderr).toBe(0);
    const ghost = r.manifest.artifacts.find((a) => a.kind === 'ghost')!;
    expect(ghost).toMatchObject({ pid: f.pid, fd: f.fds.unlinked.fd, path: f.fds.unlinked.path, size: f.fds.unlinked.size, file: `ghost/pid${f.pid}-fd${f.fds.unlinked.fd}-data_unlinked.txt` });
    expect(r.bytes(ghost).toString()).toBe(f.fds.unlinked.content);
    const memfd = r.manifest.artifacts.find((a) => a.kind === 'memfd')!;
    expect(memfd).toMatchObject({ pid: f.pid, fd: f.fds.memfd.fd, path: f.fds.memfd.name, size: f.fds.memfd.size });
    expect(r.bytes(memfd).toString()).toBe(f.fds.memfd.content);
    const log = r.manifest.artifacts.find((a) => a.kind === 'log')!;
    const src = await tarBytesSource(archive, new Uint8Array(readFileSync(archive)));
    expect(r.bytes(log).equals(Buffer.from(await src.read('ctr.log')))).toBe(true);
    await checkManifest(archive, r.manifest, r.bytes);
    expect(readdirSync(r.dir).sort()).toEqual(['ghost', 'log', 'manifest.json', 'memfd']);
  });

  it('net: TCP receive queues hold what the peer sent; pipe and unix queues their unread bytes', async () => {
    const f = facts('net');
    const archive = fixture('podman', 'net-none.tar');
    const r = recover(archive);
    expect(r.code, r.stderr).toBe(0);
    const tcp = r.manifest.artifacts.filter((a) => a.kind === 'tcp-queue');
    const withData = f.tcp.filter((t: { unread?: string }) => t.unread);
    expect(tcp.map((a) => a.fd).sort()).toEqual(withData.map((t: { fd: number }) => t.fd).sort());
    for (const t of withData) {
      const a = tcp.find((x) => x.fd === t.fd)!;
      expect(a).toMatchObject({ pid: f.pid, direction: 'recv', peer: t.remote, file: `tcp/pid${f.pid}-fd${t.fd}-recv.bin` });
      expect(r.bytes(a).toString()).toBe(t.unread);
    }
    const pipe = r.manifest.artifacts.find((a) => a.kind === 'pipe')!;
    expect(pipe).toMatchObject({ fd: f.pipe.read_fd, peer: `pid ${f.pid} fd ${f.pipe.write_fd}` });
    expect(r.bytes(pipe).toString()).toBe(f.pipe.unread);
    const unix = r.manifest.artifacts.filter((a) => a.kind === 'unix-queue');
    const unixWithData = f.unix.filter((u: { unread?: string }) => u.unread);
    expect(unix.map((a) => a.fd).sort()).toEqual(unixWithData.map((u: { fd: number }) => u.fd).sort());
    for (const u of unixWithData) expect(r.bytes(unix.find((a) => a.fd === u.fd)!).toString()).toBe(u.unread);
    await checkManifest(archive, r.manifest, r.bytes);
  });

  it("crit agrees: every queue and ghost file equals the payload crit decode printed for its image", () => {
    for (const name of ['net', 'files']) {
      const r = recover(fixture('podman', `${name}-none.tar`));
      expect(r.code, r.stderr).toBe(0);
      let checked = 0;
      for (const a of r.manifest.artifacts.filter((x) => ['tcp-queue', 'pipe', 'unix-queue', 'ghost'].includes(x.kind))) {
        const image = a.member!.replace(/^checkpoint\//, '').replace(/\.img$/, '');
        const crit = JSON.parse(readFileSync(fixture('oracle', name, `${image}.json`), 'utf8')).entries as { extra?: string | { inq: string; outq: string }; id_for?: number; pipe_id?: number }[];
        const payloads = crit.map((e) => (typeof e.extra === 'string' ? e.extra : e.extra ? (a.direction === 'send' ? e.extra.outq : e.extra.inq) : '')).map((b64) => Buffer.from(b64, 'base64'));
        // here every queue holds one packet: the artifact is exactly one entry's payload
        const got = r.bytes(a);
        expect(got.length).toBeGreaterThan(0);
        expect(payloads.some((p) => p.equals(got)), `${a.file} vs crit ${image}`).toBe(true);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    }
  });

  it('procs: the memfd and the SysV segment hold the planted secrets at their offsets', async () => {
    const f = procsFacts();
    const archive = fixture('podman', 'procs-none.tar');
    const r = recover(archive);
    expect(r.code, r.stderr).toBe(0);
    for (const [kind, secretKind] of [['memfd', 'memfd'], ['sysv-shm', 'sysv-shm']] as const) {
      const s = f.secrets.find((x) => x.kind === secretKind)! as unknown as { marker: string; image: { shmem_offset: number } };
      const a = r.manifest.artifacts.find((x) => x.kind === kind)!;
      const b = r.bytes(a);
      expect(b.subarray(s.image.shmem_offset, s.image.shmem_offset + s.marker.length).toString(), kind).toBe(s.marker);
    }
    const shm = r.manifest.artifacts.find((x) => x.kind === 'sysv-shm')!;
    const sf = f.secrets.find((x) => x.kind === 'sysv-shm')! as unknown as { key: number; shmid: number };
    expect(shm.path).toBe(`key 0x${sf.key.toString(16).padStart(8, '0')} id ${sf.shmid}`);
    expect(shm.size).toBe(4096);
    await checkManifest(archive, r.manifest, r.bytes);
  });

  it('devshm (a lab fixture with files in /dev/shm): each file with the size and sha256 the container printed', async () => {
    const f = facts('devshm');
    const archive = fixture('evidence', 'devshm-none.tar');
    const r = recover(archive);
    expect(r.code, r.stderr).toBe(0);
    const shm = r.manifest.artifacts.filter((a) => a.kind === 'devshm');
    expect(shm.map((a) => [a.path, a.size, a.sha256])).toEqual(f.devshm.files.map((x: { path: string; size: number; sha256: string }) => [x.path, x.size, x.sha256]));
    for (const [path, content] of Object.entries(f.devshm.contents as Record<string, string>)) expect(r.bytes(shm.find((a) => a.path === path)!).toString()).toBe(content);
    // the symlink is not a file: not written
    expect(shm.some((a) => a.path === f.devshm.symlinks[0].path)).toBe(false);
    expect(shm.every((a) => a.member === 'devshm-checkpoint.tar' && a.file.startsWith('devshm/'))).toBe(true);
    await checkManifest(archive, r.manifest, r.bytes);
  });

  it('sendq (a lab fixture): the receive queue and the send queue of its peer hold the stream the sender wrote, in order', async () => {
    const f = facts('sendq');
    const archive = fixture('evidence', 'sendq-zstd.tar');
    const r = recover(archive);
    expect(r.code, r.stderr).toBe(0);
    let stream = '';
    for (let i = f.stream.first; i < f.stream.first + f.stream.count; i++) stream += f.stream.line.replace('%d', String(i));
    const tcp = r.manifest.artifacts.filter((a) => a.kind === 'tcp-queue');
    const recv = tcp.find((a) => a.direction === 'recv' && a.fd === f.receiver.fd)!;
    const send = tcp.find((a) => a.direction === 'send' && a.fd === f.sender.fd)!;
    expect(recv.peer).toMatch(/^\[::ffff:127\.0\.0\.1\]:\d+$/);
    expect(send.peer).toBe(`127.0.0.1:${f.receiver.port}`);
    expect(send.size).toBeGreaterThan(1 << 20); // megabytes waiting to be sent
    // the receiver never read: its queue starts at the first line; the send queue goes on from there
    const both = Buffer.concat([r.bytes(recv), r.bytes(send)]).toString();
    expect(both.length).toBe(recv.size + send.size);
    expect(stream.startsWith(both)).toBe(true);
    // and the pipe into the sender holds bytes further on in the same stream
    const pipe = r.manifest.artifacts.find((a) => a.kind === 'pipe' && a.pid === send.pid && a.fd === f.sender.stdin_fd)!;
    expect(stream.indexOf(r.bytes(pipe).toString())).toBeGreaterThanOrEqual(both.length);
  });

  it('gzip and zstd archives give the same artifacts, byte for byte', () => {
    const base = recover(fixture('podman', 'net-none.tar')).manifest.artifacts.map((a) => [a.file, a.sha256, a.member, a.offset]);
    for (const c of ['gzip', 'zstd']) {
      const r = recover(fixture('podman', `net-${c}.tar`));
      expect(r.code).toBe(0);
      expect(r.manifest.artifacts.map((a) => [a.file, a.sha256, a.member, a.offset])).toEqual(base);
      expect(r.manifest.archiveSha256).toBe(sha(readFileSync(fixture('podman', `net-${c}.tar`))));
    }
  });

  it('--pid keeps what that process holds; an unknown pid is a usage error', () => {
    const r = recover(fixture('podman', 'files-none.tar'), ['--pid', '1']);
    expect(r.code).toBe(0);
    expect(r.manifest.pid).toBe(1);
    expect(r.manifest.artifacts.map((a) => a.kind).sort()).toEqual(['ghost', 'memfd']);
    const bad = ckpt(['recover', fixture('podman', 'files-none.tar'), '--output-dir', join(tmp, 'nope'), '--pid', '42']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no process with pid 42 .*\(pids: 1\)/);
  });

  it('a size in the images that the bytes do not match is an error (exit 1), never silent', async () => {
    // files.img says the deleted file had 27 bytes: make it say 28 (hand-edited varint of reg.size)
    const src = await tarBytesSource('files', new Uint8Array(readFileSync(fixture('podman', 'files-none.tar'))));
    const filesImg = Buffer.from(await src.read('checkpoint/files.img'));
    const name = filesImg.indexOf('/data/unlinked.txt');
    const at = filesImg.indexOf(Buffer.from([0x40, 27]), name);
    expect(at).toBeGreaterThan(name);
    filesImg[at + 1] = 28;
    const archive = join(tmp, 'mismatch.tar');
    writeFileSync(archive, await checkpointWith(fixture('podman', 'files-none.tar'), { 'checkpoint/files.img': filesImg }));
    const r = recover(archive);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ckpt: .*mismatch\.tar:checkpoint\/ghost-file-1\.img at byte \d+: ghost\/pid1-fd3-data_unlinked\.txt: size mismatch: CRIU's images say 28 bytes, the checkpoint holds 27\n$/);
    const ghost = r.manifest.artifacts.find((a) => a.kind === 'ghost')!;
    expect(ghost).toMatchObject({ size: 28, written: 27 });
    expect(ghost.error).toMatch(/size mismatch/);
  });

  it('writes nothing over its input, and a non-empty directory needs --force', () => {
    const r = recover(fixture('podman', 'files-none.tar'));
    expect(r.code).toBe(0);
    const again = ckpt(['recover', fixture('podman', 'files-none.tar'), '--output-dir', r.dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty \(use --force/);
    expect(ckpt(['recover', fixture('podman', 'files-none.tar'), '--output-dir', r.dir, '--force']).code).toBe(0);
    const inside = ckpt(['recover', fixture('podman', 'files-none.tar'), '--output-dir', fixture('podman', 'files-none.tar')]);
    expect(inside.code).toBe(1);
  });
});
