import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, fixture } from './helpers.js';
import { checkpointWith, tarBytes, type TarSpec } from './tar-build.js';

interface FilesFacts {
  rootfs: { modified: { path: string; content: string }[]; added: { path: string; content?: string; size?: number }[]; deleted: string[] };
}
const facts = JSON.parse(readFileSync(fixture('facts', 'files.json'), 'utf8')) as FilesFacts;
const sha = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ckpt-rootfs-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A real files checkpoint whose rootfs-diff.tar is replaced by the given members, written to disk. */
async function hostile(members: TarSpec[]): Promise<string> {
  const p = join(tmp, `hostile-${n++}.tar`);
  writeFileSync(p, await checkpointWith(fixture('podman', 'files-none.tar'), { 'rootfs-diff.tar': tarBytes(members) }));
  return p;
}

describe('ckpt rootfs: listing, --cat, --format json', () => {
  it('the tree lists every changed file with its hash and the deleted file', () => {
    const r = ckpt(['rootfs', fixture('podman', 'files-none.tar')]);
    expect(r.code).toBe(0);
    for (const f of facts.rootfs.modified) {
      const line = r.stdout.split('\n').find((l) => l.includes(`${f.path.split('/').pop()}  `))!;
      expect(line).toContain(`sha256:${sha(f.content)}`);
    }
    for (const d of facts.rootfs.deleted) expect(r.stdout).toMatch(new RegExp(`${d.split('/').pop()!.replace('.', '\\.')}  \\(deleted\\)`));
  });

  it('--format json: entries and deletions, stable keys, null for no value', () => {
    const r = ckpt(['rootfs', fixture('podman', 'files-zstd.tar'), '--format', 'json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['checkpoint', 'member', 'compression', 'entries', 'deleted']);
    const added = facts.rootfs.added.find((a) => a.content)!;
    const e = j.entries.find((x: { path: string }) => x.path === added.path);
    expect(e).toMatchObject({ type: 'file', mode: '0644', modeText: '-rw-r--r--', size: added.content!.length, sha256: sha(added.content!), linkTarget: null, device: null });
    expect(j.deleted).toEqual(facts.rootfs.deleted.map((p) => ({ path: p, how: 'deleted-files', member: 'deleted.files', offset: null })));
  });

  it('--cat writes the bytes of one file; a missing path is one error line, exit 1', () => {
    const m = facts.rootfs.modified[0]!;
    const r = ckpt(['rootfs', fixture('podman', 'files-gzip.tar'), '--cat', m.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(m.content);
    const bad = ckpt(['rootfs', fixture('podman', 'files-none.tar'), '--cat', '/no/such']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^ckpt: .*files-none\.tar:rootfs-diff\.tar: no \/no\/such in the root file-system diff\n$/);
  });
});

describe('ckpt rootfs --extract', () => {
  it('a real checkpoint: the files with their bytes and modes, a manifest with correct hashes', () => {
    const out = join(tmp, 'real');
    const r = ckpt(['rootfs', fixture('podman', 'files-none.tar'), '--extract', out]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of [...facts.rootfs.modified, ...facts.rootfs.added]) {
      const bytes = readFileSync(join(out, 'rootfs', f.path));
      if (f.content !== undefined) expect(bytes.toString()).toBe(f.content);
      if ('size' in f && f.size !== undefined) expect(bytes.length).toBe(f.size);
    }
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.archiveSha256).toBe(sha(readFileSync(fixture('podman', 'files-none.tar'))));
    for (const e of manifest.entries.filter((x: { type: string }) => x.type === 'file')) {
      expect(sha(readFileSync(join(out, e.written)))).toBe(e.sha256);
    }
    expect(statSync(join(out, 'rootfs', 'data', 'log.txt')).mode & 0o777).toBe(0o640);
    // a non-empty directory needs --force
    const again = ckpt(['rootfs', fixture('podman', 'files-none.tar'), '--extract', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty \(use --force to write into it\)/);
    expect(ckpt(['rootfs', fixture('podman', 'files-none.tar'), '--extract', out, '--force']).code).toBe(0);
  });

  it('hostile: ".." and absolute paths write nothing outside DIR', async () => {
    const out = join(tmp, 'dotdot', 'out');
    mkdirSync(join(tmp, 'dotdot'));
    const archive = await hostile([
      { name: '../escaped.txt', content: 'ESCAPE' },
      { name: 'a/../../escaped2.txt', content: 'ESCAPE' },
      { name: `/${join(tmp, 'dotdot', 'abs.txt').slice(1)}`, content: 'ABSOLUTE' },
      { name: 'ok.txt', content: 'OK' },
    ]);
    const r = ckpt(['rootfs', archive, '--extract', out]);
    expect(r.code).toBe(4);
    expect(readdirSync(join(tmp, 'dotdot')).sort()).toEqual(['out']);
    expect(readFileSync(join(out, 'rootfs', 'ok.txt'), 'utf8')).toBe('OK');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('ckpt: warning: rootfs-diff.tar at byte'))).toHaveLength(3);
    expect(r.stderr).toMatch(/\.\.\/escaped\.txt: a "\.\." path that leaves the directory: not extracted/);
    expect(r.stderr).toMatch(/abs\.txt: an absolute path: not extracted/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.entries.filter((e: { hostile: boolean }) => e.hostile).map((e: { name: string }) => e.name)).toHaveLength(3);
  });

  it('hostile: no write through a symlink an earlier entry created; links are written as links, never followed', async () => {
    const outside = join(tmp, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim.txt'), 'ORIGINAL');
    const out = join(tmp, 'symlink-out');
    const archive = await hostile([
      { name: 'escape', type: '2', linkname: outside },
      { name: 'escape/planted.txt', content: 'PLANTED' },
      { name: 'victim', type: '2', linkname: join(outside, 'victim.txt') },
      { name: 'victim', content: 'OVERWRITTEN' },
      { name: 'rel', type: '2', linkname: '../../outside' },
      { name: 'rel/x', content: 'PLANTED' },
      { name: 'hard', type: '1', linkname: '../outside/victim.txt' },
    ]);
    const r = ckpt(['rootfs', archive, '--extract', out]);
    expect(r.code).toBe(4);
    expect(readdirSync(outside)).toEqual(['victim.txt']);
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('ORIGINAL');
    // the links exist as links with their targets as stored
    expect(lstatSync(join(out, 'rootfs', 'escape')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(out, 'rootfs', 'escape'))).toBe(outside);
    expect(readlinkSync(join(out, 'rootfs', 'rel'))).toBe('../../outside');
    // the later file replaced the link itself (tar order), not what it pointed at
    expect(lstatSync(join(out, 'rootfs', 'victim')).isFile()).toBe(true);
    expect(readFileSync(join(out, 'rootfs', 'victim'), 'utf8')).toBe('OVERWRITTEN');
    expect(existsSync(join(out, 'rootfs', 'hard'))).toBe(false);
    expect(r.stderr).toMatch(/escape\/planted\.txt: a parent directory is a symbolic link; refusing to write through it/);
    expect(r.stderr).toMatch(/rel\/x: a parent directory is a symbolic link/);
    expect(r.stderr).toMatch(/hard: a hard link to a "\.\." path/);
  });

  it('device nodes and FIFOs are listed and skipped; setuid and setgid are dropped', async () => {
    const out = join(tmp, 'dev-out');
    const archive = await hostile([
      { name: 'dev/', type: '5', mode: 0o755 },
      { name: 'dev/mem', type: '3', mode: 0o666, devmajor: 1, devminor: 1 },
      { name: 'dev/sda', type: '4', mode: 0o660, devmajor: 8, devminor: 0 },
      { name: 'run/pipe', type: '6', mode: 0o666 },
      { name: 'usr/bin/rootshell', mode: 0o6755, content: '#!/bin/sh\n' },
      { name: 'srv/', type: '5', mode: 0o2775 },
      { name: 'tmp/', type: '5', mode: 0o1777 },
    ]);
    const r = ckpt(['rootfs', archive, '--extract', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('skipped /dev/mem: a char device (1:1): not created');
    expect(r.stdout).toContain('skipped /dev/sda: a block device (8:0): not created');
    expect(r.stdout).toContain('skipped /run/pipe: a FIFO: not created');
    expect(existsSync(join(out, 'rootfs', 'dev', 'mem'))).toBe(false);
    expect(existsSync(join(out, 'rootfs', 'dev', 'sda'))).toBe(false);
    expect(existsSync(join(out, 'rootfs', 'run', 'pipe'))).toBe(false);
    expect(statSync(join(out, 'rootfs', 'usr', 'bin', 'rootshell')).mode & 0o7777).toBe(0o755);
    expect(statSync(join(out, 'rootfs', 'srv')).mode & 0o7777).toBe(0o775);
    expect(statSync(join(out, 'rootfs', 'tmp')).mode & 0o7777).toBe(0o1777);
    // the listing shows the bits that extraction dropped
    const list = ckpt(['rootfs', archive]);
    expect(list.stdout).toMatch(/rootshell {2}-rwsr-sr-x .*\[setuid, setgid\]/);
    expect(list.stdout).toMatch(/mem {2}crw-rw-rw- .*device 1:1/);
  });

  it('a truncated diff: what is before the damage, one warning naming the offset, exit 4', async () => {
    const whole = tarBytes([
      { name: 'a.txt', content: 'A' },
      { name: 'b.txt', content: 'B'.repeat(3000) },
    ]);
    const p = join(tmp, 'truncated.tar');
    writeFileSync(p, await checkpointWith(fixture('podman', 'files-none.tar'), { 'rootfs-diff.tar': whole.subarray(0, 1024 + 512 + 700) }));
    const r = ckpt(['rootfs', p]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('a.txt');
    expect(r.stderr).toMatch(/^ckpt: warning: .*truncated\.tar:rootfs-diff\.tar at byte \d+: archive ends inside "b\.txt"/);
    const out = join(tmp, 'truncated-out');
    const x = ckpt(['rootfs', p, '--extract', out]);
    expect(x.code).toBe(4);
    expect(readFileSync(join(out, 'rootfs', 'a.txt'), 'utf8')).toBe('A');
    expect(existsSync(join(out, 'rootfs', 'b.txt'))).toBe(false);
  });

  it('the output directory may not be the input', () => {
    const r = ckpt(['rootfs', fixture('podman', 'files-none.tar'), '--extract', fixture('podman', 'files-none.tar')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ckpt: .*(refusing to write over the input|exists and is not a directory)/);
  });
});
