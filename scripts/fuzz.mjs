#!/usr/bin/env node
/**
 * `npm run fuzz -- --cases N --seed S [--from K] [--mode library|cli] [--jobs J] [--timeout-ms T] [--wall-timeout-ms W] [--rss-mb M] [--keep DIR] [--case K]`
 *
 * A mutation fuzzer for the whole tool. Each case takes a committed fixture (real CRIU archives
 * from testdata/podman), damages it in one way, and runs it through every path:
 * - `--mode library` (default): the library API in a pool of worker threads (J workers): open and
 *   every part of inspect (tree, JSON), the memory table and maps, the hexdump of a process, a
 *   literal and a regex search, decode of every image and of the mutated one. Text a view returns
 *   must hold no control character (colour off).
 * - `--mode cli`: the CLI's commands (`show`, `inspect --all` as tree and JSON, the memory table, a
 *   literal and a regex search, the dump of one process, `decode`) in long-lived child processes;
 *   stderr must be one-line `ckpt:` messages without control characters.
 *
 * Mutations: tar header fields (size, type, checksum, name) and PAX records (path, size);
 * truncation at any byte; bytes of a protobuf image flipped, its entry-length prefix or a varint
 * made huge; one image's bytes under another image's name (type confusion); pagemap entries with
 * huge or overlapping ranges; a pstree with a cycle, or a parent chain thousands deep, or 10,000
 * entries; hostile JSON in config.dump/spec.dump (nesting 100,000 deep, huge numbers, wrong
 * types, control characters); gzip and zstd archives cut short or with flipped bytes, zstd frames
 * with a huge window; gzip and zstd bombs (a member of 128 or 64 MiB of zeros). All cases are made from
 * the seed: the same seed gives the same cases.
 *
 * Outcome of a case: `ok`; `expected` (the project's error: a one-line CkptError, or exit 1, 2 or
 * 4 from the CLI); `unexpected` (any other exception, an internal error, a stack trace, a
 * message that is not one line, a control character from the input in a message or a view);
 * `hang` (one step over the time limit: 5 s of CPU in its worker thread or child process, or 60 s
 * of wall time, `--timeout-ms` and `--wall-timeout-ms`; the worker or child is killed and replaced);
 * `memory` (over the limit, default 500 MB: a worker's V8 heap, or the RSS a case adds to the
 * idle process, measured with the case run alone; in cli mode the child's RSS). Exit status 1
 * when any case is unexpected, a hang or memory; with --keep, each such case's input is saved
 * there with a line to reproduce it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'ckpt.js');

// ---------- arguments ----------
const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(`--${name}`);
  if (i === -1) return dflt;
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  return v;
}
const CASES = Number(opt('cases', '300'));
const SEED = Number(opt('seed', '1'));
const JOBS = Number(opt('jobs', String(Math.max(1, Math.min(4, availableParallelism())))));
const TIMEOUT = Number(opt('timeout-ms', '5000'));
const WALL_TIMEOUT = Number(opt('wall-timeout-ms', String(12 * TIMEOUT)));
const RSS_MB = Number(opt('rss-mb', '500'));
const KEEP = opt('keep', undefined);
const ONLY = opt('case', undefined);
const FROM = Number(opt('from', '0'));
const MODE = opt('mode', 'library');
const PROGRESS = Number(opt('progress', '500'));
if (MODE !== 'library' && MODE !== 'cli') {
  process.stderr.write('fuzz: --mode must be library or cli\n');
  process.exit(2);
}
for (const [k, v] of [['cases', CASES], ['seed', SEED], ['jobs', JOBS], ['timeout-ms', TIMEOUT], ['rss-mb', RSS_MB]]) {
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`fuzz: --${k} must be a number\n`);
    process.exit(2);
  }
}

// ---------- deterministic randomness ----------
function rng(seed) {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
  return {
    float: next,
    int: (n) => Math.floor(next() * n),
    pick: (a) => a[Math.floor(next() * a.length)],
  };
}

// ---------- tar ----------
const BLOCK = 512;
function parseTar(buf) {
  const members = [];
  let off = 0;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const name = cstr(h, 0, 100);
    const prefix = cstr(h, 345, 155);
    const size = parseInt(cstr(h, 124, 12).trim() || '0', 8);
    const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
    members.push({ name: prefix ? `${prefix}/${name}` : name, type, data: buf.subarray(off + BLOCK, off + BLOCK + size), mode: cstr(h, 100, 8) });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return members;
}
function cstr(b, s, n) {
  let e = s;
  while (e < s + n && b[e] !== 0) e++;
  return Buffer.from(b.subarray(s, e)).toString('latin1');
}
function header(name, size, type = '0', extra = {}) {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 100), 0, 'latin1');
  h.write((extra.mode ?? '0000644').padStart(7, '0') + '\0', 100, 'latin1');
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('00000000000\0', 136);
  h.write(type, 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  checksum(h);
  return h;
}
function checksum(h) {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
}
function writeTar(members) {
  const parts = [];
  for (const m of members) {
    parts.push(header(m.name, m.data.length, m.type));
    parts.push(Buffer.from(m.data));
    const pad = (BLOCK - (m.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
function pax(records) {
  const body = records
    .map(([k, v]) => {
      const rec = ` ${k}=${v}\n`;
      let n = rec.length + 1;
      while (String(n).length + rec.length !== n) n = String(n).length + rec.length;
      return `${n}${rec}`;
    })
    .join('');
  return { name: 'PaxHeader', type: 'x', data: Buffer.from(body, 'latin1') };
}

// ---------- protobuf bits (hand-made hostile images) ----------
function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}
function field(no, value) {
  return [...varint(no << 3), ...varint(value)];
}
/** An image: the magic words of `like` (copied from a real image), then entries, each with its u32 length. */
function image(magicOf, entries) {
  const parts = [Buffer.from(magicOf.subarray(0, 8))];
  for (const e of entries) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(e.length);
    parts.push(len, Buffer.from(e));
  }
  return Buffer.concat(parts);
}
function pstreeEntry(pid, ppid) {
  return [...field(1, pid), ...field(2, ppid), ...field(3, pid), ...field(4, 1)];
}

