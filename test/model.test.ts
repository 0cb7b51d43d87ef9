import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { openSource } from '../src/node/index.js';
import { openCheckpoint, type Checkpoint } from '../src/model/index.js';
import { ipAddressText, openFlagsText, unixName } from '../src/images/linux.js';
import { fixture } from './helpers.js';
import { facts } from './facts.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any

async function open(path: string): Promise<Checkpoint> {
  return openCheckpoint(await openSource(path));
}

describe('address and flag text', () => {
  it('IPv4 and IPv6 addresses as CRIU stores them (raw bytes as little-endian words)', () => {
    expect(ipAddressText([0x0100007f], 2)).toBe('127.0.0.1');
    expect(ipAddressText([0, 0, 0, 0x01000000], 10)).toBe('::1');
    expect(ipAddressText([0, 0, 0, 0], 10)).toBe('::');
    expect(ipAddressText([0xb80d0120, 0, 0, 0x01000000], 10)).toBe('2001:db8::1');
    expect(ipAddressText([0, 0, 0xffff0000, 0x0100007f], 10)).toBe('::ffff:127.0.0.1');
    // 2001:db8:0:1:1:1:1:1 (a single zero group is not shortened)
    expect(ipAddressText([0xb80d0120, 0x01000000, 0x01000100, 0x01000100], 10)).toBe('2001:db8:0:1:1:1:1:1');
    // fe80::1:0:0:1 — the longest zero run is the one shortened
    expect(ipAddressText([0x000080fe, 0, 0x00000100, 0x01000000], 10)).toBe('fe80::1:0:0:1');
  });

  it('open flags, unix names', () => {
    expect(openFlagsText(0x8002)).toBe('O_RDWR|O_LARGEFILE');
    expect(openFlagsText(0o2004001)).toBe('O_WRONLY|O_NONBLOCK|O_CLOEXEC');
    expect(unixName(new TextEncoder().encode('\0ckpt-abstract'))).toBe('@ckpt-abstract');
    expect(unixName(new TextEncoder().encode('/tmp/x.sock\0'))).toBe('/tmp/x.sock');
    expect(unixName(new Uint8Array())).toBe('');
  });
});

