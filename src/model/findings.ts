/**
 * Findings: what in a checkpoint looks like tampering, each with its evidence. One table of rules
 * (FINDING_RULES); each rule looks at the model (memory regions, processes, environments, sockets,
 * root file-system changes) and reports findings with a pid, an address or a path, a one-line
 * explanation and, where there are bytes to show, the first 64 of them. docs/findings.md documents
 * every rule (what, why, false positives).
 *
 * Runtime-neutral: disassembly is an option (`disassemble`), given by the Node side.
 */
import { CkptError } from '../errors.js';
import type { Checkpoint } from './checkpoint.js';
import type { CheckpointMemory, MemoryRegion, ProcessMemory } from './memory/index.js';
import { PE_PRESENT, regionBacking } from './memory/index.js';
import { PROT_EXEC, PROT_WRITE } from './memory/regions.js';
import { ROOTFS_DIFF_MEMBER, type RootfsChanges, type RootfsEntry } from './rootfs.js';
import type { Process, ProcessArguments, Socket } from './types.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** The bytes behind a finding: the first EVIDENCE_BYTES of a region or a file. */
export interface FindingEvidence {
  /** Where the bytes are: memory of `pid` at `address`, or a file of the root file-system diff. */
  kind: 'memory' | 'file';
  address: bigint | null;
  /** Offset in the file (file evidence). */
  offset: number | null;
  bytes: Uint8Array;
  /** Bytes of `bytes` that are not in the checkpoint (they read as zeros), e.g. a page never written. */
  missing: number;
  /** x86-64 disassembly of code evidence (`address  instruction`), or null without a disassembler. */
  disassembly: string[] | null;
}

export interface Finding {
  /** The rule's id (a FINDING_RULES id). */
  rule: string;
  severity: Severity;
  pid: number | null;
  address: bigint | null;
  path: string | null;
  /** One line: what was found. */
  message: string;
  evidence: FindingEvidence | null;
}

export const EVIDENCE_BYTES = 64;

export interface FindingOptions {
  /** Only these rules (ids). */
  rules?: readonly string[];
  /** Disassembles code evidence (Node: src/node/disassemble.ts); absent: hex only. */
  disassemble?: (bytes: Uint8Array, address: bigint) => Promise<string[] | null>;
}

/** What the rules look at, read once. */
export interface FindingContext {
  checkpoint: Checkpoint;
  memory: CheckpointMemory;
  processes: Process[];
  arguments: Map<number, ProcessArguments>;
  rootfs: RootfsChanges;
}

/** A finding before its evidence is read: `evidence` says where to read it. */
export interface PendingFinding extends Omit<Finding, 'evidence'> {
  evidence?: { kind: 'memory'; pid: number; address: bigint; code: boolean } | { kind: 'file'; path: string };
}

export interface FindingRule {
  id: string;
  /** The severity its findings have unless the rule says otherwise per finding. */
  severity: Severity;
  /** What it looks for, in a few words (`ckpt findings --list-rules`, SARIF rule descriptions). */
  title: string;
  /** What the rule needs read: `memory` (page contents of code), `arguments` (argv, environment), `rootfs` (the diff). */
  needs: readonly ('memory' | 'arguments' | 'rootfs')[];
  check(ctx: FindingContext): PendingFinding[] | Promise<PendingFinding[]>;
}

const hex = (a: bigint) => `0x${a.toString(16)}`;
const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Regions that are the kernel's, not the program's: never flagged. */
const KERNEL_REGIONS = new Set(['vdso', 'vvar', 'vsyscall', 'uprobes']);

function liveProcesses(ctx: FindingContext): { proc: Process; mem: ProcessMemory }[] {
  return ctx.processes.filter((p) => ctx.memory.has(p.pid)).map((proc) => ({ proc, mem: ctx.memory.forPid(proc.pid) }));
}

function regionText(r: MemoryRegion): string {
  const b = regionBacking(r);
  return `${hex(r.start)}-${hex(r.end)} ${r.perms}${b ? ` ${b}` : ' anonymous'}`;
}

/**
 * The page CRIU itself wrote: to run its parasite, compel writes a syscall instruction at the start
 * of the first executable mapping and puts the original bytes back, so that page is always a
 * private copy in the checkpoint. Not flagged (see docs/findings.md).
 */