// ---------- mutations ----------
const MUTATIONS = {
  truncate(r, m, raw) {
    return { bytes: raw.subarray(0, r.int(raw.length)), what: 'archive truncated' };
  },
  headerField(r, m, raw) {
    const b = Buffer.from(raw);
    // offsets of the headers
    const heads = [];
    let off = 0;
    for (const x of m) {
      heads.push(off);
      off += BLOCK + Math.ceil(x.data.length / BLOCK) * BLOCK;
    }
    const h = r.pick(heads);
    const fieldAt = r.pick([[124, 12], [156, 1], [0, 100], [148, 8], [345, 155]]);
    const kind = r.int(4);
    for (let i = 0; i < fieldAt[1]; i++) {
      if (kind === 0) b[h + fieldAt[0] + i] = r.int(256);
      else if (kind === 1) b[h + fieldAt[0] + i] = 0x37; // '7': huge octal
      else if (kind === 2 && i === 0) b[h + fieldAt[0]] = 0x80 | r.int(128); // base-256
      else if (kind === 3) b[h + fieldAt[0] + i] = r.pick([0x1b, 0x07, 0x0a, 0x2e, 0x2f]);
    }
    if (r.float() < 0.8) checksum(b.subarray(h, h + BLOCK));
    return { bytes: b, what: `tar header at ${h}, field at ${fieldAt[0]}` };
  },
  paxRecord(r, m) {
    const i = r.int(m.length);
    const rec = r.pick([
      ['size', String(2 ** 53)],
      ['size', '-1'],
      ['size', 'NaN'],
      ['size', String(r.int(1 << 30))],
      ['path', '../../etc/passwd'],
      ['path', '/abs/' + m[i].name],
      ['path', 'checkpoint/\x1b[31mred\x07.img'],
      ['path', 'x'.repeat(70000)],
    ]);
    const out = m.slice();
    out.splice(i, 0, pax([rec]));
    return { bytes: writeTar(out), what: `PAX ${rec[0]}=${rec[1].slice(0, 40)} before ${m[i].name}` };
  },
  flipImage(r, m) {
    const imgs = m.filter((x) => x.name.endsWith('.img') && x.data.length > 8);
    const t = r.pick(imgs);
    const d = Buffer.from(t.data);
    const n = 1 + r.int(8);
    for (let k = 0; k < n; k++) d[8 + r.int(d.length - 8)] = r.int(256);
    return { bytes: writeTar(m.map((x) => (x === t ? { ...x, data: d } : x))), what: `bytes flipped in ${t.name}`, member: t.name };
  },
  hugeLength(r, m) {
    const imgs = m.filter((x) => x.name.endsWith('.img') && x.data.length >= 12 && !/pages-/.test(x.name));
    const t = r.pick(imgs);
    const d = Buffer.from(t.data);
    const choice = r.int(3);
    if (choice === 0) d.writeUInt32LE(r.pick([0xffffffff, 0x7fffffff, 0x10000000, d.length]), 8);
    else {
      // a varint made long or huge somewhere in the entry
      const at = 12 + r.int(Math.max(1, d.length - 12));
      for (let k = 0; k < 10 && at + k < d.length; k++) d[at + k] = choice === 1 ? 0xff : 0x80;
    }
    return { bytes: writeTar(m.map((x) => (x === t ? { ...x, data: d } : x))), what: `length/varint in ${t.name}`, member: t.name };
  },
  confuse(r, m) {
    const imgs = m.filter((x) => x.name.endsWith('.img') && x.data.length > 8);
    const a = r.pick(imgs);
    const b = r.pick(imgs);
    return { bytes: writeTar(m.map((x) => (x === a ? { ...x, data: b.data } : x))), what: `${b.name} saved as ${a.name}`, member: a.name };
  },
  pagemap(r, m) {
    const t = r.pick(m.filter((x) => /pagemap-\d+\.img$/.test(x.name)));
    if (!t) return MUTATIONS.flipImage(r, m);
    const entries = [];
    const n = 1 + r.int(4);
    const head = [...field(1, 1)]; // pages_id
    for (let k = 0; k < n; k++) {
      const vaddr = r.pick([0n, 0x400000n, 0xffffffffff000n, 2n ** 63n, BigInt(r.int(1 << 30)) * 4096n]);
      const pages = r.pick([1, 2 ** 31, 2 ** 32 - 1, 1000000, r.int(100)]);
      entries.push([...field(1, vaddr), ...field(2, pages), ...field(4, r.pick([4, 1, 2, 6, 0]))]);
    }
    return { bytes: writeTar(m.map((x) => (x === t ? { ...x, data: image(t.data, [head, ...entries]) } : x))), what: `pagemap ${t.name} with hostile ranges`, member: t.name };
  },
  pstree(r, m) {
    const t = m.find((x) => x.name === 'checkpoint/pstree.img');
    const shape = r.int(3);
    let entries;
    if (shape === 0) entries = [pstreeEntry(1, 2), pstreeEntry(2, 3), pstreeEntry(3, 1)];
    else if (shape === 1) entries = Array.from({ length: 5000 }, (_, i) => pstreeEntry(i + 1, i));
    // 10,000 (test/hostile.test.ts has 50,000): a step on it fits 5 s on a loaded 2-core machine
    else entries = Array.from({ length: 10000 }, (_, i) => pstreeEntry(i + 1, i === 0 ? 0 : 1));
    return { bytes: writeTar(m.map((x) => (x === t ? { ...x, data: image(t.data, entries) } : x))), what: ['pstree cycle', 'pstree chain 5000 deep', 'pstree of 10,000'][shape] };
  },
  json(r, m) {
    const name = r.pick(['config.dump', 'spec.dump']);
    const depth = 100000;
    const text = r.pick([
      '['.repeat(depth) + ']'.repeat(depth),
      '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      JSON.stringify({ createdTime: 1e400, id: 5, name: { x: 1 }, rootfsImageName: ['a'], annotations: 'x', checkpointedTime: 'not a time' }),
      JSON.stringify({ createdTime: '9999999-01-01T00:00:00Z', name: 'evil\x1b]0;pwned\x07\x1b[2J', annotations: { 'io.kubernetes.cri-o.Labels': '{'.repeat(5000) } }),
      JSON.stringify({ annotations: { 'io.kubernetes.cri-o.Annotations': '['.repeat(100000) } }),
      '{"createdTime": 1' + '0'.repeat(400) + '}',
      '\x1b[31m not json',
    ]);
    const out = m.filter((x) => x.name !== name);
    out.unshift({ name, type: '0', data: Buffer.from(text, 'latin1') });
    return { bytes: writeTar(out), what: `hostile ${name}` };
  },
  gzipBomb(r, m, raw, base) {
    // a member of 128 MiB of zeros (8 times the limit for an image read whole), in a gzip
    // archive of about 0.6 MB; made once per fixture and name in a process
    const name = r.pick(['checkpoint/pages-1.img', 'checkpoint/core-1.img', 'config.dump', 'checkpoint/zz.img']);
    const key = `${base}:${name}`;
    if (!bombs.has(key)) {
      const size = BOMB_SIZE;
      const z = zlib.createGzip({ level: 1 });
      const parts = [];
      z.on('data', (c) => parts.push(c));
      z.write(tarHead(m.filter((x) => x.name !== name)));
      z.write(header(name, size));
      const zeros = Buffer.alloc(1 << 20);
      for (let i = 0; i < size / zeros.length; i++) z.write(zeros);
      z.end(Buffer.alloc(BLOCK * 2));
      bombs.set(key, new Promise((res) => z.on('end', () => res(Buffer.concat(parts)))));
    }
    return bombs.get(key).then((bytes) => ({ bytes, what: `gzip bomb: ${name} of 128 MiB of zeros` }));
  },
  zstdBomb(r, m) {
    // a zstd frame: the zeros are RLE blocks (4 bytes per 128 KiB); 64 MiB, 4 times the limit for
    // an image read whole (Node 20's pure-JS zstd decoder takes a few seconds for more)
    const name = r.pick(['checkpoint/pages-1.img', 'checkpoint/core-1.img', 'config.dump', 'checkpoint/pstree.img']);
    const kept = m.filter((x) => x.name !== name);
    const head = Buffer.concat([tarHead(kept), header(name, ZSTD_BOMB_SIZE)]);
    return { bytes: zstdFrame(head, { zeros: ZSTD_BOMB_SIZE + BLOCK * 2 }), what: `zstd bomb: ${name} of 64 MiB of zeros` };
  },
};

