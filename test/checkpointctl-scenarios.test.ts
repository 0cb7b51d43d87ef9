/**
 * checkpointctl's own test scenarios (test/checkpointctl.bats in checkpoint-restore/checkpointctl,
 * 90 tests), ported to ckpt in our own words: each scenario keeps its archive (built here, member by
 * member, from testdata/piggie/piggie.tar: a real Podman checkpoint of ckpt-piggie.c, our stand-in
 * for checkpointctl's test program), its command and its facts (read from testdata/piggie/facts.json
 * and the fixture's own metadata), not checkpointctl's wording. Where ckpt answers differently on
 * purpose (exit 2 for usage errors, exit 4 with a warning for a missing or damaged part, "unknown"
 * engine instead of a guess, plugin descriptions read instead of run) the test says so and
 * docs/cli.md explains it. The diff scenarios that need two different checkpoints use
 * testdata/diff (one container checkpointed twice).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ckpt, fixture, ROOT } from './helpers.js';

interface PiggieFacts {
  pid: number;
  comm: string;
  tcp_server: number;
  tcp_client: number;
  zombie: number;
  port: number;
  marker: string;
  env: Record<string, string>;
  container: { name: string; id: string };
}
const facts = JSON.parse(readFileSync(fixture('piggie', 'facts.json'), 'utf8')) as PiggieFacts;

let src: string; // the fixture, extracted
let crio: string; // a real CRI-O archive, extracted (its config.dump and spec.dump)
const tmp = () => mkdtempSync(join(tmpdir(), 'ckpt-bats-'));

beforeAll(() => {
  src = tmp();
  expect(spawnSync('tar', ['-xf', fixture('piggie', 'piggie.tar'), '-C', src]).status).toBe(0);
  crio = tmp();
  expect(spawnSync('tar', ['-xf', fixture('engines', 'crio-net.tar'), '-C', crio]).status).toBe(0);
});

/** The checkpoint images of the fixture whose names match. */
function images(...patterns: RegExp[]): string[] {
  return readdirSync(join(src, 'checkpoint')).filter((n) => patterns.some((p) => p.test(n)));
}
const PSTREE = /^pstree\.img$/;
const CORE = /^core-\d+\.img$/;
const PAGEMAP = /^pagemap-\d+\.img$/;
const PAGES = /^pages-\d+\.img$/;
const MM = /^mm-\d+\.img$/;
const FILES = /^files\.img$/;
const FS = /^fs-\d+\.img$/;
const IDS = /^ids-\d+\.img$/;
const FDINFO = /^fdinfo-\d+\.img$/;

interface Layout {
  config?: string | null; // file contents, or null: the fixture's; undefined: absent
  spec?: string | null;
  stats?: string | null;
  network?: string;
  status?: string;
  rootfsDiff?: boolean;
  checkpointDir?: boolean;
  images?: RegExp[];
}

/** Builds an archive like the scenario's: metadata files and a checkpoint/ directory with some images. */
function archive(l: Layout, options: { name?: string; dir?: string; gzip?: boolean } = {}): string {
  const d = tmp();
  const put = (name: string, v: string | null | undefined, from: string) => {
    if (v === undefined) return;
    if (v === null) copyFileSync(join(src, from), join(d, name));
    else writeFileSync(join(d, name), v);
  };
  put('config.dump', l.config, 'config.dump');
  put('spec.dump', l.spec, 'spec.dump');
  put('stats-dump', l.stats, 'stats-dump');
  if (l.network !== undefined) writeFileSync(join(d, 'network.status'), l.network);
  if (l.status !== undefined) writeFileSync(join(d, 'status'), l.status);
  if (l.checkpointDir !== false) {
    mkdirSync(join(d, 'checkpoint'));
    for (const n of images(...(l.images ?? []))) copyFileSync(join(src, 'checkpoint', n), join(d, 'checkpoint', n));
  }
  if (l.rootfsDiff) {
    writeFileSync(join(d, 'test.pid'), '1\n');
    expect(spawnSync('tar', ['-cf', join(d, 'rootfs-diff.tar'), '-C', d, 'test.pid']).status).toBe(0);
  }
  const outDir = options.dir ?? tmp();
  const out = join(outDir, options.name ?? (options.gzip ? 'test.tar.gz' : 'test.tar'));
  expect(spawnSync('tar', [options.gzip ? '-czf' : '-cf', out, '-C', d, '.']).status).toBe(0);
  return out;
}

const PODMAN: Layout = { config: null, spec: null };
const crioSpec = () => readFileSync(join(crio, 'spec.dump'), 'utf8');
const crioConfig = () => readFileSync(join(crio, 'config.dump'), 'utf8');
const specOf = () => JSON.parse(readFileSync(join(src, 'spec.dump'), 'utf8')) as { mounts: { destination: string }[]; hostname: string };

