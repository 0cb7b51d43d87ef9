import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { openCheckpointFile as openCheckpoint } from '../src/node/index.js';
import { findFindings, FINDING_RULES, type Finding } from '../src/model/findings.js';
import { disassembleX64 } from '../src/node/disassemble.js';
import { ckpt, damagedDiffCopy, fixture } from './helpers.js';

/** What the compromised workload planted, and what /proc said just before the checkpoint (testdata/make-compromised.sh). */
interface CompromisedFacts {
  pid: number;
  rwx: { start: string; marker_addr: string; marker: string; code_hex: string; region: { start: string; end: string; perms: string } };
  libc_patch: { addr: string; page: string; bytes_hex: string; marker: string; region: { path: string; perms: string } };
  children: { memfd: number; deleted: number; preload: number; shell: number };
  listener: { pid: number; fd: number; port: number };
  files: Record<string, string>;
  processes: { pid: number; comm: string; exe: string; cmdline: string; fds: Record<string, string> }[];
}
const facts = JSON.parse(readFileSync(fixture('facts', 'compromised.json'), 'utf8')) as CompromisedFacts;
const archive = fixture('podman', 'compromised-none.tar');
const proc = (pid: number) => facts.processes.find((p) => p.pid === pid)!;

let cached: Finding[] | undefined;
async function findings(): Promise<Finding[]> {
  if (cached) return cached;
  const ck = await openCheckpoint(archive);
  try {
    return (cached = await findFindings(ck));
  } finally {
    await ck.close();
  }
}
const of = (all: Finding[], rule: string) => all.filter((f) => f.rule === rule);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('findings on the compromised fixture (facts from /proc inside the container)', () => {
  it('every rule is documented in docs/findings.md', () => {
    const doc = readFileSync(fixture('..', 'docs', 'findings.md'), 'utf8');
    for (const r of FINDING_RULES) expect(doc, r.id).toContain(`## \`${r.id}\``);
  });

  it('writable and executable, anonymous executable memory: the planted region, its code as evidence', async () => {
    const all = await findings();
    expect(facts.rwx.region.perms).toBe('rwxp');
    for (const rule of ['writable-executable-memory', 'anonymous-executable-memory']) {
      const f = of(all, rule);
      expect(f.map((x) => [x.pid, x.address]), rule).toEqual([[facts.pid, BigInt(facts.rwx.start)]]);
      expect(f[0]!.severity).toBe('high');
      expect(hex(f[0]!.evidence!.bytes)).toMatch(new RegExp(`^${facts.rwx.code_hex}`));
      expect(f[0]!.evidence!.bytes.length).toBe(64);
    }
    // crit agrees the region is there, private, anonymous and rwx
    const mm = JSON.parse(readFileSync(fixture('oracle', 'compromised', `mm-${facts.pid}.json`), 'utf8')) as { entries: { vmas: { start: string; end: string; prot: string; status: string }[] }[] };
    const vma = mm.entries[0]!.vmas.find((v) => v.start === facts.rwx.start)!;
    expect(vma.end).toBe(facts.rwx.region.end);
    expect(vma.prot).toBe('PROT_READ | PROT_WRITE | PROT_EXEC');
    expect(vma.status).toContain('VMA_ANON_PRIVATE');
  });

  it('the patched libc page, and no other code page (CRIU’s own injection page is not flagged)', async () => {
    const all = await findings();
    const f = of(all, 'modified-code-page');
    expect(f.map((x) => [x.pid, x.address])).toEqual([[facts.pid, BigInt(facts.libc_patch.page)]]);
    expect(f[0]!.path).toBe(facts.libc_patch.region.path);
    const ck = await openCheckpoint(archive);
    try {
      const mem = await ck.memory();
      const at = await mem.forPid(facts.pid).read(BigInt(facts.libc_patch.addr), 24);
      expect(hex(at!)).toBe(facts.libc_patch.bytes_hex + Buffer.from(facts.libc_patch.marker).toString('hex'));
    } finally {
      await ck.close();
    }
  });

  it('programs run from a memfd or a deleted file, a kernel-thread name, LD_PRELOAD, a reverse shell', async () => {
    const all = await findings();
    const exe = of(all, 'deleted-or-memfd-executable');
    expect(exe.map((x) => [x.pid, x.path])).toEqual([
      [facts.children.memfd, 'memfd:kworker'],
      [facts.children.deleted, facts.files.deleted_exe],
    ]);
    expect(proc(facts.children.memfd).exe).toBe('/memfd:kworker (deleted)');
    expect(proc(facts.children.deleted).exe).toBe(`${facts.files.deleted_exe} (deleted)`);
    const names = of(all, 'process-name-mismatch').filter((x) => x.severity === 'high');
    expect(names.map((x) => x.pid)).toEqual([facts.children.memfd]);
    expect(names[0]!.message).toContain(proc(facts.children.memfd).comm);
    const pre = of(all, 'preload-environment');
    expect(pre.map((x) => [x.pid, x.path, x.severity])).toEqual([[facts.children.preload, facts.files.preload_library, 'high']]);
    const shell = of(all, 'reverse-shell');
    expect(shell.map((x) => x.pid)).toEqual([facts.children.shell]);
    expect(Object.values(proc(facts.children.shell).fds).every((t) => t.startsWith('socket:'))).toBe(true);
  });

  it('the listener on every interface, the file deleted while open', async () => {
    const all = await findings();
    const l = of(all, 'listener-all-interfaces');
    expect(l.map((x) => x.pid)).toEqual([facts.listener.pid]);
    expect(l[0]!.message).toContain(`0.0.0.0:${facts.listener.port}`);
    expect(of(all, 'remote-connection')).toEqual([]); // the connection is over loopback
    const d = of(all, 'deleted-open-file');
    expect(new Set(d.map((x) => x.path))).toEqual(new Set([facts.files.deleted_open]));
    expect(d.map((x) => x.pid)).toContain(facts.pid);
  });

  it('files on disk: setuid, executables in /tmp and hidden places, passwd, cron, ld.so.preload, authorized_keys', async () => {
    const all = await findings();
    expect(of(all, 'setuid-file').map((x) => x.path)).toEqual([facts.files.setuid]);
    expect(hex(of(all, 'setuid-file')[0]!.evidence!.bytes.subarray(0, 4))).toBe('7f454c46');
    expect(of(all, 'executable-in-temp-or-hidden').map((x) => x.path).sort()).toEqual([facts.files.hidden_executable, facts.files.setuid, facts.files.tmp_executable].sort());
    expect(of(all, 'sensitive-file-changed').map((x) => x.path).sort()).toEqual(
      [facts.files.authorized_keys, facts.files.cron, facts.files.ld_so_preload, '/etc/passwd'].sort(),
    );
    const ck = await openCheckpoint(archive);
    try {
      let passwd = '';
      for await (const c of ck.rootfsFile('/etc/passwd')) passwd += Buffer.from(c).toString('latin1');
      expect(passwd.split('\n')).toContain(facts.files.passwd_line);
    } finally {
      await ck.close();
    }
  });

  it.each(['procs', 'net', 'files'])('the clean %s fixture has no high-severity finding', async (name) => {
    const ck = await openCheckpoint(fixture('podman', `${name}-none.tar`));
    try {
      expect((await findFindings(ck)).filter((f) => f.severity === 'high')).toEqual([]);
    } finally {
      await ck.close();
    }
  });

  it('connections whose peer is not a loopback address (the remote fixture: facts from /proc/net/tcp and tcp6 inside the container)', async () => {
    const remote = JSON.parse(readFileSync(fixture('facts', 'remote.json'), 'utf8')) as { host_ip: string; port: number; connections: { pid: number; fd: number; local: string; remote: string }[] };
    const ck = await openCheckpoint(fixture('podman', 'remote-none.tar'));
    try {
      const all = await findFindings(ck);
      // nothing else is planted there
      expect(new Set(all.map((f) => f.rule))).toEqual(new Set(['remote-connection']));
      const unbracket = (a: string) => a.replace(/^\[(.*)\]:(\d+)$/, '$1:$2');
      expect(remote.connections).toHaveLength(2);
      expect(remote.connections.some((c) => c.remote === `${remote.host_ip}:${remote.port}`)).toBe(true);
      expect(all.map((f) => [f.pid, f.severity])).toEqual(remote.connections.map((c) => [c.pid, 'medium']));
      all.forEach((f, i) => {
        const c = remote.connections[i]!;
        expect(f.message).toBe(`process ${c.pid} fd ${c.fd} has a TCP ESTABLISHED connection ${unbracket(c.local)} -> ${unbracket(c.remote)}`);
      });
    } finally {
      await ck.close();
    }
  });

  it('disassembles code evidence with iced-x86', async () => {
    const lines = await disassembleX64(Buffer.from(facts.rwx.code_hex, 'hex'), BigInt(facts.rwx.start));
    expect(lines).toEqual([`${facts.rwx.start}  xor rax,rax`, `0x${(BigInt(facts.rwx.start) + 3n).toString(16)}  ret`]);
  });
});