const BOMB_SIZE = 128 << 20;
const ZSTD_BOMB_SIZE = 64 << 20;
const bombs = new Map();

/** The archive's members as a tar without its end-of-archive blocks (for a member appended after). */
function tarHead(m) {
  const t = writeTar(m);
  return t.subarray(0, t.length - BLOCK * 2);
}

/**
 * A zstd frame holding `data` in raw blocks, then `zeros` zero bytes as RLE blocks. `window` is
 * the Window_Descriptor byte (0x58: 8 MiB; 0xf8: 2 TiB, which a decoder must refuse).
 */
function zstdFrame(data, { zeros = 0, window = 0x58 } = {}) {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, window])];
  const B = 128 << 10;
  const blocks = [];
  for (let o = 0; o < data.length; o += B) blocks.push([0, data.subarray(o, Math.min(data.length, o + B))]);
  for (let o = 0; o < zeros; o += B) blocks.push([1, Math.min(B, zeros - o)]);
  if (blocks.length === 0) blocks.push([0, Buffer.alloc(0)]);
  blocks.forEach(([type, v], i) => {
    const size = typeof v === 'number' ? v : v.length;
    const h = (i === blocks.length - 1 ? 1 : 0) | (type << 1) | (size << 3);
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), typeof v === 'number' ? Buffer.from([0]) : v);
  });
  return Buffer.concat(parts);
}