function injectionPage(mem: ProcessMemory): bigint | undefined {
  const first = mem.regions().find((r) => r.prot & PROT_EXEC && !KERNEL_REGIONS.has(r.label));
  return first?.start;
}

/** Present private pages of a region (pages written after mapping), by address. */
function privatePages(mem: ProcessMemory, r: MemoryRegion, pageSize: number): bigint[] {
  const pm = mem.pagemap;
  if (!pm) return [];
  const out: bigint[] = [];
  const ps = BigInt(pageSize);
  for (const run of pm.runs) {
    if (run.end <= r.start || run.start >= r.end || !(run.flags & PE_PRESENT)) continue;
    const a = run.start > r.start ? run.start : r.start;
    const b = run.end < r.end ? run.end : r.end;
    for (let p = a; p < b; p += ps) out.push(p);
  }
  return out;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'csh', 'tcsh', 'fish', 'busybox']);
/** Programs that are many programs (argv[0] chooses): their comm never matches the exe. */
const MULTI_CALL = new Set(['busybox', 'toybox']);
const KERNEL_THREAD_NAME = /^\[.*\]$|^(kworker|kthreadd|ksoftirqd|kswapd|migration|rcu_|watchdog|kcompactd|khugepaged|jbd2|kdevtmpfs|irq\/|cpuhp)/;

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
function isAnyAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '0:0:0:0:0:0:0:0';
}

/** Files whose change is a classic persistence or privilege step. */
const SENSITIVE_FILES: { test: (p: string) => boolean; what: string }[] = [
  { test: (p) => p === '/etc/passwd', what: 'the account list' },
  { test: (p) => p === '/etc/shadow' || p === '/etc/gshadow', what: 'the password hashes' },
  { test: (p) => p === '/etc/sudoers' || p.startsWith('/etc/sudoers.d/'), what: 'sudo rights' },
  { test: (p) => /^\/etc\/(crontab|cron\.[^/]+)(\/|$)/.test(p) || p.startsWith('/var/spool/cron/'), what: 'scheduled jobs' },
  { test: (p) => p === '/etc/ld.so.preload', what: 'a library preloaded into every program' },
  { test: (p) => /\/\.ssh\/authorized_keys2?$/.test(p), what: 'SSH keys allowed to log in' },
];

const TEMP_DIRS = ['/tmp/', '/dev/shm/', '/var/tmp/'];

