import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { openSource } from '../src/node/index.js';
import type { CheckpointSource, SourceEntry } from '../src/source/types.js';
import { openCheckpoint } from '../src/model/index.js';
import { inspectJson, inspectTree, type InspectOptions } from '../src/views/index.js';
import { collectInspectInput } from '../src/model/inspect-input.js';
import { fixture } from './helpers.js';
import { facts as factsOf } from './facts.js';

const ALL: InspectOptions = { psTree: true, psTreeCmd: true, psTreeEnv: true, files: true, sockets: true, mounts: true, stats: true, metadata: true };

interface Access {
  op: 'read' | 'readRange' | 'stream' | 'walk';
  path: string;
  offset?: number;
  length?: number;
}

/** A source that records every access to file contents. */
class RecordingSource implements CheckpointSource {
  readonly log: Access[] = [];
  constructor(private readonly inner: CheckpointSource) {}
  get label() {
    return this.inner.label;
  }
  get randomAccess() {
    return this.inner.randomAccess;
  }
  entries() {
    return this.inner.entries();
  }
  read(path: string) {
    this.log.push({ op: 'read', path });
    return this.inner.read(path);
  }
  readRange(path: string, offset: number, length: number) {
    this.log.push({ op: 'readRange', path, offset, length });
    return this.inner.readRange(path, offset, length);
  }
  stream(path: string) {
    this.log.push({ op: 'stream', path });
    return this.inner.stream(path);
  }
  walk(want: (e: SourceEntry) => boolean, visit: (e: SourceEntry, body: AsyncIterable<Uint8Array>) => Promise<void>) {
    return this.inner.walk(want, async (e, body) => {
      this.log.push({ op: 'walk', path: e.path });
      await visit(e, body);
    });
  }
  close() {
    return this.inner.close();
  }
}

async function inspectAll(path: string, format: 'json' | 'tree', wrap?: (s: CheckpointSource) => CheckpointSource): Promise<string> {
  const src = await openSource(path);
  const ck = await openCheckpoint(wrap ? wrap(src) : src);
  try {
    const input = await collectInspectInput(ck, ALL);
    // the archive's own hash is the one line that differs between compressions of a checkpoint
    const text = format === 'json' ? inspectJson([input], ALL) : inspectTree(input, ALL);
    return text.replace(/^.*(archive_sha256|Archive SHA-256).*\n/m, '');
  } finally {
    await ck.close();
  }
}

/** Byte ranges [start, end) merged. */
function merge(ranges: [number, number][]): [number, number][] {
  const s = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of s) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([...r]);
  }
  return out;
}

/**
 * Where the argv and environment areas of every process with memory lie in the pages files,
 * computed from crit's own decoding (the oracle), independently of ckpt's decoder: pages of a
 * pagemap's present entries are stored in order in pages-<pages_id>.img.
 */
function expectedArgEnvRanges(oracle: string): Map<string, [number, number][]> {
  const dir = fixture('oracle', oracle);
  const out = new Map<string, [number, number][]>();
  for (const f of readdirSync(dir).filter((n) => /^mm-\d+\.json$/.test(n))) {
    const pid = f.slice(3, -5);
    const mm = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')).entries[0];
    const pm = JSON.parse(readFileSync(`${dir}/pagemap-${pid}.json`, 'utf8')).entries;
    const file = `checkpoint/pages-${pm[0].pages_id}.img`;
    const areas: [bigint, bigint][] = [
      [BigInt(mm.mm_arg_start), BigInt(mm.mm_arg_end)],
      [BigInt(mm.mm_env_start), BigInt(mm.mm_env_end)],
    ];
    for (const [start, end] of areas) {
      let offset = 0n;
      for (const e of pm.slice(1)) {
        const v = BigInt(e.vaddr);
        const n = BigInt(e.nr_pages) * 4096n;
        const present = String(e.flags).includes('PE_PRESENT');
        if (present) {
          const a = start > v ? start : v;
          const b = end < v + n ? end : v + n;
          if (a < b) out.set(file, [...(out.get(file) ?? []), [Number(offset + (a - v)), Number(offset + (b - v))]]);
          offset += n;
        }
      }
    }
  }
  for (const [k, v] of out) out.set(k, merge(v));
  return out;
}