async function makeCase(i) {
  const r = rng((SEED * 1000003 + i * 7919) >>> 0);
  const seeds = ['procs', 'files', 'net'];
  const base = r.pick(seeds);
  const raw = readFileSync(join(ROOT, 'testdata', 'podman', `${base}-none.tar`));
  const members = parseTar(raw);
  const compress = r.pick(['none', 'none', 'gzip', 'zstd']);
  if (compress === 'zstd' && r.float() < 0.7) {
    // the committed zstd archive, corrupted or cut
    const z = Buffer.from(readFileSync(join(ROOT, 'testdata', 'podman', `${base}-zstd.tar`)));
    if (r.float() < 0.5) return { bytes: z.subarray(0, r.int(z.length)), what: `${base}-zstd.tar truncated`, name: `${base}.tar.zst` };
    for (let k = 0; k < 1 + r.int(4); k++) z[r.int(z.length)] = r.int(256);
    return { bytes: z, what: `${base}-zstd.tar bytes flipped`, name: `${base}.tar.zst` };
  }
  const kinds = Object.keys(MUTATIONS).filter((k) => !/Bomb$/.test(k) || r.float() < 0.3);
  const kind = r.pick(kinds);
  const c = await MUTATIONS[kind](r, members, raw, base);
  let bytes = c.bytes;
  let what = `${base}: ${c.what}`;
  if (compress === 'zstd' && !/Bomb$/.test(kind)) {
    // the mutated tar in a zstd frame of raw blocks; sometimes a huge window or the frame cut short
    const window = r.float() < 0.2 ? r.pick([0xf8, 0xa0, 0x98]) : 0x58;
    bytes = zstdFrame(bytes, { window });
    what += `, zstd (window byte 0x${window.toString(16)})`;
    if (r.float() < 0.3) {
      bytes = bytes.subarray(0, r.int(bytes.length));
      what += ' cut short';
    }
  }
  if (compress === 'gzip' && !/Bomb$/.test(kind)) {
    bytes = zlib.gzipSync(bytes);
    if (r.float() < 0.5) {
      if (r.float() < 0.5) bytes = bytes.subarray(0, r.int(bytes.length));
      else for (let k = 0; k < 1 + r.int(3); k++) bytes[r.int(bytes.length)] = r.int(256);
      what += ', gzip damaged';
    } else what += ', gzip';
  }
  return { bytes, what, member: c.member, name: `${base}.tar` };
}

// ---------- running ----------
function commands(file, member) {
  const img = member ? member.slice(member.lastIndexOf('/') + 1) : 'pstree.img';
  return [
    ['show', file],
    ['inspect', file, '--all'],
    ['inspect', file, '--all', '--format', 'json'],
    ['memparse', file],
    ['memparse', file, '--search', 'CKPT'],
    ['memparse', file, '--search-regex', 'CK[A-Z]+-[a-z]*'],
    ['memparse', file, '--pid', '1', '--format', 'json'],
    ['decode', file],
    ['decode', file, img],
  ];
}

function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** What stderr says about a run: undefined when it is a clean one-line error (or nothing). */
function judgeStderr(code, err) {
  if (code === 3) return `internal error: ${err.split('\n')[0]}`;
  if (![0, 1, 2, 4].includes(code)) return `exit ${code}: ${err.split('\n')[0]}`;
  if (/\n\s+at /.test(err)) return `stack trace: ${err.split('\n')[0]}`;
  // one line per message, every one starting with "ckpt:"; no control characters but newlines
  for (const line of err.split('\n')) {
    if (line === '') continue;
    if (!line.startsWith('ckpt: ')) return `stray stderr line: ${JSON.stringify(line.slice(0, 120))}`;
    if (/[\x00-\x08\x0b-\x1f\x7f]/.test(line)) return `control character on stderr: ${JSON.stringify(line.slice(0, 160))}`;
  }
  return undefined;
}