/** Every rule, in report order. */
export const FINDING_RULES: readonly FindingRule[] = [
  {
    id: 'writable-executable-memory',
    severity: 'high',
    title: 'Memory that is writable and executable at once',
    needs: ['memory'],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const { proc, mem } of liveProcesses(ctx)) {
        for (const r of mem.regions()) {
          if ((r.prot & (PROT_WRITE | PROT_EXEC)) !== (PROT_WRITE | PROT_EXEC) || KERNEL_REGIONS.has(r.label)) continue;
          out.push({
            rule: this.id,
            severity: this.severity,
            pid: proc.pid,
            address: r.start,
            path: r.path ?? null,
            message: `${r.flags & 1 ? 'shared' : 'private'} memory ${regionText(r)} of ${proc.comm || proc.pid} is writable and executable (${r.pagesPresent} of ${r.pages} pages written)`,
            evidence: { kind: 'memory', pid: proc.pid, address: r.start, code: true },
          });
        }
      }
      return out;
    },
  },
  {
    id: 'anonymous-executable-memory',
    severity: 'high',
    title: 'Executable memory that no file backs',
    needs: ['memory'],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const { proc, mem } of liveProcesses(ctx)) {
        for (const r of mem.regions()) {
          if (!(r.prot & PROT_EXEC) || KERNEL_REGIONS.has(r.label) || r.label === 'file' || r.label === 'memfd') continue;
          out.push({
            rule: this.id,
            severity: this.severity,
            pid: proc.pid,
            address: r.start,
            path: null,
            message: `anonymous memory ${regionText(r)} of ${proc.comm || proc.pid} is executable: code that was never a file`,
            evidence: { kind: 'memory', pid: proc.pid, address: r.start, code: true },
          });
        }
      }
      return out;
    },
  },
  {
    id: 'modified-code-page',
    severity: 'high',
    title: 'Pages of a file-backed executable mapping that were written after mapping',
    needs: ['memory', 'rootfs'],
    // pages of a file the diff has are compared with it in findFindings (equal pages are dropped)
    check(ctx) {
      const out: PendingFinding[] = [];
      const ps = ctx.memory.pageSize;
      for (const { proc, mem } of liveProcesses(ctx)) {
        const injected = injectionPage(mem);
        for (const r of mem.regions()) {
          if (!(r.prot & PROT_EXEC) || (r.label !== 'file' && r.label !== 'memfd') || r.flags & 1) continue;
          for (const page of privatePages(mem, r, ps)) {
            if (page === injected) continue;
            const fileOffset = (r.offset ?? 0n) + (page - r.start);
            out.push({
              rule: this.id,
              severity: this.severity,
              pid: proc.pid,
              address: page,
              path: r.path ?? null,
              message: `code page ${hex(page)} of ${r.path ?? 'an executable mapping'} (file offset ${hex(fileOffset)}) in ${proc.comm || proc.pid} was written after it was mapped`,
              evidence: { kind: 'memory', pid: proc.pid, address: page, code: true },
            });
          }
        }
      }
      return out;
    },
  },
  {
    id: 'deleted-or-memfd-executable',
    severity: 'high',
    title: 'A process whose program is a deleted file or a memfd',
    needs: [],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const p of ctx.processes) {
        if (p.exe === undefined) continue;
        const memfd = p.exe.startsWith('memfd:');
        if (!memfd && !p.exeDeleted) continue;
        out.push({
          rule: this.id,
          severity: this.severity,
          pid: p.pid,
          address: null,
          path: p.exe,
          message: memfd
            ? `process ${p.pid} (${p.comm}) runs a program from memory (${p.exe}): no file on disk`
            : `process ${p.pid} (${p.comm}) runs ${p.exe}, which was deleted after it started`,
        });
      }
      return out;
    },
  },
  {
    id: 'process-name-mismatch',
    severity: 'low',
    title: 'argv[0] or the process name disagrees with the program',
    needs: ['arguments'],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const p of ctx.processes) {
        if (p.exe === undefined) continue;
        const exeName = basename(p.exe.replace(/^memfd:/, ''));
        const argv0 = ctx.arguments.get(p.pid)?.argv[0];
        const names = [p.comm, ...(argv0 !== undefined ? [argv0] : [])];
        const kernelLike = names.find((n) => KERNEL_THREAD_NAME.test(n));
        if (kernelLike !== undefined) {
          out.push({
            rule: this.id,
            severity: 'high',
            pid: p.pid,
            address: null,
            path: p.exe,
            message: `process ${p.pid} calls itself "${kernelLike}" like a kernel thread, but runs ${p.exe} (kernel threads have no program)`,
          });
          continue;
        }
        if (MULTI_CALL.has(exeName)) continue;
        const agrees = (n: string) => {
          const b = basename(n);
          return b === exeName || (b.length >= 15 && exeName.startsWith(b)) || exeName.startsWith(`${b}.`) || b.startsWith(exeName);
        };
        if (agrees(p.comm) || (argv0 !== undefined && agrees(argv0))) continue;
        out.push({
          rule: this.id,
          severity: this.severity,
          pid: p.pid,
          address: null,
          path: p.exe,
          message: `process ${p.pid} is named "${p.comm}"${argv0 !== undefined ? ` (argv[0] "${argv0}")` : ''} but runs ${p.exe}`,
        });
      }
      return out;
    },
  },
  {
    id: 'preload-environment',
    severity: 'high',
    title: 'LD_PRELOAD, LD_AUDIT or LD_LIBRARY_PATH in an environment',
    needs: ['arguments'],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const [pid, a] of ctx.arguments) {
        for (const v of a.environment) {
          const m = /^(LD_PRELOAD|LD_AUDIT|LD_LIBRARY_PATH)=(.*)$/s.exec(v);
          if (!m || m[2] === '') continue;
          const p = ctx.processes.find((x) => x.pid === pid);
          out.push({
            rule: this.id,
            severity: m[1] === 'LD_LIBRARY_PATH' ? 'medium' : 'high',
            pid,
            address: null,
            path: m[1] === 'LD_LIBRARY_PATH' ? null : m[2]!.split(/[ :]/)[0]!,
            message: `process ${pid} (${p?.comm ?? '?'}) has ${m[1]}=${m[2]} in its environment: ${m[1] === 'LD_LIBRARY_PATH' ? 'libraries are looked up elsewhere first' : 'a library is loaded into it before its own'}`,
          });
        }
      }
      return out;
    },
  },
  {
    id: 'reverse-shell',
    severity: 'high',
    title: 'A shell whose standard input, output or error is a network socket',
    needs: [],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const p of ctx.processes) {
        const name = basename(p.exe ?? '') === 'busybox' ? p.comm : basename(p.exe ?? p.comm);
        if (!SHELLS.has(name) && !SHELLS.has(p.comm)) continue;
        const std = p.files.filter((f) => f.fd <= 2 && f.socket?.kind === 'inet');
        if (std.length === 0) continue;
        const s = std[0]!.socket!;
        const peer = s.remote ? `${s.remote.address}:${s.remote.port}` : 'nothing';
        out.push({
          rule: this.id,
          severity: this.severity,
          pid: p.pid,
          address: null,
          path: p.exe ?? null,
          message: `shell ${p.pid} (${p.comm}) has fd ${std.map((f) => f.fd).join(', ')} on a ${s.protocol ?? ''} socket connected to ${peer}: a remote shell`,
        });
      }
      return out;
    },
  },
  {
    id: 'listener-all-interfaces',
    severity: 'medium',
    title: 'A socket listening on every interface',
    needs: [],
    check(ctx) {
      return uniqueSockets(ctx.checkpoint.sockets)
        .filter((s) => s.kind === 'inet' && s.local && isAnyAddress(s.local.address) && (s.state === 'LISTEN' || (s.protocol === 'UDP' && s.local.port !== 0)))
        .map((s) => ({
          rule: this.id,
          severity: this.severity,
          pid: s.pid,
          address: null,
          path: null,
          message: `process ${s.pid} fd ${s.fd} ${s.state === 'LISTEN' ? 'listens' : 'receives'} on ${s.protocol ?? ''} ${s.local!.address}:${s.local!.port}, every interface`,
        }));
    },
  },
  {
    id: 'remote-connection',
    severity: 'medium',
    title: 'A connection to a peer that is not this machine',
    needs: [],
    check(ctx) {
      return uniqueSockets(ctx.checkpoint.sockets)
        .filter((s) => s.kind === 'inet' && s.remote && !isAnyAddress(s.remote.address) && !isLoopback(s.remote.address) && s.state !== 'LISTEN')
        .map((s) => ({
          rule: this.id,
          severity: this.severity,
          pid: s.pid,
          address: null,
          path: null,
          message: `process ${s.pid} fd ${s.fd} has a ${s.protocol ?? ''} ${s.state ?? ''} connection ${s.local?.address}:${s.local?.port} -> ${s.remote!.address}:${s.remote!.port}`,
        }));
    },
  },
  {
    id: 'deleted-open-file',
    severity: 'medium',
    title: 'A file deleted while a process holds it open',
    needs: [],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const p of ctx.processes) {
        for (const f of p.files) {
          if (!f.deleted) continue;
          out.push({ rule: this.id, severity: this.severity, pid: p.pid, address: null, path: f.path, message: `process ${p.pid} (${p.comm}) fd ${f.fd} holds ${f.path}, which was deleted` });
        }
      }
      return out;
    },
  },
  {
    id: 'setuid-file',
    severity: 'high',
    title: 'A setuid or setgid file added or changed on disk',
    needs: ['rootfs'],
    check(ctx) {
      return ctx.rootfs.entries
        .filter((e) => e.type === 'file' && (e.setuid || e.setgid))
        .map((e) => ({
          rule: this.id,
          severity: this.severity,
          pid: null,
          address: null,
          path: e.path,
          message: `${e.path} is ${e.setuid ? `setuid (runs as uid ${e.uid})` : ''}${e.setuid && e.setgid ? ' and ' : ''}${e.setgid ? `setgid (gid ${e.gid})` : ''}, mode ${modeOctal(e)}`,
          evidence: { kind: 'file', path: e.path },
        }));
    },
  },
  {
    id: 'executable-in-temp-or-hidden',
    severity: 'high',
    title: 'An executable file added under /tmp, /dev/shm, /var/tmp or a hidden directory',
    needs: ['rootfs'],
    check(ctx) {
      return ctx.rootfs.entries
        .filter((e) => e.type === 'file' && (e.mode & 0o111) !== 0)
        .filter((e) => TEMP_DIRS.some((d) => e.path.startsWith(d)) || e.path.split('/').slice(1).some((c) => c.startsWith('.') && c !== '.' && c !== '..'))
        .map((e) => ({
          rule: this.id,
          severity: this.severity,
          pid: null,
          address: null,
          path: e.path,
          message: `executable file ${e.path} (mode ${modeOctal(e)}, ${e.size} bytes) was added ${TEMP_DIRS.some((d) => e.path.startsWith(d)) ? 'in a temporary directory' : 'under a hidden name'}`,
          evidence: { kind: 'file', path: e.path },
        }));
    },
  },
  {
    id: 'sensitive-file-changed',
    severity: 'high',
    title: 'Accounts, sudo rights, cron jobs, ld.so.preload or SSH keys changed',
    needs: ['rootfs'],
    check(ctx) {
      const out: PendingFinding[] = [];
      for (const e of ctx.rootfs.entries) {
        if (e.type === 'directory') continue;
        const s = SENSITIVE_FILES.find((x) => x.test(e.path));
        if (!s) continue;
        out.push({ rule: this.id, severity: this.severity, pid: null, address: null, path: e.path, message: `${e.path} (${s.what}) was changed or added`, evidence: e.type === 'file' ? { kind: 'file', path: e.path } : undefined });
      }
      for (const d of ctx.rootfs.deleted) {
        const s = SENSITIVE_FILES.find((x) => x.test(d.path));
        if (s) out.push({ rule: this.id, severity: this.severity, pid: null, address: null, path: d.path, message: `${d.path} (${s.what}) was deleted` });
      }
      return out;
    },
  },
];