/** Podman's network.status (netavark): written here, the lab runs containers without a network. */
const NETWORK = JSON.stringify({ podman: { name: 'podman', interfaces: { eth0: { subnets: [{ ipnet: '10.88.0.9/16', gateway: '10.88.0.1' }], mac_address: 'f2:99:8d:fb:5a:57' } } } });
const NETWORK_MULTI = JSON.stringify({
  net1: { interfaces: { eth0: { subnets: [{ ipnet: '10.89.0.2/24', gateway: '10.89.0.1' }], mac_address: '32:ba:b8:45:bc:84' } } },
  net2: { interfaces: { eth1: { subnets: [{ ipnet: '10.89.1.2/24', gateway: '10.89.1.1' }], mac_address: '5e:b7:fe:ee:e0:d8' } } },
});

/** A partial result: exit 4, and a warning line naming `member`. */
function partial(r: { code: number; stderr: string }, member: RegExp): void {
  expect(r.code, r.stderr).toBe(4);
  expect(r.stderr).toMatch(new RegExp(`^ckpt: warning: [^\\n]*${member.source}`, 'm'));
}
function failure(r: { code: number; stderr: string }, code: number, what: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr.trimEnd().split('\n')[0]).toMatch(what);
}
function ok(r: { code: number; stderr: string }): void {
  expect(r.code, r.stderr).toBe(0);
}
const json = (r: { stdout: string }) => JSON.parse(r.stdout) as Record<string, unknown>[];

describe('checkpointctl scenarios: the command line', () => {
  it('1 no command: the help, exit 0', () => {
    const r = ckpt([]);
    ok(r);
    expect(r.stdout).toContain('ckpt <command>');
  });
  it('2 a wrong option is named (exit 2: a usage error)', () => {
    failure(ckpt(['--wrong-parameter']), 2, /unknown option: --wrong-parameter/);
  });
});