// ---------- the child: runs cases in-process, one command at a time, telling the parent ----------
async function child() {
  const { main } = await import(join(ROOT, 'dist', 'cli', 'main.js'));
  // a full collection between commands keeps one command's garbage out of the next one's RSS
  // (gc obtained at run time: a V8 flag on the command line would also reach the workers)
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const collect = vm.runInNewContext('gc');
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-'));
  const realErr = process.stderr.write.bind(process.stderr);
  let captured = '';
  process.stderr.write = (chunk, ...rest) => {
    if (captured.length < 1 << 16) captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    const cb = rest.find((x) => typeof x === 'function');
    if (cb) cb();
    return true;
  };
  process.on('message', async (m) => {
    if (m.exit) {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    }
    const c = await makeCase(m.i);
    const file = join(dir, `case-${m.i}-${c.name}`);
    writeFileSync(file, c.bytes);
    const results = [];
    const codes = [];
    const expected = [];
    const cmds = commands(file, c.member);
    for (let k = 0; k < cmds.length; k++) {
      process.send({ start: k, i: m.i });
      captured = '';
      process.exitCode = undefined;
      let code;
      try {
        code = await main(cmds[k]);
      } catch (e) {
        code = 3;
        captured += `ckpt: escaped main(): ${e && e.message}\n`;
      }
      process.exitCode = undefined;
      const verdict = judgeStderr(code, captured);
      results.push(verdict);
      // a clean error or warning line says the command met damage
      codes.push(code);
      expected.push(code !== 0 && captured !== '');
      collect();
      if (verdict) break;
    }
    rmSync(file, { force: true });
    process.send({ done: true, i: m.i, what: c.what, member: c.member, name: c.name, results, codes, expected, cmds: cmds.map((a) => a.filter((x) => x !== file)) });
  });
  process.send({ ready: true });
  void realErr;
}

/**
 * CPU time (ms) of a thread or process from /proc (`stat`: utime + stime, in ticks of 10 ms), or
 * undefined where there is no /proc. A step is judged by the CPU it uses, not by the wall clock,
 * so that a loaded machine (other jobs on the same cores) does not turn slow steps into hangs.
 */
function cpuMsOf(statPath) {
  try {
    const t = readFileSync(statPath, 'utf8');
    const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return undefined;
  }
}

/**
 * Watches one step: `onHang(why)` when it has used more than TIMEOUT ms of CPU (in the thread or
 * process at `statPath`), or, as a backstop (a step waiting on something else), WALL_TIMEOUT ms
 * of wall time; without /proc, TIMEOUT ms of wall time.
 */
function stepWatch(statPath, onHang) {
  let timer;
  return {
    start() {
      clearInterval(timer);
      const cpu0 = statPath ? cpuMsOf(statPath) : undefined;
      const wall0 = Date.now();
      timer = setInterval(() => {
        const wall = Date.now() - wall0;
        const cpu = cpu0 === undefined ? undefined : cpuMsOf(statPath) - cpu0;
        if (cpu === undefined ? wall > TIMEOUT : cpu > TIMEOUT || wall > WALL_TIMEOUT) {
          clearInterval(timer);
          onHang(cpu === undefined ? `over ${TIMEOUT} ms` : cpu > TIMEOUT ? `over ${TIMEOUT} ms of CPU` : `over ${WALL_TIMEOUT} ms`);
        }
      }, 100);
    },
    stop() {
      clearInterval(timer);
    },
  };
}

// ---------- library mode: the same cases through the library API, in a pool of worker threads ----------

/** What one library step saw: undefined when clean; text that must not hold raw control characters. */
function judgeText(text) {
  // views print text taken from the input: colour is off here, so no control character but a newline may reach it
  const m = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(text);
  return m ? `control character 0x${m[0].charCodeAt(0).toString(16)} in the output: ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 60))}` : undefined;
}

/** An error a step threw: 'expected' for the project's one-line error, else what is wrong with it. */
function judgeError(e, CkptError) {
  if (e instanceof CkptError) {
    if (/[\x00-\x1f\x7f-\x9f]/.test(e.message)) return `CkptError with a control character: ${JSON.stringify(e.message.slice(0, 160))}`;
    return 'expected';
  }
  return `${e && e.name ? e.name : typeof e}: ${e && e.message ? String(e.message).split('\n')[0].slice(0, 200) : String(e)}${e && e.stack ? ` [${(/\n\s+at (.*)/.exec(e.stack) ?? [])[1] ?? ''}]` : ''}`;
}

const ALL_PARTS = { psTree: true, psTreeCmd: true, psTreeEnv: true, files: true, sockets: true, mounts: true, stats: true, metadata: true };