describe('inspect --all reads only what it needs', () => {
  it('on an uncompressed archive: pages-*.img is never read whole, only the bytes of the argv and environment areas', async () => {
    let rec: RecordingSource | undefined;
    const text = await inspectAll(fixture('podman', 'procs-none.tar'), 'tree', (s) => (rec = new RecordingSource(s)));
    expect(text).toContain('API_TOKEN=second-CKPT-ENV-TOKEN-3333'); // the environment was read
    const pages = rec!.log.filter((a) => /^checkpoint\/pages-\d+\.img$/.test(a.path));
    expect(pages.filter((a) => a.op !== 'readRange')).toEqual([]); // no read(), stream() or walk() of a pages file
    const got = new Map<string, [number, number][]>();
    for (const a of pages) got.set(a.path, merge([...(got.get(a.path) ?? []), [a.offset!, a.offset! + a.length!]]));
    expect(got).toEqual(expectedArgEnvRanges('procs'));
    // and nothing else large: every other access is a protobuf image or metadata file
    const pagesBytes = pages.reduce((n, a) => n + a.length!, 0);
    expect(pagesBytes).toBeLessThan(16 * 4096);
    expect(rec!.log.some((a) => a.path === 'rootfs-diff.tar' || a.path === 'devshm-checkpoint.tar')).toBe(false);
  });

  it('without --ps-tree-cmd/--ps-tree-env no pages are touched at all', async () => {
    let rec: RecordingSource | undefined;
    const src = await openSource(fixture('podman', 'procs-none.tar'));
    const ck = await openCheckpoint((rec = new RecordingSource(src)));
    try {
      const o: InspectOptions = { ...ALL, psTreeCmd: false, psTreeEnv: false };
      inspectTree(await collectInspectInput(ck, o), o);
    } finally {
      await ck.close();
    }
    expect(rec.log.filter((a) => /pages-\d+\.img$/.test(a.path))).toEqual([]);
  });
});

describe('the same checkpoint as none, gzip and zstd gives identical output', () => {
  for (const f of ['procs', 'net', 'files']) {
    it(`${f}: inspect --all --format json and tree`, async () => {
      const none = await inspectAll(fixture('podman', `${f}-none.tar`), 'json');
      expect(await inspectAll(fixture('podman', `${f}-gzip.tar`), 'json')).toBe(none);
      expect(await inspectAll(fixture('podman', `${f}-zstd.tar`), 'json')).toBe(none);
      const parsed = JSON.parse(none)[0];
      expect(parsed.process_tree.pid).toBe(1);
      const tree = await inspectAll(fixture('podman', `${f}-none.tar`), 'tree');
      const strip = (t: string) => t.replace(/^.*tree view from .*$/m, '');
      expect(strip(await inspectAll(fixture('podman', `${f}-zstd.tar`), 'tree'))).toBe(strip(tree));
    });
  }
});