describe('checkpointctl scenarios: show', () => {
  it('3 a path that does not exist', () => failure(ckpt(['show', '/does-not-exist']), 1, /\/does-not-exist: no such file/));
  it('4 an empty tar file', () => {
    const f = join(tmp(), 'empty.tar');
    writeFileSync(f, '');
    failure(ckpt(['show', f]), 1, /empty\.tar/);
  });
  it('5 an empty config.dump is named (partial: no spec.dump either)', () => {
    const r = ckpt(['show', archive({ config: '' })]);
    partial(r, /config\.dump/);
    expect(r.stderr).toMatch(/spec\.dump/);
  });
  it('6 no spec.dump is named', () => partial(ckpt(['show', archive({ config: null })]), /spec\.dump: .*no OCI spec/));
  it('7 an empty spec.dump is named', () => partial(ckpt(['show', archive({ config: null, spec: '' })]), /spec\.dump: not valid JSON/));
  it('8 no checkpoint directory', () => failure(ckpt(['show', archive({ ...PODMAN, checkpointDir: false })]), 1, /no checkpoint\/ directory/));
  it('9 metadata and an empty checkpoint directory: Podman', () => {
    const r = ckpt(['show', archive(PODMAN)]);
    ok(r);
    expect(r.stdout).toMatch(/│ Podman /);
    expect(r.stdout).toContain(facts.container.name);
  });
  it('10 a spec.dump without annotations: the engine cannot be known (checkpointctl guesses containerd)', () => {
    const r = ckpt(['show', archive({ config: null, spec: '{}' })]);
    ok(r);
    expect(r.stdout).toMatch(/│ unknown /);
    expect(r.stdout).not.toMatch(/Podman/);
  });
  it('11 CRI-O metadata without a checkpoint directory', () => failure(ckpt(['show', archive({ config: null, spec: crioSpec(), checkpointDir: false })]), 1, /no checkpoint\/ directory/));
  it('12 CRI-O metadata and a checkpoint directory: CRI-O', () => {
    const r = ckpt(['show', archive({ config: null, spec: crioSpec() })]);
    ok(r);
    expect(r.stdout).toMatch(/│ CRI-O /);
  });
  it('13 a gzip-compressed archive', () => {
    const r = ckpt(['show', archive(PODMAN, { gzip: true })]);
    ok(r);
    expect(r.stdout).toMatch(/│ Podman /);
  });
  it('14 a corrupted tar header', () => {
    const f = archive(PODMAN);
    const b = readFileSync(f);
    b.fill(0xa5, 2, 12);
    writeFileSync(f, b);
    failure(ckpt(['show', f]), 1, /test\.tar/);
  });
  it('15 a corrupted gzip archive', () => {
    const f = archive(PODMAN, { gzip: true });
    const b = readFileSync(f);
    b.fill(0xa5, 2, 12);
    writeFileSync(f, b);
    failure(ckpt(['show', f]), 1, /test\.tar\.gz/);
  });
  it('16 a root file-system diff: its size column', () => {
    const r = ckpt(['show', archive({ ...PODMAN, rootfsDiff: true })]);
    ok(r);
    expect(r.stdout).toContain('ROOT FS DIFF SIZE');
  });
  it('17 several archives: one row each, with the file', () => {
    const dir = tmp();
    const a = archive(PODMAN, { dir, name: 'test1.tar' });
    const b = archive(PODMAN, { dir, name: 'test2.tar' });
    const r = ckpt(['show', a, b]);
    ok(r);
    const rows = r.stdout.split('\n').filter((l) => /│ Podman /.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('test1.tar');
    expect(rows[1]).toContain('test2.tar');
  });
});

describe('checkpointctl scenarios: inspect', () => {
  it('18 an invalid --format is a usage error naming it (exit 2)', () => failure(ckpt(['inspect', archive({ config: '' }), '--format=invalid']), 2, /format/));
  it('19 an empty config.dump is named', () => partial(ckpt(['inspect', archive({ config: '' })]), /config\.dump: not valid JSON/));
  it('20 no spec.dump is named', () => partial(ckpt(['inspect', archive({ config: null })]), /spec\.dump/));
  it('21 an empty spec.dump is named', () => partial(ckpt(['inspect', archive({ config: null, spec: '' })]), /spec\.dump: not valid JSON/));
  it('22 --stats without stats-dump says so', () => partial(ckpt(['inspect', archive(PODMAN), '--stats']), /stats-dump: no CRIU dump statistics/));
  it('23 --stats with a stats-dump that is no CRIU image names it', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, stats: readFileSync(join(src, 'spec.dump'), 'utf8') }), '--stats']);
    partial(r, /stats-dump/);
    expect(r.stderr).toMatch(/magic/);
  });
  it('24 --stats: the dump statistics, with the memwrite time crit reads', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, stats: null }), '--stats']);
    ok(r);
    expect(r.stdout).toContain('CRIU dump statistics');
    const oracle = JSON.parse(readFileSync(fixture('piggie', 'oracle', 'stats-dump.json'), 'utf8')) as { entries: { dump: Record<string, number> }[] };
    const us = oracle.entries[0]!.dump.memwrite_time!;
    expect(us).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`Memwrite time: ${us < 1000 ? `${us} µs` : (us / 1000).toFixed(3)}`));
  });
  it('25 --mounts: the mounts of spec.dump', () => {
    const r = ckpt(['inspect', archive(PODMAN), '--mounts']);
    ok(r);
    expect(r.stdout).toContain('Overview of mounts');
    for (const m of specOf().mounts) expect(r.stdout).toContain(`Destination: ${m.destination}`);
  });
  it('26 --ps-tree: pid 1 is piggie', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE] }), '--ps-tree']);
    ok(r);
    expect(r.stdout).toContain('Process tree');
    expect(r.stdout).toMatch(new RegExp(`\\[${facts.pid}\\]\\s+${facts.comm}`));
  });
  it('27 --ps-tree without pstree.img says so', () => partial(ckpt(['inspect', archive(PODMAN), '--ps-tree']), /pstree\.img: no process tree/));
  const cmdImages = [PSTREE, CORE, PAGEMAP, PAGES, MM];
  it('28 --ps-tree-cmd: the command line from memory', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, images: cmdImages }), '--ps-tree-cmd']);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`\\[${facts.pid}\\]\\s+/${facts.comm}\\b`));
  });
  it.skipIf(process.getuid?.() !== 0)('29 --ps-tree-cmd as an unprivileged user (nobody)', () => {
    const dir = tmp();
    chmodSync(dir, 0o755);
    const f = archive({ ...PODMAN, images: cmdImages }, { dir });
    chmodSync(f, 0o644);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'ckpt.js'), 'inspect', f, '--ps-tree-cmd'], { encoding: 'utf8', uid: 65534, gid: 65534, cwd: '/' });
    expect(r.status, r.stderr || String(r.error)).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`\\[${facts.pid}\\]\\s+/${facts.comm}\\b`));
  });
  it('30 --ps-tree-cmd without the pages says so', () => partial(ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, MM] }), '--ps-tree-cmd']), /pages-\d+\.img/));
  it('31 --ps-tree-env: the environment from memory', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, images: cmdImages }), '--ps-tree-env']);
    ok(r);
    for (const [k, v] of Object.entries(facts.env)) expect(r.stdout).toContain(`${k}=${v}\n`);
  });
  it('32 --ps-tree-env without the pages says so', () => partial(ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, MM] }), '--ps-tree-env']), /pages-\d+\.img/));
  it('33 --files: fds, cwd and root; the zombie, the stopped and the live child', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE, FILES, FS, IDS, FDINFO] }), '--files']);
    ok(r);
    for (const s of ['[REG 0]', '[cwd]', '[root]', 'Open files', 'alive-child']) expect(r.stdout).toContain(s);
    expect(r.stdout).toMatch(new RegExp(`\\[${facts.zombie} \\(zombie[^\\]]*\\)\\]\\s+piggie-zombie`));
    expect(r.stdout).toMatch(/\(stopped[^\]]*\)\]\s+stopped-child/);
  });
  it('34 --files without files.img says so', () => partial(ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE] }), '--files']), /files\.img: no file table/));
  it('35 --sockets: the listening TCP socket', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE, FILES, IDS, FDINFO] }), '--sockets']);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`TCP \\(LISTEN\\)[^\\n]*:${facts.port}`));
  });
  it('36 --sockets without files.img says so', () => partial(ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE] }), '--sockets']), /files\.img/));
  it('37 --ps-tree --pid 1', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE] }), '--ps-tree', '--pid', String(facts.pid)]);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`\\[${facts.pid}\\]\\s+${facts.comm}`));
  });
  it('38 --ps-tree --pid 99999: no such process (exit 2: a usage error)', () => failure(ckpt(['inspect', archive({ ...PODMAN, images: [PSTREE, CORE] }), '--ps-tree', '--pid', '99999']), 2, /no process with pid 99999/));
  it('39 --all', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, stats: null, images: [PSTREE, CORE, FILES, FS, IDS, FDINFO, PAGEMAP, PAGES, MM] }), '--all']);
    ok(r);
    for (const s of ['CRIU dump statistics', 'Memwrite time', '[REG 0]', '[cwd]', '[root]', 'Metadata', 'Process tree', facts.comm, 'Overview of mounts', 'Destination', '/proc', '/etc/hostname']) expect(r.stdout).toContain(s);
  });
  it('40 no checkpoint directory', () => failure(ckpt(['inspect', archive({ ...PODMAN, checkpointDir: false })]), 1, /no checkpoint\/ directory/));
  it('41 metadata and an empty checkpoint directory: Podman', () => {
    const r = ckpt(['inspect', archive(PODMAN)]);
    ok(r);
    expect(r.stdout).toContain('Engine: Podman');
  });
  it('42 network.status: network, interface, address with prefix, MAC, gateway', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, network: NETWORK })]);
    ok(r);
    for (const s of ['Engine: Podman', 'Network Interfaces', 'podman (eth0)', 'IP: 10.88.0.9/16', 'MAC: f2:99:8d:fb:5a:57', 'Gateway: 10.88.0.1']) expect(r.stdout).toContain(s);
  });
  it('43 network.status as JSON', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, network: NETWORK }), '--format=json']);
    ok(r);
    const j = json(r)[0]!;
    expect(j.ip).toBe('10.88.0.9');
    expect(j.mac).toBe('f2:99:8d:fb:5a:57');
    expect(j.networks).toEqual([{ name: 'podman', interfaces: { eth0: { ip: '10.88.0.9/16', mac: 'f2:99:8d:fb:5a:57', gateway: '10.88.0.1' } } }]);
  });
  it('44 two networks', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, network: NETWORK_MULTI })]);
    ok(r);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes('Network Interfaces'));
    expect(lines[at + 1]).toContain('net1 (eth0)');
    for (const s of ['net2 (eth1)', 'IP: 10.89.0.2/24', 'IP: 10.89.1.2/24', 'MAC: 32:ba:b8:45:bc:84', 'MAC: 5e:b7:fe:ee:e0:d8', 'Gateway: 10.89.0.1', 'Gateway: 10.89.1.1']) expect(r.stdout).toContain(s);
  });
  it('45 two networks as JSON: ip and mac joined', () => {
    const j = json(ckpt(['inspect', archive({ ...PODMAN, network: NETWORK_MULTI }), '--format=json']))[0]!;
    expect(j.ip).toBe('10.89.0.2, 10.89.1.2');
    expect(j.mac).toBe('32:ba:b8:45:bc:84, 5e:b7:fe:ee:e0:d8');
  });
  it('46 a broken network.status is one warning; the rest is shown', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, network: 'not-valid-json\n' })]);
    partial(r, /network\.status/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('Engine: Podman');
  });
  it('47 containerd (its status file)', () => {
    const r = ckpt(['inspect', archive({ config: null, spec: '{}', status: '{}\n' })]);
    ok(r);
    expect(r.stdout).toContain('Engine: containerd');
  });
  it('48 CRI-O with only a checkpoint time in config.dump', () => {
    const r = ckpt(['inspect', archive({ config: '{"checkpointedTime": "2024-02-09T11:01:26.186815191Z"}', spec: crioSpec() })]);
    ok(r);
    expect(r.stdout).toContain('Checkpointed: 2024-02-09');
    expect(r.stdout).toContain('Engine: CRI-O');
  });
  it('49 a root file-system diff: its size', () => {
    const r = ckpt(['inspect', archive({ ...PODMAN, rootfsDiff: true })]);
    ok(r);
    expect(r.stdout).toContain('Root FS diff size');
  });
  it('50 several archives', () => {
    const dir = tmp();
    const r = ckpt(['inspect', archive(PODMAN, { dir, name: 'test1.tar' }), archive(PODMAN, { dir, name: 'test2.tar' })]);
    ok(r);
    expect(r.stdout.match(/Engine: Podman/g)).toHaveLength(2);
  });
});