/** The library calls of one case, each on its own source or checkpoint: open and every part of inspect, the memory table and maps, one process's hexdump, a literal and a regex search, decode. */
const LIBRARY_STEPS = [
  ['open', async (lib, file, c, ctx) => {
    await ctx.checkpoint();
    return '';
  }],
  ['inspect --all: every part read', async (lib, file, c, ctx) => {
    const ck = await ctx.checkpoint();
    ctx.options = lib.normaliseInspectOptions({ ...ALL_PARTS, colour: false });
    ctx.input = await lib.collectInspectInput(ck, ctx.options);
    return '';
  }],
  ['inspect --all: tree view', async (lib, file, c, ctx) => (ctx.input ? lib.inspectTree(ctx.input, ctx.options) : '')],
  ['inspect --all: JSON view', async (lib, file, c, ctx) => (ctx.input ? lib.inspectJson([ctx.input], ctx.options) : '')],
  ['memory table and maps', async (lib, file, c, ctx) => {
    const ck = await ctx.checkpoint();
    const mem = await ck.memory();
    const rows = lib.memoryRows(mem.processes(), (pid) => mem.comm(pid));
    const maps = lib.memoryMaps(mem);
    return lib.memoryTable(ck.label, rows, mem.pageSize, { colour: false }) + JSON.stringify(lib.memoryTableJson(rows, mem.pageSize)) + lib.mapsTable(maps, { colour: false }) + JSON.stringify(lib.mapsJson(maps));
  }],
  ['hexdump of the first process', async (lib, file, c, ctx) => {
    const ck = await ctx.checkpoint();
    {
      const mem = await ck.memory();
      const pid = mem.pids()[0];
      if (pid === undefined) return '';
      const hd = new lib.Hexdump({ collapse: true });
      let text = '';
      for await (const item of lib.walkMemory(mem.forPid(pid), { chunkSize: 64 << 10 })) {
        if (item.kind === 'region') text = lib.regionHeader(item.region);
        else if (item.kind === 'missing') text = lib.missingLine(item.run, mem.pageSize);
        else text = hd.write(item.address, item.bytes);
        const bad = judgeText(text);
        if (bad) return text;
      }
      return '';
    }
  }],
  ['literal search', async (lib, file) => searchStep(lib, file, 'CKPT')],
  ['regex search', async (lib, file) => searchStep(lib, file, lib.compileRegex('CK[A-Z]+-[a-z]*'))],
  ['decode every image', async (lib, file) => decodeStep(lib, file, [])],
  ['decode the mutated image', async (lib, file, c) => decodeStep(lib, file, [c.member ? c.member.slice(c.member.lastIndexOf('/') + 1) : 'pstree.img'])],
];

async function searchStep(lib, file, pattern) {
  const source = await lib.openSource(file);
  try {
    let text = '';
    for await (const m of lib.searchCheckpoint(source, { pattern, context: 16, regexRunner: (re) => lib.inThreadRunner(re) })) {
      text = lib.matchLine(m, { colour: false }) + JSON.stringify(lib.matchJson(m));
      if (judgeText(text)) return text;
    }
    return '';
  } finally {
    await source.close();
  }
}

async function decodeStep(lib, file, names) {
  const source = await lib.openSource(file);
  try {
    const decoded = await lib.decodeImages(source, names, { pretty: true });
    return lib.stringifyJson(Object.fromEntries(decoded), true);
  } finally {
    await source.close();
  }
}

async function libraryWorker() {
  const { parentPort, workerData } = await import('node:worker_threads');
  const lib = await import(join(ROOT, 'dist', 'node', 'index.js'));
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const collect = vm.runInNewContext('gc');
  // the run's directory (made and removed by the parent: a terminated worker leaves nothing)
  const dir = workerData.dir;
  parentPort.on('message', async (m) => {
    const c = await makeCase(m.i);
    const file = join(dir, `case-${m.i}-${c.name}`);
    writeFileSync(file, c.bytes);
    c.bytes = undefined;
    const results = [];
    // the checkpoint opened once for the steps that read it (the 'open' step says how that went)
    let opened;
    const ctx = { checkpoint: () => (opened ??= lib.openCheckpointFile(file, { hashArchive: true })) };
    for (let k = 0; k < LIBRARY_STEPS.length; k++) {
      parentPort.postMessage({ start: k, i: m.i });
      let verdict;
      try {
        verdict = judgeText(await LIBRARY_STEPS[k][1](lib, file, c, ctx));
      } catch (e) {
        verdict = judgeError(e, lib.CkptError);
      }
      results.push(verdict);
      if (verdict !== undefined && verdict !== 'expected') break;
    }
    if (opened) await opened.then((ck) => ck.close(), () => {});
    rmSync(file, { force: true });
    collect();
    parentPort.postMessage({ done: true, i: m.i, what: c.what, results });
  });
  // the worker's thread id, for its CPU time (/proc/<pid>/task/<tid>/stat)
  let tid;
  try {
    tid = (await import('node:fs')).readlinkSync('/proc/thread-self').split('/').pop();
  } catch {
    tid = undefined;
  }
  parentPort.postMessage({ ready: true, tid });
}

