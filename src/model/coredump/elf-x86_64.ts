/**
 * The byte layouts of an ELF64 core file for x86_64 Linux, as the kernel writes them
 * (include/uapi/linux/elf.h, elfcore.h, arch/x86 user.h, asm-generic/siginfo.h): file and program
 * headers, notes, and the note payloads (elf_prstatus, elf_prpsinfo, user_i387_struct, the XSAVE
 * area, siginfo, auxv, the NT_FILE table). Little-endian throughout.
 */
import type { UserX86FpregsEntry, UserX86RegsEntry } from '../../images/index.js';

export const ELF_HEADER_SIZE = 64;
export const PROGRAM_HEADER_SIZE = 56;

export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const NT_PRSTATUS = 1;
export const NT_PRFPREG = 2;
export const NT_PRPSINFO = 3;
export const NT_AUXV = 6;
export const NT_X86_XSTATE = 0x202;
export const NT_SIGINFO = 0x53494749;
export const NT_FILE = 0x46494c45;

const ET_CORE = 4;
const EM_X86_64 = 62;

/** sizeof(struct elf_prstatus) on x86_64. */
export const PRSTATUS_SIZE = 336;
/** sizeof(struct elf_prpsinfo) on x86_64. */
export const PRPSINFO_SIZE = 136;
/** sizeof(struct user_i387_struct) (the FXSAVE image). */
export const FPREGSET_SIZE = 512;
/** sizeof(siginfo_t). */
export const SIGINFO_SIZE = 128;

/** XSAVE feature bits gdb knows, and where each component sits in the standard (non-compacted) layout. */
const XFEATURE_X87 = 1n << 0n;
const XFEATURE_SSE = 1n << 1n;
const XFEATURE_AVX = 1n << 2n;
const XFEATURE_BNDREGS = 1n << 3n;
const XFEATURE_BNDCSR = 1n << 4n;
const XFEATURE_OPMASK = 1n << 5n;
const XFEATURE_ZMM_HI256 = 1n << 6n;
const XFEATURE_HI16_ZMM = 1n << 7n;
const XFEATURE_PKRU = 1n << 9n;
/** Offset of xcr0 in the software-reserved bytes of the FXSAVE area (Linux's xsave_hdr sw_reserved). */
const XSAVE_XCR0_OFFSET = 464;
const XSAVE_HEADER_OFFSET = 512;

/**
 * The size gdb expects of NT_X86_XSTATE for a given xcr0 (it warns "Unexpected size of section
 * .reg-xstate" otherwise): the end of the highest component it knows.
 */
export function xstateSize(xcr0: bigint): number {
  if (xcr0 & XFEATURE_PKRU) return 2696;
  if (xcr0 & (XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM)) return 2688;
  if (xcr0 & (XFEATURE_BNDREGS | XFEATURE_BNDCSR)) return 1152;
  if (xcr0 & XFEATURE_AVX) return 832;
  return 576;
}

/** A little-endian writer over a fixed buffer. */
export class Bytes {
  readonly buf: Uint8Array;
  readonly view: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(at: number, v: number): void {
    this.view.setUint8(at, v & 0xff);
  }
  u16(at: number, v: number): void {
    this.view.setUint16(at, v & 0xffff, true);
  }
  u32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  i32(at: number, v: number): void {
    this.view.setInt32(at, v | 0, true);
  }
  u64(at: number, v: bigint | number): void {
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), true);
  }
  u32s(at: number, values: readonly number[] | undefined, max: number): void {
    const n = Math.min(values?.length ?? 0, max);
    for (let i = 0; i < n; i++) this.u32(at + i * 4, values![i]!);
  }
  u64s(at: number, values: readonly bigint[] | undefined, max: number): void {
    const n = Math.min(values?.length ?? 0, max);
    for (let i = 0; i < n; i++) this.u64(at + i * 8, values![i]!);
  }
  text(at: number, s: Uint8Array, max: number): void {
    this.buf.set(s.subarray(0, max), at);
  }
}

export interface ProgramHeader {
  type: number;
  flags: number;
  offset: number;
  vaddr: bigint;
  filesz: number;
  memsz: bigint;
  align: number;
}

/** The ELF file header of a core with `phnum` program headers right after it. */
export function elfHeader(phnum: number): Uint8Array {
  const b = new Bytes(ELF_HEADER_SIZE);
  b.buf.set([0x7f, 0x45, 0x4c, 0x46, 2 /* ELFCLASS64 */, 1 /* ELFDATA2LSB */, 1 /* EV_CURRENT */, 0 /* ELFOSABI_NONE */], 0);
  b.u16(16, ET_CORE);
  b.u16(18, EM_X86_64);
  b.u32(20, 1);
  b.u64(24, 0); // e_entry
  b.u64(32, phnum > 0 ? ELF_HEADER_SIZE : 0); // e_phoff
  b.u64(40, 0); // e_shoff
  b.u32(48, 0); // e_flags
  b.u16(52, ELF_HEADER_SIZE);
  b.u16(54, PROGRAM_HEADER_SIZE);
  b.u16(56, Math.min(phnum, 0xffff)); // PN_XNUM would need a section header; checked by the caller
  b.u16(58, 64); // e_shentsize
  b.u16(60, 0);
  b.u16(62, 0);
  return b.buf;
}

