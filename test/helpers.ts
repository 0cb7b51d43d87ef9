import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { facts, type ProcsFacts } from './facts.js';

export const ROOT = join(__dirname, '..');
export const fixture = (...p: string[]) => join(ROOT, 'testdata', ...p);
export const hasFixture = (...p: string[]) => existsSync(fixture(...p));

/** A secret the procs workload planted in memory (testdata/facts/procs.json). */
export type Secret = ProcsFacts['secrets'][number];
export type { ProcsFacts };

/** What the procs workload printed about itself when the fixture was made. */
export const procsFacts = (): ProcsFacts => facts('procs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would (no TTY, NO_COLOR unset unless given). */
export function ckpt(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ckpt.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 << 20,
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The byte offset of a member's data in a plain tar (walking the headers). */
export function tarMemberData(tar: Uint8Array, name: string): number {
  const b = Buffer.from(tar.buffer, tar.byteOffset, tar.byteLength);
  for (let at = 0; at + 512 <= b.length; ) {
    const n = b.toString('latin1', at, at + 100).replace(/\0.*$/s, '');
    if (n === '') break;
    const size = parseInt(b.toString('latin1', at + 124, at + 136).replace(/\0.*$/s, '').trim() || '0', 8);
    if (n === name) return at + 512;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`no ${name} in the tar`);
}

/**
 * A copy of a plain checkpoint archive (in a new temporary directory) whose rootfs-diff.tar is
 * damaged at the header of its entry `entry` (its checksum field made unreadable): the entries
 * before it read, it and those after it do not. Returns the copy and the damage's offset in
 * rootfs-diff.tar.
 */
export function damagedDiffCopy(archive: string, entry: string): { path: string; offset: number } {
  const path = join(mkdtempSync(join(tmpdir(), 'ckpt-damaged-')), 'damaged.tar');
  const bytes = readFileSync(archive);
  const diffAt = tarMemberData(bytes, 'rootfs-diff.tar');
  const offset = tarMemberData(bytes.subarray(diffAt), entry) - 512 + 148;
  bytes.write('XXXXXXXX', diffAt + offset, 'latin1');
  writeFileSync(path, bytes);
  return { path, offset };
}