describe('JSON keeps checkpointctl field names and adds ckpt facts', () => {
  it('procs: process_tree with cmdline, environment_variables, threads, state, exit_code', async () => {
    const facts = factsOf('procs');
    const j = JSON.parse(await inspectAll(fixture('podman', 'procs-none.tar'), 'json'))[0];
    for (const k of ['container_name', 'image', 'id', 'runtime', 'created', 'engine', 'checkpoint_size', 'statistics', 'metadata', 'process_tree', 'file_descriptors', 'mounts'])
      expect(j).toHaveProperty(k);
    expect(j.container_name).toBe('ckpt-procs');
    expect(j.engine).toBe('Podman');
    expect(j.checkpoint_size.total_size).toBeGreaterThan(j.checkpoint_size.memory_pages_size);
    expect(j.statistics.pages_written).toBeGreaterThan(0);
    const flat: Record<number, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    const walk = (n: any) => ((flat[n.pid] = n), (n.children ?? []).forEach(walk)); // eslint-disable-line @typescript-eslint/no-explicit-any
    walk(j.process_tree);
    expect(Object.keys(flat).map(Number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 7, 8, 9]);
    for (const p of facts.processes) expect(flat[p.pid].command).toBe(p.comm);
    const la = facts.longargv;
    expect(flat[la.pid].argv).toHaveLength(202);
    expect(flat[la.pid].argv.slice(0, 3)).toEqual([la.argv0, la.argv1, la.argv_first]);
    expect(flat[la.pid].argv.at(-1)).toBe(la.argv_last);
    expect(flat[la.pid].cmdline.startsWith(`${la.argv0} ${la.argv1} ${la.argv_first}`)).toBe(true);
    expect(flat[la.pid].environment).toEqual(la.env); // order and duplicates kept
    expect(flat[la.pid].environment_variables.API_TOKEN).toBe('second-CKPT-ENV-TOKEN-3333');
    expect(flat[1].environment).toContain(facts.container.env_secret);
    expect(flat[4].threads.map((t: { comm: string }) => t.comm)).toEqual(['ckpt-threads', 'ckpt-worker-1', 'ckpt-worker-2']);
    expect(flat[7]).toMatchObject({ state: 'zombie', task_state: 'dead', exit_code: 1792, exit_status: 7 });
    expect(flat[7].argv).toBeNull();
    expect(flat[8]).toMatchObject({ state: 'stopped', stop_signal: 'SIGSTOP' });
    const fd1 = j.file_descriptors.find((x: { pid: number }) => x.pid === 1).open_files;
    expect(fd1.find((x: { fd: string }) => x.fd === 'REG 0')).toMatchObject({ type: 'REG', path: '/dev/null' });
    expect(fd1.find((x: { fd: string }) => x.fd === 'cwd')).toMatchObject({ type: '', path: '/' });
    expect(j.mounts.map((m: { destination: string }) => m.destination)).toContain('/dev/shm');
  });

  it('net: sockets with IPv4 and IPv6 text addresses, unix paths and peers', async () => {
    const facts = factsOf('net');
    const j = JSON.parse(await inspectAll(fixture('podman', 'net-none.tar'), 'json'))[0];
    const socks = j.sockets[0].open_sockets;
    const byFd = (fd: number) => socks.find((s: { data: { fd: number } }) => s.data.fd === fd);
    const v6 = facts.tcp.find((t) => t.family === 'inet6' && t.state === 'LISTEN')!;
    expect(byFd(v6.fd)).toMatchObject({ protocol: 'TCP', data: { type: 'TCP', state: 'LISTEN', src: '::1', src_port: 7002 } });
    const c6 = facts.tcp.find((t) => t.family === 'inet6' && t.role === 'client')!;
    expect(byFd(c6.fd).data).toMatchObject({ src: '::1', dst: '::1', dst_port: 7002, state: 'ESTABLISHED' });
    const s4 = facts.tcp.find((t) => t.family === 'inet' && t.role === 'server')!;
    expect(byFd(s4.fd).data).toMatchObject({ src: '127.0.0.1', src_port: 7001, dst: '127.0.0.1', queued_in: s4.unread!.length });
    const abstract = facts.unix.find((u) => u.path === '@ckpt-abstract' && u.state === 'LISTEN')!;
    expect(byFd(abstract.fd).data).toMatchObject({ type: 'UNIX', address: '@ckpt-abstract', state: 'LISTEN' });
    const pair = facts.unix.find((u) => u.role === 'socketpair' && u.unread)!;
    expect(byFd(pair.fd).data).toMatchObject({ address: '', peer: { pid: 1, fd: pair.peer_fd }, queued_in: pair.unread!.length });
  });
});

describe('metadata-only open reads no CRIU image', () => {
  it('show needs config.dump and spec.dump, not checkpoint/*.img', async () => {
    const path = fixture('podman', 'procs-none.tar');
    const rec = new RecordingSource(await openSource(path));
    const ck = await openCheckpoint(rec, { metadataOnly: true });
    try {
      expect(ck.container.name).toBe('ckpt-procs');
      expect(ck.sizes.memoryPages).toBeGreaterThan(0);
    } finally {
      await ck.close();
    }
    expect(rec.log.filter((a) => a.path.endsWith('.img'))).toEqual([]);
  });
});