export function programHeaders(list: readonly ProgramHeader[]): Uint8Array {
  const b = new Bytes(list.length * PROGRAM_HEADER_SIZE);
  list.forEach((p, i) => {
    const at = i * PROGRAM_HEADER_SIZE;
    b.u32(at, p.type);
    b.u32(at + 4, p.flags);
    b.u64(at + 8, p.offset);
    b.u64(at + 16, p.vaddr);
    b.u64(at + 24, 0); // p_paddr
    b.u64(at + 32, p.filesz);
    b.u64(at + 40, p.memsz);
    b.u64(at + 48, p.align);
  });
  return b.buf;
}

const align4 = (n: number) => (n + 3) & ~3;
const utf8 = new TextEncoder();

/** One note: namesz, descsz, type, the name (NUL-terminated, padded to 4), the payload (padded to 4). */
export function note(name: 'CORE' | 'LINUX', type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = utf8.encode(name);
  const namesz = nameBytes.length + 1;
  const out = new Bytes(12 + align4(namesz) + align4(desc.length));
  out.u32(0, namesz);
  out.u32(4, desc.length);
  out.u32(8, type);
  out.buf.set(nameBytes, 12);
  out.buf.set(desc, 12 + align4(namesz));
  return out.buf;
}

/** The 27 general registers in struct user_regs_struct order. */
export function userRegs(r: UserX86RegsEntry): bigint[] {
  return [r.r15, r.r14, r.r13, r.r12, r.bp, r.bx, r.r11, r.r10, r.r9, r.r8, r.ax, r.cx, r.dx, r.si, r.di, r.orig_ax, r.ip, r.cs, r.flags, r.sp, r.ss, r.fs_base, r.gs_base, r.ds, r.es, r.fs, r.gs];
}

export interface PrStatus {
  /** Signal number, code and errno of pr_info (0 when there is no current signal). */
  signo: number;
  code: number;
  errno: number;
  /** pr_cursig. */
  cursig: number;
  /** Pending and blocked signal masks (bit n-1 for signal n). */
  sigpend: bigint;
  sighold: bigint;
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  regs: UserX86RegsEntry;
}

/** struct elf_prstatus. */
export function prstatus(s: PrStatus): Uint8Array {
  const b = new Bytes(PRSTATUS_SIZE);
  b.i32(0, s.signo);
  b.i32(4, s.code);
  b.i32(8, s.errno);
  b.u16(12, s.cursig);
  b.u64(16, s.sigpend);
  b.u64(24, s.sighold);
  b.i32(32, s.pid);
  b.i32(36, s.ppid);
  b.i32(40, s.pgrp);
  b.i32(44, s.sid);
  // pr_utime, pr_stime, pr_cutime, pr_cstime (48..111): CRIU does not record them
  userRegs(s.regs).forEach((v, i) => b.u64(112 + i * 8, v));
  b.i32(328, 1); // pr_fpvalid: NT_PRFPREG follows
  return b.buf;
}

export interface PrPsInfo {
  /** Index into "RSDTZW" (0 running, 3 stopped, 4 zombie). */
  state: number;
  zombie: boolean;
  nice: number;
  flags: number;
  uid: number;
  gid: number;
  pid: number;
  ppid: number;
  pgrp: number;
  sid: number;
  /** comm (at most 15 bytes are kept). */
  fname: Uint8Array;
  /** The command line, arguments separated by spaces (at most 79 bytes are kept). */
  psargs: Uint8Array;
}

/** struct elf_prpsinfo. */
export function prpsinfo(p: PrPsInfo): Uint8Array {
  const b = new Bytes(PRPSINFO_SIZE);
  b.u8(0, p.state);
  b.u8(1, 'RSDTZW'.charCodeAt(p.state) || 0x2e);
  b.u8(2, p.zombie ? 1 : 0);
  b.u8(3, p.nice);
  b.u64(8, p.flags);
  b.u32(16, p.uid);
  b.u32(20, p.gid);
  b.i32(24, p.pid);
  b.i32(28, p.ppid);
  b.i32(32, p.pgrp);
  b.i32(36, p.sid);
  b.text(40, p.fname, 15);
  b.text(56, p.psargs, 79);
  return b.buf;
}

/** struct user_i387_struct (the FXSAVE image) from CRIU's fpregs. */
export function fpregset(f: UserX86FpregsEntry): Uint8Array {
  const b = new Bytes(FPREGSET_SIZE);
  fillFxsave(b, f);
  return b.buf;
}