function modeOctal(e: RootfsEntry): string {
  return `0${(e.mode & 0o7777).toString(8).padStart(4, '0')}`;
}

/** A socket shared by several fds (or processes) once: the first holder. */
function uniqueSockets(sockets: Socket[]): Socket[] {
  const seen = new Set<string>();
  return sockets.filter((s) => {
    const k = `${s.kind}:${s.ino}`;
    if (s.ino !== 0 && seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export function isSeverity(s: string): s is Severity {
  return (SEVERITIES as readonly string[]).includes(s);
}

/**
 * Every finding of the checkpoint, most severe first (then in rule order, then by pid and
 * address). Reads only what the selected rules need: the memory regions, the pages of flagged
 * regions (64 bytes each), argv and environments, and one pass over the root file-system diff.
 */
export async function findFindings(checkpoint: Checkpoint, options: FindingOptions = {}): Promise<Finding[]> {
  const rules = options.rules ? FINDING_RULES.filter((r) => options.rules!.includes(r.id)) : FINDING_RULES;
  const needs = new Set(rules.flatMap((r) => r.needs));
  const memory = await checkpoint.memory();
  const processes = checkpoint.processes;
  const args = needs.has('arguments') ? await checkpoint.arguments() : new Map<number, ProcessArguments>();
  const rootfs: RootfsChanges = needs.has('rootfs') ? await checkpoint.rootfsChanges() : { member: null, compression: null, entries: [], deleted: [] };
  const ctx: FindingContext = { checkpoint, memory, processes, arguments: args, rootfs };

  const pending: PendingFinding[] = [];
  for (const r of rules) pending.push(...(await r.check(ctx)));

  // code pages of files the diff has: compare page by page, drop the ones equal to the file
  const inDiff = new Set(rootfs.entries.filter((e) => e.type === 'file').map((e) => e.path));
  const toCompare = pending.filter((f) => f.rule === 'modified-code-page' && f.path !== null && inDiff.has(f.path));
  const ps = memory.pageSize;
  if (toCompare.length) {
    const wanted = new Map<string, { finding: PendingFinding; offset: number }[]>();
    for (const f of toCompare) {
      const r = memory.forPid(f.pid!).regionAt(f.address!)!;
      const offset = Number((r.offset ?? 0n) + (f.address! - r.start));
      const l = wanted.get(f.path!) ?? [];
      l.push({ finding: f, offset });
      wanted.set(f.path!, l);
    }
    const filePages = await readFileRanges(checkpoint, new Map([...wanted].map(([p, l]) => [p, l.map((x) => ({ offset: x.offset, length: ps }))])));
    const mem = await memory.readMany(toCompare.map((f) => ({ pid: f.pid!, address: f.address!, length: ps })));
    const drop = new Set<PendingFinding>();
    toCompare.forEach((f, i) => {
      const off = wanted.get(f.path!)!.find((x) => x.finding === f)!.offset;
      const disk = filePages.get(`${f.path}@${off}`);
      if (disk && equalBytes(disk, mem[i]!.bytes)) drop.add(f);
      else if (disk) f.message += ': it differs from the file in the root file-system diff';
    });
    for (let i = pending.length - 1; i >= 0; i--) if (drop.has(pending[i]!)) pending.splice(i, 1);
  }
  for (const f of pending) if (f.rule === 'modified-code-page' && !(f.path !== null && inDiff.has(f.path))) f.message += ' (the file is not in the root file-system diff to compare with)';

  // evidence: 64 bytes per finding, memory in one batch, files in one pass over the diff
  const memReqs = pending.filter((f) => f.evidence?.kind === 'memory');
  const memBytes = await memory.readMany(memReqs.map((f) => {
    const e = f.evidence as { pid: number; address: bigint };
    return { pid: e.pid, address: e.address, length: EVIDENCE_BYTES };
  }));
  const fileReqs = new Map<string, { offset: number; length: number }[]>();
  for (const f of pending) if (f.evidence?.kind === 'file') fileReqs.set(f.evidence.path, [{ offset: 0, length: EVIDENCE_BYTES }]);
  const fileBytes = fileReqs.size ? await readFileRanges(checkpoint, fileReqs) : new Map<string, Uint8Array>();

  const out: Finding[] = [];
  let mi = 0;
  for (const f of pending) {
    const { evidence: where, ...rest } = f;
    let evidence: FindingEvidence | null = null;
    if (where?.kind === 'memory') {
      const got = memBytes[mi++]!;
      const missing = got.missing.reduce((n, m) => n + m.length, 0);
      const disassembly = where.code && options.disassemble && missing < got.bytes.length ? await options.disassemble(got.bytes, where.address) : null;
      evidence = { kind: 'memory', address: where.address, offset: null, bytes: got.bytes, missing, disassembly };
    } else if (where?.kind === 'file') {
      const bytes = fileBytes.get(`${where.path}@0`);
      if (bytes) evidence = { kind: 'file', address: null, offset: 0, bytes, missing: 0, disassembly: null };
    }
    out.push({ ...rest, evidence });
  }
  const order = new Map(FINDING_RULES.map((r, i) => [r.id, i]));
  const big = (a: bigint | null) => a ?? -1n;
  out.sort(
    (a, b) =>
      severityRank(b.severity) - severityRank(a.severity) ||
      order.get(a.rule)! - order.get(b.rule)! ||
      (a.pid ?? -1) - (b.pid ?? -1) ||
      (big(a.address) < big(b.address) ? -1 : big(a.address) > big(b.address) ? 1 : 0) ||
      (a.path ?? '').localeCompare(b.path ?? ''),
  );
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Byte ranges of files of the root file-system diff, in one pass: `path@offset` → bytes (short at the end of a file). */
async function readFileRanges(checkpoint: Checkpoint, wanted: Map<string, { offset: number; length: number }[]>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  try {
    await readRanges(checkpoint, wanted, out);
  } catch (e) {
    // a damaged diff: what was read is kept, the damage is a problem of the checkpoint
    if (!(e instanceof CkptError)) throw e;
    checkpoint.noteProblem({ kind: 'damaged', file: e.file ?? ROOTFS_DIFF_MEMBER, offset: e.offset ?? null, message: e.reason });
  }
  return out;
}

async function readRanges(checkpoint: Checkpoint, wanted: Map<string, { offset: number; length: number }[]>, out: Map<string, Uint8Array>): Promise<void> {
  for await (const m of checkpoint.rootfsMembers()) {
    if (!m.entry) continue;
    const ranges = wanted.get(m.entry.path);
    if (!ranges || m.entry.type !== 'file') continue;
    const bufs = ranges.map((r) => ({ ...r, buf: new Uint8Array(Math.max(0, Math.min(r.length, m.entry!.size - r.offset))) }));
    let pos = 0;
    for await (const chunk of m.body) {
      const end = pos + chunk.length;
      for (const b of bufs) {
        const a = Math.max(b.offset, pos);
        const z = Math.min(b.offset + b.buf.length, end);
        if (z > a) b.buf.set(chunk.subarray(a - pos, z - pos), a - b.offset);
      }
      pos = end;
    }
    for (const b of bufs) out.set(`${m.entry.path}@${b.offset}`, b.buf);
  }
}
