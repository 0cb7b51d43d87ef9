/**
 * `rootfs --yara` and `recover --yara`: YARA rules over the files of the root file-system diff and
 * over the artifacts recover writes. The judges: the file's bytes as `rootfs --cat` gives them
 * (the offset of the match is where indexOf finds the string), the files recover wrote on disk, and
 * the facts the lab's container printed (testdata/facts).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { compileYara } from '../src/node/yara.js';
import { ckpt, damagedDiffCopy, fixture } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-yara-files-'));
const compromised = JSON.parse(readFileSync(fixture('facts', 'compromised.json'), 'utf8')) as {
  pid: number;
  memfd_fd: number;
  rwx: { marker: string };
  files: { tmp_executable: string; setuid: string; passwd_line: string };
};
const devshm = JSON.parse(readFileSync(fixture('facts', 'devshm.json'), 'utf8')) as { devshm: { contents: Record<string, string> } };
const archive = fixture('podman', 'compromised-none.tar');
const RULES = `rule implant { strings: $marker = "${compromised.rwx.marker}" condition: $marker }\nrule account { strings: $line = "${compromised.files.passwd_line}" condition: $line }\n`;

/** The offsets of `needle` in `hay`. */
function offsets(hay: Buffer, needle: string): number[] {
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) out.push(i);
  return out;
}

interface FileMatchJson {
  rule: string;
  string_id: string;
  path: string;
  offset: number;
  length: number;
  match: string;
  match_escaped: string;
  match_hex: string;
}