describe('ckpt findings', () => {
  it('text with hexdump and disassembly, JSON, SARIF; --fail-on', () => {
    const t = ckpt(['findings', archive]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`^HIGH   writable-executable-memory  pid ${facts.pid}  ${facts.rwx.start}$`, 'm'));
    expect(t.stdout).toMatch(/^ {9}[0-9a-f]{16} {2}48 31 c0 c3 /m);
    expect(t.stdout).toContain(`${facts.rwx.start}  xor rax,rax`);
    expect(t.stdout).toMatch(/^\d+ findings in .*: \d+ high, \d+ medium\.$/m);
    const j = ckpt(['findings', archive, '--format', 'json']);
    const v = JSON.parse(j.stdout) as { summary: { total: number; high: number }; findings: Record<string, unknown>[] };
    expect(v.summary.total).toBe(v.findings.length);
    expect(v.findings[0]).toMatchObject({ rule: 'writable-executable-memory', severity: 'high', pid: facts.pid, address: facts.rwx.start, path: null });
    expect(Object.keys(v.findings[0]!)).toEqual(['rule', 'severity', 'pid', 'address', 'path', 'message', 'evidence']);
    expect((v.findings[0]!.evidence as { hex: string }).hex).toMatch(new RegExp(`^${facts.rwx.code_hex}`));
    const s = ckpt(['findings', archive, '--format', 'sarif']);
    const sarif = JSON.parse(s.stdout) as { version: string; runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; ruleIndex: number; level: string }[] }[] };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    expect(run.results.length).toBe(v.findings.length);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
    expect(run.results.filter((r) => r.level === 'error').length).toBe(v.summary.high);
    const fail = ckpt(['findings', archive, '--fail-on', 'high', '--format', 'json']);
    expect(fail.code).toBe(1);
    expect(fail.stderr).toMatch(/^ckpt: \d+ findings of severity high or above \(--fail-on high\)\n$/);
    expect(ckpt(['findings', fixture('podman', 'procs-none.tar'), '--fail-on', 'high']).code).toBe(0);
    const bad = ckpt(['findings', archive, '--fail-on', 'urgent']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fail-on must be one of info, low, medium, high');
  });
});

