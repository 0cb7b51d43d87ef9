import { describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, fixture, ROOT } from './helpers.js';
import { facts } from './facts.js';

const procs = fixture('podman', 'procs-none.tar');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[/;

function oneLineError(r: { code: number; stderr: string; stdout: string }, code: number): string {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ckpt: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), to see what a user at a terminal sees. */
function onTty(args: string[], env: Record<string, string> = {}): string | undefined {
  const cmd = [process.execPath, join(ROOT, 'bin', 'ckpt.js'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, ...env } });
  return r.error ? undefined : r.stdout;
}

describe('ckpt show', () => {
  it('one checkpoint: a table with container, image, short ID, runtime, created, engine, size', () => {
    const f = facts('procs');
    const r = ckpt(['show', procs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Displaying container checkpoint data from ${procs}`);
    for (const h of ['CONTAINER', 'IMAGE', 'ID', 'RUNTIME', 'CREATED', 'ENGINE', 'CHKPT SIZE']) expect(r.stdout).toContain(h);
    expect(r.stdout).toContain(f.container.name);
    expect(r.stdout).toContain(f.container.image);
    expect(r.stdout).toContain(f.container.id.slice(0, 12));
    expect(r.stdout).not.toContain(f.container.id.slice(0, 13));
    expect(r.stdout).toContain('Podman');
    expect(r.stdout).toMatch(/│ crun\s+│/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('several checkpoints of every engine: one row each, all columns', () => {
    const r = ckpt(['show', procs, fixture('engines', 'crio-net.tar'), fixture('engines', 'containerd-files.tar'), fixture('bare', 'procs-tree')]);
    expect(r.code, r.stderr).toBe(0);
    for (const h of ['IP', 'MAC', 'ROOT FS DIFF SIZE']) expect(r.stdout).toContain(h);
    for (const e of ['Podman', 'CRI-O', 'containerd', 'CRIU']) expect(r.stdout).toContain(` ${e} `);
    expect(r.stdout).toContain('10.85.0.17');
  });

  it('bad input: exit 1 with one line naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-cli-show-'));
    const p = join(dir, 'not-a-checkpoint.tar');
    writeFileSync(p, 'hello\n'.repeat(100));
    expect(oneLineError(ckpt(['show', p]), 1)).toContain(p);
    expect(oneLineError(ckpt(['show', join(dir, 'missing.tar')]), 1)).toContain('missing.tar');
  });
});

describe('ckpt inspect', () => {
  it('default: container facts and sizes as a box-drawing tree', () => {
    const r = ckpt(['inspect', procs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Displaying container checkpoint tree view from ${procs}`);
    expect(r.stdout).toMatch(/^ckpt-procs$/m);
    expect(r.stdout).toMatch(/^├── Engine: Podman$/m);
    expect(r.stdout).toMatch(/^└── Checkpoint size: [\d.]+ KiB$/m);
    expect(r.stdout).toMatch(/^    └── Memory pages size: /m);
    expect(r.stdout).not.toContain('Process tree');
  });

  it('--ps-tree: pids, names, states, threads', () => {
    const r = ckpt(['inspect', procs, '--ps-tree']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^└── Process tree$/m);
    expect(r.stdout).toMatch(/^    └── \[1\]  ckpt-main$/m);
    expect(r.stdout).toMatch(/── \[7 \(zombie, exit status 7\)\]  ckpt-zombie$/m);
    expect(r.stdout).toMatch(/── \[8 \(stopped, SIGSTOP\)\]  ckpt-stopped$/m);
    expect(r.stdout).toMatch(/── \[5\]  ckpt-worker-1$/m);
    expect(r.stdout).toMatch(/│   └── \[3\]  ckpt-grandchild$/m);
  });

  it('--pid N --ps-tree-cmd --ps-tree-env: one process, its argv and environment in order', () => {
    const la = facts('procs').longargv;
    const r = ckpt(['inspect', procs, '--pid', String(la.pid), '--ps-tree-cmd', '--ps-tree-env']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[${la.pid}]  ${la.argv0} ${la.argv1} ${la.argv_first} `);
    expect(r.stdout).toContain(la.argv_last);
    const env = r.stdout.split('Environment variables\n')[1]!.split('\n').slice(0, la.env.length).map((l) => l.replace(/^[│ ]*[├└]── /, ''));
    expect(env).toEqual(la.env);
    expect(r.stdout).not.toContain('[1]');
  });

  it('--files --sockets on net: IPv6 text addresses, unix names and peers, queued bytes', () => {
    const f = facts('net');
    const r = ckpt(['inspect', fixture('podman', 'net-zstd.tar'), '--sockets', '--files']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('[TCP (LISTEN) fd 4]  [::1]:7002 -> [::]:0');
    const c6 = f.tcp.find((t) => t.family === 'inet6' && t.role === 'client')!;
    expect(r.stdout).toContain(`[TCP (ESTABLISHED) fd ${c6.fd}]  ${c6.local} -> ${c6.remote}`);
    expect(r.stdout).toContain('@ckpt-abstract LISTEN');
    expect(r.stdout).toMatch(/\(unnamed\) -> \/tmp\/ckpt\.sock \(pid 1 fd 13\)/);
    expect(r.stdout).toContain(`[PIPE ${f.pipe.read_fd}]  pipe[`);
    expect(r.stdout).toContain(`peers 1:${f.pipe.write_fd}  ${f.pipe.unread.length} bytes queued`);
  });

  it('--files on files: the deleted file is marked', () => {
    const f = facts('files');
    const r = ckpt(['inspect', fixture('podman', 'files-gzip.tar'), '--files']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`[REG ${f.fds.unlinked.fd}]  ${f.fds.unlinked.path}  (deleted)`);
    expect(r.stdout).toContain(`[REG ${f.fds.write.fd}]  ${f.fds.write.path}  O_WRONLY`);
    expect(r.stdout).toContain('[cwd]  /');
  });

  it('--mounts: spec mounts and CRIU mounts; --stats; --metadata on CRI-O expands JSON annotations', () => {
    const m = ckpt(['inspect', procs, '--mounts', '--stats']);
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toContain('Overview of mounts');
    expect(m.stdout).toMatch(/Destination: \/dev\/shm\n│   │   ├── Type: bind/);
    expect(m.stdout).toContain('CRIU mounts');
    expect(m.stdout).toMatch(/Frozen time: [\d.]+ (µs|ms|s)/);
    expect(m.stdout).toMatch(/Pages written: \d+/);
    const c = ckpt(['inspect', fixture('engines', 'crio-net.tar'), '--metadata']);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toContain('Pod name: ckpt-net-pod');
    expect(c.stdout).toContain('Kubernetes namespace: forensics');
    expect(c.stdout).toMatch(/io\.kubernetes\.cri-o\.Metadata\n[│ ]*└── name: ckpt-net/);
  });

  it('--all --format json is the same from none, gzip and zstd, and from the CLI as from the library', () => {
    const outs = ['none', 'gzip', 'zstd'].map((c) => ckpt(['inspect', fixture('podman', `procs-${c}.tar`), '--all', '--format', 'json']));
    for (const o of outs) expect(o.code, o.stderr).toBe(0);
    // each archive's own hash (metadata) is the one line that differs
    const noHash = (s: string) => s.replace(/^\s*"archive_sha256": "[0-9a-f]{64}",\n/m, '');
    expect(noHash(outs[1]!.stdout)).toBe(noHash(outs[0]!.stdout));
    expect(noHash(outs[2]!.stdout)).toBe(noHash(outs[0]!.stdout));
    expect(outs[0]!.stdout).not.toBe(noHash(outs[0]!.stdout));
    const j = JSON.parse(outs[0]!.stdout);
    expect(Array.isArray(j)).toBe(true);
    expect(j[0].process_tree.command).toBe('ckpt-main');
    expect(outs[0]!.stdout).not.toMatch(ANSI);
  });

  it('several checkpoints in one JSON array', () => {
    const r = ckpt(['inspect', procs, fixture('engines', 'containerd-files.tar'), '--format', 'json', '--metadata']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.map((x: { engine: string }) => x.engine)).toEqual(['Podman', 'containerd']);
    expect(j[1].metadata).toMatchObject({ pod_name: 'ckpt-files-pod', kubernetes_namespace: 'default' });
  });

  it('an unknown pid names the valid ones: exit 2', () => {
    const line = oneLineError(ckpt(['inspect', procs, '--pid', '42']), 2);
    expect(line).toContain('no process with pid 42');
    expect(line).toContain('pids: 1, 2, 3, 4, 7, 8, 9');
    oneLineError(ckpt(['inspect', procs, '--pid', 'abc']), 2);
    oneLineError(ckpt(['inspect', procs, '--format', 'yaml']), 2);
    oneLineError(ckpt(['inspect']), 2);
  });

  it('corrupt input: exit 1 naming the member; parts that do not need it still work', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-cli-bad-'));
    spawnSync('tar', ['-xf', fixture('podman', 'net-none.tar'), '-C', dir]);
    writeFileSync(join(dir, 'checkpoint', 'files.img'), Buffer.from('not a CRIU image at all, really'));
    expect(oneLineError(ckpt(['inspect', dir, '--files']), 1)).toMatch(/checkpoint\/files\.img at byte 0: .*not a CRIU image/);
    const ok = ckpt(['inspect', dir, '--stats', '--mounts', '--metadata']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Engine: Podman');
    // a damaged spec.dump is a partial result: the table, one warning naming the file and byte, exit 4
    writeFileSync(join(dir, 'spec.dump'), '{"annotations": ');
    const partial = ckpt(['show', dir]);
    expect(partial.code, partial.stderr).toBe(4);
    expect(partial.stderr.trimEnd()).toMatch(/^ckpt: warning: spec\.dump( at byte \d+)?: not valid JSON/);
    expect(partial.stdout).toContain('ckpt-net');
  });

  // script(1) (util-linux, in Debian's essential bsdutils) gives the command a terminal
  it.skipIf(spawnSync('script', ['--version']).error !== undefined)('colour only on a terminal, and never with NO_COLOR (skipped without script(1))', () => {
    const tty = onTty(['inspect', procs, '--ps-tree']);
    expect(tty).toMatch(ANSI);
    expect(onTty(['inspect', procs, '--ps-tree'], { NO_COLOR: '1' })).not.toMatch(ANSI);
    expect(onTty(['inspect', procs, '--format', 'json'])).not.toMatch(ANSI);
    expect(ckpt(['inspect', procs, '--ps-tree']).stdout).not.toMatch(ANSI);
  });

  it('strings from the checkpoint cannot reach the terminal as escape sequences', () => {
    // the views escape control characters; covered here through the tree renderer's input
    const r = ckpt(['inspect', procs, '--ps-tree-env']);
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/); // eslint-disable-line no-control-regex
  });
});

describe('ckpt list', () => {
  it('lists checkpoint-* archives of the given directories with namespace, pod, container, engine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-cli-list-'));
    copyFileSync(fixture('engines', 'crio-net.tar'), join(dir, 'checkpoint-ckpt-net-pod_forensics-ckpt-net-2026-11-24T13:59:05Z.tar'));
    copyFileSync(fixture('engines', 'containerd-files.tar'), join(dir, 'checkpoint-ckpt-files-pod_default-ckpt-files-2026-11-24T13:59:07Z.tar'));
    copyFileSync(fixture('podman', 'net-zstd.tar'), join(dir, 'checkpoint-podman.tar.zst'));
    writeFileSync(join(dir, 'unrelated.tar'), 'x');
    const r = ckpt(['list', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Listing checkpoints in path: ${dir}`);
    for (const h of ['NAMESPACE', 'POD', 'CONTAINER', 'ENGINE', 'TIME CHECKPOINTED', 'CHECKPOINT NAME']) expect(r.stdout).toContain(h);
    expect(r.stdout).toMatch(/forensics\s+│ ckpt-net-pod\s+│ ckpt-net\s+│ CRI-O\s+│ 24 Nov 26 13:59 UTC/);
    expect(r.stdout).toMatch(/default\s+│ ckpt-files-pod\s+│ ckpt-files\s+│ containerd/);
    expect(r.stdout).toMatch(/ckpt-net\s+│ Podman/);
    expect(r.stdout).not.toContain('unrelated.tar');
  });

  it('an unreadable archive is reported on stderr, the others listed, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-cli-list-'));
    copyFileSync(fixture('engines', 'crio-net.tar'), join(dir, 'checkpoint-a.tar'));
    writeFileSync(join(dir, 'checkpoint-b.tar'), 'not a tar\n'.repeat(100));
    const r = ckpt(['list', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('checkpoint-a.tar');
    expect(r.stderr).toMatch(/^ckpt: .*checkpoint-b\.tar/);
  });

  it('no checkpoints: says so; a directory that does not exist: exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ckpt-cli-list-'));
    const r = ckpt(['list', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`No checkpoints found in ${dir}\n`);
    expect(oneLineError(ckpt(['list', join(dir, 'nope')]), 1)).toContain('nope');
  });
});

describe('--help on every command', () => {
  for (const [cmd, words] of [
    ['show', ['checkpoint']],
    ['inspect', ['--ps-tree', '--ps-tree-cmd', '--ps-tree-env', '--files', '--sockets', '--mounts', '--stats', '--metadata', '--all', '--pid', '--format']],
    ['list', ['/var/lib/kubelet/checkpoints']],
  ] as const) {
    it(cmd, () => {
      const r = ckpt([cmd, '--help']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`ckpt ${cmd}`);
      for (const w of words) expect(r.stdout).toContain(w);
    });
  }
  it('top level lists the commands', () => {
    const r = ckpt(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['show', 'inspect', 'list']) expect(r.stdout).toContain(`ckpt ${c}`);
  });
});