describe('checkpointctl scenarios: memparse', () => {
  it('51 the table needs no pages', () => {
    const r = ckpt(['memparse', archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, MM] })]);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`│ ${facts.pid}\\s+│ ${facts.comm}\\s+│`));
  });
  it('52 without pstree.img: what the images give, and a warning', () => {
    const r = ckpt(['memparse', archive({ ...PODMAN, images: [CORE, PAGEMAP, MM] })]);
    partial(r, /pstree\.img/);
    expect(r.stdout).toMatch(new RegExp(`│ ${facts.pid}\\s+│ ${facts.comm}\\s+│`));
  });
  it('53 --pid=1: a hexdump (address, hex bytes, ASCII)', () => {
    const r = ckpt(['memparse', archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, PAGES, MM] }), `--pid=${facts.pid}`]);
    ok(r);
    expect(r.stdout).toMatch(/^[0-9a-f]{16}  ([0-9a-f]{2} {1,2}){16}\s*\|.{16}\|$/m);
  });
  const noMm = () => archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, PAGES] });
  it('54 --search with an unknown pid (exit 2: a usage error)', () => failure(ckpt(['memparse', '--search=PATH', noMm(), '--pid=999']), 2, /no process with pid 999/));
  it('55 --context=-1 is a usage error naming it', () => failure(ckpt(['memparse', '--search=PATH', '--context=-1', noMm(), '--pid=1']), 2, /--context/));
  it('56 no match, said so (and that the regions are unlabelled: no mm-1.img)', () => {
    const r = ckpt(['memparse', '--search=NON_EXISTING_PATTERN', noMm(), '--pid=1']);
    partial(r, /mm-1\.img/);
    expect(r.stdout).toContain('No matches');
  });
  it('57 --search=PATH --context=10 finds PATH without mm-1.img', () => {
    const r = ckpt(['memparse', '--search=PATH', '--context=10', noMm(), '--pid=1']);
    partial(r, /mm-1\.img/);
    expect(r.stdout).toMatch(/PATH/);
    expect(r.stdout).toMatch(/unknown/);
  });
  it('58 --search-regex finds HOME= without mm-1.img', () => {
    const r = ckpt(['memparse', '--search-regex=HOME=([^?]+)', noMm(), '--pid=1']);
    partial(r, /mm-1\.img/);
    expect(r.stdout.split('\n')[1]).toMatch(/HOME=/);
  });
  it('59 --pid=9999: no such process (exit 2: a usage error)', () => failure(ckpt(['memparse', archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, PAGES, MM] }), '--pid=9999']), 2, /no process with pid 9999/));
});