describe('procs: process tree, states, threads, credentials', () => {
  let ck: Checkpoint;
  const f = facts('procs');
  beforeAll(async () => (ck = await open(fixture('podman', 'procs-none.tar'))));
  afterAll(async () => ck.close());

  it('container metadata (Podman)', () => {
    const c = ck.container;
    expect(c.engine).toBe('Podman');
    expect(c.name).toBe(f.container.name);
    expect(c.id).toBe(f.container.id);
    expect(c.image.name).toBe(f.container.image);
    expect(c.image.id).toBe(f.container.image_id);
    expect(c.runtime).toBe('crun');
    expect(c.created).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(c.hostname).toBe('ckpt-procs');
    expect(c.annotations['io.container.manager']).toBe('libpod');
    expect(c.command).toEqual(['/ckpt-workload', 'procs']);
  });

  it('every pid, ppid and comm the workload reported', () => {
    expect(ck.pids).toEqual(f.processes.map((p: { pid: number }) => p.pid).sort((a: number, b: number) => a - b));
    for (const p of f.processes) {
      const got = ck.process(p.pid)!;
      expect(got.comm).toBe(p.comm);
      expect(got.ppid).toBe(p.ppid);
    }
    expect(ck.root?.pid).toBe(1);
    expect(ck.root?.children.map((c) => c.pid)).toEqual([2, 4, 7, 8, 9]);
    expect(ck.process(2)!.children.map((c) => c.pid)).toEqual([3]);
  });

  it('thread ids and thread names', () => {
    const p = f.processes.find((x) => x.role === 'threads')!;
    expect(ck.process(p.pid)!.threads.map((t) => ({ tid: t.tid, comm: t.comm }))).toEqual(p.threads);
    expect(ck.process(1)!.threads).toHaveLength(1);
  });

  it('zombie with its exit status, stopped with its signal, alive otherwise', () => {
    const z = f.processes.find((x) => x.role === 'zombie')!;
    const zp = ck.process(z.pid)!;
    expect(zp.state).toBe('zombie');
    expect(zp.taskState).toBe('dead'); // CRIU writes a zombie as TASK_DEAD
    expect(zp.exitStatus).toBe(z.exit_status);
    expect(zp.exitCode).toBe(z.exit_status! << 8);
    expect(zp.threads.map((t) => t.tid)).toEqual([z.pid]); // not pstree's garbage thread list
    const s = f.processes.find((x) => x.role === 'stopped')!;
    expect(ck.process(s.pid)!.state).toBe('stopped');
    expect(ck.process(s.pid)!.stopSignal).toBe(s.signal);
    expect(ck.process(1)!.state).toBe('alive');
  });

  it('credentials, capabilities, seccomp, exe, cwd, root', () => {
    const p = ck.process(1)!;
    expect(p.credentials?.uid).toBe(0);
    expect(p.credentials?.capabilities.effective).toContain('CAP_NET_BIND_SERVICE');
    expect(p.credentials?.capabilities.effective).not.toContain('CAP_SYS_ADMIN');
    expect(p.credentials?.capabilities.masks.effective).toMatch(/^0x[0-9a-f]{16}$/);
    expect(p.credentials?.noNewPrivs).toBe(false);
    expect(p.seccomp).toBe('filter');
    expect(p.exe).toBe('/ckpt-workload');
    expect(p.cwd).toBe('/');
    expect(p.root).toBe('/');
  });

  it('open files: the memfd and the shared stdout pipe with its peers', () => {
    const p = ck.process(1)!;
    const memfd = p.files.find((x) => x.type === 'MEMFD')!;
    expect(memfd.path).toBe('memfd:ckpt-memfd');
    expect(p.files.find((x) => x.fd === 0)!.path).toBe('/dev/null');
    const out = p.files.find((x) => x.fd === 1)!;
    expect(out.type).toBe('PIPE');
    expect(out.peers?.map((x) => x.pid)).toEqual([2, 3, 4, 8, 9]);
  });

  it('sizes and every dump statistic', () => {
    const s = ck.sizes;
    expect(s.memoryPages).toBeGreaterThan(0);
    expect(s.total).toBeGreaterThan(s.memoryPages);
    const st = ck.statistics!;
    for (const k of ['freezing_time', 'frozen_time', 'memdump_time', 'memwrite_time', 'pages_scanned', 'pages_written', 'pages_skipped_parent', 'pages_lazy']) expect(typeof st[k]).toBe('number');
    expect(st.pages_written).toBeGreaterThan(0);
  });
});

