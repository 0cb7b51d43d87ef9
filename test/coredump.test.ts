/**
 * `ckpt coredump` judged by real tools: gdb reads the cores (threads, registers equal to crit's
 * decoding of core-*.img, planted secrets at their addresses, libc frames with the image root as
 * sysroot, no warning), eu-readelf and readelf list the notes without an error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ckpt, fixture, procsFacts } from './helpers.js';
import { openCheckpointFile } from '../src/node/index.js';
import { writeCore, type CoreSink } from '../src/model/coredump/index.js';

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const GDB = has('gdb');
const EU_READELF = has('eu-readelf');
const READELF = has('readelf');
const XZ = has('xz');

const tmp = mkdtempSync(join(tmpdir(), 'ckpt-coredump-'));
const PROCS = fixture('podman', 'procs-none.tar');
const DYN = fixture('coredump', 'dyn-none.tar');

interface DynFacts {
  pid: number;
  threads: { tid: number; comm: string }[];
  secrets: { kind: string; addr: string; marker: string }[];
  image_file: { path: string; addr: string; marker: string };
  diff_file: { path: string; addr: string; marker: string };
  pending: { thread: number; process: number; process_value: number };
}
const dyn = JSON.parse(readFileSync(fixture('coredump', 'dyn.json'), 'utf8')) as DynFacts;

/** crit's decoding of a thread's registers (testdata/.../oracle/core-<tid>.json). */
function critRegs(dir: string, tid: number): { ip: string; sp: string } {
  const j = JSON.parse(readFileSync(join(dir, `core-${tid}.json`), 'utf8')) as { entries: { thread_info: { gpregs: { ip: string; sp: string } } }[] };
  return j.entries[0]!.thread_info.gpregs;
}

/** gdb -batch with the commands, without any init file, debuginfod or libthread_db from the host. */
function gdb(core: string, commands: string[], opts: { sysroot?: string; exe?: string } = {}): { out: string; err: string } {
  const args = ['-nx', '-batch', '-iex', 'set debuginfod enabled off', '-iex', 'set auto-load no'];
  if (opts.sysroot) {
    args.push('-iex', `set libthread-db-search-path ${join(opts.sysroot, 'lib/x86_64-linux-gnu')}`, '-iex', `set auto-load safe-path ${opts.sysroot}`, '-iex', 'set auto-load libthread-db on');
    args.push('-ex', `set sysroot ${opts.sysroot}`);
  } else args.push('-iex', 'set libthread-db-search-path');
  args.push('-ex', `core-file ${core}`);
  for (const c of commands) args.push('-ex', c);
  if (opts.exe) args.push(opts.exe);
  const r = spawnSync('gdb', args, { encoding: 'utf8', timeout: 60_000 });
  return { out: r.stdout, err: r.stderr };
}

function warnings(text: string): string[] {
  return text.split('\n').filter((l) => /warning|error|malformed|unexpected/i.test(l));
}

function writeCoreCli(args: string[]): ReturnType<typeof ckpt> {
  return ckpt(['coredump', ...args]);
}