function rssMbOfProcess() {
  return process.memoryUsage.rss() / (1 << 20);
}

/**
 * The pool: JOBS workers, one case each at a time. A step over the time limit: the worker is
 * terminated (`hang`) and a new one takes its place. Memory: a worker's V8 heap is capped by
 * resourceLimits (`memory` when it runs out), and the process's RSS is sampled; when it passes
 * the limit (with JOBS cases in flight, their sum), the cases in flight are stopped and each is run
 * again alone, where RSS over the limit above the idle baseline is that case's `memory`.
 */
async function libraryParent(first, last, record) {
  const { Worker } = await import('node:worker_threads');
  const self = fileURLToPath(import.meta.url);
  let next = first;
  const solo = [];
  const stepTime = [];
  let maxPeak = 0;
  const dir = mkdtempSync(join(tmpdir(), 'ckpt-fuzz-'));
  const spawnWorker = () =>
    new Worker(self, { workerData: { dir }, argv: ['--library-worker', ...argv], resourceLimits: { maxOldGenerationSizeMb: RSS_MB, maxYoungGenerationSizeMb: 32 }, env: { ...process.env, NO_COLOR: '1' }, stdout: true, stderr: true });

  // runs case i on worker w; resolves with the outcome, and whether the worker must be replaced
  const runOn = (w, i, state) =>
    new Promise((resolve) => {
      let step = -1;
      const watch = stepWatch(w.tid ? `/proc/${process.pid}/task/${w.tid}/stat` : undefined, (why) => finish({ outcome: 'hang', detail: `${LIBRARY_STEPS[step][0]}: ${why}`, replace: true }));
      const finish = (r) => {
        watch.stop();
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
        state.current = undefined;
        resolve(r);
      };
      let stepStart = 0;
      const onMessage = (m) => {
        if (m.start !== undefined || m.done) {
          if (step >= 0) stepTime[step] = (stepTime[step] ?? 0) + (Date.now() - stepStart);
          stepStart = Date.now();
        }
        if (m.start !== undefined) {
          step = m.start;
          watch.start();
        } else if (m.done) {
          const k = m.results.findIndex((x) => x !== undefined && x !== 'expected');
          const expected = m.results.includes('expected');
          finish({ outcome: k !== -1 ? 'unexpected' : expected ? 'expected' : 'ok', detail: k !== -1 ? `${LIBRARY_STEPS[k][0]}: ${m.results[k]}` : '', what: m.what });
        }
      };
      const onError = (e) => {
        const oom = e && (e.code === 'ERR_WORKER_OUT_OF_MEMORY' || /out of memory/i.test(String(e.message)));
        finish({ outcome: oom ? 'memory' : 'unexpected', detail: `${LIBRARY_STEPS[step]?.[0] ?? 'making the case'}: ${oom ? `V8 heap over ${RSS_MB} MB` : `the worker died: ${e && e.message}`}`, replace: true });
      };
      const onExit = () => finish({ outcome: 'unexpected', detail: `${LIBRARY_STEPS[step]?.[0] ?? '?'}: the worker exited`, replace: true });
      state.current = i;
      state.abort = (r) => finish({ ...r, replace: true });
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage({ i });
    });

  const ready = (w) => new Promise((resolve, reject) => {
    const on = (m) => {
      if (m.ready) {
        w.off('message', on);
        w.tid = m.tid;
        resolve();
      }
    };
    w.on('message', on);
    w.once('error', reject);
  });

  const lanes = [];
  const lane = async (queue, rssLimit) => {
    let w = spawnWorker();
    await ready(w);
    const state = { current: undefined, abort: undefined };
    lanes.push(state);
    try {
      for (;;) {
        const i = queue();
        if (i === undefined) return;
        const r = await runOn(w, i, state);
        if (r.outcome === 'rss') solo.push(i);
        else await record(i, r.outcome, r.detail, r.what);
        if (r.replace) {
          void w.terminate();
          w = spawnWorker();
          await ready(w);
        }
      }
    } finally {
      lanes.splice(lanes.indexOf(state), 1);
      await w.terminate();
    }
  };

  // RSS sampling: over the limit, every case in flight is set aside to be run alone
  let limit = RSS_MB;
  let alone = false;
  const poll = setInterval(() => {
    const mb = rssMbOfProcess();
    if (lanes.some((l) => l.current !== undefined)) maxPeak = Math.max(maxPeak, mb);
    if (mb <= limit) return;
    for (const l of [...lanes]) {
      if (l.current === undefined) continue;
      if (alone) l.abort({ outcome: 'memory', detail: `RSS over ${RSS_MB} MB above the idle process` });
      else l.abort({ outcome: 'rss' });
    }
  }, 25);
  try {
    const base = rssMbOfProcess();
    limit = base + RSS_MB;
    await Promise.all(Array.from({ length: JOBS }, () => lane(() => (next < last ? next++ : undefined))));
    if (solo.length) {
      alone = true;
      solo.sort((a, b) => a - b);
      global.gc?.();
      limit = rssMbOfProcess() + RSS_MB;
      await lane(() => solo.shift());
    }
  } finally {
    clearInterval(poll);
    rmSync(dir, { recursive: true, force: true });
  }
  process.stderr.write(`fuzz: wall time per step, all cases: ${LIBRARY_STEPS.map(([name], k) => `${name} ${((stepTime[k] ?? 0) / 1000).toFixed(0)} s`).join(', ')}\n`);
  return maxPeak;
}

