/**
 * Linux's numbers as CRIU records them, turned into names and text, in one place for every layer
 * above (the model, and crit-json here): IP addresses, socket families, types, protocols and
 * states (the TCP state table), fd types and seccomp modes (from the schema's generated enums),
 * open flags, capability sets, signals, wait statuses.
 */
import { FdTypes, SeccompMode } from './messages.js';

/** A reverse map (number → name) of a generated enum object. */
function namesOf(e: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(e).map(([name, n]) => [n, name]));
}

/**
 * An address as CRIU stores it: the raw bytes of `in_addr` / `in6_addr` read as little-endian
 * 32-bit words (one word for IPv4, four for IPv6). Returns the canonical text form (RFC 5952 for
 * IPv6: lower case, longest run of two or more zero groups shortened to `::`, IPv4-mapped as
 * `::ffff:a.b.c.d`).
 */
export function ipAddressText(words: readonly number[], family?: number): string {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  if (family === AF_INET || (family === undefined && words.length === 1)) return ipv4Text(bytes.subarray(0, 4));
  if (bytes.length < 16) {
    const full = new Uint8Array(16);
    full.set(bytes);
    return ipv6Text(full);
  }
  return ipv6Text(bytes.subarray(0, 16));
}

export function ipv4Text(b: Uint8Array): string {
  return `${b[0] ?? 0}.${b[1] ?? 0}.${b[2] ?? 0}.${b[3] ?? 0}`;
}

export function ipv6Text(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // IPv4-mapped (::ffff:a.b.c.d)
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `::ffff:${ipv4Text(b.subarray(12, 16))}`;
  // longest run of zeros, length >= 2, first one on ties
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;

const FAMILIES: Record<number, string> = { [AF_UNIX]: 'UNIX', [AF_INET]: 'IPv4', [AF_INET6]: 'IPv6', [AF_NETLINK]: 'NETLINK', [AF_PACKET]: 'PACKET' };
export function familyName(f: number): string {
  return FAMILIES[f] ?? `AF_${f}`;
}

const SOCK_TYPES: Record<number, string> = { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 4: 'RDM', 5: 'SEQPACKET', 6: 'DCCP', 10: 'PACKET' };
export function socketTypeName(t: number): string {
  return SOCK_TYPES[t] ?? `SOCK_${t}`;
}

const IP_PROTOCOLS: Record<number, string> = { 0: 'IP', 1: 'ICMP', 6: 'TCP', 17: 'UDP', 33: 'DCCP', 58: 'ICMPv6', 132: 'SCTP', 136: 'UDPLITE', 255: 'RAW' };
export function ipProtocolName(p: number): string {
  return IP_PROTOCOLS[p] ?? `IPPROTO_${p}`;
}

/** TCP states (include/net/tcp_states.h), which CRIU also uses for the state of unix sockets. */
export const TCP_STATES: Readonly<Record<number, string>> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};
export function socketStateName(s: number): string {
  return TCP_STATES[s] ?? `STATE_${s}`;
}

const FD_TYPE_NAMES = namesOf(FdTypes);
/** fdinfo_entry.type by its enum name (fd_types): 'REG', 'PIPE', 'UNIXSK', …; `TYPE_<n>` when unknown. */
export function fdTypeName(t: number): string {
  return FD_TYPE_NAMES.get(t) ?? `TYPE_${t}`;
}

/** A seccomp mode by its enum name (seccomp_mode): 'disabled', 'strict', 'filter'. */
export type SeccompModeName = keyof typeof SeccompMode;
const SECCOMP_NAMES = namesOf(SeccompMode) as ReadonlyMap<number, SeccompModeName>;
/** thread_core_entry.seccomp_mode by name; undefined for a value the schema does not know. */
export function seccompModeName(m: number): SeccompModeName | undefined {
  return SECCOMP_NAMES.get(m);
}

const NETLINK_PROTOCOLS: Record<number, string> = {
  0: 'ROUTE',
  1: 'UNUSED',
  2: 'USERSOCK',
  3: 'FIREWALL',
  4: 'SOCK_DIAG',
  5: 'NFLOG',
  6: 'XFRM',
  7: 'SELINUX',
  8: 'ISCSI',
  9: 'AUDIT',
  10: 'FIB_LOOKUP',
  11: 'CONNECTOR',
  12: 'NETFILTER',
  13: 'IP6_FW',
  14: 'DNRTMSG',
  15: 'KOBJECT_UEVENT',
  16: 'GENERIC',
  18: 'SCSITRANSPORT',
  19: 'ECRYPTFS',
  20: 'RDMA',
  21: 'CRYPTO',
  22: 'SMC',
};
export function netlinkProtocolName(p: number): string {
  return NETLINK_PROTOCOLS[p] ?? `NETLINK_${p}`;
}

