/**
 * Issue 15, "Salvage damaged archives": a checkpoint cut short (a copy interrupted, a disk full)
 * still shows every intact part (metadata, the process tree from intact images, memory up to the
 * damage), with one warning line per damaged part naming the member and the byte, and exit 4.
 * The archives are the committed fixtures cut at offsets computed from their own member index.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpointFile, openSource } from '../src/node/index.js';
import type { TarFileSource } from '../src/node/tar-file.js';
import { ckpt, fixture, procsFacts } from './helpers.js';

const facts = procsFacts();
const info = JSON.parse(readFileSync(fixture('facts', 'procs.json'), 'utf8')) as { container: { name: string; id: string } };
const dir = mkdtempSync(join(tmpdir(), 'ckpt-salvage-'));
const PLAIN = fixture('podman', 'procs-none.tar');
const plainBytes = readFileSync(PLAIN);
const members = new Map<string, { offset: number; size: number }>();
const heap = facts.secrets.find((s) => s.kind === 'heap')!;
const stack = facts.secrets.find((s) => s.kind === 'stack')!;
const secretImage = (s: typeof heap) => (s as unknown as { image: { pages: string; offset: number } }).image;

/** The first `n` bytes of `file`, as a new file. */
function cut(file: string, n: number, name: string): string {
  const out = join(dir, name);
  writeFileSync(out, readFileSync(file).subarray(0, n));
  return out;
}

/** The lines of stderr that are warnings. */
const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('ckpt: warning: '));

beforeAll(async () => {
  const src = (await openSource(PLAIN)) as TarFileSource;
  for (const e of await src.entries()) if (e.type === 'file') members.set(e.path, src.memberRange(e.path));
  await src.close();
});
afterAll(() => undefined);