describe('checkpointctl scenarios: inspect --format json', () => {
  it('60 engine, process tree, environment, sockets', () => {
    const f = archive({ ...PODMAN, stats: null, images: [/\.img$/] });
    expect(json(ckpt(['inspect', f, '--format=json']))[0]!.engine).toBe('Podman');
    const tree = json(ckpt(['inspect', f, '--format=json', '--ps-tree']))[0]!.process_tree as { command: string; children: { pid: number; command: string }[] };
    expect(tree.command).toBe(facts.comm);
    expect(tree.children.find((c) => c.pid === facts.tcp_server)?.command).toBe('tcp-server');
    expect(tree.children.find((c) => c.pid === facts.tcp_client)?.command).toBe('tcp-client');
    expect(tree.children[0]!.command).toBe('tcp-server');
    expect(tree.children[1]!.command).toBe('tcp-client');
    const all = json(ckpt(['inspect', f, '--format=json', '--all']))[0]!.process_tree as { environment_variables: Record<string, string> };
    expect(all.environment_variables.TEST_ENV).toBe(facts.env.TEST_ENV);
    expect(all.environment_variables.TEST_ENV_EMPTY).toBe('');
    const sockets = json(ckpt(['inspect', f, '--format=json', '--sockets']))[0]!.sockets as { pid: number; open_sockets: { protocol: string; data: { src_port: number } }[] }[];
    expect(sockets[0]!.pid).toBe(facts.tcp_server);
    expect(sockets[0]!.open_sockets[0]!.protocol).toBe('TCP');
    expect(sockets[0]!.open_sockets[0]!.data.src_port).toBe(facts.port);
  });
});