describe.skipIf(typeof compileYara('rule x { condition: true }', 'probe') === 'string')('YARA over files (YARA-X)', () => {
  it('rootfs --yara: the planted marker and the added passwd line, at the offsets the files have them', () => {
    const rules = join(tmp, 'implant.yar');
    writeFileSync(rules, RULES);
    const r = ckpt(['rootfs', archive, '--yara', rules, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as FileMatchJson[];
    expect(Object.keys(got[0]!)).toEqual(['rule', 'string_id', 'path', 'offset', 'length', 'match', 'match_escaped', 'match_hex']);
    const cat = (path: string) => gnuTarFile(archive, path);
    for (const [path, rule, id, text] of [
      [compromised.files.tmp_executable, 'implant', '$marker', compromised.rwx.marker],
      ['/etc/passwd', 'account', '$line', compromised.files.passwd_line],
    ] as const) {
      const want = offsets(cat(path), text);
      expect(want.length, path).toBeGreaterThan(0);
      const hits = got.filter((g) => g.path === path && g.rule === rule);
      expect(hits.map((g) => g.offset), path).toEqual(want);
      expect(hits.every((g) => g.string_id === id && g.match === text && g.match_hex === Buffer.from(text).toString('hex'))).toBe(true);
    }
    // the setuid copy of the payload holds the marker too
    expect(got.some((g) => g.path === compromised.files.setuid && g.rule === 'implant')).toBe(true);
    const t = ckpt(['rootfs', archive, '--yara-rule', `rule implant { strings: $m = "${compromised.rwx.marker}" condition: $m }`]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^PATH {2,}OFFSET {2,}RULE:STRING {2,}MATCH\n/);
    const at = offsets(cat(compromised.files.tmp_executable), compromised.rwx.marker)[0]!;
    expect(t.stdout).toMatch(new RegExp(`^${compromised.files.tmp_executable} +0x${at.toString(16)} +implant:\\$m +${compromised.rwx.marker}$`, 'm'));
    const none = ckpt(['rootfs', archive, '--yara-rule', 'rule nothing { strings: $a = "CKPT-NOT-IN-ANY-FILE-31337" condition: $a }']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe(`No matches for the YARA rule in the changed files of ${archive}\n`);
  });

  it('rootfs --yara escapes the bytes it matched (\\xNN)', () => {
    const r = ckpt(['rootfs', archive, '--yara-rule', 'rule elf { strings: $h = { 7f 45 4c 46 } condition: $h at 0 }']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${compromised.files.tmp_executable} +0x0 +elf:\\$h +\\\\x7fELF$`, 'm'));
  });

  it('rootfs --yara on a damaged diff: the matches before the damage, a warning naming the member, exit 4', () => {
    // the header of the diff's last entry (etc/passwd) made unreadable
    const { path: damaged, offset } = damagedDiffCopy(archive, 'etc/passwd');
    const r = ckpt(['rootfs', damaged, '--yara-rule', RULES, '--format', 'json']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^ckpt: warning: [^\\n]*rootfs-diff\\.tar at byte ${offset}: [^\\n]*files after it were not scanned\\n$`));
    const got = JSON.parse(r.stdout) as FileMatchJson[];
    expect(got.some((g) => g.path === compromised.files.tmp_executable)).toBe(true);
    expect(got.some((g) => g.path === '/etc/passwd')).toBe(false);
  });

  it('recover --yara: the marker in the memfd program and in the deleted dropper, where the written files have it', () => {
    const dir = join(tmp, 'recover');
    const r = ckpt(['recover', archive, '-o', dir, '--yara-rule', RULES, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as (Omit<FileMatchJson, 'path'> & { file: string; kind: string; pid: number | null; fd: number | null; path: string | null })[];
    expect(Object.keys(got[0]!)).toEqual(['rule', 'string_id', 'file', 'kind', 'pid', 'fd', 'path', 'offset', 'length', 'match', 'match_escaped', 'match_hex']);
    const memfd = got.filter((g) => g.kind === 'memfd' && g.rule === 'implant');
    expect(memfd.map((g) => [g.pid, g.fd, g.path])).toEqual([[compromised.pid, compromised.memfd_fd, 'memfd:kworker']]);
    // each match is where the file recover wrote has the string
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { artifacts: { file: string }[] };
    for (const g of got) {
      expect(manifest.artifacts.map((a) => a.file)).toContain(g.file);
      expect(readFileSync(join(dir, g.file)).subarray(g.offset, g.offset + g.length).toString('latin1')).toBe(g.match);
    }
    expect(got.some((g) => g.kind === 'ghost' && g.rule === 'implant')).toBe(true);
    const t = ckpt(['recover', archive, '-o', join(tmp, 'recover-text'), '--yara-rule', RULES]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/ files in .*; manifest: .*\n\nFILE {2,}OFFSET {2,}RULE:STRING {2,}MATCH\n/);
    expect(t.stdout).toContain(`memfd/pid${compromised.pid}-fd${compromised.memfd_fd}-kworker.bin`);
  });

  it('recover --yara: a /dev/shm file of the devshm fixture, at offset 0', () => {
    const [path, content] = Object.entries(devshm.devshm.contents)[0]!;
    const text = content.trim();
    const r = ckpt(['recover', fixture('evidence', 'devshm-none.tar'), '-o', join(tmp, 'devshm'), '--yara-rule', `rule key { strings: $k = "${text}" condition: $k }`, '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { kind: string; path: string; offset: number; match: string }[];
    expect(got.filter((g) => g.kind === 'devshm').map((g) => [g.path, g.offset, g.match])).toEqual([[path, 0, text]]);
  });

  it('recover --format json needs --yara', () => {
    const r = ckpt(['recover', archive, '-o', join(tmp, 'nojson'), '--format', 'json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('option --format json needs --yara or --yara-rule');
    expect(existsSync(join(tmp, 'nojson'))).toBe(false);
  });
});

describe('rootfs --yara and recover --yara where the native module cannot load', () => {
  it('say so in one line, exit 1 and write nothing; rootfs without --yara still works', () => {
    const env = { CKPT_YARA_MODULE: '@litko/yara-x-no-such-platform' };
    const rule = 'rule x { strings: $a = "x" condition: $a }';
    const line = /^ckpt: YARA is not available here: the YARA-X module \(@litko\/yara-x-no-such-platform\) could not be loaded: [^\n]+\n$/;
    const r = ckpt(['rootfs', archive, '--yara-rule', rule], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(line);
    const dir = join(tmp, 'no-engine');
    const rec = ckpt(['recover', archive, '-o', dir, '--yara-rule', rule], env);
    expect(rec.code).toBe(1);
    expect(rec.stdout).toBe('');
    expect(rec.stderr).toMatch(line);
    expect(existsSync(dir)).toBe(false);
    const plain = ckpt(['rootfs', archive, '--format', 'json'], env);
    expect(plain.code, plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as { entries: { path: string }[] }).entries.map((e) => e.path)).toContain('/etc/passwd');
  });
});

/** A file of the checkpoint's rootfs-diff.tar as GNU tar extracts it (the judge of the bytes). */
function gnuTarFile(checkpoint: string, path: string): Buffer {
  const r = spawnSync('sh', ['-c', 'tar -xOf "$1" rootfs-diff.tar | tar -xOf - "$2"', 'sh', checkpoint, path.replace(/^\//, '')], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tar: ${r.stderr.toString()}`);
  return r.stdout;
}