describe('a plain archive cut short', () => {
  it('inside a tar header: the metadata before it is shown, the warning names the archive and the header byte, exit 4', () => {
    const header = members.get('checkpoint/cgroup.img')!.offset - 512;
    const f = cut(PLAIN, header + 100, 'header.tar');
    const r = ckpt(['show', f]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain(info.container.name);
    expect(r.stdout).toContain(info.container.id.slice(0, 12));
    expect(warnings(r.stderr)).toContain(`ckpt: warning: ${f} at byte ${header}: the archive ends inside a tar header: the members from here on are missing`);
  });

  it('inside a member after the process tree: every process of the facts is shown, the member and byte named', () => {
    const m = members.get('checkpoint/seccomp.img')!;
    expect(members.get('checkpoint/pstree.img')!.offset).toBeLessThan(m.offset);
    const at = m.offset + 1000;
    const f = cut(PLAIN, at, 'member.tar');
    const r = ckpt(['inspect', f, '--ps-tree']);
    expect(r.code).toBe(4);
    for (const p of facts.processes) expect(r.stdout).toMatch(new RegExp(`\\[${p.pid}[\\] ].*${p.comm}`));
    expect(warnings(r.stderr)[0]).toBe(`ckpt: warning: checkpoint/seccomp.img at byte ${at}: the archive ends inside it: 1000 of ${m.size} bytes intact`);
  });

  it('inside the pages member: memory up to the damage is searched and dumped, what lies past it is named as lost', () => {
    const pages = members.get(`checkpoint/${secretImage(heap).pages}`)!;
    expect(secretImage(stack).pages).toBe(secretImage(heap).pages);
    const heapEnd = secretImage(heap).offset + heap.len;
    expect(heapEnd).toBeLessThan(secretImage(stack).offset);
    const at = pages.offset + Math.floor((heapEnd + secretImage(stack).offset) / 2);
    const f = cut(PLAIN, at, 'pages.tar');
    const warning = `ckpt: warning: checkpoint/${secretImage(heap).pages} at byte ${at}: the archive ends inside it: ${at - pages.offset} of ${pages.size} bytes intact`;
    const found = ckpt(['memparse', f, '--search', heap.marker, '--format', 'json']);
    expect(found.code).toBe(4);
    const matches = JSON.parse(found.stdout) as { pid: number; address: string }[];
    expect(matches.map((x) => [x.pid, x.address])).toContainEqual([heap.pid, heap.addr]);
    expect(warnings(found.stderr)).toContain(warning);
    const lost = ckpt(['memparse', f, '--search', stack.marker]);
    expect(lost.code).toBe(4);
    expect(lost.stdout).toContain('No matches');
    const dump = ckpt(['memparse', f, '--pid', String(stack.pid)]);
    expect(dump.code).toBe(4);
    expect(dump.stdout).toMatch(/lost: the archive is cut short or damaged before them/);
    expect(warnings(dump.stderr)[0]).toBe(warning);
  });

  it('the library: openCheckpointFile gives what is intact plus problems naming the member and byte', async () => {
    const m = members.get('checkpoint/seccomp.img')!;
    const f = cut(PLAIN, m.offset + 4096, 'lib.tar');
    const ck = await openCheckpointFile(f);
    try {
      expect(ck.processes.map((p) => p.pid).sort((a, b) => a - b)).toEqual(facts.processes.map((p) => p.pid).sort((a, b) => a - b));
      expect(ck.container.name).toBe(info.container.name);
      expect(ck.problems[0]).toEqual({ kind: 'damaged', file: 'checkpoint/seccomp.img', offset: m.offset + 4096, message: `the archive ends inside it: 4096 of ${m.size} bytes intact` });
    } finally {
      await ck.source.close();
    }
  });

  it('an archive cut before its first member is complete is still an error (nothing to salvage), exit 1', () => {
    const r = ckpt(['show', cut(PLAIN, 300, 'tiny.tar')]);
    expect(r.code).toBe(1);
  });
});

describe.each(['gzip', 'zstd'])('a %s archive cut short', (format) => {
  const file = fixture('podman', `procs-${format}.tar`);
  const size = readFileSync(file).length;

  it.each([0.5, 0.75])('at %s of its size: the container is shown, one warning names a member and a byte inside it, exit 4', (part) => {
    const f = cut(file, Math.floor(size * part), `${format}-${part}.tar`);
    const r = ckpt(['show', f]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain(info.container.name);
    const w = warnings(r.stderr);
    expect(w.length).toBeGreaterThan(0);
    const m = /^ckpt: warning: (\S+) at byte (\d+): (.*)$/.exec(w[0]!);
    expect(m).not.toBeNull();
    const [, member, byte] = m!;
    if (member !== f) {
      // the members are byte-identical to the plain fixture's: the byte lies inside the member named
      const range = members.get(member!)!;
      expect(range).toBeDefined();
      expect(Number(byte)).toBeGreaterThanOrEqual(range.offset);
      expect(Number(byte)).toBeLessThanOrEqual(range.offset + range.size);
    }
  });

  it('inside the compressed trailer: every member is intact (all processes shown), one warning for the archive, exit 4', () => {
    const f = cut(file, size - 2, `${format}-trailer.tar`);
    const r = ckpt(['inspect', f, '--ps-tree']);
    expect(r.code).toBe(4);
    for (const p of facts.processes) expect(r.stdout).toMatch(new RegExp(`\\[${p.pid}[\\] ].*${p.comm}`));
    const w = warnings(r.stderr);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(new RegExp(`^ckpt: warning: ${f.replace(/[.]/g, '\\.')} at byte \\d+: .*after the end of the tar: every member was read whole$`));
  });

  it('the library, worker or stream decompression: the same intact processes and the same damaged member', async () => {
    // the worker (used for archives of 4 MiB or more) hands over what it decoded before the damage
    const f = cut(file, Math.floor(size * 0.97), `${format}-lib.tar`);
    const seen: string[] = [];
    for (const decompression of ['stream', 'worker'] as const) {
      const ck = await openCheckpointFile(f, { decompression });
      try {
        const d = ck.problems.find((p) => p.kind === 'damaged');
        expect(d).toBeDefined();
        seen.push(`${d!.file}`);
        for (const p of ck.processes) expect(facts.processes.map((x) => x.pid)).toContain(p.pid);
      } finally {
        await ck.source.close();
      }
    }
    expect(seen[0]).toBe(seen[1]);
  });
});

it('the plain fixture itself is whole: no warning, exit 0', () => {
  expect(plainBytes.length).toBeGreaterThan(0);
  const r = ckpt(['show', PLAIN]);
  expect(r.code).toBe(0);
  expect(warnings(r.stderr)).toEqual([]);
});