describe('coredump of the static procs fixture', () => {
  const facts = procsFacts();
  const main = facts.processes.find((p) => p.role === 'main')!;
  const threaded = facts.processes.find((p) => p.role === 'threads')!;
  const core1 = join(tmp, 'procs.core.1');
  const core4 = join(tmp, 'procs.core.4');
  beforeAll(() => {
    expect(writeCoreCli([PROCS, '--pid', String(main.pid), '-o', core1]).code).toBe(0);
    expect(writeCoreCli([PROCS, '--pid', String(threaded.pid), '-o', core4]).code).toBe(0);
  });

  it.skipIf(!GDB)('gdb shows every thread of pid 4 with the registers crit decodes from core-<tid>.img', () => {
    const proc = facts.processes.find((p) => p.pid === 4) as { threads: { tid: number }[] };
    const cmds = ['info threads'];
    for (let i = 1; i <= proc.threads.length; i++) cmds.push(`thread ${i}`, 'info registers rip rsp');
    const { out, err } = gdb(core4, cmds);
    for (const t of proc.threads) expect(out).toMatch(new RegExp(`LWP ${t.tid}\\b`));
    // threads are listed in note order: the main thread first, then the others in pstree order
    for (const t of proc.threads) {
      const want = critRegs(fixture('oracle', 'procs'), t.tid);
      expect(out).toContain(`[Switching to thread`);
      expect(out).toMatch(new RegExp(`rip\\s+${want.ip}\\s`));
      expect(out).toMatch(new RegExp(`rsp\\s+${want.sp}\\s`));
    }
    // the only warning: the executable is not on this machine (no image root for this fixture)
    expect(warnings(out + err)).toEqual(["warning: Can't open file /ckpt-workload during file-backed mapping note processing"]);
  });

  it.skipIf(!GDB)('x/s prints every planted secret of pid 1 at its address (heap, stack, shared anonymous, memfd, SysV shm, across a page)', () => {
    const secrets = facts.secrets.filter((s) => s.pid === 1);
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const { out } = gdb(core1, secrets.map((s) => `x/s ${s.addr}`));
    for (const s of secrets) expect(out).toMatch(new RegExp(`${s.addr}[^\\n]*"${s.marker}`));
  });

  it.skipIf(!EU_READELF)('eu-readelf -n lists the notes of every thread without an error', () => {
    const r = spawnSync('eu-readelf', ['-n', '-l', core4], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.match(/CORE\s+336\s+PRSTATUS/g)).toHaveLength(3);
    expect(r.stdout.match(/CORE\s+512\s+FPREGSET/g)).toHaveLength(3);
    expect(r.stdout.match(/LINUX\s+\d+\s+X86_XSTATE/g)).toHaveLength(3);
    expect(r.stdout).toMatch(/CORE\s+136\s+PRPSINFO/);
    expect(r.stdout).toMatch(new RegExp(`fname: ${threaded.comm}`));
    expect(r.stdout).toMatch(/CORE\s+\d+\s+AUXV/);
    expect(r.stdout).toMatch(/PAGESZ: 4096/);
    expect(r.stdout).toMatch(/CORE\s+\d+\s+FILE\s+\d+ files?:/);
    for (const t of threaded.threads!) expect(r.stdout).toMatch(new RegExp(`pid: ${t.tid}, ppid: ${threaded.ppid}, pgrp: ${main.pid}, sid: ${main.pid}`));
  });

  it.skipIf(!READELF)('readelf -n lists the notes without a warning', () => {
    const r = spawnSync('readelf', ['-n', '-l', '-W', core1], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/NT_PRSTATUS/);
    expect(r.stdout).toMatch(/NT_X86_XSTATE/);
    expect(r.stdout).not.toMatch(/warning|corrupt|malformed/i);
  });

  it('the same core from the zstd and gzip archives (one streaming pass) as from the plain tar', () => {
    const plain = readFileSync(core1);
    for (const c of ['zstd', 'gzip']) {
      const out = join(tmp, `procs-${c}.core.1`);
      expect(writeCoreCli([fixture('podman', `procs-${c}.tar`), '--pid', String(main.pid), '-o', out]).code).toBe(0);
      expect(Buffer.compare(readFileSync(out), plain)).toBe(0);
    }
  });

  it('the file is sparse: absent pages are holes', () => {
    const s = statSync(core1);
    expect(s.blocks * 512).toBeLessThan(s.size);
  });

  it('--all writes a core per live process and names the zombie it skips', () => {
    const dir = join(tmp, 'all');
    const r = writeCoreCli([PROCS, '--all', '-o', dir]);
    expect(r.code).toBe(0);
    const zombie = facts.processes.find((p) => (p as { role?: string }).role === 'zombie')!;
    const live = facts.processes.filter((p) => p.pid !== zombie.pid).map((p) => `core.${p.pid}`);
    expect(readdirSync(dir).sort()).toEqual(live.sort());
    expect(r.stderr).toContain(`pid ${zombie.pid} (${zombie.comm}) skipped`);
    expect(r.stdout.trim().split('\n')).toHaveLength(live.length);
  });

  it('refuses to overwrite without --force, to write over the input, and names a missing pid', () => {
    const out = join(tmp, 'exists.core');
    writeFileSync(out, 'x');
    const r1 = writeCoreCli([PROCS, '--pid', String(main.pid), '-o', out]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toMatch(/already exists \(use --force/);
    expect(readFileSync(out, 'utf8')).toBe('x');
    expect(writeCoreCli([PROCS, '--pid', String(main.pid), '-o', out, '--force']).code).toBe(0);
    const r2 = writeCoreCli([PROCS, '--pid', String(main.pid), '-o', PROCS, '--force']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/refusing to write over the input/);
    const r3 = writeCoreCli([PROCS, '--pid', '999', '-o', join(tmp, 'none')]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/--pid 999: no such process/);
    const r4 = writeCoreCli([PROCS, '-o', join(tmp, 'none')]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/--pid N, or use --all/);
  });

  it('a zombie and a non-x86_64 image are one-line errors naming the architecture', async () => {
    const zombie = facts.processes.find((p) => (p as { role?: string }).role === 'zombie')!;
    const r = writeCoreCli([PROCS, '--pid', String(zombie.pid), '-o', join(tmp, 'zombie.core')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is a zombie/);
    expect(existsSync(join(tmp, 'zombie.core'))).toBe(false);
    // an aarch64 image: the decoded core entry's architecture changed in memory
    const cp = await openCheckpointFile(PROCS);
    try {
      const core = cp.images.imageEntries<{ mtype: number }>('core-1.img')[0]!;
      core.mtype = 3;
      const sink: CoreSink = { writeAt: async () => undefined, truncate: async () => undefined };
      await expect(writeCore(cp.process(1)!, sink, { checkpoint: cp })).rejects.toThrow(/core-1\.img: architecture aarch64 is not supported/);
    } finally {
      await cp.close();
    }
  });
});

describe('coredump of the dynamically linked fixture, with the image root', () => {
  const root = join(tmp, 'dyn-root');
  const sysroot = join(tmp, 'dyn-sysroot');
  const core = join(tmp, 'dyn.core');
  const bare = join(tmp, 'dyn-bare.core');
  const exe = join(root, 'ckpt-dyn');
  let cli: ReturnType<typeof ckpt>;
  let bareCli: ReturnType<typeof ckpt>;
  beforeAll(() => {
    if (!XZ) return; // every test of this block is it.skipIf(!XZ) (xz: .ci/run installs xz-utils)
    // the image root, and the container's root as gdb's sysroot: the image plus the diff
    for (const d of [root, sysroot]) {
      expect(spawnSync('sh', ['-c', `mkdir -p "${d}" && xz -dc "${fixture('coredump', 'dyn-root.tar.xz')}" | tar -x -C "${d}"`]).status).toBe(0);
    }
    expect(spawnSync('sh', ['-c', `tar -xOf "${DYN}" rootfs-diff.tar | tar -x -C "${sysroot}"`]).status).toBe(0);
    cli = writeCoreCli([DYN, '--pid', String(dyn.pid), '-o', core, '--rootfs', root]);
    bareCli = writeCoreCli([DYN, '--pid', String(dyn.pid), '-o', bare]);
  });
  afterAll(() => undefined);

  it.skipIf(!XZ)('fills unmodified file pages from --rootfs and from rootfs-diff.tar, and says which', () => {
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/2 threads/);
    expect(cli.stdout).toMatch(/of file pages from --rootfs/);
    expect(cli.stdout).toMatch(/of file pages from rootfs-diff\.tar/);
    expect(cli.stderr).toBe('');
    // without the image root: each file of the image listed once, the diff's file still filled
    expect(bareCli.code).toBe(0);
    const notes = bareCli.stderr.trim().split('\n');
    expect(notes.filter((l) => l.includes('libc.so.6'))).toHaveLength(1);
    expect(notes.some((l) => l.includes(dyn.image_file.path))).toBe(true);
    expect(notes.some((l) => l.includes(dyn.diff_file.path))).toBe(false);
  });

  it.skipIf(!XZ || !GDB)('gdb: every thread, registers as in core-*.img, libc loaded, libc frames in the blocked threads, no warning', () => {
    const cmds = ['info threads', 'info sharedlibrary', 'thread apply all bt'];
    for (let i = 1; i <= dyn.threads.length; i++) cmds.push(`thread ${i}`, 'info registers rip rsp');
    const { out, err } = gdb(core, cmds, { sysroot, exe: join(sysroot, 'ckpt-dyn') });
    expect(warnings(out + err)).toEqual([]);
    for (const t of dyn.threads) expect(out).toMatch(new RegExp(`\\(LWP ${t.tid}\\)`));
    for (const t of dyn.threads) {
      const want = critRegs(fixture('coredump', 'oracle'), t.tid);
      expect(out).toMatch(new RegExp(`rip\\s+${want.ip}\\s`));
      expect(out).toMatch(new RegExp(`rsp\\s+${want.sp}\\s`));
    }
    expect(out).toMatch(/0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes[^\n]*\/lib\/x86_64-linux-gnu\/libc\.so\.6/);
    expect(out).toMatch(/ld-linux-x86-64\.so\.2/);
    // the worker blocks in read(2), the main thread in pause(2): frames inside libc, back to the program
    expect(out).toMatch(/in [_A-Za-z]*read[^\n]*\n(?:[^\n]*\n)*?#\d+\s+(0x[0-9a-f]+ in )?worker/);
    expect(out).toMatch(/in [_A-Za-z]*pause[^\n]*\n(?:[^\n]*\n)*?#\d+\s+(0x[0-9a-f]+ in )?main/);
    expect(out).toMatch(/start_thread/);
  });

  it.skipIf(!XZ || !GDB)('gdb: secrets in memory, the image file and the diff file at their mapped addresses, the pending signal', () => {
    const cmds = [...dyn.secrets.map((s) => `x/s ${s.addr}`), `x/s ${dyn.image_file.addr}`, `x/s ${dyn.diff_file.addr}`, 'p $_siginfo.si_signo', 'p $_siginfo.si_code'];
    const { out } = gdb(core, cmds, { sysroot, exe: join(sysroot, 'ckpt-dyn') });
    for (const s of dyn.secrets) expect(out).toMatch(new RegExp(`${s.addr}[^\\n]*"${s.marker}`));
    expect(out).toMatch(new RegExp(`${dyn.image_file.addr}:\\s+"${dyn.image_file.marker}`));
    expect(out).toMatch(new RegExp(`${dyn.diff_file.addr}:\\s+"${dyn.diff_file.marker}`));
    // NT_SIGINFO of the main thread: the signal raise() left pending (SI_TKILL = -6)
    expect(out).toMatch(new RegExp(`\\$1 = ${dyn.pending.thread}\\n\\$2 = -6`));
  });

  it.skipIf(!XZ || !EU_READELF)('eu-readelf -n: pending and blocked signals, psargs, SIGINFO, the mapped files', () => {
    const r = spawnSync('eu-readelf', ['-n', core], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const bit = (n: number) => n;
    // main thread: SIGUSR1 pending on the thread, SIGUSR2 on the process; both blocked
    expect(r.stdout).toMatch(new RegExp(`sigpend: <${bit(dyn.pending.thread)},${bit(dyn.pending.process)}>`));
    expect(r.stdout).toMatch(new RegExp(`sighold: <${dyn.pending.thread},${dyn.pending.process}>`));
    expect(r.stdout).toMatch(/CORE\s+128\s+SIGINFO/);
    expect(r.stdout).toMatch(/fname: ckpt-dyn-main, psargs: \/ckpt-dyn/);
    expect(r.stdout).toContain('/lib/x86_64-linux-gnu/libc.so.6');
    expect(r.stdout).toContain(dyn.image_file.path);
    expect(r.stdout).toContain(dyn.diff_file.path);
  });

  it.skipIf(!XZ || !has('eu-stack'))('eu-stack walks both threads into libc', () => {
    const r = spawnSync('eu-stack', ['--core', core, '-e', exe], { encoding: 'utf8', env: { ...process.env, DEBUGINFOD_URLS: '' } });
    expect(r.stdout).toMatch(new RegExp(`TID ${dyn.threads[1]!.tid}:[\\s\\S]*worker`));
    expect(r.stdout).toMatch(/start_thread/);
  });
});

describe('--rootfs resolves paths inside the image root', () => {
  it('follows absolute and relative symbolic links and .. without leaving the root', async () => {
    const { resolveInRoot, rootfsDirectory } = await import('../src/node/index.js');
    const { mkdirSync, symlinkSync } = await import('node:fs');
    const root = join(tmp, 'links-root');
    mkdirSync(join(root, 'lib/x86_64-linux-gnu'), { recursive: true });
    mkdirSync(join(root, 'lib64'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'lib/x86_64-linux-gnu/libz.so.1'), 'inside');
    writeFileSync(join(root, 'etc/passwd'), 'root-of-image');
    symlinkSync('/lib/x86_64-linux-gnu/libz.so.1', join(root, 'lib64/abs'));
    symlinkSync('../lib/x86_64-linux-gnu/libz.so.1', join(root, 'lib64/rel'));
    symlinkSync('/etc/passwd', join(root, 'lib64/host-passwd'));
    symlinkSync('../../../../../../etc/passwd', join(root, 'lib64/climb'));
    expect(await resolveInRoot(root, '/lib64/abs')).toBe(join(root, 'lib/x86_64-linux-gnu/libz.so.1'));
    expect(await resolveInRoot(root, '/lib64/rel')).toBe(join(root, 'lib/x86_64-linux-gnu/libz.so.1'));
    // links that name the host's /etc/passwd land on the image's own
    expect(await resolveInRoot(root, '/lib64/host-passwd')).toBe(join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/lib64/climb')).toBe(join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/../../etc/passwd')).toBe(join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/no/such/file')).toBeUndefined();
    const src = await rootfsDirectory(root);
    expect([...(await src.has(['/lib64/abs', '/lib64', '/missing']))]).toEqual(['/lib64/abs']);
    const got: string[] = [];
    await src.read([{ path: '/lib64/climb', offset: 5, length: 100 }], async (_r, bytes, off) => void got.push(`${off}:${Buffer.from(bytes).toString()}`));
    expect(got).toEqual(['0:of-image']);
    await expect(rootfsDirectory(join(root, 'etc/passwd'))).rejects.toThrow(/not a directory/);
  });
});