const ETH_PROTOCOLS: Record<number, string> = { 0x0003: 'ETH_P_ALL', 0x0800: 'ETH_P_IP', 0x0806: 'ETH_P_ARP', 0x86dd: 'ETH_P_IPV6', 0x8100: 'ETH_P_8021Q' };
/** A packet socket's protocol is an ethertype in network byte order. */
export function ethProtocolName(p: number): string {
  const host = ((p & 0xff) << 8) | ((p >> 8) & 0xff);
  return ETH_PROTOCOLS[host] ?? `0x${host.toString(16).padStart(4, '0')}`;
}

/** open(2) status flags as `O_RDWR|O_APPEND|...` (the access mode always comes first). */
export function openFlagsText(flags: number): string {
  const acc = flags & 3;
  const parts = [acc === 0 ? 'O_RDONLY' : acc === 1 ? 'O_WRONLY' : acc === 2 ? 'O_RDWR' : 'O_ACCMODE'];
  const bits: [number, string][] = [
    [0o100, 'O_CREAT'],
    [0o200, 'O_EXCL'],
    [0o400, 'O_NOCTTY'],
    [0o1000, 'O_TRUNC'],
    [0o2000, 'O_APPEND'],
    [0o4000, 'O_NONBLOCK'],
    [0o4010000, 'O_SYNC'],
    [0o10000, 'O_DSYNC'],
    [0o20000, 'O_ASYNC'],
    [0o40000, 'O_DIRECT'],
    [0o100000, 'O_LARGEFILE'],
    [0o200000, 'O_DIRECTORY'],
    [0o400000, 'O_NOFOLLOW'],
    [0o1000000, 'O_NOATIME'],
    [0o2000000, 'O_CLOEXEC'],
    [0o10000000, 'O_PATH'],
  ];
  let rest = flags & ~3;
  for (const [bit, name] of bits) {
    if ((rest & bit) === bit) {
      parts.push(name);
      rest &= ~bit;
    }
  }
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

/** Linux capability names by bit number. */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/** A capability set stored as 32-bit words, low word first, as a 64-bit mask. */
export function capabilityMask(words: readonly number[]): bigint {
  let m = 0n;
  words.forEach((w, i) => (m |= BigInt(w >>> 0) << BigInt(32 * i)));
  return m;
}

export function capabilityNames(words: readonly number[]): string[] {
  const m = capabilityMask(words);
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) if ((m >> BigInt(bit)) & 1n) out.push(CAPABILITIES[bit] ?? `CAP_${bit}`);
  return out;
}

export function hex64(m: bigint): string {
  return `0x${m.toString(16).padStart(16, '0')}`;
}

const SIGNALS = [
  '',
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGSTKFLT',
  'SIGCHLD',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];
export function signalName(n: number): string {
  return SIGNALS[n] || (n >= 34 && n <= 64 ? `SIGRTMIN+${n - 34}` : `SIG${n}`);
}

/** Splits a wait(2) status (what the kernel and CRIU record as exit_code) into exit status or signal. */
export function decodeWaitStatus(code: number): { status?: number; signal?: number; coreDumped?: boolean } {
  const sig = code & 0x7f;
  if (sig === 0) return { status: (code >> 8) & 0xff };
  if (sig === 0x7f) return { status: (code >> 8) & 0xff }; // stopped; not an exit
  return { signal: sig, coreDumped: (code & 0x80) !== 0 };
}

/** A unix socket name: a path, `@name` for the abstract namespace, or '' when unnamed. */
export function unixName(name: Uint8Array | undefined): string {
  if (!name || name.length === 0) return '';
  const dec = new TextDecoder('utf-8', { fatal: false });
  if (name[0] === 0) return '@' + dec.decode(name.subarray(1)).replace(/\0/g, '@');
  let end = name.indexOf(0);
  if (end < 0) end = name.length;
  return dec.decode(name.subarray(0, end));
}

export function toNumber(v: unknown): number {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  return 0;
}