describe('checkpointctl scenarios: list', () => {
  it('61 an empty directory', () => {
    const r = ckpt(['list', tmp()]);
    ok(r);
    expect(r.stdout).toContain('No checkpoints found');
  });
  it('62 a directory that does not exist is named (exit 1; checkpointctl reports no checkpoints)', () => failure(ckpt(['list', '/does-not-exist']), 1, /\/does-not-exist: no such directory/));
  it('63 an empty archive: one error line naming it, the run exits 1', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'checkpoint-nginx-empty.tar'), '');
    failure(ckpt(['list', dir]), 1, /checkpoint-nginx-empty\.tar/);
  });
  it('64 an empty config.dump is named', () => {
    const dir = tmp();
    const r = ckpt(['list', archive({ config: '', spec: crioSpec() }, { dir, name: 'checkpoint-config.tar' }).replace(/\/[^/]+$/, '')]);
    partial(r, /checkpoint-config\.tar:config\.dump: not valid JSON/);
  });
  it('65 an empty spec.dump is named', () => {
    const dir = tmp();
    archive({ config: crioConfig(), spec: '' }, { dir, name: 'checkpoint-config.tar' });
    partial(ckpt(['list', dir]), /checkpoint-config\.tar:spec\.dump: not valid JSON/);
  });
  it('66 two CRI-O archives: namespace, pod, container, engine, file', () => {
    const dir = tmp();
    const spec = JSON.parse(crioSpec()) as { annotations: Record<string, string> };
    const pod = spec.annotations['io.kubernetes.pod.name']!;
    const ns = spec.annotations['io.kubernetes.pod.namespace']!;
    archive({ config: crioConfig(), spec: crioSpec() }, { dir, name: 'checkpoint-valid-config.tar' });
    spec.annotations['io.kubernetes.pod.name'] = 'modified-pod-name';
    archive({ config: crioConfig(), spec: JSON.stringify(spec) }, { dir, name: 'checkpoint-valid-config-modified.tar' });
    const r = ckpt(['list', dir]);
    ok(r);
    const rows = r.stdout.split('\n').filter((l) => l.includes('CRI-O'));
    expect(rows).toHaveLength(2);
    const modified = rows.find((l) => l.includes('checkpoint-valid-config-modified.tar'))!;
    const plain = rows.find((l) => l.includes('checkpoint-valid-config.tar'))!;
    expect(modified).toContain('modified-pod-name');
    expect(modified).toContain(ns);
    expect(plain).toContain(pod);
    expect(plain).toContain(ns);
  });
});

