import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, fixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-cli-'));
const archive = fixture('podman', 'procs-none.tar');
const oracle = (name: string) => JSON.parse(readFileSync(fixture('oracle', 'procs', `${name.replace(/\.img$/, '')}.json`), 'utf8'));

function oneLineError(r: { code: number; stderr: string; stdout: string }, code: number): string {
  expect(r.code).toBe(code);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ckpt: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0]!;
}

describe('ckpt decode', () => {
  it('prints one image as crit does, from every container format', () => {
    for (const c of ['none', 'gzip', 'zstd']) {
      const r = ckpt(['decode', fixture('podman', `procs-${c}.tar`), 'pstree.img']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(oracle('pstree.img'));
    }
  });

  it('--pretty indents like crit decode --pretty', () => {
    const r = ckpt(['decode', archive, 'checkpoint/inventory.img', '--pretty']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(readFileSync(fixture('oracle', 'procs', 'inventory.json'), 'utf8').trimEnd() + '\n');
  });

  it('decodes a single .img file given by path, and a bare image directory', () => {
    const dir = join(tmp, 'x');
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('tar', ['-xf', archive, '-C', dir, 'checkpoint/pstree.img']);
    const one = ckpt(['decode', join(dir, 'checkpoint', 'pstree.img')]);
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual(oracle('pstree.img'));
    const bare = fixture('bare', 'procs-tree');
    const all = ckpt(['decode', bare]);
    expect(all.code, all.stderr).toBe(0);
    const keys = Object.keys(JSON.parse(all.stdout));
    expect(keys).toContain('pstree.img');
    expect(keys.some((k) => k.startsWith('pages-'))).toBe(false);
    const imgs = readdirSync(bare).filter((f) => f.endsWith('.img') && !f.startsWith('pages-'));
    expect(keys.length).toBeGreaterThan(imgs.length / 2);
  });

  it('every protobuf image of an archive, keyed by name', () => {
    const r = ckpt(['decode', fixture('podman', 'procs-zstd.tar')]);
    expect(r.code, r.stderr).toBe(0);
    const all = JSON.parse(r.stdout);
    expect(all['pstree.img']).toEqual(oracle('pstree.img'));
    expect(all['inventory.img']).toEqual(oracle('inventory.img'));
  });

  it('--numeric prints the plain numbers crit prints without --pretty; --crit-task-names its state names', () => {
    const mm = JSON.parse(ckpt(['decode', archive, 'mm-1', '--numeric']).stdout);
    const ref = oracle('mm-1');
    expect(typeof mm.entries[0].mm_start_code).toBe('number');
    expect(mm.entries[0].mm_start_code).toBe(Number(ref.entries[0].mm_start_code));
    expect(mm.entries[0].vmas[0].prot).toBeTypeOf('number');
    // pid 8 was stopped with SIGSTOP: CRIU writes task_state 3, which crit 4.2 calls "Zombie"
    const ours = JSON.parse(ckpt(['decode', archive, 'core-8']).stdout);
    expect(ours.entries[0].tc.task_state).toBe('Stopped');
    const crits = JSON.parse(ckpt(['decode', archive, 'core-8', '--crit-task-names']).stdout);
    expect(crits).toEqual(oracle('core-8'));
  });

  it('a missing image: exit 1 naming it', () => {
    const line = oneLineError(ckpt(['decode', archive, 'core-99999.img']), 1);
    expect(line).toContain('core-99999.img');
  });

  it('a truncated image: exit 1 naming the file and byte offset', () => {
    const img = join(tmp, 'inventory.img');
    const full = execFileSync('tar', ['-xOf', archive, 'checkpoint/inventory.img']);
    writeFileSync(img, full.subarray(0, full.length - 3));
    const line = oneLineError(ckpt(['decode', img]), 1);
    expect(line).toContain(img);
    expect(line).toMatch(/at byte \d+/);
  });

  it('not a checkpoint at all: exit 1, offset 0', () => {
    const p = join(tmp, 'hello.txt');
    writeFileSync(p, 'hello\n'.repeat(200));
    expect(oneLineError(ckpt(['decode', p]), 1)).toBe(`ckpt: ${p} at byte 0: not a checkpoint: neither a tar archive (plain, gzip or zstd), an image directory, nor a CRIU image`);
  });

  it('usage errors exit 2', () => {
    oneLineError(ckpt(['decode']), 2);
    oneLineError(ckpt(['decode', archive, '--no-such-option']), 2);
    // no command at all is not an error: the help, as checkpointctl does
    const bare = ckpt([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain('ckpt <command>');
  });
});

describe('ckpt decode: what crit decodes, and what is not an image', () => {
  const oracle = () => JSON.parse(readFileSync(fixture('piggie', 'oracle', 'stats-dump.json'), 'utf8')) as unknown;
  it('stats-dump in an archive and as a file, as crit decodes it', () => {
    const r = ckpt(['decode', fixture('piggie', 'piggie.tar'), 'stats-dump', '--pretty']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(oracle());
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-decode-stats-'));
    expect(spawnSync('tar', ['-xf', fixture('piggie', 'piggie.tar'), '-C', dir, 'stats-dump', 'checkpoint/pages-1.img']).status).toBe(0);
    const f = ckpt(['decode', join(dir, 'stats-dump'), '--pretty']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout)).toEqual(oracle());
  });
  it('raw memory pages and a root file-system diff are named, not printed as {}', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-decode-raw-'));
    expect(spawnSync('tar', ['-xf', fixture('piggie', 'piggie.tar'), '-C', dir, 'checkpoint/pages-1.img']).status).toBe(0);
    const pages = ckpt(['decode', join(dir, 'checkpoint', 'pages-1.img')]);
    expect(pages.code).toBe(1);
    expect(pages.stdout).toBe('');
    expect(pages.stderr).toMatch(/pages-1\.img is raw memory pages/);
    expect(ckpt(['decode', fixture('piggie', 'piggie.tar'), 'pages-1.img']).stderr).toMatch(/pages-1\.img is raw memory pages/);
    writeFileSync(join(dir, 'f'), 'x\n');
    expect(spawnSync('tar', ['-cf', join(dir, 'rootfs-diff.tar'), '-C', dir, 'f']).status).toBe(0);
    const diff = ckpt(['decode', join(dir, 'rootfs-diff.tar')]);
    expect(diff.code).toBe(1);
    expect(diff.stderr).toMatch(/rootfs-diff\.tar: no CRIU images in it \(rootfs-diff\.tar holds the container's changed files/);
  });
});
