#!/usr/bin/env node
/**
 * `npm run fuzz -- --cases N --seed S [--jobs J] [--timeout-ms T] [--rss-mb M] [--keep DIR]`
 *
 * A mutation fuzzer for the whole tool. Each case takes a committed fixture (real CRIU
 * archives from testdata/), damages it in one way, and runs the CLI's commands on it in a child
 * process: `show`, `inspect --all`, `inspect --all --format json`, the memory table, a literal
 * and a regex search, the dump of one process, and `decode` of every image.
 *
 * Mutations: tar header fields (size, type, checksum, name) and PAX records (path, size);
 * truncation at any byte; bytes of a protobuf image flipped, its entry-length prefix or a varint
 * made huge; one image's bytes under another image's name (type confusion); pagemap entries with
 * huge or overlapping ranges; a pstree with a cycle, or a parent chain thousands deep, or 50,000
 * entries; hostile JSON in config.dump/spec.dump (nesting 100,000 deep, huge numbers, wrong
 * types, control characters); gzip and zstd archives cut short or with flipped bytes; a gzip
 * bomb member. All cases are made from the seed: the same seed gives the same cases.
 *
 * Outcome of a case: `ok` (every command exited 0, 1, 2 or 4 with one-line errors and no raw
 * control characters on stderr), `unexpected` (an internal error, exit 3, a stack trace, a
 * message that is not one line, or a control character from the input on stderr), `hang` (the
 * case ran over the time limit, default 5 s per command), `memory` (the child's RSS went over
 * the limit, default 500 MB). Cases run in child processes, at most `--jobs` at a time (default:
 * the number of CPUs). Exit status 1 when any case is not ok; with --keep, each such case's input
 * is saved there with a line to reproduce it.
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
const RSS_MB = Number(opt('rss-mb', '500'));
const KEEP = opt('keep', undefined);
const ONLY = opt('case', undefined);
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
    else entries = Array.from({ length: 50000 }, (_, i) => pstreeEntry(i + 1, i === 0 ? 0 : 1));
    return { bytes: writeTar(m.map((x) => (x === t ? { ...x, data: image(t.data, entries) } : x))), what: ['pstree cycle', 'pstree chain 5000 deep', 'pstree of 50,000'][shape] };
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
  gzipBomb(r, m) {
    // a member that is 1 GiB of zeros, in a gzip archive of about 1 MB
    const tar = writeTar(m);
    const end = tar.length - BLOCK * 2;
    const size = 1 << 30;
    const z = zlib.createGzip({ level: 9 });
    const parts = [];
    z.on('data', (c) => parts.push(c));
    z.write(tar.subarray(0, end));
    z.write(header(r.pick(['checkpoint/pages-1.img', 'checkpoint/core-1.img', 'config.dump', 'checkpoint/zz.img']), size));
    const zeros = Buffer.alloc(1 << 20);
    for (let i = 0; i < size / zeros.length; i++) z.write(zeros);
    z.end(Buffer.alloc(BLOCK * 2));
    return new Promise((res) => z.on('end', () => res({ bytes: Buffer.concat(parts), what: 'gzip bomb member (1 GiB of zeros)' })));
  },
};

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
  const kinds = Object.keys(MUTATIONS).filter((k) => k !== 'gzipBomb' || r.float() < 0.3);
  const kind = r.pick(kinds);
  const c = await MUTATIONS[kind](r, members, raw);
  let bytes = c.bytes;
  let what = `${base}: ${c.what}`;
  if (compress === 'gzip' && kind !== 'gzipBomb') {
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
      collect();
      if (verdict) break;
    }
    rmSync(file, { force: true });
    process.send({ done: true, i: m.i, what: c.what, member: c.member, name: c.name, results, cmds: cmds.map((a) => a.filter((x) => x !== file)) });
  });
  process.send({ ready: true });
  void realErr;
}

if (argv.includes('--child')) {
  await child();
} else {
  await parent();
}

async function parent() {
  const counts = { ok: 0, unexpected: 0, hang: 0, memory: 0 };
  const bad = [];
  const first = ONLY !== undefined ? Number(ONLY) : 0;
  const last = ONLY !== undefined ? first + 1 : CASES;
  let next = first;
  let done = 0;
  let maxPeak = 0;
  const started = Date.now();

  const record = async (i, outcome, detail, what) => {
    counts[outcome]++;
    done++;
    if (outcome !== 'ok') {
      bad.push({ i, outcome, detail, what });
      process.stdout.write(`case ${i} (${what}): ${outcome}: ${detail}\n`);
      if (KEEP) {
        mkdirSync(KEEP, { recursive: true });
        const c = await makeCase(i);
        writeFileSync(join(KEEP, `case-${i}-${c.name}`), c.bytes);
      }
    }
    if (done % 100 === 0) process.stderr.write(`fuzz: ${done}/${last - first} cases, ${JSON.stringify(counts)}\n`);
  };

  const lane = async () => {
    for (;;) {
      if (next >= last) return;
      // one child runs cases until one of them hangs or blows up (then a new child goes on)
      const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', ...argv], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, NO_COLOR: '1' } });
      await new Promise((resolve) => {
        let current;
        let timer;
        let killedFor;
        let cmd = -1;
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
            clearTimeout(timer);
            timer = setTimeout(() => {
              if (!killedFor) {
                killedFor = 'hang';
                proc.kill('SIGKILL');
              }
            }, TIMEOUT);
            return;
          }
          if (m.done) {
            clearTimeout(timer);
            const k = m.results.findIndex((x) => x != null);
            const i = current;
            current = undefined;
            await record(i, k === -1 ? 'ok' : 'unexpected', k === -1 ? '' : `${m.cmds[k].join(' ')}: ${m.results[k]}`, m.what);
            give();
          }
        });
        proc.on('exit', async () => {
          clearInterval(poll);
          clearTimeout(timer);
          if (current !== undefined) {
            const c = await makeCase(current);
            const cmds = commands('FILE', c.member);
            await record(current, killedFor ?? 'unexpected', `${(cmds[cmd] ?? ['?']).join(' ')}: ${killedFor ? `${killedFor === 'hang' ? `over ${TIMEOUT} ms` : `over ${RSS_MB} MB`}` : 'the child died'}`, c.what);
          }
          resolve();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: JOBS }, lane));
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `fuzz: ${done} cases (seed ${SEED}) in ${secs} s: ${counts.ok} ok, ${counts.unexpected} unexpected, ${counts.hang} hangs, ${counts.memory} over ${RSS_MB} MB; peak RSS ${Math.round(maxPeak)} MB\n`,
  );
  if (KEEP && bad.length) writeFileSync(join(KEEP, 'README.txt'), bad.map((b) => `case ${b.i}: ${b.what}: ${b.outcome}: ${b.detail}\n  reproduce: npm run fuzz -- --seed ${SEED} --case ${b.i}\n`).join(''));
  process.exit(bad.length ? 1 : 0);
}