const { isMainThread } = await import('node:worker_threads');
if (!isMainThread) {
  await libraryWorker();
} else if (argv.includes('--child')) {
  await child();
} else {
  await parent();
}

async function parent() {
  const counts = { ok: 0, expected: 0, unexpected: 0, hang: 0, memory: 0 };
  const bad = [];
  // --from K: cases K to K+N-1 (a long campaign split over several runs gives the same cases)
  const first = ONLY !== undefined ? Number(ONLY) : FROM;
  const last = ONLY !== undefined ? first + 1 : FROM + CASES;
  let done = 0;
  const started = Date.now();

  const record = async (i, outcome, detail, what) => {
    if (what === undefined) what = (await makeCase(i)).what;
    counts[outcome]++;
    done++;
    if (outcome !== 'ok' && outcome !== 'expected') {
      bad.push({ i, outcome, detail, what });
      process.stdout.write(`case ${i} (${what}): ${outcome}: ${detail}\n`);
      if (KEEP) {
        mkdirSync(KEEP, { recursive: true });
        const c = await makeCase(i);
        writeFileSync(join(KEEP, `case-${i}-${c.name}`), c.bytes);
      }
    }
    if (done % PROGRESS === 0) process.stderr.write(`fuzz: ${done}/${last - first} cases, ${JSON.stringify(counts)}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  };

  const maxPeak = MODE === 'cli' ? await cliParent(first, last, record) : await libraryParent(first, last, record);
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `fuzz: ${done} cases (${first}-${last - 1}, ${MODE} mode, seed ${SEED}, ${JOBS} jobs) in ${secs} s: ${counts.ok} ok, ${counts.expected} expected errors, ${counts.unexpected} unexpected, ${counts.hang} hangs, ${counts.memory} over ${RSS_MB} MB; peak RSS ${Math.round(maxPeak)} MB\n`,
  );
  if (KEEP && bad.length) writeFileSync(join(KEEP, 'README.txt'), bad.map((b) => `case ${b.i}: ${b.what}: ${b.outcome}: ${b.detail}\n  reproduce: npm run fuzz -- --mode ${MODE} --seed ${SEED} --case ${b.i}\n`).join(''));
  process.exit(bad.length ? 1 : 0);
}

async function cliParent(first, last, record) {
  let next = first;
  let maxPeak = 0;
  const lane = async () => {
    for (;;) {
      if (next >= last) return;
      // one child runs cases until one of them hangs or blows up (then a new child goes on)
      const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', ...argv], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, NO_COLOR: '1' } });
      await new Promise((resolve) => {
        let current;
        let killedFor;
        let cmd = -1;
        const watch = stepWatch(`/proc/${proc.pid}/stat`, (why) => {
          if (!killedFor) {
            killedFor = 'hang';
            hangWhy = why;
            proc.kill('SIGKILL');
          }
        });
        let hangWhy;
        const poll = setInterval(() => {
          const mb = rssMb(proc.pid);
          if (current !== undefined) maxPeak = Math.max(maxPeak, mb);
          if (mb > RSS_MB && current !== undefined && !killedFor) {
            killedFor = 'memory';
            proc.kill('SIGKILL');
          }
        }, 50);
        const give = () => {
          if (next >= last) {
            current = undefined;
            proc.send({ exit: true });
            return;
          }
          current = next++;
          proc.send({ i: current });
        };
        proc.on('message', async (m) => {
          if (m.ready) return give();
          if (m.start !== undefined) {
            cmd = m.start;
            watch.start();
            return;
          }
          if (m.done) {
            watch.stop();
            const k = m.results.findIndex((x) => x != null);
            const i = current;
            current = undefined;
            await record(i, k === -1 ? (m.expected.some(Boolean) ? 'expected' : 'ok') : 'unexpected', k === -1 ? '' : `${m.cmds[k].join(' ')}: ${m.results[k]}`, m.what);
            give();
          }
        });
        proc.on('exit', async () => {
          clearInterval(poll);
          watch.stop();
          if (current !== undefined) {
            const c = await makeCase(current);
            const cmds = commands('FILE', c.member);
            await record(current, killedFor ?? 'unexpected', `${(cmds[cmd] ?? ['?']).join(' ')}: ${killedFor ? `${killedFor === 'hang' ? hangWhy : `over ${RSS_MB} MB`}` : 'the child died'}`, c.what);
          }
          resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: JOBS }, lane));
  return maxPeak;
}