describe('ckpt findings on a damaged checkpoint', () => {
  it('exits 4 with a warning naming the damaged member, and still reports the findings of the intact parts', () => {
    // a copy whose root file-system diff is damaged at its last entry (the header of etc/passwd)
    const { path: damaged, offset } = damagedDiffCopy(archive, 'etc/passwd');
    const r = ckpt(['findings', damaged, '--format', 'json', '--no-disassemble']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(new RegExp(`^ckpt: warning: [^\\n]*rootfs-diff\\.tar at byte ${offset}: [^\\n]+\\n$`));
    const v = JSON.parse(r.stdout) as { findings: { rule: string; pid: number | null; address: string | null; path: string | null }[] };
    const rule = (id: string) => v.findings.filter((f) => f.rule === id);
    // memory, processes and the files before the damage: as on the intact archive
    expect(rule('writable-executable-memory').map((f) => [f.pid, f.address])).toEqual([[facts.pid, facts.rwx.start]]);
    expect(rule('modified-code-page').map((f) => [f.pid, f.address])).toEqual([[facts.pid, facts.libc_patch.page]]);
    expect(rule('preload-environment').map((f) => f.pid)).toEqual([facts.children.preload]);
    expect(rule('setuid-file').map((f) => f.path)).toEqual([facts.files.setuid]);
    // the damaged entry and what follows it are not there
    expect(rule('sensitive-file-changed').map((f) => f.path)).not.toContain('/etc/passwd');
    expect(rule('sensitive-file-changed').map((f) => f.path)).toContain(facts.files.cron);
  });
});