describe('checkpointctl scenarios: diff', () => {
  const pair = () => [fixture('diff', 'a.tar'), fixture('diff', 'b.tar')];
  const diffFacts = () => JSON.parse(readFileSync(fixture('diff', 'facts.json'), 'utf8')) as { container: { name: string; id: string; image: string }; a: { doomed: number; listen_port: number }; b: { newchild: number; client_port: number } };
  const twin = (l: Layout, gzip = false) => {
    const dir = tmp();
    return [archive(l, { dir, name: gzip ? 'test1.tar.gz' : 'test1.tar', gzip }), archive(l, { dir, name: gzip ? 'test2.tar.gz' : 'test2.tar', gzip })];
  };
  it('67 no arguments: a usage error (exit 2)', () => failure(ckpt(['diff']), 2, /missing argument|needs at least 2/));
  it('68 one argument: a usage error (exit 2)', () => failure(ckpt(['diff', archive(PODMAN)]), 2, /missing argument|needs at least 2/));
  it('69 checkpoints that do not exist are named', () => failure(ckpt(['diff', '/does-not-exist1.tar', '/does-not-exist2.tar']), 1, /\/does-not-exist1\.tar: no such file/));
  it('70 an invalid --format is a usage error naming it (exit 2)', () => failure(ckpt(['diff', ...twin(PODMAN), '--format=invalid']), 2, /--format/));
  it('71 two identical checkpoints: no change in memory and processes', () => {
    const r = ckpt(['diff', ...twin(PODMAN)]);
    ok(r);
    for (const s of ['Checkpoint Diff', 'Memory Changes', 'Process Tree']) expect(r.stdout).toContain(s);
    expect(r.stdout.match(/No change/g)!.length).toBeGreaterThanOrEqual(2);
  });
  it('72 two identical checkpoints as JSON', () => {
    const r = ckpt(['diff', ...twin(PODMAN), '--format=json']);
    ok(r);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(j.container_id).toBe(facts.container.id);
    expect((j.memory_changes as { size_change_bytes: number }).size_change_bytes).toBe(0);
  });
  it('73 checkpoints whose metadata differ', () => {
    const dir = tmp();
    const spec = JSON.parse(readFileSync(join(src, 'spec.dump'), 'utf8')) as { annotations: Record<string, string> };
    const a = archive({ ...PODMAN, images: [PSTREE, CORE] }, { dir, name: 'test1.tar' });
    spec.annotations['io.container.manager'] = 'different-runtime';
    const b = archive({ config: null, spec: JSON.stringify(spec), images: [PSTREE, CORE] }, { dir, name: 'test2.tar' });
    ok(ckpt(['diff', a, b]));
  });
  it('74 --ps-tree-cmd', () => {
    const r = ckpt(['diff', ...twin({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, PAGES, MM] }), '--ps-tree-cmd']);
    ok(r);
    expect(r.stdout).toContain('Process Tree');
  });
  it('75 --files', () => {
    const r = ckpt(['diff', ...twin({ ...PODMAN, images: [PSTREE, CORE, FILES, FS, IDS, FDINFO] }), '--files']);
    ok(r);
    expect(r.stdout).toContain('File Descriptor Changes');
  });
  it('76 --show-unchanged: unchanged, added and removed processes (testdata/diff pair)', () => {
    const f = diffFacts();
    const r = ckpt(['diff', ...pair(), '--show-unchanged']);
    ok(r);
    expect(r.stdout).toContain('Process Tree');
    expect(r.stdout).toMatch(/= PID/);
    expect(r.stdout).toMatch(new RegExp(`\\+ PID ${f.b.newchild}\\b`));
    expect(r.stdout).toContain('Removed:');
  });
  it('77 --sockets: added, removed and unchanged sockets', () => {
    const f = diffFacts();
    const r = ckpt(['diff', ...pair(), '--sockets', '--show-unchanged']);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`\\+[^\\n]*TCP[^\\n]*ESTABLISHED[^\\n]*127\\.0\\.0\\.1:${f.b.client_port}`));
    expect(r.stdout).toMatch(new RegExp(`-[^\\n]*TCP[^\\n]*LISTEN[^\\n]*:${f.a.listen_port}`));
    expect(r.stdout).toMatch(new RegExp(`=[^\\n]*TCP[^\\n]*LISTEN[^\\n]*:${f.a.listen_port}`));
  });
  it('78 --sockets as JSON: the same changes', () => {
    const f = diffFacts();
    const r = ckpt(['diff', '--sockets', '--show-unchanged', '--format=json', ...pair()]);
    ok(r);
    const s = (JSON.parse(r.stdout) as { socket_changes: Record<'added' | 'removed' | 'unchanged', { protocol: string; state: string; src_port: number; dst_port: number }[]> }).socket_changes;
    expect(s.added.filter((x) => x.protocol === 'TCP' && x.state === 'ESTABLISHED').map((x) => x.src_port)).toContain(f.b.client_port);
    expect(s.removed.some((x) => x.protocol === 'TCP' && x.state === 'LISTEN' && x.src_port === f.a.listen_port)).toBe(true);
    expect(s.unchanged.some((x) => x.state === 'LISTEN' && x.src_port === f.a.listen_port)).toBe(true);
  });
  it('79 --files and --sockets', () => {
    const r = ckpt(['diff', ...pair(), '--files', '--sockets']);
    ok(r);
    expect(r.stdout).toContain('File Descriptor Changes');
    expect(r.stdout).toContain('Socket Changes');
  });
  it('80 the JSON shape', () => {
    const j = JSON.parse(ckpt(['diff', ...twin(PODMAN), '--format=json']).stdout) as Record<string, unknown>;
    for (const k of ['container_id', 'container_name', 'checkpoint_a', 'checkpoint_b', 'memory_changes']) expect(j[k], k).not.toBeNull();
    expect((j.memory_changes as { size_change_bytes: number }).size_change_bytes).toBe(0);
    expect(j.summary).not.toBe('');
  });
  it('81 gzip-compressed checkpoints', () => {
    const r = ckpt(['diff', ...twin(PODMAN, true)]);
    ok(r);
    expect(r.stdout).toContain('Checkpoint Diff');
  });
  it('82 the sections of the output', () => {
    const r = ckpt(['diff', ...twin(PODMAN)]);
    ok(r);
    for (const s of ['Checkpoint Diff', 'Container:', 'Image:', 'Checkpoint A:', 'Checkpoint B:', 'Memory Changes', 'Process Tree', 'Summary']) expect(r.stdout).toContain(s);
  });
});

