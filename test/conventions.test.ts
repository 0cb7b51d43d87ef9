/**
 * Issue 15, "Command-line conventions" and "One JSON": each item of the issue run through the CLI
 * on the committed fixtures, with the facts read from testdata/facts/.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ckpt, fixture, procsFacts } from './helpers.js';

const facts = procsFacts();
const PROCS = fixture('podman', 'procs-none.tar');
const NET = fixture('podman', 'net-none.tar');
const info = JSON.parse(readFileSync(fixture('facts', 'procs.json'), 'utf8')) as {
  container: { name: string };
  processes: { pid: number; comm: string; role: string; threads?: { tid: number }[] }[];
};
const usage = (r: { code: number; stderr: string }, option: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(option);
};

describe('option values that begin with -', () => {
  it('--search --queue=payments searches for "--queue=payments"', () => {
    const r = ckpt(['memparse', PROCS, '--search', '--queue=payments']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No matches for --queue=payments');
  });
  it("--search-regex '-{2}x' is the regex", () => {
    const r = ckpt(['memparse', PROCS, '--search-regex', '-{2}x']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('No matches for /-{2}x/');
  });
});

describe('usage errors name the option (exit 2)', () => {
  it('--pid with no value', () => usage(ckpt(['memparse', PROCS, '--pid']), /--pid needs a value/));
  it('--pid abc', () => usage(ckpt(['memparse', PROCS, '--pid', 'abc']), /--pid needs a whole number, not "abc"/));
  it('--context abc', () => usage(ckpt(['memparse', PROCS, '--search', 'x', '--context', 'abc']), /--context needs a whole number, not "abc"/));
  it('-i with --search-hex', () => usage(ckpt(['memparse', PROCS, '-i', '--search-hex', 'ab']), /--ignore-case \(-i\) does not apply to --search-hex/));
});

describe('version and completion', () => {
  const version = (JSON.parse(readFileSync(fixture('..', 'package.json'), 'utf8')) as { version: string }).version;
  it('-v and --version print the version', () => {
    for (const flag of ['-v', '--version']) {
      const r = ckpt([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
  });
  it('ckpt completion bash / zsh print a completion script naming the commands', () => {
    const bash = ckpt(['completion', 'bash']);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toMatch(/complete -F _ckpt ckpt|complete .*ckpt/);
    expect(bash.stdout).toContain('memparse');
    const zsh = ckpt(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef ckpt/);
  });
});

describe('several checkpoints in one call', () => {
  it('show A missing B: rows for A and B with a file column, one error line for the missing one, exit 1', () => {
    const r = ckpt(['show', PROCS, '/nonexistent/missing.tar', NET]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FILE');
    expect(r.stdout).toContain(PROCS);
    expect(r.stdout).toContain(NET);
    expect(r.stdout).toContain(info.container.name);
    expect(r.stderr.trim().split('\n')).toEqual(['ckpt: /nonexistent/missing.tar: no such file or directory']);
  });
  it('inspect carries on past a bad one the same way', () => {
    const r = ckpt(['inspect', PROCS, '/nonexistent/missing.tar', NET, '--ps-tree']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(PROCS);
    expect(r.stdout).toContain(NET);
    expect(r.stderr.trim().split('\n')).toEqual(['ckpt: /nonexistent/missing.tar: no such file or directory']);
  });
});

describe('no misleading output', () => {
  it('memparse on a single image that is not a checkpoint is an error', () => {
    const r = ckpt(['memparse', fixture('bare', 'procs-tree', 'pstree.img')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no memory images in it/);
    expect(r.stdout).toBe('');
  });
  it('a zombie is "zombie: no memory", not "0 regions" or "no matches"', () => {
    const zombie = info.processes.find((p) => p.role === 'zombie')!;
    const dump = ckpt(['memparse', PROCS, '--pid', String(zombie.pid)]);
    expect(dump.code).toBe(0);
    expect(dump.stdout).toContain(`Process ${zombie.pid} (${zombie.comm}): zombie: no memory`);
    expect(dump.stdout).not.toMatch(/0 regions/);
    const search = ckpt(['memparse', PROCS, '--pid', String(zombie.pid), '--search', 'x']);
    expect(search.stdout).toContain('zombie: no memory');
    expect(search.stdout).not.toMatch(/No matches/);
  });
  it('--pid of a thread says so and uses its process', () => {
    const owner = info.processes.find((p) => (p.threads?.length ?? 0) > 1)!;
    const thread = owner.threads!.find((t) => t.tid !== owner.pid)!.tid;
    const r = ckpt(['memparse', PROCS, '--pid', String(thread)]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`ckpt: note: ${thread} is a thread of process ${owner.pid}: using process ${owner.pid}`);
    expect(r.stdout).toContain(`Memory of process ${owner.pid} (${owner.comm})`);
  });
});

describe('colour', () => {
  const esc = (s: string) => s.includes('\x1b[');
  it('follows NO_COLOR, FORCE_COLOR=0, TERM=dumb and --color auto|always|never', () => {
    const args = ['inspect', PROCS, '--ps-tree'];
    expect(esc(ckpt(args, { FORCE_COLOR: '1' }).stdout)).toBe(true);
    expect(esc(ckpt(args, { FORCE_COLOR: '1', NO_COLOR: '1' }).stdout)).toBe(false);
    expect(esc(ckpt(args, { FORCE_COLOR: '0' }).stdout)).toBe(false);
    expect(esc(ckpt(args, { FORCE_COLOR: '', NO_COLOR: '', TERM: 'dumb' }).stdout)).toBe(false);
    expect(esc(ckpt([...args, '--color', 'always'], { NO_COLOR: '1' }).stdout)).toBe(true);
    expect(esc(ckpt([...args, '--color', 'never'], { FORCE_COLOR: '1' }).stdout)).toBe(false);
    expect(esc(ckpt([...args, '--color', 'auto']).stdout)).toBe(false); // stdout is not a terminal
  });
});

describe('progress', () => {
  it('is never shown when stderr is not a terminal', () => {
    const r = ckpt(['memparse', fixture('podman', 'procs-zstd.tar'), '--search-regex', 'CKPT-[A-Z]+']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/\r|read, /);
  });
});

describe('One JSON', () => {
  it('show, list and memparse (table and search) take --format json; searches also ndjson, one match a line', () => {
    const show = JSON.parse(ckpt(['show', PROCS, '--format', 'json']).stdout) as { container_name: string }[];
    expect(show[0]!.container_name).toBe(info.container.name);
    const list = ckpt(['list', fixture('podman'), '--format', 'json']);
    expect(list.code).toBe(0);
    expect(Array.isArray(JSON.parse(list.stdout))).toBe(true);
    const table = JSON.parse(ckpt(['memparse', PROCS, '--format', 'json']).stdout) as { processes: { pid: number }[] };
    expect(table.processes.map((p) => p.pid)).toContain(facts.secrets[0]!.pid);
    const heap = facts.secrets.find((s) => s.kind === 'heap')!;
    const search = JSON.parse(ckpt(['memparse', PROCS, '--search', heap.marker, '--format', 'json']).stdout) as { pid: number | null; address: string }[];
    expect(search.map((m) => [m.pid, m.address])).toContainEqual([heap.pid, heap.addr]);
    const nd = ckpt(['memparse', PROCS, '--search', heap.marker, '--format', 'ndjson']).stdout.trim().split('\n');
    expect(nd).toHaveLength(search.length);
    for (const line of nd) expect(JSON.parse(line)).toEqual(search[nd.indexOf(line)]);
  });

  it('2-space indent, the same keys in the same order, null for a field without a value, addresses as "0x…" strings', () => {
    const r = ckpt(['memparse', PROCS, '--search', 'CKPT', '--format', 'json']);
    expect(r.stdout).toMatch(/^\[\n {2}\{\n {4}"/);
    const all = JSON.parse(r.stdout) as Record<string, unknown>[];
    const keys = JSON.stringify(Object.keys(all[0]!));
    for (const m of all) {
      expect(JSON.stringify(Object.keys(m))).toBe(keys); // the same keys in the same order, none left out
      expect(typeof m.address === 'string' ? (m.address as string) : '0x').toMatch(/^0x[0-9a-f]+$/);
    }
    // an anonymous region has no path: null, not a key left out
    expect(all.some((m) => m.path === null)).toBe(true);
  });

  it('no bigint reaches JSON.stringify: every model object of the library serialises', async () => {
    const { openCheckpointFile } = await import('../src/node/index.js');
    const ck = await openCheckpointFile(PROCS);
    try {
      const mem = await ck.memory();
      for (const v of [ck.container, ck.processes, ck.sockets, ck.mounts, ck.sizes, ck.statistics, ck.problems, await ck.arguments()]) {
        expect(() => JSON.stringify(v instanceof Map ? [...v] : v)).not.toThrow();
      }
      // the memory model's addresses are bigint by design (docs/api.md): the views convert them
      expect(typeof mem.forPid(facts.secrets[0]!.pid).regions()[0]!.start).toBe('bigint');
    } finally {
      await ck.close();
    }
  });
});

describe('main() called twice in one process (embedders, the fuzzer)', () => {
  it('each run has its own exit status: a failed run does not make the next one fail', async () => {
    const { main } = await import('../src/cli/main.js');
    const { vi } = await import('vitest');
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['show', PROCS, fixture('podman', 'no-such.tar')])).toBe(1);
      expect(await main(['show', PROCS])).toBe(0);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});