describe('net: sockets', () => {
  let ck: Checkpoint;
  const f = facts('net');
  beforeAll(async () => (ck = await open(fixture('podman', 'net-none.tar'))));
  afterAll(async () => ck.close());
  const text = (a?: { address: string; port: number }) => (a ? (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`) : undefined);

  it('TCP: IPv4 and IPv6 addresses, ports, states, queued bytes', () => {
    for (const t of f.tcp) {
      const s = ck.sockets.find((x) => x.fd === t.fd)!;
      expect(s.kind).toBe('inet');
      expect(s.protocol).toBe('TCP');
      expect(s.family).toBe(t.family === 'inet6' ? 'IPv6' : 'IPv4');
      expect(s.state).toBe(t.state);
      expect(text(s.local)).toBe(t.local);
      expect(text(s.remote)).toBe(t.remote);
      if (t.unread !== undefined) expect(s.queued.in).toBe(t.unread.length);
      expect(s.sendBuffer).toBeGreaterThan(0);
      expect(s.receiveBuffer).toBeGreaterThan(0);
    }
    expect(ck.sockets.find((x) => x.fd === 4)!.local!.address).toBe('::1');
  });

  it('UDP', () => {
    for (const u of f.udp) {
      const s = ck.sockets.find((x) => x.fd === u.fd)!;
      expect(s.protocol).toBe('UDP');
      expect(text(s.local)).toBe(u.local);
      expect(text(s.remote)).toBe(u.remote);
    }
  });

  it('unix: path, abstract @name, unnamed, peers, queued bytes', () => {
    const byFd = (fd: number) => ck.sockets.find((x) => x.fd === fd)!;
    for (const u of f.unix) {
      const s = byFd(u.fd);
      expect(s.kind).toBe('unix');
      expect(s.type).toBe(u.type.toUpperCase());
      if (u.state) expect(s.state).toBe(u.state);
      if (u.path) expect(s.path).toBe(u.path);
      if (u.role === 'client') {
        expect(s.path).toBe('');
        expect(s.peer?.name).toBe(u.peer);
      }
      if (u.role === 'socketpair') {
        expect(s.path).toBe('');
        expect(s.peer?.fd).toBe(u.peer_fd);
        expect(s.peer?.pid).toBe(1);
      }
      if (u.unread !== undefined) expect(s.queued.in).toBe(u.unread.length);
    }
    // the accepted socket's peer is the client
    const accepted = f.unix.find((u) => u.role === 'accepted' && u.path === '/tmp/ckpt.sock')!;
    const client = f.unix.find((u) => u.role === 'client' && u.peer === '/tmp/ckpt.sock')!;
    expect(byFd(accepted.fd).peer?.fd).toBe(client.fd);
    // the open file names its peer too
    expect(ck.process(1)!.files.find((x) => x.fd === client.fd)!.peers).toEqual([expect.objectContaining({ pid: 1, fd: accepted.fd })]);
  });

  it('pipe: both ends name each other, queued bytes', () => {
    const p = ck.process(1)!;
    const r = p.files.find((x) => x.fd === f.pipe.read_fd)!;
    const w = p.files.find((x) => x.fd === f.pipe.write_fd)!;
    expect(r.type).toBe('PIPE');
    expect(r.path).toBe(w.path);
    expect(r.peers).toEqual([{ pid: 1, fd: f.pipe.write_fd }]);
    expect(w.peers).toEqual([{ pid: 1, fd: f.pipe.read_fd }]);
    expect(r.queued).toBe(f.pipe.unread.length);
  });
});

describe('files: open files', () => {
  let ck: Checkpoint;
  const f = facts('files');
  beforeAll(async () => (ck = await open(fixture('podman', 'files-none.tar'))));
  afterAll(async () => ck.close());

  it('a file deleted while open is marked deleted; others are not', () => {
    const files = ck.process(1)!.files;
    const u = files.find((x) => x.fd === f.fds.unlinked.fd)!;
    expect(u.path).toBe(f.fds.unlinked.path);
    expect(u.deleted).toBe(true);
    expect(u.size).toBe(f.fds.unlinked.size);
    expect(u.flags).toMatch(/^O_RDWR\b/);
    expect(files.find((x) => x.fd === f.fds.write.fd)!.deleted).toBeUndefined();
  });

  it('paths, flags and positions of regular files', () => {
    const files = ck.process(1)!.files;
    for (const k of ['write', 'read'] as const) {
      const want = f.fds[k];
      const got = files.find((x) => x.fd === want.fd)!;
      expect(got.path).toBe(want.path);
      expect(got.pos).toBe(want.pos);
      expect(got.flags!.split('|')[0]).toBe(want.flags);
    }
  });

  it('memfd, eventfd, timerfd, signalfd, inotify, epoll', () => {
    const files = ck.process(1)!.files;
    const byFd = (fd: number) => files.find((x) => x.fd === fd)!;
    expect(byFd(f.fds.memfd.fd).path).toBe(f.fds.memfd.name);
    expect(byFd(f.fds.memfd.fd).size).toBe(f.fds.memfd.size);
    expect(byFd(f.fds.eventfd.fd).type).toBe('EVENTFD');
    expect(byFd(f.fds.eventfd.fd).details?.count).toBe(f.fds.eventfd.count);
    expect(byFd(f.fds.eventfd.fd).flags).toContain('O_NONBLOCK');
    expect(byFd(f.fds.timerfd.fd).details?.clock).toBe(f.fds.timerfd.clock);
    expect(byFd(f.fds.timerfd.fd).details?.interval_sec).toBe(f.fds.timerfd.interval_sec);
    expect(byFd(f.fds.signalfd.fd).details?.signals).toEqual(f.fds.signalfd.signals);
    const watches = byFd(f.fds.inotify.fd).details?.watches as string[];
    for (const w of f.fds.inotify.watches) expect(watches.some((x) => x.includes(`wd ${w.wd} mask ${w.mask} ${w.path}`))).toBe(true);
    expect(byFd(f.fds.epoll.fd).type).toBe('EVENTPOLL');
    const pr = byFd(f.fds.pipe.read_fd);
    expect(pr.peers).toEqual([{ pid: 1, fd: f.fds.pipe.write_fd }]);
  });

  it('root file-system diff size and deleted.files', () => {
    expect(ck.sizes.rootFsDiff).toBeGreaterThan(0);
    expect(ck.container.deletedFiles).toEqual(f.rootfs.deleted);
  });

  it('mounts from spec.dump and from CRIU', () => {
    const m = ck.mounts;
    const dests = m.spec.map((x) => x.destination);
    for (const d of ['/proc', '/dev', '/sys', '/dev/shm', '/etc/hosts', '/etc/hostname', '/run/.containerenv']) expect(dests).toContain(d);
    expect(m.spec.find((x) => x.destination === '/proc')!.type).toBe('proc');
    const points = m.criu.map((x) => x.mountpoint);
    expect(points[0]).toBe('/');
    for (const d of ['/proc', '/dev', '/sys', '/dev/shm', '/sys/fs/cgroup', '/etc/hostname']) expect(points).toContain(d);
    expect(m.criu.find((x) => x.mountpoint === '/sys/fs/cgroup')!.type).toBe('cgroup2');
    expect(m.criu.find((x) => x.mountpoint === '/etc/hostname')!.external).toBe('/etc/hostname');
  });
});

describe('bare CRIU image directory (no engine)', () => {
  it('processes, threads, engine CRIU, statistics', async () => {
    const f = facts('bare-procs-tree');
    const ck = await open(fixture('bare', 'procs-tree'));
    try {
      expect(ck.container.engine).toBe('CRIU');
      expect(ck.container.name).toBeUndefined();
      // the kernel keeps 15 bytes of a task name (TASK_COMM_LEN 16): ckpt-tree-gchild → ckpt-tree-gchil
      for (const p of f.processes) expect(ck.process(p.pid)!.comm).toBe(p.comm.slice(0, 15));
      const main = f.processes.find((p) => p.role === 'main')!;
      expect(ck.process(main.pid)!.threads.map((t) => ({ tid: t.tid, comm: t.comm }))).toEqual(main.threads);
      expect(ck.root!.pid).toBe(main.pid);
      expect(ck.root!.children[0]!.children[0]!.comm).toBe('ckpt-tree-gchil');
      expect(ck.statistics?.pages_written).toBeGreaterThan(0);
      expect(ck.mounts.spec).toEqual([]);
      expect(ck.process(main.pid)!.seccomp).toBe('disabled'); // started outside any container
      expect(ck.process(main.pid)!.credentials?.capabilities.effective).toContain('CAP_SYS_ADMIN');
    } finally {
      await ck.close();
    }
  });
});

describe('every Podman fixture: engine, names, argv and environment from memory, mounts', () => {
  for (const name of ['procs', 'net', 'files'] as const) {
    it(name, async () => {
      const f = facts(name);
      const ck = await open(fixture('podman', `${name}-zstd.tar`));
      try {
        expect(ck.container.engine).toBe('Podman');
        expect(ck.container.name).toBe(f.container.name);
        expect(ck.container.id).toBe(f.container.id);
        expect(ck.process(f.pid)!.comm).toBe(f.comm);
        const args = await ck.arguments([f.pid]);
        expect(args.get(f.pid)!.argv).toEqual(['/ckpt-workload', name]);
        expect(args.get(f.pid)!.environment).toContain(f.container.env_secret);
        expect(args.get(f.pid)!.environment).toContain(`HOSTNAME=ckpt-${name}`);
        expect(ck.mounts.spec.map((m) => m.destination)).toEqual(expect.arrayContaining(['/proc', '/dev/shm', '/etc/hostname']));
        expect(ck.mounts.criu.map((m) => m.mountpoint)).toEqual(expect.arrayContaining(['/', '/proc', '/dev/shm']));
      } finally {
        await ck.close();
      }
    });
  }

  it('bare tree: argv of every process, no argv for nothing', async () => {
    const f = facts('bare-procs-tree');
    const ck = await open(fixture('bare', 'procs-tree'));
    try {
      const args = await ck.arguments();
      expect([...args.keys()].sort()).toEqual(f.processes.map((p: { pid: number }) => p.pid).sort());
      for (const a of args.values()) expect(a.argv.slice(1, 2)).toEqual(['tree']);
    } finally {
      await ck.close();
    }
  });
});

describe('network.status (Podman with a network)', () => {
  it('interfaces, addresses and MAC from netavark status; JSON ip, mac and networks as checkpointctl names them', async () => {
    const { readFiles, MemorySource } = await import('../src/source/memory.js');
    const { inspectObject } = await import('../src/views/inspect-json.js');
    const src = await openSource(fixture('podman', 'net-none.tar'));
    const files = await readFiles(src, (e) => e.type === 'file');
    await src.close();
    const status = { podman: { interfaces: { eth0: { subnets: [{ ipnet: '10.88.0.5/16', gateway: '10.88.0.1' }, { ipnet: 'fd00::5/64', gateway: 'fd00::1' }], mac_address: '5a:2b:3c:4d:5e:6f' } } } };
    files.set('network.status', new TextEncoder().encode(JSON.stringify(status)));
    const ck = await openCheckpoint(new MemorySource('mem', files));
    expect(ck.container.network.interfaces).toEqual([
      { network: 'podman', name: 'eth0', mac: '5a:2b:3c:4d:5e:6f', addresses: ['10.88.0.5/16', 'fd00::5/64'], gateways: ['10.88.0.1', 'fd00::1'] },
    ]);
    const j = inspectObject({ checkpoint: ck }, {});
    // several addresses are joined as checkpointctl joins several networks; per interface with their prefix length
    expect(j).toMatchObject({ ip: '10.88.0.5, fd00::5', mac: '5a:2b:3c:4d:5e:6f', networks: [{ name: 'podman', interfaces: { eth0: { ip: '10.88.0.5/16, fd00::5/64', mac: '5a:2b:3c:4d:5e:6f', gateway: '10.88.0.1, fd00::1' } } }] });
  });
});

describe('malformed process trees', () => {
  it('a parent cycle is cut, duplicate and self parents do not loop', async () => {
    const { buildTasks } = await import('../src/model/processes.js');
    const images = {
      imageEntries: (name: string) =>
        name === 'pstree.img'
          ? [
              { pid: 10, ppid: 11, pgid: 10, sid: 10, threads: [10] },
              { pid: 11, ppid: 10, pgid: 10, sid: 10, threads: [11] },
              { pid: 12, ppid: 12, pgid: 12, sid: 12, threads: [] },
            ]
          : [],
    } as unknown as import('../src/model/image-set.js').ImageSet;
    const t = buildTasks(images);
    expect(t.roots.map((p) => p.pid).sort()).toEqual([10, 12]);
    expect(t.roots.find((p) => p.pid === 10)!.children.map((c) => c.pid)).toEqual([11]);
    expect(t.processes.find((p) => p.pid === 11)!.children).toEqual([]);
    expect(t.processes.find((p) => p.pid === 12)!.state).toBe('unknown');
    expect(JSON.stringify(t.roots)).toContain('"pid":11');
  });
});