function fillFxsave(b: Bytes, f: UserX86FpregsEntry): void {
  b.u16(0, f.cwd);
  b.u16(2, f.swd);
  b.u16(4, f.twd);
  b.u16(6, f.fop);
  b.u64(8, f.rip);
  b.u64(16, f.rdp);
  b.u32(24, f.mxcsr);
  b.u32(28, f.mxcsr_mask);
  b.u32s(32, f.st_space, 32);
  b.u32s(160, f.xmm_space, 64);
  b.u32s(416, f.padding, 24);
}

/**
 * The XSAVE area for NT_X86_XSTATE, or undefined when the image has no xsave data. xcr0 names
 * the components the image has data for (and that gdb knows); the size is the one gdb expects of
 * that xcr0. Components are at their standard (non-compacted) offsets.
 */
export function xstate(f: UserX86FpregsEntry): Uint8Array | undefined {
  const x = f.xsave;
  if (!x) return undefined;
  let xcr0 = XFEATURE_X87 | XFEATURE_SSE;
  if (x.ymmh_space.length) xcr0 |= XFEATURE_AVX;
  if (x.bndreg_state.length) xcr0 |= XFEATURE_BNDREGS;
  if (x.bndcsr_state.length) xcr0 |= XFEATURE_BNDCSR;
  if (x.opmask_reg.length || x.zmm_upper.length || x.hi16_zmm.length) xcr0 |= XFEATURE_OPMASK | XFEATURE_ZMM_HI256 | XFEATURE_HI16_ZMM;
  if (x.pkru.length) xcr0 |= XFEATURE_PKRU;
  const b = new Bytes(xstateSize(xcr0));
  fillFxsave(b, f);
  b.u64(XSAVE_XCR0_OFFSET, xcr0);
  b.u64(XSAVE_HEADER_OFFSET, x.xstate_bv & xcr0); // xstate_bv; xcomp_bv stays 0 (standard format)
  if (xcr0 & XFEATURE_AVX) b.u32s(576, x.ymmh_space, 64);
  if (xcr0 & XFEATURE_BNDREGS) b.u64s(960, x.bndreg_state, 8);
  if (xcr0 & XFEATURE_BNDCSR) b.u64s(1024, x.bndcsr_state, 8);
  if (xcr0 & XFEATURE_OPMASK) b.u64s(1088, x.opmask_reg, 8);
  if (xcr0 & XFEATURE_ZMM_HI256) b.u64s(1152, x.zmm_upper, 64);
  if (xcr0 & XFEATURE_HI16_ZMM) b.u64s(1664, x.hi16_zmm, 128);
  if (xcr0 & XFEATURE_PKRU) b.u32s(2688, x.pkru, 2);
  return b.buf;
}

/** NT_AUXV: the saved auxiliary vector, ending with one AT_NULL pair. */
export function auxv(saved: readonly bigint[]): Uint8Array {
  const pairs: bigint[] = [];
  for (let i = 0; i + 1 < saved.length; i += 2) {
    if (saved[i] === 0n) break;
    pairs.push(saved[i]!, saved[i + 1]!);
  }
  pairs.push(0n, 0n);
  const b = new Bytes(pairs.length * 8);
  b.u64s(0, pairs, pairs.length);
  return b.buf;
}

/** AT_PAGESZ from a saved auxiliary vector, or undefined. */
export function auxvPageSize(saved: readonly bigint[] | undefined): number | undefined {
  for (let i = 0; saved && i + 1 < saved.length; i += 2) {
    if (saved[i] === 0n) break;
    if (saved[i] === 6n) return Number(saved[i + 1]);
  }
  return undefined;
}

export interface FileMapping {
  start: bigint;
  end: bigint;
  /** Offset of `start` in the file, in bytes. */
  offset: bigint;
  path: string;
}

/** NT_FILE: count, page size, then (start, end, offset in pages) per mapping, then the NUL-terminated names. */
export function fileNote(mappings: readonly FileMapping[], pageSize: number): Uint8Array {
  const names = mappings.map((m) => utf8.encode(m.path));
  const size = 16 + mappings.length * 24 + names.reduce((n, s) => n + s.length + 1, 0);
  const b = new Bytes(size);
  b.u64(0, mappings.length);
  b.u64(8, pageSize);
  mappings.forEach((m, i) => {
    b.u64(16 + i * 24, m.start);
    b.u64(24 + i * 24, m.end);
    b.u64(32 + i * 24, m.offset / BigInt(pageSize));
  });
  let at = 16 + mappings.length * 24;
  for (const n of names) {
    b.buf.set(n, at);
    at += n.length + 1;
  }
  return b.buf;
}

/** si_signo, si_errno, si_code of a raw siginfo_t. */
export function siginfoHead(raw: Uint8Array): { signo: number; errno: number; code: number } {
  if (raw.length < 12) return { signo: 0, errno: 0, code: 0 };
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return { signo: v.getInt32(0, true), errno: v.getInt32(4, true), code: v.getInt32(8, true) };
}

/** A raw siginfo_t as NT_SIGINFO's 128 bytes. */
export function siginfo(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(SIGINFO_SIZE);
  out.set(raw.subarray(0, SIGINFO_SIZE));
  return out;
}