describe('checkpointctl scenarios: plugins', () => {
  /** A directory holding executable scripts. */
  function plugins(scripts: Record<string, string>, mode = 0o755): string {
    const d = tmp();
    for (const [name, body] of Object.entries(scripts)) {
      writeFileSync(join(d, name), body);
      chmodSync(join(d, name), mode);
    }
    return d;
  }
  const withPath = (dirs: string[], all = true) => ({ PATH: [...dirs, ...(all ? [process.env.PATH ?? ''] : [])].join(':') });
  it('83 none: said so', () => {
    const r = ckpt(['plugin', 'list'], withPath([tmp()], false));
    ok(r);
    expect(r.stdout).toContain('No plugins found');
  });
  it('84 a plugin is listed with its path, without being run', () => {
    const marker = join(tmp(), 'ran');
    const d = plugins({ 'ckpt-testplugin': `#!/bin/sh\ntouch ${marker}\necho test plugin running\n` });
    const r = ckpt(['plugin', 'list'], withPath([d]));
    ok(r);
    expect(r.stdout).toContain('testplugin');
    expect(r.stdout).toContain(join(d, 'ckpt-testplugin'));
    expect(r.stdout).toContain('(no description)');
    ok(ckpt(['--help'], withPath([d])));
    expect(existsSync(marker)).toBe(false);
  });
  it('85 ckpt NAME args… runs ckpt-NAME with the arguments, stdio passed through', () => {
    const d = plugins({ 'ckpt-hello': '#!/bin/sh\necho "Hello from plugin!"\necho "Args: $@"\nexit 7\n' });
    const r = ckpt(['hello', 'world', '--flag'], withPath([d]));
    expect(r.code).toBe(7);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['Hello from plugin!', 'Args: world --flag']);
  });
  it('86 a plugin cannot shadow a builtin command', () => {
    const d = plugins({ 'ckpt-show': '#!/bin/sh\necho "This should not run"\n' });
    const r = ckpt(['show', '/does-not-exist'], withPath([d]));
    failure(r, 1, /no such file/);
    expect(r.stdout).not.toContain('should not run');
  });
  it('87 a file that is not executable is not a plugin', () => {
    const d = plugins({ 'ckpt-nonexec': '#!/bin/sh\necho "should not appear"\n' }, 0o644);
    const r = ckpt(['plugin', 'list'], withPath([d]));
    ok(r);
    expect(r.stdout).not.toContain('nonexec');
  });
  it('88 the first on PATH wins', () => {
    const a = plugins({ 'ckpt-dupe': '#!/bin/sh\necho first\n' });
    const b = plugins({ 'ckpt-dupe': '#!/bin/sh\necho second\n' });
    const r = ckpt(['dupe'], withPath([a, b]));
    ok(r);
    expect(r.stdout.split('\n')[0]).toBe('first');
  });
  it('89 a description (read from the file, not by running it) in the list and in --help', () => {
    const marker = join(tmp(), 'ran');
    const d = plugins({ 'ckpt-described': `#!/bin/sh\n# ckpt-plugin-description: My custom plugin description\ntouch ${marker}\n` });
    const list = ckpt(['plugin', 'list'], withPath([d]));
    ok(list);
    expect(list.stdout).toMatch(/described\s.*My custom plugin description/);
    const help = ckpt(['--help'], withPath([d]));
    ok(help);
    expect(help.stdout).toContain('My custom plugin description');
    expect(existsSync(marker)).toBe(false);
  });
  it('90 without a description, --help names the file', () => {
    const d = plugins({ 'ckpt-nodesc': '#!/bin/sh\necho "Just a plugin"\n' });
    const help = ckpt(['--help'], withPath([d]));
    ok(help);
    expect(help.stdout).toContain('nodesc');
    expect(help.stdout).toContain(`Plugin provided by ${join(d, 'ckpt-nodesc')}`);
  });
  it('a plugin that is ckpt itself is refused (it would call itself without end)', () => {
    const d = tmp();
    symlinkSync(join(ROOT, 'bin', 'ckpt.js'), join(d, 'ckpt-again'));
    const r = ckpt(['again', 'show'], withPath([d]));
    failure(r, 1, /ckpt-again: is ckpt itself: refused/);
  });
  it('a plugin loop through a wrapper stops at a fixed depth', () => {
    const d = plugins({ 'ckpt-loop': `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'ckpt.js')}" loop\n` });
    const r = ckpt(['loop'], withPath([d]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/levels deep: refused/);
  });
});

describe('evidence safety: memparse --output', () => {
  const complete = () => archive({ ...PODMAN, images: [PSTREE, CORE, PAGEMAP, PAGES, MM] });
  const bytes = (f: string) => readFileSync(f);
  it('the input itself, or a symlink to it, is refused and left unchanged', () => {
    const f = complete();
    const before = bytes(f);
    failure(ckpt(['memparse', f, '--pid', '1', '--output', f]), 1, /is one of the inputs|input/);
    failure(ckpt(['memparse', f, '--pid', '1', '--output', f, '--force']), 1, /input/);
    const link = join(tmp(), 'link.tar');
    symlinkSync(f, link);
    failure(ckpt(['memparse', f, '--pid', '1', '--output', link, '--force']), 1, /input/);
    expect(bytes(f).equals(before)).toBe(true);
  });
  it('an existing file needs --force; a failed run leaves it as it was', () => {
    const f = complete();
    const notes = join(tmp(), 'notes.txt');
    writeFileSync(notes, 'my notes\n');
    failure(ckpt(['memparse', f, '--pid', '1', '--output', notes]), 1, /already exists/);
    failure(ckpt(['memparse', f, '--pid', '99', '--output', notes, '--force']), 2, /no process with pid 99/);
    expect(readFileSync(notes, 'utf8')).toBe('my notes\n');
    ok(ckpt(['memparse', f, '--pid', '1', '--output', notes, '--force']));
    expect(readFileSync(notes, 'utf8')).toContain('Memory of process 1');
    expect(readdirSync(join(notes, '..'))).toEqual(['notes.txt']);
  });
  it('a bad argument is found before any output is created', () => {
    const f = complete();
    const out = join(tmp(), 'out.txt');
    failure(ckpt(['memparse', f, '--pid', '99', '--output', out]), 2, /no process with pid 99/);
    failure(ckpt(['memparse', f, '-i', '--search-hex', 'ab', '--output', out]), 2, /--ignore-case/);
    expect(existsSync(out)).toBe(false);
    expect(statSync(f).size).toBeGreaterThan(0);
  });
});
