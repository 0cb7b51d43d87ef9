/**
 * Issue 15, "What a fuzz campaign found": hostile inputs made by hand from a real fixture (the
 * bytes of testdata/podman/procs-none.tar with one member replaced), run through the CLI.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CkptError } from '../src/errors.js';
import { plainTar, tarMembers } from './tar-build.js';
import { ckpt, fixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-hostile-'));

const varint = (n: number) => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const entry = (pid: number, ppid: number) => Buffer.from([0x08, ...varint(pid), 0x10, ...varint(ppid), 0x18, ...varint(pid), 0x20, 1]);

/** procs-none.tar with pstree.img replaced by these entries (the real image's magic kept). */
function withPstree(entries: Buffer[]): string {
  const m = tarMembers(readFileSync(fixture('podman', 'procs-none.tar')));
  const real = m.find((x) => x.name === 'checkpoint/pstree.img')!;
  const body = [real.data.subarray(0, 8)];
  for (const e of entries) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(e.length);
    body.push(len, e);
  }
  const file = join(tmp, `pstree-${entries.length}.tar`);
  writeFileSync(file, plainTar(m.map((x) => (x === real ? { ...x, data: Buffer.concat(body) } : x))));
  return file;
}

describe('a pstree that is a chain thousands deep', () => {
  const file = withPstree(Array.from({ length: 5000 }, (_, i) => entry(i + 1, i)));
  it('inspect --all draws 100 levels and counts the rest; JSON the same; no stack overflow', () => {
    const t = ckpt(['inspect', file, '--all']);
    expect(t.stderr).not.toMatch(/internal error|call stack/);
    expect(t.stdout).toMatch(/… 4900 more processes below, deeper than 100 levels \(not shown\)/);
    const j = ckpt(['inspect', file, '--ps-tree', '--format', 'json']);
    expect(j.stderr).not.toMatch(/internal error|call stack/);
    expect(j.stdout).toMatch(/"children_not_shown": 4900/);
  });
  it('the memory table lists every process', () => {
    const r = ckpt(['memparse', file]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toMatch(/│ 5000 +│/);
  });
});

describe('a pstree of 50,000 processes', () => {
  const file = withPstree(Array.from({ length: 50000 }, (_, i) => entry(i + 1, i === 0 ? 0 : 1)));
  it('inspect --all and the memory table finish', () => {
    const r = ckpt(['inspect', file, '--all']);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stdout).toMatch(/\[50000\b/);
    expect(ckpt(['memparse', file]).stdout).toMatch(/│ 50000 +│/);
  }, 120_000);
});

describe('text from the input in error messages', () => {
  it('CkptError escapes control characters in the file name and the reason', () => {
    const e = new CkptError('bad byte \x1b[31m here\x07', 'checkpoint/\x1b]0;pwned\x07.img', 3);
    expect(e.message).toBe('checkpoint/\\x1b]0;pwned\\x07.img at byte 3: bad byte \\x1b[31m here\\x07');
  });
  it('a config.dump that quotes terminal escapes in its parse error gives an escaped line', () => {
    const m = tarMembers(readFileSync(fixture('podman', 'procs-none.tar')));
    const file = join(tmp, 'escape.tar');
    writeFileSync(file, plainTar(m.map((x) => (x.name === 'spec.dump' ? { ...x, data: Buffer.from('\x1b[31m not json \x07') } : x))));
    const r = ckpt(['show', file]);
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(r.stderr).toContain('\\x1b[31m');
  });
});

describe('a compressed stream that is not a tar', () => {
  it('says "not a tar archive (gzip-compressed)", not a tar header error', async () => {
    const { gzipSync } = await import('node:zlib');
    const file = join(tmp, 'login.gz');
    writeFileSync(file, gzipSync(Buffer.from('login sync shutdown halt '.repeat(100))));
    const r = ckpt(['show', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ckpt: ${file} at byte 0: not a tar archive (gzip-compressed)\n`);
    const short = join(tmp, 'short.gz');
    writeFileSync(short, gzipSync(Buffer.from('hello')));
    expect(ckpt(['show', short]).stderr).toMatch(/not a tar archive \(gzip-compressed\)/);
  });
});
